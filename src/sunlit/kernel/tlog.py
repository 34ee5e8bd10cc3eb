"""The transparency log: every audit event is a leaf of one append-only Merkle log (T1).

Specification: ``docs/spec/transparency-log.md`` §4 (leaf encoding) and §6 (storage); decision
record: ``docs/adr/0006-transparency-log.md``.

How an event becomes a leaf
---------------------------

``kernel.audit.record`` stages the new event in the session (:func:`stage`). When that
session commits, a ``before_commit`` listener (:func:`_append_staged`) runs *inside* the same
transaction, after the use case's own writes have been flushed:

1. it serializes appenders: ``SELECT pg_advisory_xact_lock(LOCK_KEY)`` on PostgreSQL (held
   until commit or rollback); on SQLite the transaction already holds the database write lock
   (use cases begin with ``BEGIN IMMEDIATE``);
2. it reads the current size ``n`` (``max(leaf_index) + 1``) and the frontier of ``[0, n)``
   (``popcount(n)`` stored nodes, one query);
3. it encodes each staged event as its leaf (RFC 8785 canonical JSON, :func:`encode_leaf`) at
   index ``n, n+1, ...``, and inserts the leaves and every perfect-subtree node the appends
   complete.

Because the lock is held until the transaction ends, indexes follow commit order with no gap,
a rolled-back transaction leaves no leaf, and a committed one always has its leaf. Taking the
lock at commit time (rather than inside ``record``) keeps it for the shortest time and means
the holder never waits for a row lock afterwards, so it cannot deadlock with other use cases.

Sealed (confidential) events keep only a commitment ``H(salt || canonical(sealed))`` in the
leaf; the salt and the sealed object live in ``tlog_sealed`` and are released by
:func:`open_sealed` only once the clock has reached ``reveal_after``.

The hash function is fixed per log when it is created (``tlog_meta``); a log never mixes hashes.
This module imports nothing from any domain.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import json
import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

import rfc8785
from sqlalchemy import (
    BigInteger,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from sunlit.kernel import clock
from sunlit.kernel.db import Base, new_id
from sunlit.kernel.errors import Conflict, NotFound
from sunlit.kernel.merkle import (
    CompactRange,
    HashFunction,
    NodeID,
    NodeNotFoundError,
    consistency_proof,
    empty_root,
    hash_function_for_suite,
    inclusion_proof,
    leaf_hash,
    root_from_store,
)

if TYPE_CHECKING:
    from sunlit.kernel.audit import AuditEvent

__all__ = [
    "LEAF_VERSION",
    "LOCK_KEY",
    "DbNodeStore",
    "LogLeaf",
    "LogMeta",
    "LogNode",
    "LogSuiteMismatch",
    "LoggedEvent",
    "SealedNotYetRevealed",
    "SealedOpening",
    "canonical_json",
    "commitment",
    "consistency_proof_at",
    "encode_leaf",
    "ensure_log",
    "get_log",
    "hash_function",
    "inclusion_proof_at",
    "leaf_at",
    "leaf_document",
    "leaf_for_event",
    "lock",
    "open_sealed",
    "root_at",
    "set_default_suite",
    "stage",
    "timestamp",
    "tree_size",
]

LEAF_VERSION: Final = 1
"""Version of the leaf encoding (``"v"`` in every leaf)."""

LOCK_KEY: Final = 0x53554E4C49544C47  # "SUNLITLG": the PostgreSQL advisory lock of appenders
"""Key of the transaction-scoped PostgreSQL advisory lock that serializes appends."""

SALT_SIZE: Final = 32
"""Bytes of random salt in a sealed commitment."""

_META_ID: Final = 1
_PENDING: Final = "sunlit_tlog_pending"
_META: Final = "sunlit_tlog_meta"

# 64-bit indexes; on SQLite an INTEGER primary key is the rowid (the fastest access path).
_INDEX = BigInteger().with_variant(Integer(), "sqlite")

_default_suite: str = os.environ.get("SUNLIT_CRYPTO_SUITE", "gm")


def set_default_suite(suite: str) -> str:
    """Set the suite a *new* log is created with; returns the previous value.

    The app factory and the CLI call it with ``Settings.crypto_suite``. An existing log keeps
    the suite it was created with (see :func:`ensure_log`).
    """
    global _default_suite
    hash_function_for_suite(suite)  # validates the name
    previous, _default_suite = _default_suite, suite
    return previous


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


class LogMeta(Base):
    """The single row describing the log: identity and hash function, fixed at creation."""

    __tablename__ = "tlog_meta"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    log_id: Mapped[str] = mapped_column(String(32))
    origin: Mapped[str] = mapped_column(String(200))
    suite: Mapped[str] = mapped_column(String(10))
    hash_algorithm: Mapped[str] = mapped_column(String(20))
    leaf_version: Mapped[int]
    created_at: Mapped[dt.datetime]


class LogLeaf(Base):
    """One leaf: its index, the audit event it encodes, the canonical bytes and their hash."""

    __tablename__ = "tlog_leaves"

    leaf_index: Mapped[int] = mapped_column(_INDEX, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(32), unique=True)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(64))
    leaf: Mapped[bytes] = mapped_column(LargeBinary)


class LogNode(Base):
    """A perfect subtree of level >= 1 (level 0 are the leaf hashes in ``tlog_leaves``)."""

    __tablename__ = "tlog_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    node_index: Mapped[int] = mapped_column(_INDEX, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(64))


class SealedOpening(Base):
    """Salt and sealed content of a confidential event: never served before ``reveal_after``."""

    __tablename__ = "tlog_sealed"

    event_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary(64))
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # canonical JSON of the sealed object
    reveal_after: Mapped[dt.datetime]


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class LogSuiteMismatch(Conflict):
    """The log was created with another suite; hashes are never mixed within a log."""


class SealedNotYetRevealed(Conflict):
    """A sealed commitment asked for before its reveal time."""


# --------------------------------------------------------------------------------------------
# Leaf encoding (spec §4)
# --------------------------------------------------------------------------------------------


class LoggedEvent(Protocol):
    """The audit event fields a leaf encodes (``kernel.audit.AuditEvent`` has them all)."""

    @property
    def id(self) -> str: ...
    @property
    def occurred_at(self) -> dt.datetime: ...
    @property
    def action(self) -> str: ...
    @property
    def actor_user_id(self) -> str | None: ...
    @property
    def actor_org_id(self) -> str | None: ...
    @property
    def actor_name(self) -> str: ...
    @property
    def auth_method(self) -> str: ...
    @property
    def ip(self) -> str | None: ...
    @property
    def object_type(self) -> str: ...
    @property
    def object_id(self) -> str | None: ...
    @property
    def data(self) -> dict[str, Any]: ...
    @property
    def sealed_commitment(self) -> str | None: ...
    @property
    def reveal_after(self) -> dt.datetime | None: ...


def timestamp(value: dt.datetime) -> str:
    """ISO 8601, Asia/Shanghai, microseconds and offset: ``2026-11-23T09:30:00.000000+08:00``."""
    return clock.ensure_aware(value).isoformat(timespec="microseconds")


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON of ``value`` after a JSON round trip.

    The round trip gives exactly what the database returns for a JSON column (tuples become
    lists, and so on), so a leaf re-encoded from the stored row is byte-identical. Raises
    ``ValueError`` for values JSON or RFC 8785 cannot represent exactly (NaN, integers beyond
    2**53, non-string keys).
    """
    try:
        plain = json.loads(json.dumps(value, ensure_ascii=False, allow_nan=False))
        return rfc8785.dumps(plain)
    except (TypeError, ValueError, rfc8785.CanonicalizationError) as exc:
        raise ValueError(f"value cannot be logged as canonical JSON: {exc}") from exc


