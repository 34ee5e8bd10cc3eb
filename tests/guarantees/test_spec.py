"""The published interface and the code agree; every lifecycle pair and policy is tested."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from sunlit.guarantees import openapi, schemas
from sunlit.guarantees.policies import POLICY
from sunlit.guarantees.states import (
    APPLICATION,
    CLAIM,
    AppAction,
    AppStatus,
    ClaimAction,
    ClaimStatus,
)
from sunlit.kernel.authz import Actor, Role
from sunlit.kernel.errors import IllegalTransition

SPEC = Path(__file__).resolve().parents[2] / "docs" / "spec" / "guarantee-api.openapi.json"


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_published_openapi_matches_the_routes(app: Any) -> None:
    doc = openapi.document(app)
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if os.environ.get("SUNLIT_REGENERATE"):
        SPEC.write_text(text)
    assert SPEC.read_text() == text, "regenerate: SUNLIT_REGENERATE=1 pytest " + __file__
    served = app.openapi()["paths"]
    for path, method in openapi.PLATFORM:
        assert method in served[path]
    assert set(doc["webhooks"]) == {
        "applications",
        "reveals",
        "releases",
        "claims",
        "cancellations",
        "reconcile",
    }


def test_simulator_messages_validate_against_the_published_schemas() -> None:
    from sunlit.sim.fi import FiSimulator

    sim = FiSimulator.__new__(FiSimulator)
    sim.code, sim.name, sim.credit_code = "sim-bank", "模拟银行", "9132050070000001X4"
    from sunlit.kernel.crypto import get_suite

    sim.key = get_suite("gm").generate_keypair()
    app_msg = {
        "order_no": "BH1",
        "product_code": "P",
        "form": "bank_guarantee",
        "applicant": {
            "name": "甲",
            "credit_code": "X",
            "basic_account_no": "1",
            "basic_account_bank": "b",
        },
        "amount": "800000.00",
        "currency": "CNY",
        "valid_from": "2026-12-18",
        "valid_to": "2027-04-15",
        "category": "engineering",
        "payment_deadline": "2026-12-18T09:30:00+08:00",
        "sealed": {"commitment": "ab" * 32, "envelope": {}},
        "callback_base": "http://x",
    }
    schemas.ApplicationMsg.model_validate(app_msg)
    order = {"application": app_msg, "guarantee_no": "G1", "issued_at": "2026-12-01T10:00:00+08:00"}
    schemas.IssuanceMsg.model_validate(sim._issuance(order))


def test_every_application_state_and_action() -> None:
    allowed = {(t.source, t.action): t.target for t in APPLICATION.transitions}
    for state in AppStatus:
        for action in AppAction:
            if (state, action) in allowed:
                assert APPLICATION.apply(state, action) == allowed[(state, action)]
            else:
                with pytest.raises(IllegalTransition):
                    APPLICATION.apply(state, action)
    # Terminal states allow nothing.
    for state in (
        AppStatus.RELEASED,
        AppStatus.COMPENSATED,
        AppStatus.REFUSED,
        AppStatus.CANCELLED,
    ):
        assert APPLICATION.allowed_actions(state) == []


def test_every_claim_state_and_action() -> None:
    allowed = {(t.source, t.action) for t in CLAIM.transitions}
    for state in ClaimStatus:
        for action in ClaimAction:
            if (state, action) in allowed:
                CLAIM.apply(state, action)
            else:
                with pytest.raises(IllegalTransition):
                    CLAIM.apply(state, action)


ROLES = [
    Role.CENTER_STAFF,
    Role.SUPERVISOR,
    Role.BIDDER,
    Role.FINANCIAL,
    Role.TENDERER,
    Role.PUBLIC,
]
MATRIX = {
    "guarantee.admit": {Role.CENTER_STAFF},
    "guarantee.monitor": {Role.CENTER_STAFF, Role.SUPERVISOR},
    "guarantee.apply": {Role.BIDDER},
    "guarantee.release": {Role.CENTER_STAFF},
    "guarantee.alerts": {Role.SUPERVISOR, Role.CENTER_STAFF},
    "guarantee.fi.view": {Role.FINANCIAL},
}


@pytest.mark.parametrize("permission", sorted(MATRIX))
def test_policy_matrix(permission: str) -> None:
    for role in ROLES:
        actor = Actor(user_id="u", org_id="o", roles=frozenset({role}), auth_method="password")
        assert POLICY.allows(actor, permission) == (role in MATRIX[permission]), (permission, role)
