"""Registering organizations and reviewing them over the real HTTP API."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sunlit.identity.models import Organization, User
from sunlit.kernel.audit import AuditEvent
from tests.identity.helpers import code


def _count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def _payload(**over: Any) -> dict[str, Any]:
    body = {
        "name": "江苏测试建设有限公司",
        "credit_code": code(1),
        "roles": ["bidder"],
        "contact_name": "王五",
        "admin": {"name": "王五", "mobile": "13800000001"},
    }
    body.update(over)
    return body


def test_self_registration_waits_for_review_and_is_audited(client: Any, db: Session) -> None:
    r = client.post("/api/v1/organizations", json=_payload())
    assert r.status_code == 201, r.text
    org = r.json()
    assert org["status"] == "pending_review"
    assert org["region_code"] == "320500"
    assert org["role_names"] == ["bidder"]
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "identity.org.registered")
    ).one()
    assert event.object_id == org["id"]
    assert event.data["credit_code"] == code(1)
    assert _count(db, User) == 1


def test_invalid_credit_code_is_refused_with_specific_message(client: Any, db: Session) -> None:
    bad = code(1)[:-1] + ("0" if code(1)[-1] != "0" else "1")
    r = client.post("/api/v1/organizations", json=_payload(credit_code=bad))
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "code.uscc.check_char"
    assert "校验位错误" in body["detail"]
    assert body["field"] == "credit_code"
    assert _count(db, Organization) == 0
    assert _count(db, AuditEvent) == 0


def test_duplicate_organization_is_refused_and_changes_nothing(client: Any, db: Session) -> None:
    assert client.post("/api/v1/organizations", json=_payload()).status_code == 201
    r = client.post("/api/v1/organizations", json=_payload(name="另一家公司"))
    assert r.status_code == 409
    assert r.json()["code"] == "identity.org.duplicate"
    assert "已注册" in r.json()["detail"]
    assert _count(db, Organization) == 1
    assert _count(db, AuditEvent) == 1


def test_staff_only_roles_cannot_be_self_claimed(client: Any, db: Session) -> None:
    r = client.post("/api/v1/organizations", json=_payload(roles=["bidder", "center_staff"]))
    assert r.status_code == 422
    assert r.json()["code"] == "identity.roles.not_self_registrable"
    assert "交易中心工作人员" in r.json()["detail"]
    assert _count(db, Organization) == 0


def test_bad_mobile_is_refused(client: Any, db: Session) -> None:
    r = client.post(
        "/api/v1/organizations", json=_payload(admin={"name": "王五", "mobile": "12345"})
    )
    assert r.status_code == 422
    assert r.json()["code"] == "identity.user.mobile"
    assert _count(db, Organization) == 0


def test_schema_violation_is_a_problem_document(client: Any) -> None:
    r = client.post("/api/v1/organizations", json={"name": "x"})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "request.invalid"
    assert {e["field"] for e in body["errors"]} >= {"credit_code", "roles"}


def test_listing_organizations_needs_staff(client: Any) -> None:
    r = client.get("/api/v1/organizations")
    assert r.status_code == 401
    assert r.json()["code"] == "auth.required"


def test_english_on_request_chinese_by_default(client: Any) -> None:
    assert client.get("/api/v1/organizations").json()["detail"] == "请先登录"
    r = client.get("/api/v1/organizations?lang=en")
    assert r.json() == {**r.json(), "code": "auth.required", "detail": "Please log in first"}
    bad = client.post(
        "/api/v1/organizations?lang=en",
        json={"name": "测试公司", "credit_code": "9133010071610585", "roles": ["bidder"]},
    )
    assert bad.json()["detail"] == "A unified social credit code has 18 characters; this one has 16"


def test_pages_switch_to_english_and_remember_it(client: Any) -> None:
    page = client.get("/login?lang=en")
    assert 'lang="en"' in page.text and "Log in" in page.text and "Register" in page.text
    again = client.get("/login")  # the choice is kept in a cookie
    assert 'lang="en"' in again.text
    assert 'lang="zh-CN"' in client.get("/login?lang=zh_CN").text
