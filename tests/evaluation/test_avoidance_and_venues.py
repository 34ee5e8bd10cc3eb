"""回避 at every step: a recusal makes the committee incomplete until the center replaces the
member; an expert employed by a bidder, or who declared a company, cannot score (or question)
its bid — refused with a specific message and no change. Remote off-site evaluation (远程异地
评标): main venue and a sub venue of another center, seats required before the start; the
center terminates an evaluation that cannot finish."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sunlit.evaluation.models import ScoreSheet
from sunlit.identity import service as identity_service
from sunlit.identity.models import User
from sunlit.kernel import clock as kclock
from sunlit.kernel.audit import AuditEvent
from sunlit.kernel.clock import ManualClock
from sunlit.kernel.crypto.x509 import SubjectInfo
from sunlit.kernel.db import new_id
from sunlit.kernel.web import sessions
from tests.evaluation.helpers import api, confirm_opening, drawn_experts, experts, opened_section
from tests.experts.helpers import EMPLOYERS
from tests.identity.helpers import SYSTEM, csrf_headers
from tests.projects.helpers import Party, World, build_world


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=0)


def _employee_expert(db: Session, world: World, bidder: Party, name: str) -> Party:
    """An expert whose employer (工作单位) is a bidder: a user of the bidder's organization
    holding the expert role, with a bound certificate."""
    user = User(
        id=new_id(),
        organization_id=bidder.org_id,
        name=name,
        roles=["expert"],
        status="active",
        failed_logins=0,
        created_at=kclock.now(),
    )
    db.add(user)
    db.commit()
    cred = world.ca.issue(SubjectInfo(name, bidder.name, bidder.credit_code), kclock.now())
    identity_service.bind_certificate_for(db, SYSTEM, user.id, cred.certificate.to_pem().decode())
    token, _ = sessions.open_session(db, user.id, "certificate", 24)
    db.commit()
    return Party(bidder.name, bidder.org_id, user.id, bidder.credit_code, (), name, cred, token)


def _count(db: Session, model: Any) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_avoidance_recusal_replacement_and_remote_venues(
    client: Any, db: Session, world: World, clock: ManualClock, tmp_path: Path
) -> None:
    o = opened_section(client, db, world, clock, tmp_path, method="reasonable_low_price")
    confirm_opening(client, world, o.sid)
    b0, b1, b2 = o.bidders
    ex = experts(db, world, 5)
    insider = _employee_expert(db, world, b0, "钱工")
    committee = [ex[0], ex[1], ex[2], ex[3], insider]
    rep = world.tenderer
    # The insider's pool profile still names his former employer, so the draw's exclusion
    # rules cannot catch him; his 回避 has to come at the evaluation.
    former = EMPLOYERS["uni"][1]
    drawn_experts(
        client, db, world, o.sid, [*committee, ex[4]], pool_employer={insider.user_id: former}
    )
    r = client.post(api(o.sid), json={"tenderer_reps": [rep.user_id]}, headers=world.staff.headers)
    assert r.status_code == 201, r.text
    assert len(r.json()["members"]) == 7
    ids = {m["name"]: m["id"] for m in r.json()["members"]}

    # Remote off-site evaluation: a main room here, a sub venue at another center.
    rooms = []
    for name, center, seats, remote in (
        ("第一评标室", "苏州市公共资源交易中心", 3, False),
        ("远程评标室A", "无锡市公共资源交易中心", 4, True),
    ):
        r = client.post(
            "/api/v1/venues/rooms",
            json={
                "name": name,
                "kind": "evaluation",
                "center_name": center,
                "seats": seats,
                "remote": remote,
            },
            headers=world.staff.headers,
        )
        assert r.status_code == 201, r.text
        rooms.append(r.json()["id"])
    start = clock.now() + dt.timedelta(hours=1)
    r = client.post(
        f"/api/v1/tender-projects/{o.tender_id}/bookings",
        json={
            "purpose": "evaluation",
            "room_id": rooms[0],
            "branch_room_ids": [rooms[1]],
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=6)).isoformat(),
            "section_id": o.sid,
        },
        headers=world.staff.headers,
    )
    assert r.status_code == 201, r.text
    r = client.post(
        api(o.sid, "/venues"), json={"main_booking_id": r.json()["id"]}, headers=world.staff.headers
    )
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["remote"] and [v["is_main"] for v in view["venues"]] == [True, False]
    main, sub = (v["id"] for v in view["venues"])

    # Sign-in and declarations: ex[3] recuses (a relative works for a bidder).
    # ex[0] uses the pages (forms with the CSRF double-submit token), the others the API.
    web = {**ex[0].headers, **csrf_headers(client)}
    r = client.post(f"/evaluation/{o.sid}/sign-in", headers=web, follow_redirects=False)
    assert r.status_code == 303, r.text
    r = client.post(
        f"/evaluation/{o.sid}/declare", data={"avoid": "", "commitment": ""}, headers=web
    )
    assert r.status_code == 422 and "承诺书" in r.text
    for p in committee[1:]:
        assert client.post(api(o.sid, "/sign-in"), headers=p.headers).status_code == 200
    r = client.post(
        api(o.sid, "/declare"),
        json={"recuse": True, "reason": ""},
        headers=ex[3].headers,
    )
    assert r.status_code == 422 and r.json()["code"] == "evaluation.declare.reason"
    r = client.post(
        api(o.sid, "/declare"),
        json={"recuse": True, "reason": "近亲属在投标人处任职"},
        headers=ex[3].headers,
    )
    assert r.status_code == 200, r.text
    r = client.post(
        api(o.sid, "/declare"),
        json={"avoid_credit_codes": ["91320500MA1X2Y3W0Q"], "commitment": True},
        headers=ex[0].headers,
    )
    assert r.status_code == 422 and r.json()["code"].startswith("code.uscc")
    r = client.post(
        f"/evaluation/{o.sid}/declare",
        data={"avoid": "", "commitment": "1"},
        headers=web,
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    for p in (ex[1], ex[2], insider):
        r = client.post(api(o.sid, "/declare"), json={"commitment": True}, headers=p.headers)
        assert r.status_code == 200, r.text
    # Six active members: not a valid committee. No drawn expert is left to replace the
    # recused one (that needs a supplementary draw); a present member cannot be replaced.
    r = client.post(api(o.sid, "/start"), headers=world.staff.headers)
    assert r.status_code == 409 and "5人以上单数" in r.json()["detail"]
    r = client.post(
        api(o.sid, f"/members/{ids[ex[1].person]}/replace"),
        json={},
        headers=world.staff.headers,
    )
    assert r.status_code == 409 and r.json()["code"] == "evaluation.member.present"
    r = client.post(
        api(o.sid, f"/members/{ids[ex[3].person]}/replace"),
        json={},
        headers=world.staff.headers,
    )
    assert r.status_code == 409 and r.json()["code"] == "evaluation.member.no_replacement"
    # The tenderer's representative recuses as well: five drawn experts remain.
    assert client.post(api(o.sid, "/sign-in"), headers=rep.headers).status_code == 200
    r = client.post(
        api(o.sid, "/declare"),
        json={"recuse": True, "reason": "招标人另行委派代表"},
        headers=rep.headers,
    )
    assert r.status_code == 200, r.text
    r = client.post(
        api(o.sid, f"/members/{ids[rep.person]}/replace"),
        json={"user_id": world.staff.user_id},
        headers=world.staff.headers,
    )
    assert r.status_code == 422 and r.json()["code"] == "evaluation.member.not_tenderer"
    assert client.post(api(o.sid, "/sign-in"), headers=ex[4].headers).status_code == 200
    r = client.post(
        api(o.sid, "/declare"),
        json={"avoid_credit_codes": [b1.credit_code], "commitment": True},
        headers=ex[4].headers,
    )
    assert r.status_code == 200, r.text
    active = [ex[0], ex[1], ex[2], ex[4], insider]
    ids = {m["name"]: m["id"] for m in r.json()["members"] if not m["recused"]}
    for p in active[:3]:
        r = client.post(
            api(o.sid, "/vote"), json={"member_id": ids[ex[0].person]}, headers=p.headers
        )
        assert r.status_code == 200, r.text

    # Seats: every member needs one in a remote evaluation; a seat is not given twice.
    r = client.post(api(o.sid, "/start"), headers=world.staff.headers)
    assert r.status_code == 409 and "席位" in r.json()["detail"]
    for i, p in enumerate(active):
        venue, seat = (main, f"M{i + 1}") if i < 3 else (sub, f"S{i - 2}")
        r = client.post(
            api(o.sid, f"/members/{ids[p.person]}/seat"),
            json={"venue_id": venue, "seat": seat},
            headers=world.staff.headers,
        )
        assert r.status_code == 200, r.text
    r = client.post(
        api(o.sid, f"/members/{ids[ex[4].person]}/seat"),
        json={"venue_id": main, "seat": "M1"},
        headers=world.staff.headers,
    )
    assert r.status_code == 409 and r.json()["code"] == "evaluation.seat_taken"
    r = client.post(api(o.sid, "/start"), headers=world.staff.headers)
    assert r.status_code == 200 and r.json()["status"] == "started", r.text

    # Avoidance: refused with a specific message, nothing written.
    sheets, events = _count(db, ScoreSheet), _count(db, AuditEvent)
    r = client.put(api(o.sid, f"/sheets/{b0.credit_code}"), json={}, headers=insider.headers)
    assert r.status_code == 403 and r.json()["code"] == "evaluation.avoidance.employer"
    assert b0.name in r.json()["detail"]
    r = client.put(api(o.sid, f"/sheets/{b1.credit_code}"), json={}, headers=ex[4].headers)
    assert r.status_code == 403 and r.json()["code"] == "evaluation.avoidance.declared"
    r = client.post(
        api(o.sid, "/clarifications"),
        json={"credit_code": b0.credit_code, "question": "请说明"},
        headers=insider.headers,
    )
    assert r.status_code == 403 and r.json()["code"] == "evaluation.avoidance.employer"
    assert (_count(db, ScoreSheet), _count(db, AuditEvent)) == (sheets, events)
    page = client.get(f"/evaluation/{o.sid}/sheets", headers=insider.headers)
    assert page.status_code == 200 and 'data-testid="avoid"' in page.text
    r = client.put(api(o.sid, f"/sheets/{b1.credit_code}"), json={}, headers=insider.headers)
    assert r.status_code == 200, r.text
    r = client.post(api(o.sid, "/submit"), headers=insider.headers)
    assert r.status_code == 409 and r.json()["code"] == "evaluation.sheet.incomplete"

    # The committee cannot finish with a conflicted member: the center terminates.
    r = client.post(api(o.sid, "/terminate"), json={"reason": ""}, headers=world.staff.headers)
    assert r.status_code == 422
    r = client.post(
        api(o.sid, "/terminate"),
        json={"reason": "评标委员会成员与投标人存在利害关系，须重新组建"},
        headers=world.staff.headers,
    )
    assert r.status_code == 200 and r.json()["status"] == "terminated", r.text
    assert b2.credit_code in {b["credit_code"] for b in r.json()["bids"]}
