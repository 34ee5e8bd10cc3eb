"""Expert draw end to end over the real HTTP API: request with the center's commitment → the
tenderer's 回避 list → exclusions (each with its rule) → supervisor's value → reveal and draw →
double-blind views → notification → one decline and one silence replaced → alternates
exhausted → supplementary draw → confirmed → disclosure; the stored record verifies offline
with ``sunlit draw verify`` in a separate process."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.draws import CenterSecret, verify_record
from sunlit.experts import queries, service
from sunlit.experts.models import DrawAssignment, DrawExclusion, Expert, ExpertDraw
from sunlit.experts.notify import RecordingNotifier
from sunlit.experts.schemas import LeaveIn, ViolationIn
from sunlit.kernel import clock as kclock
from sunlit.kernel.authz import Role
from sunlit.kernel.clock import ManualClock
from tests.experts.helpers import EMPLOYERS, at, expert_in, make_pool
from tests.projects.helpers import World, _party, accepted_tender, build_world

ROOT = Path(__file__).resolve().parents[2]
SUNLIT = str(Path(sys.executable).parent / "sunlit")


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=0)


def _request(client: Any, world: World, sid: str, center: CenterSecret, **over: Any) -> Any:
    body: dict[str, Any] = {
        "evaluation_starts_at": at(27, 9).isoformat(),
        "evaluation_ends_at": at(27, 17).isoformat(),
        "venue": "苏州市公共资源交易中心3号评标室",
        "strata": [
            {"specialty": "A0101", "count": 3, "alternates": 1},
            {"specialty": "A0401", "count": 2, "alternates": 0},
        ],
        "regions": ["3205"],
        "region_reason": "本地评标，异地专家另行抽取",
        "cooldown_days": 30,
        "response_minutes": 30,
        "commitment": center.commitment.hex(),
    }
    body.update(over)
    return client.post(
        f"/api/v1/sections/{sid}/expert-draws", json=body, headers=world.staff.headers
    )


def _refs(db: Session, draw_id: str) -> dict[str, tuple[str, str]]:
    """expert id -> (assignment status, SMS reference of his latest notification)."""
    db.rollback()
    out = {}
    for a in db.scalars(select(DrawAssignment).where(DrawAssignment.draw_id == draw_id)):
        notes = queries.notifications_of(db, a.id)
        out[a.expert_id] = (a.status, notes[-1].reference if notes else "")
    return out


def _sms(client: Any, reference: str, reply: str) -> Any:
    return client.post("/api/v1/experts/sms-replies", json={"reference": reference, "reply": reply})


def test_draw_with_exclusions_replacements_supplement_and_disclosure(
    client: Any, db: Session, world: World, clock: ManualClock, tmp_path: Path
) -> None:
    staff = world.staff.actor
    tender = accepted_tender(client, world)
    section = tender["sections"][0]
    sid = section["id"]
    deadline = dt.datetime.fromisoformat(section["bid_deadline"])

    plain = make_pool(
        db, staff, [(n, "A010133", ("uni", "design", "consult")[n % 3]) for n in range(1, 9)]
    )
    tenderer_emp = service.register_expert(
        db, staff, expert_in(9, "A010134", employer_credit_code=world.tenderer.credit_code)
    )
    agency_emp = service.register_expert(
        db, staff, expert_in(10, "A010133", employer_credit_code=world.agency.credit_code)
    )
    on_leave = service.register_expert(db, staff, expert_in(11, "A010133"))
    service.add_leave(
        db, staff, on_leave.id, LeaveIn(starts_at=at(26, 8), ends_at=at(28, 8), reason="出差")
    )
    restricted = service.register_expert(db, staff, expert_in(12, "A010133"))
    service.record_violation(
        db,
        staff,
        restricted.id,
        ViolationIn(
            violation="评标中私下接触投标人",
            decided_by="苏住建罚〔2026〕12号",
            restricted_until=at(200, 0),
        ),
    )
    elsewhere = service.register_expert(db, staff, expert_in(13, "A010133", "nanjing"))
    avoided = service.register_expert(db, staff, expert_in(14, "A010133"))
    suspended = service.register_expert(db, staff, expert_in(15, "A010133"))
    service.set_status(db, staff, suspended.id, "suspended", "年度考核不合格")
    designers = make_pool(db, staff, [(n, "A040102", "design") for n in (16, 17, 18)])
    via_other = service.register_expert(
        db, staff, expert_in(19, "B070101", other_specialties=["A010133"])
    )

    center = CenterSecret.new("gm", committed_at=kclock.now())
    r = _request(client, world, sid, center)
    assert r.status_code == 201, r.text
    draw = r.json()
    did = draw["id"]
    assert draw["status"] == "requested"
    # A second draw for the same section is refused.
    assert _request(client, world, sid, center).status_code == 409

    # The tenderer's agency gives the 回避 list; another tenderer cannot see the draw.
    entry = {"name": avoided.name, "id_number": avoided.id_number, "reason": "曾任招标人技术顾问"}
    r = client.post(
        f"/api/v1/expert-draws/{did}/avoidances",
        json={"entries": [entry]},
        headers=world.other_tenderer.headers,
    )
    assert r.status_code == 404
    r = client.post(
        f"/api/v1/expert-draws/{did}/avoidances",
        json={"entries": [{**entry, "reason": ""}]},
        headers=world.agency.headers,
    )
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/expert-draws/{did}/avoidances",
        json={"entries": [entry]},
        headers=world.agency.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["avoidances"][0]["id_number"].count("*") == 10

    # Before the bid deadline the bidders are unknown: fixing is refused.
    r = client.post(f"/api/v1/expert-draws/{did}/fix", headers=world.staff.headers)
    assert r.status_code == 409
    assert r.json()["code"] == "experts.draw.before_deadline"
    clock.set(deadline + dt.timedelta(minutes=10))
    world.refresh_crl(db)
    r = client.post(f"/api/v1/expert-draws/{did}/fix", headers=world.agency.headers)
    assert r.status_code == 403
    r = client.post(f"/api/v1/expert-draws/{did}/fix", headers=world.staff.headers)
    assert r.status_code == 200, r.text
    fixed = r.json()
    assert fixed["status"] == "fixed"
    first = fixed["exclusions"][0]
    assert first["specialty"] == "A0101"
    assert first["in_specialty"] == 16
    assert first["candidates"] == 9
    assert {k: v["count"] for k, v in first["excluded"].items()} == {
        "inactive": 1,
        "credit_restricted": 1,
        "on_leave": 1,
        "region": 1,
        "tenderer_employee": 1,
        "agency_employee": 1,
        "avoidance_list": 1,
    }
    db.rollback()
    rules = {
        x.expert_id: x.rule
        for x in db.scalars(select(DrawExclusion).where(DrawExclusion.draw_id == did))
    }
    assert rules == {
        suspended.id: "inactive",
        restricted.id: "credit_restricted",
        on_leave.id: "on_leave",
        elsewhere.id: "region",
        tenderer_emp.id: "tenderer_employee",
        agency_emp.id: "agency_employee",
        avoided.id: "avoidance_list",
    }
    row = db.get(ExpertDraw, did)
    assert row is not None and row.candidate_lists is not None
    assert set(row.candidate_lists["A0101"]) == {e.id for e in plain} | {via_other.id}
    assert set(row.candidate_lists["A0401"]) == {e.id for e in designers}

    # Supervisor's value, then the center reveals; staff cannot enter the supervisor's value.
    r = client.post(
        f"/api/v1/expert-draws/{did}/supervisor-value",
        json={"value": "20261218"},
        headers=world.staff.headers,
    )
    assert r.status_code == 403
    r = client.post(
        f"/api/v1/expert-draws/{did}/draw",
        json={"center_value": center.value.hex(), "center_salt": center.salt.hex()},
        headers=world.staff.headers,
    )
    assert r.status_code == 409  # the supervisor has not entered a value yet
    r = client.post(
        f"/api/v1/expert-draws/{did}/supervisor-value",
        json={"value": "20261218"},
        headers=world.supervisor.headers,
    )
    assert r.status_code == 200, r.text
    r = client.post(
        f"/api/v1/expert-draws/{did}/draw",
        json={"center_value": "00" * 32, "center_salt": center.salt.hex()},
        headers=world.staff.headers,
    )
    assert r.status_code == 422  # does not open the commitment
    r = client.post(
        f"/api/v1/expert-draws/{did}/draw",
        json={"center_value": center.value.hex(), "center_salt": center.salt.hex()},
        headers=world.staff.headers,
    )
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["status"] == "notifying"
    statuses = sorted((a["stratum"], a["role"], a["status"]) for a in view["assignments"])
    assert statuses == [
        ("A0101", "alternate", "standby"),
        *[("A0101", "selected", "notified")] * 3,
        *[("A0401", "selected", "notified")] * 2,
    ]

    # Double-blind: no name reaches staff, the supervisor or the tenderer before disclosure.
    db.rollback()
    drawn = {a.expert_id for a in db.scalars(select(DrawAssignment))}
    names = [e.name for e in db.scalars(select(Expert).where(Expert.id.in_(drawn)))]
    assert len(names) == 6
    for party in (world.staff, world.supervisor, world.agency):
        text = client.get(f"/api/v1/expert-draws/{did}", headers=party.headers).text
        assert not any(n in text for n in names)
        assert all(a["name"] is None for a in json.loads(text)["assignments"])
    notifier = client.app.state.expert_notifier
    assert isinstance(notifier, RecordingNotifier)
    assert len(notifier.sent) == 5
    assert "评标时间" in notifier.sent[0].text and tender["name"] not in notifier.sent[0].text

    # The stored record verifies, in this process and offline with `sunlit draw verify`.
    record = client.get(f"/api/v1/expert-draws/{did}/record.json").json()
    assert verify_record(json.dumps(record)).ok
    path = tmp_path / "expert-draw.json"
    path.write_text(json.dumps(record, ensure_ascii=False))
    proc = subprocess.run(
        [
            SUNLIT,
            "draw",
            "verify",
            str(path),
            "--definition-hash",
            fixed["definition_hash"],
            "--commitment",
            center.commitment.hex(),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "验证通过" in proc.stdout
    tampered = json.loads(json.dumps(record))
    tampered["outputs"][0]["selected"].reverse()
    path.write_text(json.dumps(tampered))
    proc = subprocess.run(
        [SUNLIT, "draw", "verify", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1

    # Answers: the first selected expert of A0101 declines by SMS → the alternate is called;
    # the second stays silent → timed out, no alternate left → the draw is short.
    a0101 = [
        a
        for a in sorted(view["assignments"], key=lambda a: a["position"])
        if a["stratum"] == "A0101"
    ]
    db.rollback()
    by_hash = {
        a.hashed_id: a.expert_id
        for a in db.scalars(select(DrawAssignment).where(DrawAssignment.draw_id == did))
    }
    refs = _refs(db, did)
    decliner, silent, third, alternate = (by_hash[a["hashed_id"]] for a in a0101)
    assert refs[alternate][0] == "standby"
    r = _sms(client, refs[decliner][1], "2")
    assert r.status_code == 200 and r.json()["status"] == "declined"
    assert _sms(client, refs[decliner][1], "1").status_code == 409  # answered already
    assert _sms(client, refs[third][1], "好的").status_code == 422
    refs = _refs(db, did)
    assert refs[alternate][0] == "notified"
    assert len(notifier.sent) == 6
    for expert_id in (
        third,
        alternate,
        *(by_hash[a["hashed_id"]] for a in view["assignments"] if a["stratum"] == "A0401"),
    ):
        assert _sms(client, _refs(db, did)[expert_id][1], "1").json()["status"] == "confirmed"
    clock.advance(dt.timedelta(minutes=31))
    assert service.expire_due(db, notifier) == 1
    view = client.get(f"/api/v1/expert-draws/{did}", headers=world.staff.headers).json()
    assert view["status"] == "short"
    assert sorted(a["status"] for a in view["assignments"] if a["stratum"] == "A0101") == [
        "confirmed",
        "confirmed",
        "declined",
        "no_answer",
    ]
    assert _sms(client, refs[silent][1], "1").status_code == 409  # too late

    # Supplementary draw (补抽): one more A0101 expert, from those not yet drawn.
    center2 = CenterSecret.new("gm", committed_at=kclock.now())
    r = client.post(
        f"/api/v1/expert-draws/{did}/supplementary",
        json={"commitment": center2.commitment.hex(), "alternates": 1},
        headers=world.staff.headers,
    )
    assert r.status_code == 201, r.text
    child = r.json()
    assert child["strata"][0]["specialty"] == "A0101" and child["strata"][0]["count"] == 1
    cid = child["id"]
    r = client.post(f"/api/v1/expert-draws/{cid}/fix", headers=world.staff.headers)
    assert r.status_code == 200, r.text
    # The four called for A0101 fall under the 30-day cooldown (checked before 'already drawn').
    assert {k: v["count"] for k, v in r.json()["exclusions"][0]["excluded"].items()} == {
        "inactive": 1,
        "credit_restricted": 1,
        "on_leave": 1,
        "region": 1,
        "tenderer_employee": 1,
        "agency_employee": 1,
        "avoidance_list": 1,
        "cooldown": 4,
    }
    assert r.json()["exclusions"][0]["candidates"] == 5
    client.post(
        f"/api/v1/expert-draws/{cid}/supervisor-value",
        json={"value": "7788"},
        headers=world.supervisor.headers,
    )
    r = client.post(
        f"/api/v1/expert-draws/{cid}/draw",
        json={"center_value": center2.value.hex(), "center_salt": center2.salt.hex()},
        headers=world.staff.headers,
    )
    assert r.status_code == 200, r.text
    db.rollback()
    new = [
        a
        for a in db.scalars(
            select(DrawAssignment).where(
                DrawAssignment.draw_id == cid, DrawAssignment.status == "notified"
            )
        )
    ]
    assert len(new) == 1 and new[0].expert_id not in {decliner, silent, third, alternate}
    assert _sms(client, _refs(db, cid)[new[0].expert_id][1], "1").status_code == 200
    assert (
        client.get(f"/api/v1/expert-draws/{did}", headers=world.staff.headers).json()["status"]
        == "confirmed"
    )
    r = client.post(
        f"/api/v1/expert-draws/{cid}/supplementary",
        json={"commitment": center2.commitment.hex()},
        headers=world.staff.headers,
    )
    assert r.status_code == 409

    # Evaluation starts: disclosure. Names appear, and the disclosures verify with the records.
    assert client.get(f"/api/v1/expert-draws/{did}/disclosure.json").status_code == 404
    r = client.post(f"/api/v1/sections/{sid}/expert-draws/disclose", headers=world.agency.headers)
    assert r.status_code == 403
    r = client.post(f"/api/v1/sections/{sid}/expert-draws/disclose", headers=world.staff.headers)
    assert r.status_code == 200, r.text
    for d in (did, cid):
        rec = client.get(f"/api/v1/expert-draws/{d}/record.json").text
        dis = client.get(f"/api/v1/expert-draws/{d}/disclosure.json").text
        result = verify_record(rec, dis)
        assert result.ok, result.findings
        assert result.disclosure_complete
    view = client.get(f"/api/v1/expert-draws/{did}", headers=world.supervisor.headers).json()
    assert all(a["name"] for a in view["assignments"])
    db.rollback()
    confirmed = queries.confirmed_experts(db, sid)
    assert len(confirmed) == 5
    assert {c.expert_id for c in confirmed} == {third, alternate, new[0].expert_id} | {
        by_hash[a["hashed_id"]] for a in view["assignments"] if a["stratum"] == "A0401"
    }
    assert queries.is_disclosed(db, sid)


def test_pool_too_small_names_the_rule_and_changes_nothing(
    client: Any, db: Session, world: World, clock: ManualClock
) -> None:
    staff = world.staff.actor
    tender = accepted_tender(client, world)
    section = tender["sections"][0]
    sid = section["id"]
    make_pool(db, staff, [(n, "A030101", "uni") for n in range(1, 5)])
    for n in range(5, 8):  # three more, all employees of the agency
        service.register_expert(
            db, staff, expert_in(n, "A030102", employer_credit_code=world.agency.credit_code)
        )
    center = CenterSecret.new("gm", committed_at=kclock.now())
    r = _request(
        client,
        world,
        sid,
        center,
        regions=[],
        region_reason="",
        strata=[{"specialty": "A0301", "count": 5, "alternates": 1}],
    )
    did = r.json()["id"]
    clock.set(dt.datetime.fromisoformat(section["bid_deadline"]) + dt.timedelta(minutes=1))
    world.refresh_crl(db)
    r = client.post(f"/api/v1/expert-draws/{did}/fix", headers=world.staff.headers)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "experts.draw.pool_too_small.agency_employee"
    assert "招标代理机构的工作人员" in body["detail"] and "仅剩 4 人" in body["detail"]
    assert body["errors"][0]["stratum"] == "A0301"
    db.rollback()
    row = db.get(ExpertDraw, did)
    assert row is not None and row.status == "requested" and row.candidate_lists is None
    assert db.scalars(select(DrawExclusion)).first() is None
    # A specialty nobody has: the refusal says the pool itself is too small.
    r = client.post(
        f"/api/v1/expert-draws/{did}/cancel",
        json={"value": "重新申请"},
        headers=world.staff.headers,
    )
    assert r.json()["status"] == "cancelled"
    r = _request(
        client,
        world,
        sid,
        center,
        regions=[],
        region_reason="",
        strata=[{"specialty": "B0701", "count": 1}],
    )
    did = r.json()["id"]
    r = client.post(f"/api/v1/expert-draws/{did}/fix", headers=world.staff.headers)
    assert r.json()["code"] == "experts.draw.pool_too_small.specialty"
    assert "专家库中该专业仅有 0 人" in r.json()["detail"]


def test_expert_with_account_answers_on_the_api_and_cooldown_applies(
    client: Any, db: Session, world: World, clock: ManualClock
) -> None:
    staff = world.staff.actor
    tender = accepted_tender(client, world)
    section = tender["sections"][0]
    sid = section["id"]
    p1 = _party(db, None, 130, EMPLOYERS["uni"][0] + "土木学院", [Role.EXPERT], "专家001")
    p2 = _party(db, None, 131, "苏州科技大学", [Role.EXPERT], "专家002")
    e1 = service.register_expert(
        db, staff, expert_in(1, "A040103", employer_credit_code=p1.credit_code, user_id=p1.user_id)
    )
    e2 = service.register_expert(
        db, staff, expert_in(2, "A040103", employer_credit_code=p2.credit_code, user_id=p2.user_id)
    )
    recent = service.register_expert(db, staff, expert_in(3, "A040103"))
    row = db.get(Expert, recent.id)
    assert row is not None
    row.last_drawn_at = kclock.now() - dt.timedelta(days=3)
    db.commit()
    center = CenterSecret.new("intl", committed_at=kclock.now())
    r = _request(
        client,
        world,
        sid,
        center,
        suite="intl",
        regions=[],
        region_reason="",
        strata=[{"specialty": "A0401", "count": 2}],
    )
    did = r.json()["id"]
    clock.set(dt.datetime.fromisoformat(section["bid_deadline"]) + dt.timedelta(minutes=1))
    world.refresh_crl(db)
    r = client.post(f"/api/v1/expert-draws/{did}/fix", headers=world.staff.headers)
    assert r.json()["exclusions"][0]["excluded"] == {
        "cooldown": {"count": 1, "label": "近期已被抽取（冷却期内）"}
    }
    client.post(
        f"/api/v1/expert-draws/{did}/supervisor-value",
        json={"value": "1"},
        headers=world.supervisor.headers,
    )
    r = client.post(
        f"/api/v1/expert-draws/{did}/draw",
        json={"center_value": center.value.hex(), "center_salt": center.salt.hex()},
        headers=world.staff.headers,
    )
    assert r.status_code == 200, r.text
    assert verify_record(
        json.dumps(client.get(f"/api/v1/expert-draws/{did}/record.json").json())
    ).ok

    mine = client.get("/api/v1/experts/me/invitations", headers=p1.headers).json()
    assert len(mine) == 1 and mine[0]["can_answer"] and mine[0]["section_name"] is None
    inv = mine[0]["id"]
    other = client.get("/api/v1/experts/me/invitations", headers=p2.headers).json()[0]["id"]
    r = client.post(
        f"/api/v1/experts/me/invitations/{other}/answer", json={"accept": True}, headers=p1.headers
    )
    assert r.status_code == 404  # not his invitation
    r = client.post(
        f"/api/v1/experts/me/invitations/{inv}/answer", json={"accept": True}, headers=p1.headers
    )
    assert r.json()["status"] == "confirmed"
    r = client.post(
        f"/api/v1/experts/me/invitations/{other}/answer", json={"accept": True}, headers=p2.headers
    )
    assert r.json()["status"] == "confirmed"
    db.rollback()
    assert db.get(ExpertDraw, did).status == "confirmed"  # type: ignore[union-attr]
    service.disclose(db, staff, sid)
    mine = client.get("/api/v1/experts/me/invitations", headers=p1.headers).json()
    assert mine[0]["section_name"] == section["name"]
    got = {c.user_id for c in queries.confirmed_experts(db, sid)}
    assert got == {e1.user_id, e2.user_id}
