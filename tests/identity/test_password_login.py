"""Staff login with argon2 password + TOTP; lock-out after repeated failures; CSRF; logout."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.identity import service
from sunlit.identity.models import User
from sunlit.kernel.audit import AuditEvent
from sunlit.kernel.authz import Role
from sunlit.kernel.clock import ManualClock
from sunlit.kernel.errors import InvalidInput
from tests.identity.helpers import SYSTEM, csrf_headers, make_org

PASSWORD = "Cent3r-Staff!pw"


@pytest.fixture
def staff(db: Session) -> dict[str, str]:
    org = make_org(
        db, 90, "苏州市公共资源交易中心", [Role.CENTER_STAFF], username="wangmin", person="王敏"
    )
    user = db.scalar(select(User).where(User.username == "wangmin"))
    assert user is not None
    secret = service.set_password(db, SYSTEM, user.id, PASSWORD)
    return {"org_id": org.id, "user_id": user.id, "secret": secret}


def _login(
    client: Any, clock: ManualClock, secret: str, password: str = PASSWORD, code: str | None = None
) -> Any:
    totp = code if code is not None else pyotp.TOTP(secret).at(clock.now())
    return client.post(
        "/api/v1/auth/password", json={"username": "wangmin", "password": password, "totp": totp}
    )


def test_weak_password_is_refused(db: Session, staff: dict[str, str]) -> None:
    with pytest.raises(InvalidInput) as info:
        service.set_password(db, SYSTEM, staff["user_id"], "short")
    assert info.value.code == "identity.password.weak"


def test_login_me_and_logout(client: Any, clock: ManualClock, staff: dict[str, str]) -> None:
    r = _login(client, clock, staff["secret"])
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/v1/me", headers=auth)
    assert me.status_code == 200
    assert me.json()["organization"]["name"] == "苏州市公共资源交易中心"
    orgs = client.get("/api/v1/organizations", headers=auth)
    assert orgs.status_code == 200 and orgs.headers["x-total-count"] == "1"
    assert client.post("/api/v1/auth/logout", headers=auth).status_code == 204
    assert client.get("/api/v1/me", headers=auth).status_code == 401


def test_totp_code_is_single_use(client: Any, clock: ManualClock, staff: dict[str, str]) -> None:
    code = pyotp.TOTP(staff["secret"]).at(clock.now())
    assert _login(client, clock, staff["secret"], code=code).status_code == 200
    r = _login(client, clock, staff["secret"], code=code)
    assert r.status_code == 401
    assert r.json()["code"] == "identity.login.bad_credentials"


def test_wrong_totp_is_refused(client: Any, clock: ManualClock, staff: dict[str, str]) -> None:
    good = pyotp.TOTP(staff["secret"]).at(clock.now())
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    r = _login(client, clock, staff["secret"], code=wrong)
    assert r.status_code == 401
    assert r.json()["code"] == "identity.login.bad_credentials"


def test_lockout_after_five_failures_then_expiry(
    client: Any, db: Session, clock: ManualClock, staff: dict[str, str]
) -> None:
    for _ in range(5):
        r = _login(client, clock, staff["secret"], password="Wrong-password1")
        assert r.status_code == 401
    # Now even the right credentials are refused while locked, with the unlock time.
    r = _login(client, clock, staff["secret"])
    assert r.status_code == 423
    assert r.json()["code"] == "identity.user.locked"
    assert "锁定" in r.json()["detail"]
    failures = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "identity.login_failed")
    ).all()
    assert len(failures) == 6
    assert any("locked_until" in e.data for e in failures)
    clock.advance(dt.timedelta(minutes=16))
    assert _login(client, clock, staff["secret"]).status_code == 200


def test_staff_can_unlock(
    client: Any, db: Session, clock: ManualClock, staff: dict[str, str]
) -> None:
    for _ in range(5):
        _login(client, clock, staff["secret"], password="Wrong-password1")
    service.unlock_user(db, SYSTEM, staff["user_id"])
    assert _login(client, clock, staff["secret"]).status_code == 200


def test_web_login_requires_csrf_and_sets_session(
    client: Any, clock: ManualClock, staff: dict[str, str]
) -> None:
    form = {
        "username": "wangmin",
        "password": PASSWORD,
        "totp": pyotp.TOTP(staff["secret"]).at(clock.now()),
    }
    r = client.post("/login/password", data=form, follow_redirects=False)
    assert r.status_code == 403
    assert "CSRF" in r.text
    assert "sunlit_session" not in client.cookies
    headers = csrf_headers(client)
    form["csrf_token"] = headers["X-CSRF-Token"]
    r = client.post("/login/password", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert "sunlit_session" in client.cookies
    page = client.get("/me")
    assert page.status_code == 200 and "苏州市公共资源交易中心" in page.text
    # With the session cookie, an API write without the token is refused ...
    r = client.post("/api/v1/auth/logout")
    assert r.status_code == 403 and r.json()["code"] == "csrf.invalid"
    # ... and accepted with it.
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204


def test_login_page_is_chinese(client: Any) -> None:
    r = client.get("/login")
    assert r.status_code == 200
    assert "数字证书登录" in r.text and 'lang="zh-CN"' in r.text
    assert "Certificate" not in r.text


def test_me_page_redirects_anonymous_to_login(client: Any) -> None:
    r = client.get("/me", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
