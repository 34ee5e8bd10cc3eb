"""A supervisor (行政监督) co-signs a checkpoint with the key of their bound certificate."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.identity import service as identity_service
from sunlit.identity.devca import DevCA, IssuedCredential
from sunlit.identity.models import User
from sunlit.identity.schemas import UserIn
from sunlit.kernel.authz import Actor, Role, system_actor
from sunlit.kernel.clock import ManualClock
from sunlit.kernel.crypto import get_suite
from sunlit.kernel.crypto.x509 import SubjectInfo
from sunlit.kernel.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from sunlit.transparency import auditor, note, service
from sunlit.transparency.keys import PlatformKey
from sunlit.transparency.models import Checkpoint
from sunlit.transparency.queries import signed_note
from tests.identity.helpers import code, make_org
from tests.transparency.helpers import BIDDER, note_something

SYSTEM = system_actor("test")
PASSWORD = "Superv1sor!pw"


@dataclass
class Supervisor:
    actor: Actor
    cred: IssuedCredential
    user_id: str
    totp_secret: str


def _supervisor(db: Session, tmp_path: Path, clock: ManualClock, suite: str) -> Supervisor:
    now = clock.now()
    ca = DevCA.create(tmp_path / f"ca-{suite}", f"测试CA-{suite}", suite, now)
    row = identity_service.add_trusted_ca(
        db, SYSTEM, ca.certificate.subject["common_name"], ca.certificate.to_pem().decode()
    )
    identity_service.update_crl(db, SYSTEM, row.id, ca.crl(now).der)
    org = make_org(
        db, 31, "苏州市发展和改革委员会", [Role.SUPERVISOR], username="liujd", person="刘监督"
    )
    user = db.scalar(select(User).where(User.organization_id == org.id))
    assert user is not None
    cred = ca.issue(SubjectInfo("刘监督", "苏州市发展和改革委员会", code(31)), now)
    identity_service.bind_certificate_for(db, SYSTEM, user.id, cred.certificate.to_pem().decode())
    secret = identity_service.set_password(db, SYSTEM, user.id, PASSWORD)
    actor = Actor(
        user_id=user.id,
        org_id=org.id,
        roles=frozenset({Role.SUPERVISOR}),
        name="刘监督",
        auth_method="certificate",
    )
    return Supervisor(actor, cred, user.id, secret)


def _sign(cred: IssuedCredential, text: str) -> str:
    suite = get_suite(cred.private_key.suite_name)
    return base64.b64encode(suite.sign(cred.private_key, text.encode())).decode()


@pytest.mark.parametrize("suite", ["gm", "intl"])
def test_supervisor_cosigns_a_checkpoint_over_the_api(
    client: Any,
    db: Session,
    tmp_path: Path,
    clock: ManualClock,
    key: PlatformKey,
    suite: str,
) -> None:
    sup = _supervisor(db, tmp_path, clock, suite)
    note_something(db, BIDDER, 1)
    cp = service.issue_checkpoint(db, SYSTEM, "开标", key=key)
    totp = pyotp.TOTP(sup.totp_secret).at(clock.now())
    login = client.post(
        "/api/v1/auth/password", json={"username": "liujd", "password": PASSWORD, "totp": totp}
    )
    assert login.status_code == 200, login.text
    auth = {"Authorization": f"Bearer {login.json()['token']}"}
    latest = client.get("/api/v1/transparency/checkpoints/latest").json()
    r = client.post(
        f"/api/v1/transparency/checkpoints/{cp.tree_size}/cosignatures",
        json={"signature": _sign(sup.cred, latest["body"])},
        headers=auth,
    )
    assert r.status_code == 201, r.text
    witness = r.json()
    assert witness["signer_name"] == "刘监督"
    latest = client.get(f"/api/v1/transparency/checkpoints/{cp.tree_size}").json()
    assert [c["key_name"] for c in latest["cosignatures"]] == [witness["key_name"]]
    signed = latest["note"]
    assert signed.count("\n\u2014 ") == 2  # platform line, then the witness line
    note.verify_checkpoint(signed, key.public_key)  # the platform signature still verifies
    note.verify_witness(signed, witness["key_name"], sup.cred.certificate.public_key)
    with pytest.raises(note.VerificationFailed):
        note.verify_witness(signed, witness["key_name"], key.public_key)
    # Twice with the same certificate is refused.
    again = client.post(
        f"/api/v1/transparency/checkpoints/{cp.tree_size}/cosignatures",
        json={"signature": _sign(sup.cred, latest["body"])},
        headers=auth,
    )
    assert again.status_code == 409 and again.json()["code"] == "transparency.witness.duplicate"
    db.expire_all()
    assert auditor.audit_log(db, key.public_key).ok


def test_a_cosignature_must_verify_with_the_bound_certificate(
    db: Session, tmp_path: Path, clock: ManualClock, key: PlatformKey
) -> None:
    sup = _supervisor(db, tmp_path, clock, "gm")
    note_something(db, BIDDER, 1)
    cp = service.issue_checkpoint(db, SYSTEM, "开标", key=key)
    # Signed another text (for instance an older checkpoint): refused.
    with pytest.raises(InvalidInput) as info:
        service.cosign_checkpoint(db, sup.actor, cp.tree_size, _sign(sup.cred, cp.body + "x"))
    assert info.value.code == "transparency.witness.bad_signature"
    # Signed by a key that is not bound to the supervisor: refused.
    stranger = get_suite("gm").generate_keypair()
    forged = base64.b64encode(get_suite("gm").sign(stranger, cp.body.encode())).decode()
    with pytest.raises(InvalidInput):
        service.cosign_checkpoint(db, sup.actor, cp.tree_size, forged)
    with pytest.raises(InvalidInput) as info:
        service.cosign_checkpoint(db, sup.actor, cp.tree_size, "***")
    assert info.value.code == "transparency.witness.encoding"
    # Only supervisors witness.
    with pytest.raises(PermissionDenied):
        service.cosign_checkpoint(db, BIDDER, cp.tree_size, _sign(sup.cred, cp.body))
    # A colleague without a bound certificate cannot.
    colleague = identity_service.add_user(
        db, SYSTEM, sup.actor.org_id or "", UserIn(name="陈监督", roles=[Role.SUPERVISOR])
    )
    bare = Actor(user_id=colleague.id, org_id=sup.actor.org_id, roles=frozenset({Role.SUPERVISOR}))
    with pytest.raises(InvalidInput) as info:
        service.cosign_checkpoint(db, bare, cp.tree_size, _sign(sup.cred, cp.body))
    assert info.value.code == "transparency.witness.no_certificate"
    with pytest.raises(NotFound):
        service.cosign_checkpoint(db, sup.actor, 999, _sign(sup.cred, cp.body))
    row = service.cosign_checkpoint(db, sup.actor, cp.tree_size, _sign(sup.cred, cp.body))
    assert row.certificate_fingerprint
    with pytest.raises(Conflict):
        service.cosign_checkpoint(db, sup.actor, cp.tree_size, _sign(sup.cred, cp.body))
    stored = db.scalar(select(Checkpoint).where(Checkpoint.tree_size == cp.tree_size))
    assert stored is not None and len(stored.cosignatures) == 1
    assert signed_note(stored).endswith(
        f"\u2014 {row.key_name} {base64.b64encode(row.key_hash + row.signature).decode()}\n"
    )
