"""The expert pool: validation, who may edit what, leave and credit, Excel import and export."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sunlit.experts import excel
from sunlit.experts.catalog import full_name, parse_specialty, specialties
from sunlit.experts.models import Expert, ExpertSpecialty
from sunlit.kernel.audit import AuditEvent
from sunlit.kernel.authz import Role
from sunlit.kernel.errors import DomainError
from tests.experts.helpers import EMPLOYERS, at, expert_in, id_number
from tests.projects.helpers import World, _party, build_world


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=0)


def _count(db: Session, model: type) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_specialty_table_is_hierarchical() -> None:
    table = specialties()
    assert {"A", "B", "C"} <= set(table)
    for s in table.values():
        assert s.parent is None or s.parent in table
    assert full_name("A010133") == "工程类 / 规划 / 国民经济和社会发展规划 / 市政公用工程"
    with pytest.raises(DomainError) as exc:
        parse_specialty("A9999")
    assert exc.value.code == "experts.specialty.unknown"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("id_number", "320502197001010011", "experts.id_number.check"),
        ("id_number", "12345", "experts.id_number.format"),
        ("employer_credit_code", "913205081377100119", "code.uscc.check_char"),
        ("mobile", "0512-6888", "experts.mobile"),
        ("region_code", "990000", "code.region.invalid"),
        ("main_specialty", "Z01", "experts.specialty.unknown"),
    ],
)
def test_register_refuses_bad_fields(
    client: Any, db: Session, world: World, field: str, value: str, code: str
) -> None:
    body = expert_in(1).model_dump()
    body[field] = value
    r = client.post("/api/v1/experts", json=body, headers=world.staff.headers)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code
    assert r.json()["field"] == field
    assert _count(db, Expert) == 0


def test_roles_profile_leave_and_credit(client: Any, db: Session, world: World) -> None:
    body = expert_in(1, "A040102", other_specialties=["A040103", "B070101"]).model_dump()
    assert (
        client.post("/api/v1/experts", json=body, headers=world.agency.headers).status_code == 403
    )
    expert_user = _party(db, None, 140, "苏州科技大学", [Role.EXPERT], "专家001")
    body["user_id"] = expert_user.user_id
    r = client.post("/api/v1/experts", json=body, headers=world.staff.headers)
    assert r.status_code == 201, r.text
    e = r.json()
    assert e["id_number"] == id_number(1)[:4] + "*" * 10 + id_number(1)[-4:]
    assert e["other_specialties"] == ["A040103", "B070101"]
    assert client.post("/api/v1/experts", json=body, headers=world.staff.headers).status_code == 409
    # The expert maintains his own profile; another expert cannot even see it.
    other = _party(db, None, 141, "苏州大学", [Role.EXPERT], "专家002")
    profile = {
        "mobile": "13912345678",
        "employer_name": EMPLOYERS["design"][0],
        "employer_credit_code": EMPLOYERS["design"][1],
        "title": "教授级高级工程师",
        "region_code": "320508",
        "main_specialty": "A040103",
        "other_specialties": ["A040102"],
    }
    assert (
        client.put(f"/api/v1/experts/{e['id']}", json=profile, headers=other.headers).status_code
        == 404
    )
    r = client.put("/api/v1/experts/me", json=profile, headers=expert_user.headers)
    assert r.status_code == 200, r.text
    assert r.json()["main_specialty"] == "A040103"
    assert r.json()["mobile"] == "139****5678"
    db.rollback()
    codes = [s.code for s in db.scalars(select(ExpertSpecialty).order_by(ExpertSpecialty.position))]
    assert codes == ["A040103", "A040102"]
    bad = {**profile, "employer_credit_code": "91320508137710011X"}
    r = client.put("/api/v1/experts/me", json=bad, headers=expert_user.headers)
    assert r.status_code == 422
    # Leave: his own; ends before it starts is refused.
    r = client.post(
        "/api/v1/experts/me/leaves",
        json={"starts_at": at(3, 9).isoformat(), "ends_at": at(2, 9).isoformat()},
        headers=expert_user.headers,
    )
    assert r.status_code == 422
    r = client.post(
        "/api/v1/experts/me/leaves",
        json={"starts_at": at(3, 9).isoformat(), "ends_at": at(5, 9).isoformat(), "reason": "出差"},
        headers=expert_user.headers,
    )
    assert r.status_code == 201
    leave_id = r.json()["id"]
    assert len(client.get("/api/v1/experts/me/leaves", headers=expert_user.headers).json()) == 1
    assert (
        client.delete(f"/api/v1/experts/leaves/{leave_id}", headers=other.headers).status_code
        == 404
    )
    assert (
        client.delete(f"/api/v1/experts/leaves/{leave_id}", headers=expert_user.headers).status_code
        == 200
    )
    # Credit: the supervisor records a violation with a restriction.
    r = client.post(
        f"/api/v1/experts/{e['id']}/violations",
        json={"violation": "无故缺席评标", "restricted_until": at(90, 0).isoformat()},
        headers=world.supervisor.headers,
    )
    assert r.status_code == 201
    assert (
        client.post(
            f"/api/v1/experts/{e['id']}/violations",
            json={"violation": "x"},
            headers=expert_user.headers,
        ).status_code
        == 403
    )
    detail = client.get(f"/api/v1/experts/{e['id']}", headers=world.supervisor.headers).json()
    assert (
        detail["restricted_until"] is not None
        and detail["credit_records"][0]["violation"] == "无故缺席评标"
    )
    found = client.get("/api/v1/experts?specialty=A0401", headers=world.staff.headers).json()
    assert found["total"] == 1
    assert client.get("/api/v1/experts", headers=world.agency.headers).status_code == 403
    db.rollback()
    actions = set(db.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "expert")))
    assert {
        "experts.registered",
        "experts.profile_updated",
        "experts.leave",
        "experts.violation",
    } <= actions


def _workbook(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append([label for _, label in excel.COLUMNS])
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _row(n: int, **over: Any) -> list[Any]:
    e = expert_in(n, "A030101")
    values = {
        "name": e.name,
        "id_number": e.id_number,
        "mobile": e.mobile,
        "employer_name": e.employer_name,
        "employer_credit_code": e.employer_credit_code,
        "title": e.title,
        "region_code": e.region_code,
        "main_specialty": e.main_specialty,
        "other_specialties": "A030102、A030103",
    }
    values.update(over)
    return [values[k] for k, _ in excel.COLUMNS]


def test_excel_import_reports_every_bad_cell_and_imports_nothing(
    client: Any, db: Session, world: World
) -> None:
    content = _workbook(
        [
            _row(1),
            _row(2, main_specialty="A9901"),
            _row(3, employer_credit_code="913205081377100119"),
            _row(4, other_specialties="A030102,XYZ"),
            _row(1, name="重复"),
        ]
    )
    r = client.post(
        "/api/v1/experts/import",
        files={"file": ("experts.xlsx", content)},
        headers=world.staff.headers,
    )
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "experts.excel.rows"
    errors = [(e["row"], e["column"]) for e in body["errors"]]
    assert errors == [
        (3, "主评专业代码"),
        (4, "工作单位统一社会信用代码"),
        (5, "其他专业代码"),
        (6, "身份证号码"),
    ]
    assert "校验位" in body["errors"][1]["message"]
    assert "第3行" in body["detail"]
    assert _count(db, Expert) == 0

    good = _workbook([_row(n) for n in range(1, 6)])
    r = client.post(
        "/api/v1/experts/import", files={"file": ("e.xlsx", good)}, headers=world.staff.headers
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"added": 5, "updated": 0}
    again = _workbook([_row(1, title="正高级工程师"), _row(6)])
    r = client.post(
        "/api/v1/experts/import", files={"file": ("e.xlsx", again)}, headers=world.staff.headers
    )
    assert r.json() == {"added": 1, "updated": 1}
    assert (
        client.post(
            "/api/v1/experts/import", files={"file": ("e.xlsx", good)}, headers=world.agency.headers
        ).status_code
        == 403
    )
    r = client.post(
        "/api/v1/experts/import",
        files={"file": ("e.xlsx", b"not excel")},
        headers=world.staff.headers,
    )
    assert r.json()["code"] == "experts.excel.file"

    r = client.get("/api/v1/experts/export.xlsx", headers=world.staff.headers)
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws is not None
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:9] == tuple(label for _, label in excel.COLUMNS)
    assert len(rows) == 7
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["专家001"][5] == "正高级工程师"
    assert by_name["专家001"][8] == "A030102,A030103"
    assert "*" in by_name["专家001"][1]  # ID numbers leave masked
    assert (
        client.get("/api/v1/experts/export.xlsx", headers=world.supervisor.headers).status_code
        == 403
    )


def test_demo_experts_become_pool_entries(db: Session, world: World) -> None:
    from sunlit.demo.experts import load_experts

    a = _party(db, None, 160, "苏州大学", [Role.EXPERT], "张教授")
    b = _party(db, None, 161, "江苏华正工程咨询有限公司", [Role.EXPERT], "林工")
    assert load_experts(db, world.staff.actor) == 2
    assert load_experts(db, world.staff.actor) == 0  # idempotent
    db.rollback()
    rows = {e.user_id: e for e in db.scalars(select(Expert))}
    assert set(rows) == {a.user_id, b.user_id}
    assert rows[a.user_id].employer_credit_code == a.credit_code
    assert rows[a.user_id].name == "张教授"
