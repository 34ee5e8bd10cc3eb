"""The deadline checkpoint: the scheduler closes bidding of every section whose deadline has
passed and issues one checkpoint per section, idempotently (ADR 0010)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.app import due_section_ids, make_scheduler
from sunlit.kernel.clock import ManualClock, ensure_aware
from sunlit.kernel.db import Database
from sunlit.opening import service
from sunlit.opening.models import OpeningSession
from sunlit.transparency.models import Checkpoint
from tests.bidding.test_submission import open_section


def _deadline_checkpoints(db: Session, code: str) -> int:
    db.rollback()
    return sum(1 for c in db.scalars(select(Checkpoint)) if c.reason == f"投标截止 标段 {code}")


def test_close_due_sections(
    client: Any, db: Session, tmp_path: Path, clock: ManualClock, settings: Any, database: Database
) -> None:
    s = open_section(client, db, tmp_path, 0)
    deadline = _section_deadline(db, s.sid)
    job = {j.name: j for j in make_scheduler(settings, database).jobs}["opening.bid_deadlines"]
    assert job.interval_seconds == 60

    clock.set(deadline - dt.timedelta(seconds=1))
    db.rollback()
    assert due_section_ids(db) == []
    job.run()
    assert _deadline_checkpoints(db, s.code) == 0
    assert db.scalar(select(OpeningSession)) is None

    clock.set(deadline + dt.timedelta(seconds=30))
    db.rollback()
    assert due_section_ids(db) == [s.sid]
    job.run()
    assert _deadline_checkpoints(db, s.code) == 1
    assert db.scalar(select(OpeningSession)).status == "scheduled"  # type: ignore[union-attr]
    db.rollback()
    assert due_section_ids(db) == []

    clock.set(deadline + dt.timedelta(minutes=2))
    job.run()
    assert service.close_due_sections(db, due_section_ids(db)) == 0
    assert _deadline_checkpoints(db, s.code) == 1


def _section_deadline(db: Session, section_id: str) -> dt.datetime:
    from sunlit.projects.models import Section

    db.rollback()
    section = db.get(Section, section_id)
    assert section is not None and section.bid_deadline is not None
    return ensure_aware(section.bid_deadline)
