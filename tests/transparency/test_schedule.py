"""Scheduled checkpoints: issued only when the log grew, safe when processes race."""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sunlit.kernel.scheduler import Job, Scheduler
from sunlit.transparency import service
from sunlit.transparency.keys import PlatformKey
from sunlit.transparency.models import Checkpoint
from tests.transparency.helpers import BIDDER, note_something


def _checkpoints(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Checkpoint)) or 0


def test_scheduled_checkpoint_only_when_the_log_grew(db: Session, key: PlatformKey) -> None:
    assert service.scheduled_checkpoint(db, key=key) is None  # empty log
    note_something(db, BIDDER, 1)
    first = service.scheduled_checkpoint(db, key=key)
    assert first is not None and first.tree_size == 1
    assert first.reason == service.SCHEDULED_REASON
    # Only the checkpoint's own audit event was logged since: nothing new to sign.
    assert service.scheduled_checkpoint(db, key=key) is None
    note_something(db, BIDDER, 1)
    second = service.scheduled_checkpoint(db, key=key)
    assert second is not None and second.tree_size == 3
    assert _checkpoints(db) == 2


def test_losing_a_race_is_not_an_error(db: Session, key: PlatformKey) -> None:
    note_something(db, BIDDER, 1)
    assert service.scheduled_checkpoint(db, key=key) is not None
    note_something(db, BIDDER, 1)
    # Another process issued this size first.
    service.issue_checkpoint(db, service.system_actor("other"), "其他进程", key=key)
    note_something(db, BIDDER, 1)
    assert service.scheduled_checkpoint(db, key=key) is not None


def test_scheduler_runs_jobs_and_survives_a_failing_one() -> None:
    ran = threading.Event()
    calls: list[str] = []

    def broken() -> None:
        calls.append("broken")
        raise RuntimeError("boom")

    def good() -> None:
        calls.append("good")
        ran.set()

    scheduler = Scheduler([Job("broken", 0.01, broken), Job("good", 0.02, good)])
    scheduler.start()
    try:
        assert ran.wait(5)
    finally:
        scheduler.stop()
    assert "broken" in calls and "good" in calls
