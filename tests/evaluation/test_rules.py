"""Every (state, action) of the evaluation lifecycle; the role × permission matrix; the
committee composition rule; the plan checks."""

from __future__ import annotations

import itertools
from decimal import Decimal
from types import SimpleNamespace

import pytest

from sunlit.evaluation.policies import POLICY, Ctx
from sunlit.evaluation.service import check_composition, check_plan
from sunlit.evaluation.states import LIFECYCLE, EvaluationAction, EvaluationStatus
from sunlit.kernel.authz import Actor, Role
from sunlit.kernel.errors import IllegalTransition, InvalidInput

S, A = EvaluationStatus, EvaluationAction
EXPECTED = {
    (S.FORMED, A.REPLACE): S.FORMED,
    (S.FORMED, A.VENUE): S.FORMED,
    (S.FORMED, A.SIGN_IN): S.FORMED,
    (S.FORMED, A.DECLARE): S.FORMED,
    (S.FORMED, A.VOTE): S.FORMED,
    (S.FORMED, A.START): S.STARTED,
    (S.FORMED, A.TERMINATE): S.TERMINATED,
    (S.STARTED, A.SCORE): S.STARTED,
    (S.STARTED, A.SUBMIT): S.STARTED,
    (S.STARTED, A.ASK): S.STARTED,
    (S.STARTED, A.ANSWER): S.STARTED,
    (S.STARTED, A.REPORT): S.REPORTING,
    (S.STARTED, A.TERMINATE): S.TERMINATED,
    (S.REPORTING, A.SIGN): S.REPORTING,
    (S.REPORTING, A.COMPLETE): S.SIGNED,
    (S.REPORTING, A.TERMINATE): S.TERMINATED,
}


@pytest.mark.parametrize(("state", "action"), list(itertools.product(S, A)))
def test_every_state_and_action(state: EvaluationStatus, action: EvaluationAction) -> None:
    if (state, action) in EXPECTED:
        assert LIFECYCLE.apply(state, action) == EXPECTED[(state, action)]
    else:
        with pytest.raises(IllegalTransition):
            LIFECYCLE.apply(state, action)


TENDER = SimpleNamespace(tenderer_org_id="T", agency_org_id="G")
MEMBER = SimpleNamespace(id="m1", user_id="u-expert", recused=False)
RECUSED = SimpleNamespace(id="m2", user_id="u-recused", recused=True)


def _actor(role: Role, user: str = "u", org: str = "o") -> Actor:
    return Actor(user_id=user, org_id=org, roles=frozenset({role}), auth_method="certificate")


ACTORS = {
    "staff": (_actor(Role.CENTER_STAFF), Ctx(TENDER)),
    "supervisor": (_actor(Role.SUPERVISOR), Ctx(TENDER)),
    "tenderer": (_actor(Role.TENDERER, org="T"), Ctx(TENDER)),
    "agency": (_actor(Role.AGENCY, org="G"), Ctx(TENDER)),
    "other_tenderer": (_actor(Role.TENDERER, org="X"), Ctx(TENDER)),
    "bidder": (_actor(Role.BIDDER, org="B"), Ctx(TENDER)),
    "expert_outside": (_actor(Role.EXPERT, user="u-x"), Ctx(TENDER)),
    "member": (_actor(Role.EXPERT, user="u-expert"), Ctx(TENDER, MEMBER, "m9")),
    "leader": (_actor(Role.EXPERT, user="u-expert"), Ctx(TENDER, MEMBER, "m1")),
    "recused": (_actor(Role.EXPERT, user="u-recused"), Ctx(TENDER, RECUSED, "m1")),
}
MATRIX = {
    "evaluation.plan.edit": {"tenderer", "agency"},
    "evaluation.plan.view": {"staff", "supervisor", "tenderer", "agency", "member", "leader"},
    "evaluation.host": {"staff"},
    "evaluation.member": {"member", "leader"},
    "evaluation.leader": {"leader"},
    "evaluation.answer": {"bidder"},
    "evaluation.progress": {
        "staff",
        "supervisor",
        "tenderer",
        "agency",
        "member",
        "leader",
        "recused",
    },
    "evaluation.scores": {"supervisor", "member", "leader"},
    "evaluation.report.view": {"staff", "supervisor", "tenderer", "agency", "member", "leader"},
}


@pytest.mark.parametrize(("permission", "who"), list(itertools.product(MATRIX, ACTORS)))
def test_role_permission_matrix(permission: str, who: str) -> None:
    actor, ctx = ACTORS[who]
    assert POLICY.allows(actor, permission, ctx) == (who in MATRIX[permission])


@pytest.mark.parametrize(
    ("sources", "code"),
    [
        (["drawn"] * 4, "evaluation.committee.size"),
        (["drawn"] * 6, "evaluation.committee.size"),
        (["drawn"] * 3 + ["tenderer_rep"] * 2, "evaluation.committee.experts"),
        (["drawn"] * 4 + ["tenderer_rep"] * 3, "evaluation.committee.experts"),
        (["drawn"] * 4 + ["tenderer_rep"], None),
        (["drawn"] * 5 + ["tenderer_rep"] * 2, None),  # 5 of 7 ≥ two thirds
        (["drawn"] * 5, None),
    ],
)
def test_committee_composition(sources: list[str], code: str | None) -> None:
    if code is None:
        check_composition(sources)
    else:
        with pytest.raises(InvalidInput) as err:
            check_composition(sources)
        assert err.value.code == code


def test_plans() -> None:
    assert check_plan("comprehensive", {})["committee_rule"] == "trimmed_mean"
    total = sum(Decimal(c["max_points"]) for c in check_plan("comprehensive", {})["criteria"])
    assert total + Decimal(check_plan("comprehensive", {})["price_points"]) == 100
    with pytest.raises(InvalidInput) as err:
        check_plan(
            "gp_comprehensive_scoring",
            {
                "price_points": "70",
                "criteria": [
                    {"key": "T", "group": "technical", "name": "技术", "max_points": "30"}
                ],
            },
        )
    assert err.value.code == "evaluation.plan.gp_price_weight"
    with pytest.raises(InvalidInput) as err:
        check_plan(
            "reasonable_low_price",
            {"criteria": [{"key": "T", "group": "technical", "name": "技术", "max_points": "30"}]},
        )
    assert err.value.code == "evaluation.plan.criteria_unused"
    with pytest.raises(InvalidInput) as err:
        check_plan("asset_highest_price", {})
    assert err.value.code == "evaluation.method_unsupported"
    with pytest.raises(InvalidInput) as err:
        check_plan(
            "comprehensive",
            {"criteria": [{"key": "T", "group": "design", "name": "x", "max_points": "50"}]},
        )
    assert err.value.code == "scoring.criterion_group"
