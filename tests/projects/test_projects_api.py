"""Projects, tender projects, sections, acceptance and venues over the HTTP API: the refusals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from sunlit.kernel.audit import AuditEvent
from sunlit.projects.models import Booking, Project, Section, TenderProject
from tests.projects.helpers import (
    World,
    accepted_tender,
    build_world,
    count,
    deadline,
    register_payload,
    section_payload,
    upload,
)


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=1)


def _counts(db: Session) -> tuple[int, ...]:
    return tuple(count(db, m) for m in (Project, TenderProject, Section, Booking, AuditEvent))


def _refused(r: Any, status: int, code: str, *words: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert body["code"] == code, body
    for w in words:
        assert w in body["detail"], body["detail"]
    return body


def _register(client: Any, world: World, **over: Any) -> Any:
    body = register_payload(world)
    for k, v in over.items():
        part, _, field = k.partition("__")
        body[part][field] = v
    return client.post("/api/v1/tender-projects", json=body, headers=world.agency.headers)


@pytest.mark.parametrize(
    ("field", "value", "code", "words"),
    [
        ("project__code", "E32050020260001", "projects.code.length", ("17位", "15位")),
        ("project__code", "E3205002026-00001", "projects.code.format", ()),
        ("project__code", "E9905002026000001", "projects.code.region", ("990500",)),
        ("project__code", "E3206002026000001", "projects.code.region_mismatch", ("320600",)),
        ("project__region_code", "3205", "code.region.invalid", ("3205",)),
        ("project__region_code", "990500", "code.region.invalid", ()),
        ("project__invest_project_code", "2026-3205-48", "projects.invest_code.format", ()),
        ("project__tenderer_credit_code", "91320500MA1X2Y3W4J", "projects.org.unknown", ()),
        ("tender__method", "inquiry", "projects.method.category", ("询价", "政府采购")),
        ("tender__project_type", "Z01", "projects.tender.project_type", ("Z01",)),
        ("tender__entrustment", None, "projects.entrustment.required", ("委托",)),
    ],
)
def test_bad_registrations_are_refused_and_change_nothing(
    client: Any,
    db: Session,
    world: World,
    field: str,
    value: Any,
    code: str,
    words: tuple[str, ...],
) -> None:
    before = _counts(db)
    _refused(_register(client, world, **{field: value}), 422, code, *words)
    assert _counts(db) == before


def test_codes_follow_the_data_specification(client: Any, db: Session, world: World) -> None:
    first = _register(client, world).json()
    second = _register(client, world).json()
    assert first["code"] == "E3205002026000001001"
    assert second["code"] == "E3205002026000002001"
    external = _register(client, world, project__code="E3205002019123456").json()
    assert external["code"] == "E3205002019123456001"
    r = client.post(
        f"/api/v1/projects/{external['project_id']}/tender-projects",
        json=register_payload(world)["tender"],
        headers=world.agency.headers,
    )
    assert r.status_code == 201 and r.json()["code"] == "E3205002019123456002"
    _refused(
        _register(client, world, project__code="E3205002019123456"), 409, "projects.code.duplicate"
    )
    gp = _register(client, world, project__category="government_procurement").json()
    assert gp["code"].startswith("P320500")


def test_a_tenderer_registers_its_own_project_without_agency(
    client: Any, db: Session, world: World
) -> None:
    body = register_payload(world)
    del body["project"]["tenderer_credit_code"]
    del body["tender"]["entrustment"]
    r = client.post("/api/v1/tender-projects", json=body, headers=world.tenderer.headers)
    assert r.status_code == 201, r.text
    assert r.json()["agency_org_id"] is None and r.json()["entrustment"] is None
    # ... and another tenderer's project is not its to register.
    body["project"]["tenderer_credit_code"] = world.other_tenderer.credit_code
    _refused(
        client.post("/api/v1/tender-projects", json=body, headers=world.tenderer.headers),
        422,
        "projects.project.other_tenderer",
    )
    _refused(
        client.post("/api/v1/tender-projects", json=body, headers=world.bidders[0].headers),
        403,
        "projects.forbidden",
    )


@pytest.mark.parametrize(
    ("over", "code", "words"),
    [
        (
            {"bid_deadline": "2020-01-06T09:30:00+08:00"},
            "projects.section.deadline_past",
            ("已过",),
        ),
        (
            {"bid_security": "1040000.01"},
            "projects.section.security_over_limit",
            ("1040000.00", "第二十六条"),
        ),
        (
            {"opening_time": "2030-01-07T09:30:00+08:00"},
            "projects.section.opening_not_at_deadline",
            ("第三十四条",),
        ),
        (
            {"evaluation_method": "gp_lowest_price"},
            "projects.section.evaluation_method",
            ("合理低价法",),
        ),
        ({"coefficients": []}, "projects.coefficients.required", ("合理低价法",)),
        (
            {"coefficients": [{"name": "K", "candidates": ["0.95"]}]},
            "projects.coefficients.count",
            (),
        ),
        (
            {"coefficients": [{"name": "K", "candidates": ["0.95", "0.950"]}]},
            "projects.coefficients.duplicate",
            (),
        ),
        (
            {"coefficients": [{"name": "K", "candidates": ["0.1234567", "1"]}]},
            "projects.coefficients.value",
            (),
        ),
        (
            {
                "coefficients": [
                    {"name": "K", "candidates": ["1", "2"]},
                    {"name": "K", "candidates": ["1", "2"]},
                ]
            },
            "projects.coefficients.name",
            (),
        ),
        ({"estimated_price": "100.001"}, "projects.money.format", ()),
        ({"estimated_price": "-1"}, "projects.money.range", ()),
        ({"estimated_price": "1000000000000"}, "projects.money.range", ()),
        ({"min_bidders": 2}, "projects.section.min_bidders", ("3",)),
        ({"classify_code": "Z01"}, "projects.section.classify_code", ()),
    ],
)
def test_bad_sections_are_refused_and_change_nothing(
    client: Any, db: Session, world: World, over: dict[str, Any], code: str, words: tuple[str, ...]
) -> None:
    tender = _register(client, world).json()
    before = _counts(db)
    r = client.post(
        f"/api/v1/tender-projects/{tender['id']}/sections",
        json=section_payload(25, **over),
        headers=world.agency.headers,
    )
    _refused(r, 422, code, *words)
    assert _counts(db) == before


def test_government_procurement_sections(client: Any, db: Session, world: World) -> None:
    tender = _register(
        client,
        world,
        project__category="government_procurement",
        tender__method="competitive_consultation",
    ).json()
    url = f"/api/v1/tender-projects/{tender['id']}/sections"
    gp = {"evaluation_method": "gp_comprehensive_scoring", "coefficients": []}
    _refused(
        client.post(
            url,
            json=section_payload(25, **gp, control_price="52000000.01"),
            headers=world.agency.headers,
        ),
        422,
        "projects.section.control_over_budget",
    )
    _refused(
        client.post(
            url,
            json=section_payload(25, **gp, bid_security="1040001"),
            headers=world.agency.headers,
        ),
        422,
        "projects.section.security_over_limit",
        "政府采购法实施条例",
    )
    _refused(
        client.post(
            url,
            json=section_payload(25, evaluation_method="gp_comprehensive_scoring"),
            headers=world.agency.headers,
        ),
        422,
        "projects.coefficients.not_applicable",
    )
    r = client.post(url, json=section_payload(25, **gp), headers=world.agency.headers)
    assert r.status_code == 201, r.text


def test_acceptance_return_and_resubmission(client: Any, db: Session, world: World) -> None:
    agency, staff = world.agency, world.staff
    tender = _register(client, world).json()
    tid = tender["id"]
    _refused(
        client.post(f"/api/v1/tender-projects/{tid}/submit", headers=agency.headers),
        422,
        "projects.tender.no_sections",
    )
    body = section_payload(25)
    body.pop("bid_deadline")
    client.post(f"/api/v1/tender-projects/{tid}/sections", json=body, headers=agency.headers)
    _refused(
        client.post(f"/api/v1/tender-projects/{tid}/submit", headers=agency.headers),
        422,
        "projects.section.deadline_missing",
    )
    section = client.get(f"/api/v1/tender-projects/{tid}", headers=agency.headers).json()[
        "sections"
    ][0]
    r = client.put(
        f"/api/v1/sections/{section['id']}", json=section_payload(25), headers=agency.headers
    )
    assert r.status_code == 200, r.text
    assert (
        client.post(f"/api/v1/tender-projects/{tid}/submit", headers=agency.headers).status_code
        == 200
    )
    # Only center staff accept; other parties cannot even see the project.
    _refused(
        client.post(f"/api/v1/tender-projects/{tid}/accept", json={}, headers=agency.headers),
        403,
        "projects.tender.forbidden",
    )
    _refused(
        client.get(f"/api/v1/tender-projects/{tid}", headers=world.other_tenderer.headers),
        404,
        "not_found",
    )
    _refused(
        client.post(f"/api/v1/tender-projects/{tid}/return", json={}, headers=staff.headers),
        422,
        "projects.tender.reason_required",
    )
    r = client.post(
        f"/api/v1/tender-projects/{tid}/return",
        json={"note": "缺少项目审批文件"},
        headers=staff.headers,
    )
    assert r.json()["status"] == "returned" and r.json()["review_note"] == "缺少项目审批文件"
    _refused(
        client.post(f"/api/v1/tender-projects/{tid}/accept", json={}, headers=staff.headers),
        409,
        "projects.tender.illegal_transition",
        "已退回",
    )
    r = client.put(
        f"/api/v1/tender-projects/{tid}",
        json=register_payload(world)["tender"] | {"supervise_dept_name": "苏州市住建局"},
        headers=agency.headers,
    )
    assert r.status_code == 200
    assert (
        client.post(f"/api/v1/tender-projects/{tid}/submit", headers=agency.headers).json()[
            "status"
        ]
        == "submitted"
    )
    assert (
        client.post(f"/api/v1/tender-projects/{tid}/accept", json={}, headers=staff.headers).json()[
            "status"
        ]
        == "accepted"
    )
    # Accepted: the sections are no longer editable except by withdrawing to draft.
    _refused(
        client.put(
            f"/api/v1/sections/{section['id']}", json=section_payload(26), headers=agency.headers
        ),
        409,
        "projects.tender.illegal_transition",
        "已受理",
    )


def _room(client: Any, world: World, name: str, kind: str = "opening", **over: Any) -> str:
    body = {"name": name, "kind": kind, "center_name": "苏州市公共资源交易中心", "seats": 30}
    body.update(over)
    r = client.post("/api/v1/venues/rooms", json=body, headers=world.staff.headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_venue_bookings(client: Any, db: Session, world: World) -> None:
    staff = world.staff
    tender = accepted_tender(client, world)
    other = accepted_tender(client, world)
    tid, section = tender["id"], tender["sections"][0]
    opening = dt.datetime.fromisoformat(section["bid_deadline"])
    room = _room(client, world, "第一开标室")
    evaluation = _room(client, world, "第一评标室", "evaluation")
    remote = _room(
        client, world, "远程评标室", "evaluation", center_name="无锡市公共资源交易中心", remote=True
    )
    _refused(
        client.post(
            "/api/v1/venues/rooms",
            json={"name": "第一开标室", "kind": "opening", "center_name": "苏州市公共资源交易中心"},
            headers=staff.headers,
        ),
        409,
        "projects.room.duplicate",
    )
    _refused(
        client.post(
            "/api/v1/venues/rooms",
            json={"name": "x", "kind": "opening", "center_name": "苏州"},
            headers=world.agency.headers,
        ),
        403,
        "projects.forbidden",
    )

    def book(t: str, **over: Any) -> Any:
        body = {
            "purpose": "opening",
            "room_id": room,
            "section_id": section["id"],
            "starts_at": (opening - dt.timedelta(hours=1)).isoformat(),
            "ends_at": (opening + dt.timedelta(hours=2)).isoformat(),
        }
        body.update(over)
        return client.post(
            f"/api/v1/tender-projects/{t}/bookings", json=body, headers=staff.headers
        )

    before = _counts(db)
    _refused(
        book(tid, starts_at=(opening + dt.timedelta(minutes=5)).isoformat()),
        422,
        "projects.booking.opening_not_covered",
    )
    _refused(book(tid, room_id=evaluation), 422, "projects.booking.room_kind", "评标室")
    _refused(
        book(
            tid,
            starts_at=deadline(-2).isoformat(),
            ends_at=deadline(-1).isoformat(),
            section_id=None,
        ),
        422,
        "projects.booking.past",
    )
    _refused(
        book(tid, ends_at=(opening - dt.timedelta(hours=2)).isoformat()),
        422,
        "projects.booking.times",
    )
    _refused(
        book(tid, purpose="evaluation", room_id=evaluation),
        422,
        "projects.booking.evaluation_before_opening",
    )
    _refused(book(tid, branch_room_ids=[room]), 422, "projects.booking.branch_duplicate")
    assert _counts(db) == before
    assert book(tid).status_code == 201
    later = {
        "purpose": "evaluation",
        "room_id": evaluation,
        "branch_room_ids": [remote],
        "section_id": None,
        "starts_at": (opening + dt.timedelta(hours=3)).isoformat(),
        "ends_at": (opening + dt.timedelta(hours=6)).isoformat(),
    }
    main = book(tid, **later).json()
    assert main["room"]["name"] == "第一评标室"
    # The remote sub-venue is taken too: another project's booking of it clashes.
    clash = book(
        other["id"],
        purpose="evaluation",
        room_id=_room(client, world, "第二评标室", "evaluation"),
        branch_room_ids=[remote],
        section_id=None,
        starts_at=(opening + dt.timedelta(hours=5)).isoformat(),
        ends_at=(opening + dt.timedelta(hours=7)).isoformat(),
    )
    body = _refused(
        clash,
        409,
        "projects.booking.conflict",
        "无锡市公共资源交易中心远程评标室",
        tender["code"],
        "评标",
    )
    assert "重叠" in body["detail"]
    # Cancelling the main booking frees its sub-venue as well.
    r = client.post(
        f"/api/v1/venues/bookings/{main['id']}/cancel",
        json={"reason": "改期"},
        headers=staff.headers,
    )
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    again = book(
        other["id"],
        purpose="evaluation",
        room_id=remote,
        section_id=None,
        starts_at=(opening + dt.timedelta(hours=5)).isoformat(),
        ends_at=(opening + dt.timedelta(hours=7)).isoformat(),
    )
    assert again.status_code == 201, again.text
    calendar = client.get("/api/v1/venues/bookings", headers=staff.headers).json()
    assert len(calendar) == 2
    # Withdrawing a tender project to draft releases its bookings.
    r = client.post(f"/api/v1/tender-projects/{tid}/withdraw", headers=world.agency.headers)
    assert r.status_code == 200 and r.json()["status"] == "draft"
    assert client.get(f"/api/v1/tender-projects/{tid}/bookings", headers=staff.headers).json() == []
    _refused(book(tid), 409, "projects.tender.illegal_transition", "草稿")


def test_restrictions(client: Any, db: Session, world: World) -> None:
    bidder = world.bidders[0]
    body = {
        "credit_code": bidder.credit_code,
        "reason": "提供虚假材料",
        "authority": "苏州市住建局",
        "starts_at": deadline(1).isoformat(),
        "ends_at": deadline(0).isoformat(),
    }
    _refused(
        client.post("/api/v1/restrictions", json=body, headers=world.staff.headers),
        422,
        "projects.restriction.period",
    )
    _refused(
        client.post("/api/v1/restrictions", json=body, headers=world.agency.headers),
        403,
        "projects.forbidden",
    )
    body.pop("ends_at")
    r = client.post("/api/v1/restrictions", json=body, headers=world.staff.headers)
    assert r.status_code == 201
    rid = r.json()["id"]
    _refused(
        client.post(f"/api/v1/restrictions/{rid}/revoke", json={}, headers=world.staff.headers),
        422,
        "projects.restriction.note",
    )
    assert (
        client.post(
            f"/api/v1/restrictions/{rid}/revoke",
            json={"reason": "行政复议撤销"},
            headers=world.staff.headers,
        ).status_code
        == 200
    )
    assert len(client.get("/api/v1/restrictions", headers=world.supervisor.headers).json()) == 1


def test_documents_need_a_party_and_sections_to_issue(
    client: Any, db: Session, world: World
) -> None:
    tender = accepted_tender(client, world)
    r = upload(client, world.bidders[0], tender, signature="AAAA")
    _refused(r, 404, "not_found")
