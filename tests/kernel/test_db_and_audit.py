"""Unit of work rules, on SQLite and PostgreSQL: one transaction, exactly one audit event."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sunlit.kernel import audit
from sunlit.kernel.audit import AuditEvent
from sunlit.kernel.authz import Actor, Role
from sunlit.kernel.clock import CHINA_TZ
from sunlit.kernel.db import Database, DatabaseUnavailable, after_commit, use_case
from sunlit.kernel.errors import InvalidInput
from sunlit.kernel.web.sessions import WebSession

ACTOR = Actor(
    user_id="u1",
    org_id="o1",
    roles=frozenset({Role.BIDDER}),
    name="张三",
    auth_method="certificate",
    ip="127.0.0.1",
)


def _session_row(token: str) -> WebSession:
    now = dt.datetime(2026, 1, 1, tzinfo=CHINA_TZ)
    return WebSession(
        token_hash=token,
        subject_id="u1",
        auth_method="x",
        csrf_token="c",
        created_at=now,
        expires_at=now,
        data={},
    )


@use_case
def good(db: Session, actor: Actor, token: str) -> str:
    db.add(_session_row(token))
    audit.record(db, actor, "test.good", "web_session", token, {"n": 1})
    return token


@use_case
def no_audit(db: Session, actor: Actor, token: str) -> None:
    db.add(_session_row(token))


@use_case
def fails_after_write(db: Session, actor: Actor, token: str) -> None:
    db.add(_session_row(token))
    audit.record(db, actor, "test.fail", "web_session", token)
    db.flush()
    raise InvalidInput("test.bad", "输入有误")


def _count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_use_case_commits_change_and_its_audit_event(db: Session) -> None:
    good(db, ACTOR, "t1")
    db.expire_all()
    assert _count(db, WebSession) == 1
    event = db.scalars(select(AuditEvent)).one()
    assert (event.action, event.object_id, event.actor_name, event.data) == (
        "test.good",
        "t1",
        "张三",
        {"n": 1},
    )
    assert event.occurred_at.utcoffset() == dt.timedelta(hours=8)


def test_use_case_without_audit_event_commits_nothing(db: Session) -> None:
    with pytest.raises(RuntimeError, match="exactly 1"):
        no_audit(db, ACTOR, "t2")
    assert _count(db, WebSession) == 0
    assert _count(db, AuditEvent) == 0


def test_failed_use_case_leaves_no_change_and_no_event(db: Session) -> None:
    with pytest.raises(InvalidInput):
        fails_after_write(db, ACTOR, "t3")
    assert _count(db, WebSession) == 0
    assert _count(db, AuditEvent) == 0


def test_after_commit_runs_only_after_commit(db: Session) -> None:
    seen: list[int] = []

    @use_case
    def with_hook(db: Session, actor: Actor, fail: bool) -> None:
        after_commit(db, lambda: seen.append(_count(db, WebSession)))
        db.add(_session_row(f"h{len(seen)}{fail}"))
        audit.record(db, actor, "test.hook", "web_session", None)
        if fail:
            raise InvalidInput("test.bad", "输入有误")

    with pytest.raises(InvalidInput):
        with_hook(db, ACTOR, True)
    assert seen == []
    with_hook(db, ACTOR, False)
    assert seen == [1]


def test_concurrent_writers_all_commit(database: Database) -> None:
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            with database.session_scope() as s:
                _count(s, WebSession)  # a read first, then the write upgrades
                good(s, ACTOR, f"c{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with database.session_scope() as s:
        assert _count(s, WebSession) == 16
        assert _count(s, AuditEvent) == 16


def test_unreachable_database_gives_one_clear_line() -> None:
    database = Database("postgresql+psycopg://nobody:secret@127.0.0.1:1/none")
    with pytest.raises(DatabaseUnavailable) as info:
        database.check()
    message = str(info.value)
    assert "\n" not in message
    assert "数据库无法连接" in message
    assert "secret" not in message