def leaf_document(index: int, ev: LoggedEvent) -> dict[str, Any]:
    """The JSON object of leaf ``index`` (spec §4.1); :func:`encode_leaf` canonicalizes it."""
    sealed: dict[str, Any] | None = None
    if ev.sealed_commitment is not None:
        if ev.reveal_after is None:
            raise ValueError(f"sealed event {ev.id} has no reveal time")
        sealed = {"commitment": ev.sealed_commitment, "reveal_after": timestamp(ev.reveal_after)}
    return {
        "v": LEAF_VERSION,
        "index": index,
        "id": ev.id,
        "occurred_at": timestamp(ev.occurred_at),
        "action": ev.action,
        "object_type": ev.object_type,
        "object_id": ev.object_id,
        "actor": {
            "user_id": ev.actor_user_id,
            "org_id": ev.actor_org_id,
            "name": ev.actor_name,
            "auth_method": ev.auth_method,
            "ip": ev.ip,
        },
        "data": ev.data,
        "sealed": sealed,
    }


def encode_leaf(index: int, ev: LoggedEvent) -> bytes:
    """The leaf bytes ``d(index)``: RFC 8785 canonical JSON of :func:`leaf_document`."""
    return canonical_json(leaf_document(index, ev))


def commitment(hash_fn: HashFunction, salt: bytes, sealed_payload: bytes) -> bytes:
    """``H(salt || canonical(sealed))`` (spec §4.3)."""
    return hash_fn.digest(salt + sealed_payload)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --------------------------------------------------------------------------------------------
