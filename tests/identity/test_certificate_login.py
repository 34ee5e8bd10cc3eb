"""Certificate login against several trusted CA roots (多CA互认), over the real HTTP API."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sunlit.identity import service
from sunlit.identity.devca import DevCA, IssuedCredential
from sunlit.identity.models import Certificate, User
from sunlit.kernel.audit import AuditEvent
from sunlit.kernel.authz import Role
from sunlit.kernel.clock import ManualClock
from sunlit.kernel.crypto import get_suite
from sunlit.kernel.crypto.x509 import SubjectInfo
from tests.identity.helpers import SYSTEM, code, csrf_headers, make_org


@dataclass
class World:
    gm_ca: DevCA
    intl_ca: DevCA
    rogue_ca: DevCA
    org_id: str
    user_id: str
    credit_code: str


@pytest.fixture
def world(db: Session, tmp_path: Path, clock: ManualClock) -> World:
    now = clock.now()
    gm = DevCA.create(tmp_path / "gm", "测试国密CA", "gm", now)
    intl = DevCA.create(tmp_path / "intl", "Test ECDSA CA", "intl", now)
    rogue = DevCA.create(tmp_path / "rogue", "未受信任CA", "gm", now)
    for ca in (gm, intl):
        row = service.add_trusted_ca(
            db, SYSTEM, ca.certificate.subject["common_name"], ca.certificate.to_pem().decode()
        )
        service.update_crl(db, SYSTEM, row.id, ca.crl(now).der)
    org = make_org(db, 7, "江苏恒远建设工程有限公司", [Role.BIDDER], person="周强")
    user = db.scalar(select(User).where(User.organization_id == org.id))
    assert user is not None
    return World(gm, intl, rogue, org.id, user.id, code(7))


def _issue(world: World, ca: DevCA, clock: ManualClock, **kw: Any) -> IssuedCredential:
    return ca.issue(
        SubjectInfo("周强", "江苏恒远建设工程有限公司", world.credit_code), clock.now(), **kw
    )


def _bind(db: Session, world: World, cred: IssuedCredential) -> None:
    service.bind_certificate_for(db, SYSTEM, world.user_id, cred.certificate.to_pem().decode())


def _sign_login(
    client: Any,
    cred: IssuedCredential,
    purpose: str = "login",
    headers: dict[str, str] | None = None,
) -> dict[str, str]:
    r = client.post(f"/api/v1/auth/challenge?purpose={purpose}", headers=headers or {})
    assert r.status_code == 200, r.text
    ch = r.json()
    suite = get_suite(cred.private_key.suite_name)
    signature = suite.sign(cred.private_key, ch["message"].encode())
    return {
        "challenge_id": ch["challenge_id"],
        "certificate": cred.certificate.to_pem().decode(),
        "signature": base64.b64encode(signature).decode(),
    }


@pytest.mark.parametrize("suite", ["gm", "intl"])
def test_login_with_either_trusted_root(
    client: Any, db: Session, world: World, clock: ManualClock, suite: str
) -> None:
    cred = _issue(world, world.gm_ca if suite == "gm" else world.intl_ca, clock)
    _bind(db, world, cred)
    r = client.post("/api/v1/auth/certificate", json=_sign_login(client, cred))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["organization"]["credit_code"] == world.credit_code
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json()["certificates"][0]["algorithm"] == ("SM2" if suite == "gm" else "ECDSA-P256")
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "identity.login")).one()
    assert event.actor_user_id == world.user_id and event.data == {"method": "certificate"}


def test_replayed_challenge_is_refused(
    client: Any, db: Session, world: World, clock: ManualClock
) -> None:
    cred = _issue(world, world.gm_ca, clock)
    _bind(db, world, cred)
    payload = _sign_login(client, cred)
    assert client.post("/api/v1/auth/certificate", json=payload).status_code == 200
    r = client.post("/api/v1/auth/certificate", json=payload)
    assert r.status_code == 401
    assert r.json()["code"] == "identity.challenge.replayed"


def test_expired_challenge_is_refused(
    client: Any, db: Session, world: World, clock: ManualClock
) -> None:
    cred = _issue(world, world.gm_ca, clock)
    _bind(db, world, cred)
    payload = _sign_login(client, cred)
    clock.advance(dt.timedelta(minutes=3))
    r = client.post("/api/v1/auth/certificate", json=payload)
    assert r.status_code == 401 and r.json()["code"] == "identity.challenge.expired"


def test_untrusted_root_is_refused(
    client: Any, world: World, clock: ManualClock, db: Session
) -> None:
    cred = _issue(world, world.rogue_ca, clock)
    r = client.post("/api/v1/auth/certificate", json=_sign_login(client, cred))
    assert r.status_code == 401
    assert r.json()["code"] == "identity.cert.untrusted"
    assert "认可" in r.json()["detail"]


def test_expired_certificate_is_refused(
    client: Any, db: Session, world: World, clock: ManualClock
) -> None:
    cred = _issue(
        world, world.intl_ca, clock, days=30, not_before=clock.now() - dt.timedelta(days=40)
    )
    r = client.post("/api/v1/auth/certificate", json=_sign_login(client, cred))
    assert r.status_code == 401
    assert r.json()["code"] == "identity.cert.expired"
    assert "过期" in r.json()["detail"]


def test_revoked_certificate_is_refused_once_the_crl_is_published(
    client: Any, db: Session, world: World, clock: ManualClock
) -> None:
    from sunlit.identity.models import TrustedCA

    cred = _issue(world, world.gm_ca, clock)
    _bind(db, world, cred)
    assert (
        client.post("/api/v1/auth/certificate", json=_sign_login(client, cred)).status_code == 200
    )
    clock.advance(dt.timedelta(minutes=1))
    world.gm_ca.revoke(cred.certificate.serial_number, clock.now())
    fingerprint = world.gm_ca.certificate.fingerprint.hex()
    row = db.scalar(select(TrustedCA).where(TrustedCA.fingerprint == fingerprint))
    assert row is not None
    service.update_crl(db, SYSTEM, row.id, world.gm_ca.crl(clock.now()).der)
    clock.advance(dt.timedelta(minutes=1))
    r = client.post("/api/v1/auth/certificate", json=_sign_login(client, cred))
    assert r.status_code == 401
    assert r.json()["code"] == "identity.cert.revoked"


def test_crl_signed_by_another_ca_is_refused(db: Session, world: World, clock: ManualClock) -> None:
    from sunlit.identity.models import TrustedCA
    from sunlit.kernel.errors import InvalidInput

    fingerprint = world.gm_ca.certificate.fingerprint.hex()
    row = db.scalar(select(TrustedCA).where(TrustedCA.fingerprint == fingerprint))
    assert row is not None
    before = row.crl_der
    with pytest.raises(InvalidInput) as info:
        service.update_crl(db, SYSTEM, row.id, world.rogue_ca.crl(clock.now()).der)
    assert info.value.code.startswith("identity.crl.")
    db.refresh(row)
    assert row.crl_der == before


def test_wrong_signature_counts_towards_lockout(
    client: Any, db: Session, world: World, clock: ManualClock
) -> None:
    cred = _issue(world, world.gm_ca, clock)
    _bind(db, world, cred)
    other = get_suite("gm").generate_keypair()
    for _ in range(5):
        payload = _sign_login(client, cred)
        payload["signature"] = base64.b64encode(
            get_suite("gm").sign(other, b"something else")
        ).decode()
        r = client.post("/api/v1/auth/certificate", json=payload)
        assert r.status_code == 401
        assert r.json()["code"] == "identity.signature.invalid"
    r = client.post("/api/v1/auth/certificate", json=_sign_login(client, cred))
    assert r.status_code == 423 and r.json()["code"] == "identity.user.locked"


def test_unbound_certificate_is_refused(client: Any, world: World, clock: ManualClock) -> None:
    cred = _issue(world, world.gm_ca, clock)
    r = client.post("/api/v1/auth/certificate", json=_sign_login(client, cred))
    assert r.status_code == 401 and r.json()["code"] == "identity.certificate.unbound"


@pytest.mark.parametrize(
    "garbage",
    [
        "not a certificate",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
        base64.b64encode(b"\x30\x03\x02\x01\x01").decode(),
    ],
)
def test_malformed_certificate_is_refused_and_changes_nothing(
    client: Any, db: Session, world: World, garbage: str
) -> None:
    r = client.post("/api/v1/auth/challenge")
    payload = {
        "challenge_id": r.json()["challenge_id"],
        "certificate": garbage,
        "signature": base64.b64encode(b"x").decode(),
    }
    before = db.scalar(select(func.count()).select_from(Certificate))
    r = client.post("/api/v1/auth/certificate", json=payload)
    assert r.status_code == 422
    assert r.json()["code"] == "identity.cert.malformed"
    assert db.scalar(select(func.count()).select_from(Certificate)) == before


def test_bind_certificate_requires_proof_of_possession_and_matching_credit_code(
    client: Any, db: Session, world: World, clock: ManualClock
) -> None:
    first = _issue(world, world.gm_ca, clock)
    _bind(db, world, first)
    login = client.post("/api/v1/auth/certificate", json=_sign_login(client, first)).json()
    auth = {"Authorization": f"Bearer {login['token']}"}

    second = _issue(world, world.intl_ca, clock)
    payload = _sign_login(client, second, "bind", auth)
    # The signature must be made by the key of the certificate being bound.
    bad = dict(
        payload, signature=base64.b64encode(get_suite("gm").sign(first.private_key, b"x")).decode()
    )
    r = client.post("/api/v1/me/certificates", json=bad, headers=auth)
    assert r.status_code == 401 and r.json()["code"] == "identity.signature.invalid"
    payload = _sign_login(client, second, "bind", auth)
    r = client.post("/api/v1/me/certificates", json=payload, headers=auth)
    assert r.status_code == 201, r.text
    assert r.json()["algorithm"] == "ECDSA-P256"

    stranger = world.gm_ca.issue(SubjectInfo("某人", "别的公司", code(8)), clock.now())
    payload = _sign_login(client, stranger, "bind", auth)
    r = client.post("/api/v1/me/certificates", json=payload, headers=auth)
    assert r.status_code == 422 and r.json()["code"] == "identity.certificate.other_org"


def test_challenge_for_bind_needs_login(client: Any) -> None:
    r = client.post("/api/v1/auth/challenge?purpose=bind")
    assert r.status_code == 401


def test_web_certificate_login_sets_session(
    client: Any, db: Session, world: World, clock: ManualClock
) -> None:
    cred = _issue(world, world.gm_ca, clock)
    _bind(db, world, cred)
    headers = csrf_headers(client)
    payload = _sign_login(client, cred)
    r = client.post("/login/certificate", json={**payload, "next": "/me"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"redirect": "/me"}
    page = client.get("/me")
    assert "周强" in page.text and "江苏恒远建设工程有限公司" in page.text
