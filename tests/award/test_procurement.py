"""政府采购: no candidate publicity (the decision follows the report directly, 87号令), the same
first-candidate rule, and the contract published within 2 working days of signing (政府采购法
实施条例第50条), counted on the statutory working-day calendar."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from sunlit.kernel.clock import CHINA_TZ, ManualClock
from sunlit.projects.models import Section, TenderProject
from tests.award.helpers import award, closed_opening, open_award
from tests.projects.helpers import World, build_world


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=0)


def test_procurement_award_and_contract_publicity(
    client: Any, db: Session, world: World, clock: ManualClock, tmp_path: Path
) -> None:
    p = closed_opening(client, db, world, clock, tmp_path, n=3)
    # The opening helpers build an engineering tender; the award fixes its rules from the
    # tender's category when it opens, so relabel the tender before the report arrives.
    section = db.get(Section, p.sid)
    assert section is not None
    db.execute(
        update(TenderProject)
        .where(TenderProject.id == section.tender_project_id)
        .values(category="government_procurement")
    )
    db.commit()
    view = open_award(client, db, world, p, [1, 0, 2])
    assert view["government_procurement"] and view["rule_bound"]
    assert not view["publicity_required"]
    first, second = view["candidates"][0], view["candidates"][1]

    # The rule still binds: the second only with a 87号令/第55条 reason.
    r = client.post(
        award(p.sid, "/decision"), json={"winner_id": second["id"]}, headers=world.agency.headers
    )
    assert r.status_code == 422 and r.json()["code"] == "award.decision.reason_missing"
    r = client.post(
        award(p.sid, "/decision"), json={"winner_id": first["id"]}, headers=world.agency.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "decided" and r.json()["publicity"]["start"] is None
    r = client.post(award(p.sid, "/notify"), json={}, headers=world.agency.headers)
    assert r.status_code == 200, r.text
    notified = dt.datetime.fromisoformat(r.json()["notified_at"])

    # Signed on Friday 2026-12-18: due two working days later, Tuesday 2026-12-22.
    signed = dt.datetime(2026, 12, 18, 16, 0, tzinfo=CHINA_TZ)
    assert signed > notified and signed.weekday() == 4
    clock.set(dt.datetime(2026, 12, 23, 10, 0, tzinfo=CHINA_TZ))  # Wednesday: one day late
    r = client.post(
        award(p.sid, "/contract"),
        json={
            "contract_code": "ZFCG-2026-77",
            "name": "设备采购合同",
            "price": first["price"],
            "content": "设备供货及安装",
            "signed_at": signed.isoformat(),
        },
        headers=world.agency.headers,
    )
    assert r.status_code == 200, r.text
    contract = r.json()["contract"]
    assert contract["publicity_due"] == "2026-12-22" and contract["publicity_late"] is True
    rows = client.get("/api/v1/awards", headers=world.staff.headers).json()
    (row,) = [x for x in rows if x["section_id"] == p.sid]
    assert row["flags"] == ["合同公示逾期"]