# The log's metadata and locking
# --------------------------------------------------------------------------------------------


def lock(session: Session) -> None:
    """Serialize appenders until the end of the transaction.

    PostgreSQL: a transaction-scoped advisory lock (re-entrant within the transaction). SQLite:
    nothing to do, a write transaction (``BEGIN IMMEDIATE``) already excludes other writers.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


def get_log(session: Session) -> LogMeta | None:
    """The log's metadata row, or ``None`` before the first append."""
    meta = session.get(LogMeta, _META_ID)
    if meta is not None:
        session.info[_META] = meta  # immutable row: keep it in the identity map
    return meta


def ensure_log(session: Session, suite: str | None = None) -> LogMeta:
    """The log's metadata, created with ``suite`` (default: :func:`set_default_suite`) if absent.

    Call it with :func:`lock` held (appends do). Raises :class:`LogSuiteMismatch` when ``suite``
    is given and the existing log uses another one.
    """
    meta = get_log(session)
    if meta is None:
        chosen = suite or _default_suite
        hash_fn = hash_function_for_suite(chosen)
        log_id = new_id()
        meta = LogMeta(
            id=_META_ID,
            log_id=log_id,
            origin=f"sunlit/{log_id}",
            suite=chosen,
            hash_algorithm=hash_fn.name,
            leaf_version=LEAF_VERSION,
            created_at=clock.now(),
        )
        session.add(meta)
        session.flush()
    elif suite is not None and suite != meta.suite:
        raise LogSuiteMismatch(
            "transparency.suite_mismatch",
            "透明日志创建时使用{log}算法套件（{hash}），不能改用{suite}套件，以免混用哈希算法",
            log=meta.suite,
            hash=meta.hash_algorithm,
            suite=suite,
        )
    return meta


def hash_function(meta: LogMeta) -> HashFunction:
    """The tree hash of the log."""
    return hash_function_for_suite(meta.suite)


def tree_size(session: Session) -> int:
    """Number of leaves committed (as seen by this transaction)."""
    last = session.connection().exec_driver_sql("SELECT max(leaf_index) FROM tlog_leaves").scalar()
    return 0 if last is None else int(last) + 1


# --------------------------------------------------------------------------------------------
# Node store over the tables
# --------------------------------------------------------------------------------------------


