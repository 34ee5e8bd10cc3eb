"""Experts employed by a bidder of the section are excluded: real sealed bids uploaded through
the API, the draw fixed after the deadline from the bids that count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.draws import CenterSecret
from sunlit.experts import service
from sunlit.experts.models import DrawExclusion
from sunlit.kernel import clock as kclock
from sunlit.kernel.clock import ManualClock
from tests.experts.helpers import at, expert_in, make_pool
from tests.opening.hall_helpers import prepare
from tests.projects.helpers import World, build_world


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=0)


def test_bidders_employees_are_excluded(
    client: Any, db: Session, world: World, clock: ManualClock, tmp_path: Path
) -> None:
    staff = world.staff.actor
    make_pool(db, staff, [(n, "A040104", "uni") for n in range(1, 4)])
    center = CenterSecret.new("gm", committed_at=kclock.now())
    p = prepare(client, db, world, clock, tmp_path, n=3)  # the clock is now past the deadline
    employees = [
        service.register_expert(
            db, staff, expert_in(10 + i, "A040104", employer_credit_code=b.credit_code)
        )
        for i, b in enumerate(p.bidders[:2])
    ]
    r = client.post(
        f"/api/v1/sections/{p.sid}/expert-draws",
        json={
            "evaluation_starts_at": at(1, 9).isoformat(),
            "evaluation_ends_at": at(1, 17).isoformat(),
            "strata": [{"specialty": "A0401", "count": 3}],
            "commitment": center.commitment.hex(),
        },
        headers=world.staff.headers,
    )
    assert r.status_code == 201, r.text
    did = r.json()["id"]
    r = client.post(f"/api/v1/expert-draws/{did}/fix", headers=world.staff.headers)
    assert r.status_code == 200, r.text
    assert r.json()["exclusions"][0]["excluded"]["bidder_employee"]["count"] == 2
    assert r.json()["exclusions"][0]["candidates"] == 3
    db.rollback()
    rows = list(db.scalars(select(DrawExclusion).where(DrawExclusion.draw_id == did)))
    assert {x.expert_id for x in rows} == {e.id for e in employees}
    assert {x.rule for x in rows} == {"bidder_employee"}
    assert all(x.detail.startswith("工作单位 ") for x in rows)
