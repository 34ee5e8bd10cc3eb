"""The change feed never skips a change, even when transactions commit out of timestamp order."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from sunlit.kernel import clock as kclock
from sunlit.kernel.clock import ManualClock, WorkingCalendar
from sunlit.kernel.db import Database, new_id
from sunlit.kernel.storage import LocalBlobStore
from sunlit.notices import queries, service
from sunlit.notices.models import Notice
from sunlit.notices.schemas import ClarificationIn, NoticeIn
from tests.projects.helpers import World, build_world, service_tender


class RunningClock:
    """Real elapsed time on top of the test's start: several threads see time move."""

    def __init__(self, start: dt.datetime) -> None:
        self.start, self.t0 = start, time.monotonic()

    def now(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=time.monotonic() - self.t0)


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=0)


def test_concurrent_writers_and_a_polling_reader(
    database: Database, db: Session, world: World, tmp_path: Path
) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    writers, per_writer, settle = 4, 5, 2.0
    tenders = [
        service_tender(db, world, blobs, name=f"并发测试项目{i:02d}")
        for i in range(writers * per_writer)
    ]
    calendar = WorkingCalendar()
    previous = kclock.set_clock(RunningClock(kclock.now()))
    committed: list[tuple[str, dt.datetime]] = []  # every version of every public notice
    lock, done, errors = threading.Lock(), threading.Event(), []

    def record_versions(session: Session, ids: list[str]) -> None:
        session.rollback()
        with lock:
            for n in session.scalars(select(Notice).where(Notice.id.in_(ids))):
                committed.append((n.id, kclock.ensure_aware(n.modified_at)))

    def writer(index: int) -> None:
        rnd = random.Random(index)
        with database.session_scope() as session:

            @event.listens_for(session, "before_commit")
            def _jitter(s: Session) -> None:  # commit later than the timestamps were taken
                time.sleep(rnd.uniform(0, 0.03))

            try:
                for t in tenders[index::writers]:
                    draft = service.create_notice(
                        session, world.agency.actor, t.id, NoticeIn(content="并发发布")
                    )
                    notice = service.publish_notice(session, world.agency.actor, draft.id, calendar)
                    record_versions(session, [notice.id])
                    if rnd.random() < 0.6:
                        c = service.clarify(
                            session,
                            world.agency.actor,
                            notice.id,
                            ClarificationIn(content="澄清：答疑纪要"),
                            calendar,
                        )
                        record_versions(session, [notice.id, c.id])
                    time.sleep(0.4)  # keep writing for longer than the settling delay
            except Exception as exc:  # surfaced below
                errors.append(exc)

    seen: list[tuple[str, dt.datetime]] = []

    def reader() -> None:
        cursor = None
        with database.session_scope() as session:
            while True:
                finished = done.is_set()
                session.rollback()
                page = queries.change_feed(session, cursor, limit=7, settle_seconds=settle)
                seen.extend((n.id, kclock.ensure_aware(n.modified_at)) for n in page.items)
                if not finished:
                    early_reads[0] += len(page.items)
                cursor = page.next_cursor
                if finished and not page.has_more and kclock.now() > last_write[0]:
                    return
                time.sleep(0.01 if page.has_more else 0.05)

    last_write = [kclock.now() + dt.timedelta(days=1)]
    early_reads = [0]
    try:
        threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
        poller = threading.Thread(target=reader)
        poller.start()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        last_write[0] = kclock.now() + dt.timedelta(seconds=settle + 0.2)
        done.set()
        poller.join(timeout=120)
    finally:
        kclock.set_clock(previous)
    assert not errors, errors
    assert not poller.is_alive()
    assert early_reads[0] > 0  # the reader paged while the writers were still writing

    # The cursor only moves forward, and every committed version was delivered or superseded
    # by a later version of the same notice that was delivered.
    assert seen == sorted(seen, key=lambda x: (x[1], x[0])) and len(set(seen)) == len(seen)
    latest_seen: dict[str, dt.datetime] = {}
    for ident, when in seen:
        latest_seen[ident] = max(when, latest_seen.get(ident, when))
    missing = [
        (i, w)
        for i, w in committed
        if latest_seen.get(i, dt.datetime.min.replace(tzinfo=dt.UTC)) < w
    ]
    assert not missing, f"{len(missing)} changes skipped"
    db.rollback()
    final = {n.id: kclock.ensure_aware(n.modified_at) for n in db.scalars(select(Notice))}
    assert latest_seen == final
    assert len(final) >= writers * per_writer


def test_a_late_commit_with_an_earlier_timestamp_is_not_skipped(
    database: Database, db: Session, clock: ManualClock
) -> None:
    """Deterministic version of the race (PostgreSQL: SQLite serializes writers)."""
    if database.dialect != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time: commits follow timestamps")
    from sunlit.identity.models import Organization
    from sunlit.projects.models import Project, TenderProject

    now = clock.now()
    org = Organization(
        id=new_id(),
        credit_code="X" * 18,
        name="测试",
        region_code="320500",
        status="active",
        created_at=now,
        updated_at=now,
    )
    project = Project(
        id=new_id(),
        code="E3205002026000001",
        name="P",
        category="engineering",
        region_code="320500",
        owner_org_id=org.id,
        created_at=now,
        updated_at=now,
    )
    tender = TenderProject(
        id=new_id(),
        project_id=project.id,
        code="E3205002026000001001",
        name="T",
        category="engineering",
        method="open",
        region_code="320500",
        tenderer_org_id=org.id,
        status="tendering",
        created_at=now,
        updated_at=now,
    )
    db.add_all([org, project, tender])
    db.commit()

    def notice(when: dt.datetime) -> Notice:
        return Notice(
            id=new_id(),
            tender_project_id=tender.id,
            kind="tender_notice",
            title="N",
            status="published",
            public=True,
            tender_project_code=tender.code,
            tender_project_name="T",
            category="engineering",
            method="open",
            region_code="320500",
            published_at=when,
            modified_at=when,
            created_at=when,
        )

    slow = database.session()
    early = notice(clock.now())  # takes its timestamp first ...
    slow.add(early)
    slow.flush()
    clock.advance(dt.timedelta(seconds=1))
    late = notice(clock.now())
    db.add(late)
    db.commit()  # ... but commits second

    # Without a settling delay a reader now passes the early row before it is committed.
    hasty = queries.change_feed(db, None, settle_seconds=0)
    assert [n.id for n in hasty.items] == [late.id]
    # With the delay, neither row is served yet: the early one may still be in flight.
    db.rollback()
    assert queries.change_feed(db, None, settle_seconds=5).items == []
    slow.commit()
    slow.close()
    clock.advance(dt.timedelta(seconds=6))
    db.rollback()
    skipped = queries.change_feed(db, hasty.next_cursor, settle_seconds=0)
    assert [n.id for n in skipped.items] == []  # the hasty reader lost the early row
    careful = queries.change_feed(db, None, settle_seconds=5)
    assert [n.id for n in careful.items] == [early.id, late.id]