class DbNodeStore:
    """:class:`~sunlit.kernel.merkle.NodeStore` over ``tlog_leaves`` and ``tlog_nodes``.

    Each ``get_nodes`` call is one query: level-0 nodes come from the leaf table, higher ones
    from the node table (``UNION ALL``), all by primary key.
    """

    __slots__ = ("_session",)

    def __init__(self, session: Session) -> None:
        self._session = session

    def get_nodes(self, ids: Sequence[NodeID]) -> list[bytes]:
        if not ids:
            return []
        by_level: dict[int, set[int]] = {}
        for n in ids:
            by_level.setdefault(n.level, set()).add(n.index)
        conn = self._session.connection()
        # Plain SQL with the driver's placeholders: this is the hot path of every append and
        # proof, and building the equivalent SQLAlchemy expression costs 10x the query. Only
        # placeholders are formatted into the text (S608 below); every value is a parameter.
        ph = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        params: list[int] = []
        parts = []
        leaves = sorted(by_level.pop(0, ()))
        if leaves:
            params += leaves
            marks = ", ".join([ph] * len(leaves))
            parts.append(
                f"SELECT 0, leaf_index, leaf_hash FROM tlog_leaves WHERE leaf_index IN ({marks})"  # noqa: S608
            )
        if by_level:
            # One (level = ? AND node_index IN (...)) term per level: SQLite and PostgreSQL
            # answer each with primary-key searches (a row-value IN list makes SQLite scan).
            terms = []
            for level, indexes in sorted(by_level.items()):
                params.append(level)
                params += sorted(indexes)
                marks = ", ".join([ph] * len(indexes))
                terms.append(f"(level = {ph} AND node_index IN ({marks}))")
            where = " OR ".join(terms)
            parts.append(f"SELECT level, node_index, hash FROM tlog_nodes WHERE {where}")  # noqa: S608
        rows = conn.exec_driver_sql(" UNION ALL ".join(parts), tuple(params)).all()
        found = {(int(r[0]), int(r[1])): bytes(r[2]) for r in rows}
        out = []
        for node in ids:
            h = found.get((node.level, node.index))
            if h is None:
                raise NodeNotFoundError(f"the log has no stored node {node}")
            out.append(h)
        return out


def root_at(session: Session, meta: LogMeta, size: int) -> bytes:
    """Root of the tree of the first ``size`` leaves (``popcount(size)`` nodes, one query)."""
    hash_fn = hash_function(meta)
    if size == 0:
        return empty_root(hash_fn)
    return root_from_store(hash_fn, DbNodeStore(session), size)


def inclusion_proof_at(session: Session, meta: LogMeta, index: int, size: int) -> list[bytes]:
    """Inclusion proof of leaf ``index`` in the tree of ``size`` leaves (one query)."""
    return inclusion_proof(hash_function(meta), DbNodeStore(session), index, size)


def consistency_proof_at(session: Session, meta: LogMeta, size1: int, size2: int) -> list[bytes]:
    """Consistency proof from ``size1`` to ``size2`` (one query)."""
    return consistency_proof(hash_function(meta), DbNodeStore(session), size1, size2)


def leaf_at(session: Session, index: int) -> LogLeaf | None:
    """The leaf at ``index``."""
    return session.get(LogLeaf, index)


def leaf_for_event(session: Session, event_id: str) -> LogLeaf | None:
    """The leaf of audit event ``event_id``."""
    return session.scalar(select(LogLeaf).where(LogLeaf.event_id == event_id))


# --------------------------------------------------------------------------------------------
# Sealed commitments
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opening:
    """A revealed sealed commitment: anyone can check ``H(salt || payload) == commitment``."""

    event_id: str
    salt: bytes
    payload: bytes
    reveal_after: dt.datetime
    commitment: bytes
    hash_algorithm: str

    @property
    def sealed(self) -> Any:
        """The sealed object."""
        return json.loads(self.payload)

    def check(self, hash_fn: HashFunction) -> bool:
        """Whether the salt and payload open the commitment."""
        return hmac.compare_digest(commitment(hash_fn, self.salt, self.payload), self.commitment)


