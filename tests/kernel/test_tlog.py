"""The kernel's transparency log on SQLite and PostgreSQL: every committed audit event is a leaf."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from sunlit.kernel import audit, tlog
from sunlit.kernel.audit import AuditEvent
from sunlit.kernel.clock import CHINA_TZ, ManualClock
from sunlit.kernel.db import Database
from sunlit.kernel.errors import InvalidInput
from sunlit.kernel.merkle import (
    SHA256,
    SM3,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)
from tests.transparency.helpers import BIDDER, count, leaf_rows, note_something, note_then_fail


@pytest.fixture
def default_suite() -> Iterator[None]:
    previous = tlog.set_default_suite("gm")
    yield
    tlog.set_default_suite(previous)


def _events(db: Session) -> dict[str, AuditEvent]:
    return {e.id: e for e in db.scalars(select(AuditEvent))}


def test_each_committed_use_case_has_exactly_one_leaf_with_consecutive_indexes(
    db: Session, default_suite: None
) -> None:
    ids = [note_something(db, BIDDER, n) for n in range(6)]
    db.expire_all()
    leaves = leaf_rows(db)
    assert [leaf.leaf_index for leaf in leaves] == list(range(6))
    assert [leaf.event_id for leaf in leaves] == ids
    events = _events(db)
    for leaf in leaves:
        # The stored bytes are exactly the canonical encoding of the stored event.
        assert bytes(leaf.leaf) == tlog.encode_leaf(leaf.leaf_index, events[leaf.event_id])
        assert bytes(leaf.leaf_hash) == leaf_hash(SM3, bytes(leaf.leaf))


def test_rolled_back_use_case_leaves_no_leaf(db: Session, default_suite: None) -> None:
    first = note_something(db, BIDDER, 1)
    with pytest.raises(InvalidInput):
        note_then_fail(db, BIDDER, 2)
    second = note_something(db, BIDDER, 3)
    db.expire_all()
    assert [(leaf.leaf_index, leaf.event_id) for leaf in leaf_rows(db)] == [
        (0, first),
        (1, second),
    ]
    assert count(db, AuditEvent) == 2


def test_record_outside_a_use_case_is_logged_at_commit_and_forgotten_at_rollback(
    db: Session, default_suite: None
) -> None:
    a = audit.record(db, BIDDER, "test.a", "thing", "1")
    b = audit.record(db, BIDDER, "test.b", "thing", "2")
    db.rollback()
    c = audit.record(db, BIDDER, "test.c", "thing", "3")
    d = audit.record(db, BIDDER, "test.d", "thing", "4")
    db.commit()
    assert [leaf.event_id for leaf in leaf_rows(db)] == [c.id, d.id]  # in recording order
    assert {a.id, b.id}.isdisjoint(_events(db))


def test_leaf_encoding_is_the_documented_canonical_json() -> None:
    """The example of docs/spec/transparency-log.md §4.2, byte for byte."""

    @dataclass
    class Ev:
        id: str = "5c1e4b0a9d2f4e6b8a7c3d2e1f0a9b8c"
        occurred_at: dt.datetime = dt.datetime(2026, 11, 23, 1, 30, 0, 123456, tzinfo=dt.UTC)
        action: str = "bidding.bid.submitted"
        actor_user_id: str | None = "7f3a"
        actor_org_id: str | None = "9b2c"
        actor_name: str = "周强"
        auth_method: str = "certificate"
        ip: str | None = "10.0.0.8"
        object_type: str = "bid"
        object_id: str | None = "b-01"
        data: dict[str, Any] = field(
            default_factory=lambda: {"section": "S1", "size": 1048576, "hash": "q1Yx"}
        )
        sealed_commitment: str | None = None
        reveal_after: dt.datetime | None = None

    leaf = tlog.encode_leaf(41, Ev())
    assert leaf.decode() == (
        '{"action":"bidding.bid.submitted","actor":{"auth_method":"certificate",'
        '"ip":"10.0.0.8","name":"周强","org_id":"9b2c","user_id":"7f3a"},'
        '"data":{"hash":"q1Yx","section":"S1","size":1048576},'
        '"id":"5c1e4b0a9d2f4e6b8a7c3d2e1f0a9b8c","index":41,"object_id":"b-01",'
        '"object_type":"bid","occurred_at":"2026-11-23T09:30:00.123456+08:00",'
        '"sealed":null,"v":1}'
    )
    # Cross-checked with `openssl dgst -sm3` and `sha256sum` over 0x00 || leaf.
    assert leaf_hash(SM3, leaf).hex() == (
        "32ef75c0aeafcefc50acae7105120b92b8344a9c3b6ac07807ebd14fc6734ab9"
    )
    assert leaf_hash(SHA256, leaf).hex() == (
        "9ac71cef5882c508f130d969c25b7c0ca6c25ee35dfe560825e5eaa983db3428"
    )
    salt = bytes(range(32))
    payload = tlog.canonical_json({"experts": ["张工", "李工"]})
    assert tlog.commitment(SM3, salt, payload).hex() == (
        "0e886bcc3e6ecfdd87f49e068ef84e3d6202b2541a7289d3964af1ef2db1b5c6"
    )
    sealed = Ev(
        sealed_commitment="AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        reveal_after=dt.datetime(2026, 12, 1, 9, 0, tzinfo=CHINA_TZ),
    )
    doc = tlog.leaf_document(7, sealed)
    assert doc["sealed"] == {
        "commitment": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "reveal_after": "2026-12-01T09:00:00.000000+08:00",
    }


def test_stored_tree_gives_the_recomputed_roots_and_valid_proofs(
    db: Session, default_suite: None
) -> None:
    for n in range(37):
        note_something(db, BIDDER, n)
    db.expire_all()
    meta = tlog.get_log(db)
    assert meta is not None and (meta.suite, meta.hash_algorithm) == ("gm", "sm3")
    hashes = [bytes(leaf.leaf_hash) for leaf in leaf_rows(db)]
    assert tlog.tree_size(db) == 37
    for m in range(38):
        assert tlog.root_at(db, meta, m) == root(SM3, hashes[:m])
    for size in (1, 2, 5, 16, 17, 37):
        for index in range(size):
            proof = tlog.inclusion_proof_at(db, meta, index, size)
            verify_inclusion(SM3, index, size, hashes[index], proof, root(SM3, hashes[:size]))
        for old in range(1, size + 1):
            proof = tlog.consistency_proof_at(db, meta, old, size)
            verify_consistency(
                SM3, old, size, proof, root(SM3, hashes[:old]), root(SM3, hashes[:size])
            )


def test_a_proof_is_one_query(database: Database, default_suite: None) -> None:
    with database.session_scope() as db:
        for n in range(70):
            note_something(db, BIDDER, n)
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    with database.session_scope() as db:
        meta = tlog.get_log(db)
        assert meta is not None
        event.listen(database.engine, "before_cursor_execute", seen)
        try:
            tlog.inclusion_proof_at(db, meta, 3, 67)
            tlog.consistency_proof_at(db, meta, 21, 67)
        finally:
            event.remove(database.engine, "before_cursor_execute", seen)
    selects = [s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    assert len(selects) == 2, statements


def test_hash_is_fixed_when_the_log_is_created(db: Session, default_suite: None) -> None:
    tlog.set_default_suite("intl")
    note_something(db, BIDDER, 1)
    tlog.set_default_suite("gm")  # a later change of setting does not change the log
    note_something(db, BIDDER, 2)
    db.expire_all()
    meta = tlog.get_log(db)
    assert meta is not None and (meta.suite, meta.hash_algorithm) == ("intl", "sha256")
    assert all(
        bytes(leaf.leaf_hash) == leaf_hash(SHA256, bytes(leaf.leaf)) for leaf in leaf_rows(db)
    )
    with pytest.raises(tlog.LogSuiteMismatch) as info:
        tlog.ensure_log(db, "gm")
    assert info.value.code == "transparency.suite_mismatch"
    db.rollback()


@pytest.mark.parametrize("bad", [{"x": 2**60}, {"x": float("nan")}, {"x": object()}])
def test_data_that_cannot_be_canonical_is_refused_where_it_is_recorded(
    db: Session, bad: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match="canonical JSON"):
        note_something(db, BIDDER, 1, bad)
    assert count(db, AuditEvent) == 0
    assert leaf_rows(db) == []


def test_sealed_needs_a_reveal_time(db: Session) -> None:
    with pytest.raises(ValueError, match="together"):
        audit.record(db, BIDDER, "test.sealed", "thing", "1", sealed={"a": 1})
    with pytest.raises(ValueError, match="aware"):
        audit.record(
            db,
            BIDDER,
            "test.sealed",
            "thing",
            "1",
            sealed={"a": 1},
            reveal_after=dt.datetime(2027, 1, 1),
        )
    db.rollback()


def test_sealed_event_keeps_only_a_commitment_until_its_time(
    db: Session, clock: ManualClock, default_suite: None
) -> None:
    reveal = clock.now() + dt.timedelta(hours=2)
    secret = {"experts": ["张工", "李工"], "seed": "9f3c"}
    ev = audit.record(
        db,
        BIDDER,
        "draws.experts.drawn",
        "draw",
        "d1",
        {"count": 2},
        sealed=secret,
        reveal_after=reveal,
    )
    db.commit()
    db.expire_all()
    (leaf,) = leaf_rows(db)
    text = bytes(leaf.leaf).decode()
    assert "张工" not in text and "9f3c" not in text
    stored = db.get(AuditEvent, ev.id)
    assert stored is not None and stored.sealed_commitment is not None
    assert f'"commitment":"{stored.sealed_commitment}"' in text
    with pytest.raises(tlog.SealedNotYetRevealed) as info:
        tlog.open_sealed(db, ev.id, stored.sealed_commitment)
    assert info.value.code == "transparency.sealed.not_yet"
    clock.advance(dt.timedelta(hours=1, minutes=59, seconds=59))
    with pytest.raises(tlog.SealedNotYetRevealed):
        tlog.open_sealed(db, ev.id, stored.sealed_commitment)
    clock.advance(dt.timedelta(seconds=1))
    opening = tlog.open_sealed(db, ev.id, stored.sealed_commitment)
    assert opening.sealed == secret
    assert len(opening.salt) == tlog.SALT_SIZE
    assert opening.check(SM3)
    assert SM3.digest(opening.salt + tlog.canonical_json(secret)) == opening.commitment


def test_concurrent_use_cases_give_a_gap_free_log(database: Database, default_suite: None) -> None:
    errors: list[BaseException] = []
    ids: list[str] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        try:
            with database.session_scope() as s:
                for n in range(6):
                    s.scalar(select(AuditEvent.id).limit(1))  # read first, then write
                    got = note_something(s, BIDDER, worker * 100 + n)
                    with lock:
                        ids.append(got)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with database.session_scope() as db:
        leaves = leaf_rows(db)
        assert [leaf.leaf_index for leaf in leaves] == list(range(48))
        assert sorted(leaf.event_id for leaf in leaves) == sorted(ids)
        meta = tlog.get_log(db)
        assert meta is not None
        hashes = [bytes(leaf.leaf_hash) for leaf in leaves]
        assert tlog.root_at(db, meta, 48) == root(SM3, hashes)
        events = _events(db)
        for leaf in leaves:
            assert bytes(leaf.leaf) == tlog.encode_leaf(leaf.leaf_index, events[leaf.event_id])


def test_node_lookups_use_the_primary_keys_on_sqlite(tmp_path: Any, default_suite: None) -> None:
    """A row-value IN list made SQLite scan tlog_nodes; the query must be index searches."""
    database = Database(f"sqlite:///{tmp_path / 'plan.db'}")
    from sunlit.migrate import upgrade

    upgrade(database)
    with database.session_scope() as db:
        for n in range(40):
            note_something(db, BIDDER, n)
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        seen.append((statement, parameters))

    with database.session_scope() as db:
        meta = tlog.get_log(db)
        assert meta is not None
        event.listen(database.engine, "before_cursor_execute", capture)
        try:
            tlog.inclusion_proof_at(db, meta, 5, 39)
        finally:
            event.remove(database.engine, "before_cursor_execute", capture)
        ((statement, parameters),) = seen
        plan = db.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    details = " | ".join(str(row[-1]) for row in plan)
    assert "SCAN" not in details.replace("SCAN CONSTANT", ""), details
    assert "SEARCH tlog_nodes USING INDEX" in details
    database.dispose()
