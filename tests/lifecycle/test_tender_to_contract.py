"""Issue 5 end to end, over the real HTTP API on both databases: the opening scenario (sealed
bids, collective decryption, 唱标, the draw, the confirmed record) → the expert draw (one
expert declines, one stays silent and is timed out on the manual clock; alternates replace
both; the recording notifier shows every call) → the committee formed from the draw → names
disclosed when evaluation starts → five experts score → the signed report → the award opened
from it → candidate publicity on the portal → decision → award letter verified offline with
``sunlit award verify`` in a separate process → contract → the bid deposits released by the
scheduler job (once)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.app import make_scheduler
from sunlit.award import service as award_service
from sunlit.award.models import AwardContract
from sunlit.experts import service as experts_service
from sunlit.experts.notify import RecordingNotifier
from sunlit.kernel.audit import AuditEvent
from sunlit.kernel.clock import ManualClock
from sunlit.kernel.db import Database
from tests.evaluation.helpers import (
    answer_invitation,
    api,
    confirm_opening,
    drawn_experts,
    experts,
    opened_section,
    sign,
)
from tests.projects.helpers import World, build_world


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=0)


def _award(sid: str, tail: str = "") -> str:
    return f"/api/v1/sections/{sid}/award{tail}"


def _events(db: Session, action: str) -> list[AuditEvent]:
    db.rollback()
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_from_opening_through_experts_evaluation_award_contract_and_deposits(
    client: Any,
    db: Session,
    world: World,
    clock: ManualClock,
    tmp_path: Path,
    settings: Any,
    database: Database,
) -> None:
    prices = ["9600000.00", "9800000.00", "10000000.00", "10200000.00"]
    o = opened_section(
        client, db, world, clock, tmp_path, method="reasonable_low_price", prices=prices
    )
    confirm_opening(client, world, o.sid)

    # --- the expert draw: 5 needed, 2 alternates ----------------------------------------------
    pool = experts(db, world, 7)
    notifier = client.app.state.expert_notifier
    assert isinstance(notifier, RecordingNotifier)
    sent = len(notifier.sent)
    did = drawn_experts(client, db, world, o.sid, pool, alternates=2, confirm=False)
    assert len(notifier.sent) == sent + 5
    # Before the draw is complete the committee cannot be formed.
    r = client.post(api(o.sid), json={}, headers=world.staff.headers)
    assert r.status_code == 409 and r.json()["code"] == "evaluation.committee.draw_incomplete"

    def invited(p: Any) -> bool:
        mine = client.get("/api/v1/experts/me/invitations", headers=p.headers).json()
        return any(i["can_answer"] for i in mine)

    called = [p for p in pool if invited(p)]
    assert len(called) == 5
    decliner, silent, *rest = called
    assert answer_invitation(client, decliner, False)  # → the first alternate is called
    (first_alt,) = [p for p in pool if p not in called and invited(p)]
    assert len(notifier.sent) == sent + 6
    for p in [*rest, first_alt]:
        assert answer_invitation(client, p, True)
    clock.advance(dt.timedelta(minutes=31))
    db.rollback()
    assert experts_service.expire_due(db, notifier) == 1  # the silent one → second alternate
    (second_alt,) = [p for p in pool if p not in called and p is not first_alt]
    assert invited(second_alt) and not invited(silent) and not invited(decliner)
    assert len(notifier.sent) == sent + 7
    assert answer_invitation(client, second_alt, True)
    alternates = [first_alt, second_alt]
    draw = client.get(f"/api/v1/expert-draws/{did}", headers=world.staff.headers).json()
    assert draw["status"] == "confirmed"
    committee = [*rest, *alternates]

    # --- the committee from the draw; names hidden from the tenderer until the start ---------
    r = client.post(api(o.sid), json={}, headers=world.staff.headers)
    assert r.status_code == 201, r.text
    members = r.json()["members"]
    assert sorted(m["name"] for m in members) == sorted(p.person for p in committee)
    assert {m["source"] for m in members} == {"drawn"}
    text = client.get(api(o.sid), headers=world.agency.headers).text
    assert not any(p.person in text for p in committee)
    assert client.get(f"/api/v1/expert-draws/{did}/disclosure.json").status_code == 404
    leader = next(m["id"] for m in members if m["name"] == committee[0].person)
    for p in committee:
        assert client.post(api(o.sid, "/sign-in"), headers=p.headers).status_code == 200
        r = client.post(api(o.sid, "/declare"), json={"commitment": True}, headers=p.headers)
        assert r.status_code == 200, r.text
        r = client.post(api(o.sid, "/vote"), json={"member_id": leader}, headers=p.headers)
        assert r.status_code in (200, 409), r.text
    r = client.post(api(o.sid, "/start"), headers=world.staff.headers)
    assert r.status_code == 200 and r.json()["status"] == "started", r.text
    # Disclosed in the start's own transaction: one audit event, no separate disclosure one.
    assert client.get(f"/api/v1/expert-draws/{did}/disclosure.json").status_code == 200
    (started,) = _events(db, "evaluation.started")
    assert started.data["experts_disclosed"]["draw_id"] == did
    assert _events(db, "experts.draw.disclosed") == []
    text = client.get(api(o.sid), headers=world.agency.headers).text
    assert all(p.person in text for p in committee)

    # --- five experts score, hand in, the leader reports, everyone signs ---------------------
    for p in committee:
        for b in o.bidders:
            r = client.put(api(o.sid, f"/sheets/{b.credit_code}"), json={}, headers=p.headers)
            assert r.status_code == 200, r.text
        assert client.post(api(o.sid, "/submit"), headers=p.headers).status_code == 200
    # No award before the report is signed.
    r = client.post(_award(o.sid, "/open"), headers=world.agency.headers)
    assert r.status_code == 409 and r.json()["code"] == "award.no_signed_report"
    r = client.post(api(o.sid, "/report"), headers=committee[0].headers)
    assert r.status_code == 200, r.text
    for p in committee:
        msg = client.get(api(o.sid, "/report/signing-message"), headers=p.headers).json()
        r = client.post(
            api(o.sid, "/report/sign"),
            json={"signature": sign(p, msg["message"])},
            headers=p.headers,
        )
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "signed"
    report = r.json()["report"]
    ranked = report["document"]["result"]["ranking"][:3]

    # --- the award, opened from the signed report (the waiting page offers the button) -------
    page = client.get(f"/award/{o.sid}", headers=world.agency.headers).text
    assert 'data-testid="open-award"' in page and ranked[0]["name"] in page
    r = client.post(_award(o.sid, "/open"), headers=world.agency.headers)
    assert r.status_code == 201, r.text
    view = r.json()
    assert [c["credit_code"] for c in view["candidates"]] == [c["bidder_id"] for c in ranked]
    assert view["report_digest"] == report["digest"]
    first = view["candidates"][0]
    r = client.post(_award(o.sid, "/publicity"), json={"days": 3}, headers=world.agency.headers)
    assert r.status_code == 200, r.text
    notice_id = r.json()["publicity"]["notice_id"]
    found = client.get("/api/v1/notices", params={"kind": "candidate_publicity"}).json()
    assert [n["id"] for n in found] == [notice_id]
    portal = client.get(f"/notices/{notice_id}")
    assert portal.status_code == 200 and first["name"] in portal.text
    clock.advance(dt.timedelta(days=3, hours=1))
    r = client.post(
        _award(o.sid, "/decision"), json={"winner_id": first["id"]}, headers=world.agency.headers
    )
    assert r.status_code == 200, r.text
    r = client.post(
        _award(o.sid, "/notify"),
        json={"project_lead": "张工", "project_lead_certificate": "苏132060800001"},
        headers=world.agency.headers,
    )
    assert r.status_code == 200, r.text
    notified = dt.datetime.fromisoformat(r.json()["notified_at"])

    # The winner's award letter verifies offline, in a separate process.
    winner = next(b for b in o.bidders if b.credit_code == first["credit_code"])
    (letter,) = client.get(_award(o.sid), headers=winner.headers).json()["letters"]
    bundle = client.get(f"/api/v1/award-letters/{letter['id']}", headers=winner.headers).json()
    pdf = client.get(f"/api/v1/award-letters/{letter['id']}/pdf", headers=winner.headers)
    (tmp_path / "letter.json").write_text(json.dumps(bundle, ensure_ascii=False), "utf-8")
    (tmp_path / "letter.pdf").write_bytes(pdf.content)
    (tmp_path / "key.pem").write_text(client.get("/api/v1/transparency/key.pem").text)
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("sunlit")),
            "award",
            "verify",
            str(tmp_path / "letter.json"),
            "--key",
            str(tmp_path / "key.pem"),
            "--pdf",
            str(tmp_path / "letter.pdf"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "签名有效" in proc.stdout and first["amount_words"] in proc.stdout

    # --- the contract, then the deposits released by the scheduler job, exactly once ---------
    clock.advance(dt.timedelta(days=2))
    contract = {
        "contract_code": "SGHT-2026-018",
        "name": "土建施工合同",
        "price": first["price"],
        "content": "车辆段土建施工",
        "signed_at": (notified + dt.timedelta(days=1)).isoformat(),
    }
    r = client.post(_award(o.sid, "/contract"), json=contract, headers=world.agency.headers)
    assert r.status_code == 200 and r.json()["status"] == "contracted", r.text
    db.rollback()
    assert award_service.contracts_awaiting_release(db) == [o.sid]
    job = {j.name: j for j in make_scheduler(settings, database).jobs}["award.security_release"]
    job.run()  # what the app's scheduler runs every minute
    db.rollback()
    assert award_service.contracts_awaiting_release(db) == []
    job.run()
    assert award_service.release_due_securities(db) == 0  # never twice
    (released,) = _events(db, "award.securities.released")
    assert (
        released.data["contract_signed_on"] == (notified + dt.timedelta(days=1)).date().isoformat()
    )
    row = db.scalar(select(AwardContract))
    assert row is not None and row.securities_released_at is not None