def open_sealed(session: Session, event_id: str, commitment_b64: str | None) -> Opening:
    """The opening of a sealed event, refused before its reveal time (``kernel.clock``).

    ``commitment_b64`` is the event's stored commitment (from the audit event row).
    """
    row = session.get(SealedOpening, event_id)
    meta = get_log(session)
    if row is None or meta is None or commitment_b64 is None:
        raise NotFound("transparency.sealed.not_found", "该事件没有密封内容")
    now = clock.now()
    if now < row.reveal_after:
        raise SealedNotYetRevealed(
            "transparency.sealed.not_yet",
            "该密封内容须在{time}之后方可公开",
            time=clock.ensure_aware(row.reveal_after).strftime("%Y-%m-%d %H:%M:%S"),
        )
    return Opening(
        event_id=event_id,
        salt=bytes(row.salt),
        payload=bytes(row.payload),
        reveal_after=row.reveal_after,
        commitment=base64.b64decode(commitment_b64),
        hash_algorithm=meta.hash_algorithm,
    )


# --------------------------------------------------------------------------------------------
# Appending (spec §6.2)
# --------------------------------------------------------------------------------------------


@dataclass
class _Staged:
    event: AuditEvent
    sealed_payload: bytes | None


def stage(session: Session, ev: AuditEvent, sealed: Mapping[str, Any] | None = None) -> None:
    """Make ``ev`` (already added to ``session``) a leaf when the transaction commits.

    Checks now, in the caller's frame, that the event's data (and sealed object) can be
    canonicalized, so a bad value fails where it is recorded and not at commit.
    """
    canonical_json(ev.data)
    payload = canonical_json(dict(sealed)) if sealed is not None else None
    if payload is not None and ev.reveal_after is None:
        raise ValueError("a sealed audit event needs reveal_after")
    session.info.setdefault(_PENDING, []).append(_Staged(ev, payload))


def _append(session: Session, staged: Iterable[_Staged]) -> None:
    session.flush()  # the use case's writes first: hold the log lock as briefly as possible
    lock(session)
    meta = ensure_log(session)
    hash_fn = hash_function(meta)
    size = tree_size(session)
    frontier = CompactRange.from_store(hash_fn, DbNodeStore(session), size)
    leaves: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    openings: list[dict[str, Any]] = []

    def keep(level: int, index: int, h: bytes) -> None:
        if level > 0:
            nodes.append({"level": level, "node_index": index, "hash": h})

    for item in staged:
        ev = item.event
        if item.sealed_payload is not None:
            assert ev.reveal_after is not None
            salt = secrets.token_bytes(SALT_SIZE)
            ev.sealed_commitment = _b64(commitment(hash_fn, salt, item.sealed_payload))
            openings.append(
                {
                    "event_id": ev.id,
                    "salt": salt,
                    "payload": item.sealed_payload,
                    "reveal_after": ev.reveal_after,
                }
            )
        index = frontier.size
        leaf = encode_leaf(index, ev)
        h = leaf_hash(hash_fn, leaf)
        frontier.append(h, keep)
        leaves.append({"leaf_index": index, "event_id": ev.id, "leaf_hash": h, "leaf": leaf})
    if not leaves:
        return
    tables = Base.metadata.tables
    conn = session.connection()  # Core inserts: no ORM bookkeeping for these rows
    conn.execute(insert(tables[LogLeaf.__tablename__]), leaves)
    if nodes:
        conn.execute(insert(tables[LogNode.__tablename__]), nodes)
    if openings:
        conn.execute(insert(tables[SealedOpening.__tablename__]), openings)


@event.listens_for(Session, "before_commit")
def _append_staged(session: Session) -> None:
    staged: list[_Staged] | None = session.info.pop(_PENDING, None)
    if not staged:
        return
    live = [s for s in staged if s.event in session]  # drop events of rolled-back savepoints
    if live:
        _append(session, live)


@event.listens_for(Session, "after_transaction_end")
def _forget_staged(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_PENDING, None)
