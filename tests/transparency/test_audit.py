"""``sunlit log audit`` finds every edit, deletion, insertion and reordering made behind its back.

The tampering is plain SQL straight into the database, as an operator or intruder would do it.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from sunlit.kernel import tlog
from sunlit.kernel.audit import AuditEvent
from sunlit.kernel.authz import system_actor
from sunlit.kernel.db import Database
from sunlit.transparency import auditor, service
from sunlit.transparency.keys import PlatformKey
from sunlit.transparency.models import Checkpoint
from tests.transparency.helpers import BIDDER, leaf_rows, make_key, note_something, sql

SYSTEM = system_actor("test")
_COLUMNS = (
    "occurred_at", "action", "actor_user_id", "actor_org_id", "actor_name", "auth_method",
    "ip", "object_type", "object_id", "data",
)  # fmt: skip


def _log(db: Session, key: PlatformKey, n: int = 10) -> list[str]:
    """Events 0..n-1, then a checkpoint of size n (its own event becomes leaf n)."""
    ids = [note_something(db, BIDDER, i, {"n": i, "名称": f"第{i}号"}) for i in range(n)]
    service.issue_checkpoint(db, SYSTEM, "定时", key=key)
    return ids


def _swap_contents(database: Database, a: str, b: str) -> None:
    """Swap everything but the ids of two stored events (plain SELECT and UPDATE)."""
    pg = database.dialect == "postgresql"
    cols = ", ".join(c if c != "data" else "CAST(data AS TEXT) AS data" for c in _COLUMNS)
    sets = ", ".join(
        f"{c} = CAST(:{c} AS JSON)" if c == "data" and pg else f"{c} = :{c}" for c in _COLUMNS
    )
    with database.engine.begin() as conn:
        rows = {
            x: dict(conn.execute(text(f"SELECT {cols} FROM audit_events WHERE id = :id"), {"id": x})
                    .one()._mapping)
            for x in (a, b)
        }  # fmt: skip
        for target, source in ((a, b), (b, a)):
            conn.execute(
                text(f"UPDATE audit_events SET {sets} WHERE id = :id"),
                {**rows[source], "id": target},
            )


def _kinds(report: auditor.AuditReport) -> set[tuple[str, int | None]]:
    return {(f.kind, f.position) for f in report.findings}


def test_a_clean_log_passes(cli: Any, db: Session, key: PlatformKey) -> None:
    _log(db, key)
    report = auditor.audit_log(db, key.public_key)
    assert report.ok, report.findings
    assert (report.tree_size, report.events, report.checkpoints) == (11, 11, 1)
    r = cli("log", "audit")
    assert r.exit_code == 0, r.output
    assert "审计通过" in r.output


def test_edit_delete_reorder_and_insert_are_each_found_with_their_position(
    cli: Any, database: Database, db: Session, key: PlatformKey
) -> None:
    ids = _log(db, key)
    db.close()
    # Edit event 3's data; delete event 5; swap the contents of events 7 and 8; insert one.
    if database.dialect == "postgresql":
        sql(database, "UPDATE audit_events SET data = CAST(:d AS JSON) WHERE id = :id",
            d='{"n": 3, "名称": "伪造"}', id=ids[3])  # fmt: skip
    else:
        sql(database, "UPDATE audit_events SET data = :d WHERE id = :id",
            d='{"n": 3, "名称": "伪造"}', id=ids[3])  # fmt: skip
    sql(database, "DELETE FROM audit_events WHERE id = :id", id=ids[5])
    _swap_contents(database, ids[7], ids[8])
    sql(database, "INSERT INTO audit_events (id, occurred_at, action, actor_name, auth_method, "
        "object_type, data) SELECT 'f00d', occurred_at, 'test.forged', 'x', 'system', 'thing', "
        "data FROM audit_events WHERE id = :id", id=ids[0])  # fmt: skip

    with database.session_scope() as s:
        report = auditor.audit_log(s, key.public_key)
    found = _kinds(report)
    assert ("edited", 3) in found
    assert ("deleted", 5) in found
    assert ("reordered", 7) in found and ("reordered", 8) in found
    assert ("inserted", None) in found
    assert ("checkpoint_mismatch", 0) in found  # the signed root no longer matches the events
    by_kind = {f.kind: f for f in report.findings}
    assert "data" in by_kind["edited"].detail
    moved = {f.position: f.detail for f in report.findings if f.kind == "reordered"}
    assert "位置 8 的原始记录" in moved[7] and "位置 7 的原始记录" in moved[8]
    assert "叶子表与检查点一致" in by_kind["checkpoint_mismatch"].detail
    assert not any(f.kind in ("leaf_tampered", "node_mismatch") for f in report.findings)

    r = cli("log", "audit")
    assert r.exit_code == 1
    out = r.output
    assert f"位置 3  事件被修改  {ids[3]}" in out
    assert f"位置 5  事件被删除  {ids[5]}" in out
    assert f"位置 7  事件被重排  {ids[7]}" in out
    assert f"位置 8  事件被重排  {ids[8]}" in out
    assert "位置 -  事件被插入  f00d" in out


def test_reordering_leaf_rows_and_rewriting_leaves_are_found(
    database: Database, db: Session, key: PlatformKey
) -> None:
    _log(db, key, 6)
    db.close()
    # Swap the positions of leaves 1 and 2 (and their events stay as they were).
    sql(database, "UPDATE tlog_leaves SET leaf_index = 1000 WHERE leaf_index = 1")
    sql(database, "UPDATE tlog_leaves SET leaf_index = 1 WHERE leaf_index = 2")
    sql(database, "UPDATE tlog_leaves SET leaf_index = 2 WHERE leaf_index = 1000")
    with database.session_scope() as s:
        found = _kinds(auditor.audit_log(s, key.public_key))
    assert ("reordered", 1) in found and ("reordered", 2) in found
    assert any(k == "checkpoint_mismatch" for k, _ in found)
    # Rewrite leaf 4's bytes in place (hash left alone), and a stored subtree hash.
    sql(database, "UPDATE tlog_leaves SET leaf = :b WHERE leaf_index = 4", b=b'{"v":1}')
    sql(database, "UPDATE tlog_nodes SET hash = :h WHERE level = 1 AND node_index = 0", h=bytes(32))
    with database.session_scope() as s:
        report = auditor.audit_log(s, key.public_key)
    found = _kinds(report)
    assert ("leaf_tampered", 4) in found
    assert ("edited", 4) in found
    assert ("node_mismatch", 0) in found


def test_truncating_the_log_is_found(database: Database, db: Session, key: PlatformKey) -> None:
    ids = _log(db, key, 5)  # checkpoint of size 5, its event is leaf 5
    note_something(db, BIDDER, 99)  # leaf 6
    service.issue_checkpoint(db, SYSTEM, "定时", key=key)  # size 7, its event is leaf 7
    db.close()
    # Drop the last three records entirely: events and leaves (and the nodes that covered them).
    sql(database, "DELETE FROM audit_events WHERE id IN (SELECT event_id FROM tlog_leaves "
        "WHERE leaf_index >= 5)")  # fmt: skip
    sql(database, "DELETE FROM tlog_leaves WHERE leaf_index >= 5")
    with database.session_scope() as s:
        report = auditor.audit_log(s, key.public_key)
    assert ("checkpoint_beyond_log", 5) in _kinds(report)
    assert report.tree_size == 5 and len(ids) == 5
    assert any(f.kind == "node_mismatch" for f in report.findings)  # nodes beyond the leaves


def test_forged_checkpoint_rows_are_found(
    database: Database, db: Session, key: PlatformKey
) -> None:
    _log(db, key, 3)
    db.close()
    sql(
        database,
        "UPDATE transparency_checkpoints SET signature = :s",
        s=b"\x30\x06\x02\x01\x01\x02\x01\x01",
    )
    with database.session_scope() as s:
        report = auditor.audit_log(s, key.public_key)
    assert {f.kind for f in report.findings} == {"checkpoint_signature"}
    with database.session_scope() as s:
        other = auditor.audit_log(s, make_key("gm").public_key)  # audited with a wrong key
    assert {f.kind for f in other.findings} == {"checkpoint_signature"}


def test_concurrent_use_cases_and_checkpoints_give_a_gap_free_log_that_audits_clean(
    database: Database, key: PlatformKey
) -> None:
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            with database.session_scope() as s:
                for n in range(5):
                    s.scalar(select(AuditEvent.id).limit(1))
                    note_something(s, BIDDER, worker * 100 + n)
                    if worker % 3 == 0 and n % 2 == 0:
                        service.issue_checkpoint(s, SYSTEM, f"并发 {worker}-{n}", key=key)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with database.session_scope() as s:
        leaves = leaf_rows(s)
        events = list(s.scalars(select(AuditEvent.id)))
        cps = list(s.scalars(select(Checkpoint).order_by(Checkpoint.tree_size)))
        assert [leaf.leaf_index for leaf in leaves] == list(range(len(events)))
        assert sorted(leaf.event_id for leaf in leaves) == sorted(events)
        assert len(cps) == 9 and len(events) == 40 + 9
        meta = tlog.get_log(s)
        assert meta is not None
        for cp in cps:
            assert tlog.root_at(s, meta, cp.tree_size) == cp.root_hash
    with database.session_scope() as s:
        report = auditor.audit_log(s, key.public_key)
    assert report.ok, report.findings
    assert report.tree_size == 49
