"""Refusals not covered by the main scenario: an opening not yet closed, answering as a bidder,
terminating the award (and nothing afterwards), all with no change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from sunlit.kernel.clock import ManualClock
from tests.award.helpers import award, closed_opening, open_award, opening, try_open
from tests.award.test_award_api import refused, snapshot
from tests.opening.hall_helpers import prepare
from tests.projects.helpers import World, build_world


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=0)


def test_report_before_the_opening_is_closed(
    client: Any, db: Session, world: World, clock: ManualClock, tmp_path: Path
) -> None:
    p = prepare(client, db, world, clock, tmp_path, n=3)
    ranked = [{"rank": 1, "credit_code": p.bidders[0].credit_code, "price": "1"}]
    before = snapshot(db)
    assert try_open(db, world.staff.actor, p.sid, ranked)[:2] == (409, "award.no_opening")
    refused(
        client.post(award(p.sid, "/open"), headers=world.staff.headers),
        409,
        "award.no_signed_report",
    )
    assert client.post(opening(p.sid, "/start"), headers=world.staff.headers).status_code == 200
    assert try_open(db, world.staff.actor, p.sid, ranked)[:2] == (409, "award.opening_not_closed")
    # Award tables untouched (the audit log grew only by the opening's own events).
    assert snapshot(db)[:7] == before[:7]


def test_cancel_and_answers_by_the_wrong_party(
    client: Any, db: Session, world: World, clock: ManualClock, tmp_path: Path
) -> None:
    p = closed_opening(client, db, world, clock, tmp_path, n=3)
    sid = p.sid
    open_award(client, db, world, p, [0, 1, 2])
    r = client.post(award(sid, "/publicity"), json={"days": 3}, headers=world.agency.headers)
    assert r.status_code == 200, r.text
    r = client.post(
        award(sid, "/objections"), json={"content": "异议"}, headers=p.bidders[1].headers
    )
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    before = snapshot(db)
    refused(
        client.post(
            award(sid, f"/objections/{oid}/answer"),
            json={"answer": "自答"},
            headers=p.bidders[1].headers,
        ),
        403,
        "award.process.forbidden",
    )
    refused(
        client.post(
            award(sid, "/objections"),
            json={"content": "招标人自己提"},
            headers=world.tenderer.headers,
        ),
        403,
        "award.forbidden",
    )
    refused(
        client.post(award(sid, "/cancel"), json={"reason": " "}, headers=world.agency.headers),
        422,
        "award.cancel.reason.empty",
    )
    refused(
        client.post(
            award(sid, "/cancel"), json={"reason": "重新招标"}, headers=world.staff.headers
        ),
        403,
        "award.process.forbidden",
    )
    assert snapshot(db) == before
    r = client.post(
        award(sid, "/cancel"),
        json={"reason": "第一、二、三中标候选人均放弃中标，依法重新招标"},
        headers=world.agency.headers,
    )
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    before = snapshot(db)
    for path, body in (
        ("/decision", {"winner_id": "x"}),
        ("/notify", {}),
        ("/publicity", {"days": 3}),
    ):
        r = client.post(award(sid, path), json=body, headers=world.agency.headers)
        refused(r, 409, "award.process.illegal_transition")
        assert "已终止" in r.json()["detail"]
    assert snapshot(db) == before
