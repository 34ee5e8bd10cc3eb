"""Database engine, sessions and the unit of work.

* One :class:`Database` per process wraps the engine and the session factory.
* SQLite (embedded default) runs in WAL mode with foreign keys on; write transactions start
  with ``BEGIN IMMEDIATE`` so concurrent writers queue on the lock instead of failing.
* :func:`use_case` makes a service function one transaction with exactly one audit event.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, Concatenate, ParamSpec, TypeVar, cast

from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from sunlit.kernel.clock import CHINA_TZ

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores UTC (naive on SQLite, timestamptz on PostgreSQL); returns Asia/Shanghai."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use kernel.clock")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(CHINA_TZ)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


def new_id() -> str:
    """An opaque, unguessable identifier (ids never reveal counts or order)."""
    return uuid.uuid4().hex


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached; carries one clear line for the operator."""


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        # A file database gets a pool as large as the server's worker threads (40) can use:
        # a SQLite connection is cheap, and a request waiting for a pooled connection while
        # another thread holds one through a GIL switch was a visible share of an upload surge.
        sizes: dict[str, Any] = {} if memory else {"pool_size": 20, "max_overflow": 40}
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=StaticPool if memory else None,
            **sizes,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("sunlit_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


_WRITE_LOCKS: weakref.WeakKeyDictionary[Any, threading.Lock] = weakref.WeakKeyDictionary()


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        if self.engine.dialect.name == "sqlite":
            # SQLite has one writer. Queue this process's writers on a lock instead of letting
            # them poll in SQLite's busy handler, which sleeps up to 100 ms between tries.
            _WRITE_LOCKS[self.engine] = threading.Lock()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return self.sessionmaker()

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        s = self.session()
        try:
            yield s
        finally:
            s.close()

    def check(self) -> None:
        """Raise :class:`DatabaseUnavailable` with one readable line if unreachable."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise DatabaseUnavailable(
                f"数据库无法连接 (database unreachable): {safe_url(self.url)}: {reason}"
            ) from None

    def dispose(self) -> None:
        self.engine.dispose()


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --- unit of work --------------------------------------------------------------------------


def _write_lock(session: Session) -> threading.Lock | None:
    """The process-wide writer queue of a SQLite database (None for PostgreSQL)."""
    bind = session.get_bind()
    return _WRITE_LOCKS.get(getattr(bind, "engine", bind))


P = ParamSpec("P")
R = TypeVar("R")

_AUDIT_KEY = "sunlit_audit_events"
_AFTER_COMMIT_KEY = "sunlit_after_commit"
_IN_USE_CASE_KEY = "sunlit_in_use_case"


def note_audit_event(session: Session) -> None:
    """Called by kernel.audit when it records an event in ``session``."""
    session.info[_AUDIT_KEY] = session.info.get(_AUDIT_KEY, 0) + 1


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the current use case has committed (e.g. live updates)."""
    session.info.setdefault(_AFTER_COMMIT_KEY, []).append(callback)


def begin_write(session: Session) -> None:
    """Start the session's write transaction (``BEGIN IMMEDIATE`` on SQLite)."""
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("a use case started inside a transaction with pending changes")
        session.commit()  # end a read-only transaction opened by earlier queries
    session.connection(execution_options={"sunlit_write": True})


def use_case(
    fn: Callable[Concatenate[Session, P], R],
) -> Callable[Concatenate[Session, P], R]:
    """One service function = one transaction = one audit event (house rule 1).

    The wrapped function receives the session with a write transaction open. It must call
    ``kernel.audit.record`` exactly once; otherwise nothing is committed. On any exception the
    transaction is rolled back and nothing changes.
    """

    @functools.wraps(fn)
    def wrapper(session: Session, *args: P.args, **kwargs: P.kwargs) -> R:
        if session.info.get(_IN_USE_CASE_KEY):
            return fn(session, *args, **kwargs)  # a use case calling a helper use case
        lock = _write_lock(session)
        if lock is not None:
            lock.acquire()
        try:
            begin_write(session)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        session.info[_IN_USE_CASE_KEY] = True
        session.info[_AUDIT_KEY] = 0
        session.info[_AFTER_COMMIT_KEY] = []
        try:
            result = fn(session, *args, **kwargs)
            session.flush()
            recorded = session.info[_AUDIT_KEY]
            if recorded != 1:
                raise RuntimeError(
                    f"use case {fn.__qualname__} recorded {recorded} audit events; exactly 1 needed"
                )
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            if lock is not None:
                lock.release()
            session.info[_IN_USE_CASE_KEY] = False
            callbacks = session.info.pop(_AFTER_COMMIT_KEY, [])
            session.info[_AUDIT_KEY] = 0
        for callback in callbacks:
            callback()
        return result

    return cast(Callable[Concatenate[Session, P], R], wrapper)
