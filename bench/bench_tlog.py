"""Benchmark of the transparency log through the database (``sunlit.kernel.tlog``).

    python bench/bench_tlog.py [--appends 3000] [--leaves 1000000] [--suite gm|intl]
                               [--database-url URL [--reset-database]]

Two parts, both on a real database (default: a fresh SQLite file in WAL mode, as deployed
embedded; ``--database-url`` points both parts at an empty PostgreSQL database instead):

1. Append rate through the real path: one ``use_case`` per event (``BEGIN IMMEDIATE``, the
   audit event, the log append in ``before_commit``, commit). Baseline, same run, interleaved
   in blocks: the same audit rows inserted one per transaction through the same session and
   commit path with no log (no leaf, no node, no lock, no frontier read).
2. Proof generation from the database at 1e3, 1e4, ... ``--leaves`` leaves. The tree is built
   with a bulk loader (the same leaf and node rows the append path writes, inserted in chunks
   of 50,000 with ``executemany``). Baseline: reading one leaf row by primary key through the
   same session, the cheapest query the database can answer.

Prints Markdown tables; ratios use figures of the same run.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sqlalchemy import insert, inspect, select, text
from sqlalchemy.orm import Session

from sunlit.kernel import audit, clock, tlog
from sunlit.kernel.audit import AuditEvent
from sunlit.kernel.authz import Actor, Role
from sunlit.kernel.db import Database, begin_write, new_id, use_case
from sunlit.kernel.merkle import (
    CompactRange,
    inclusion_proof_length,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from sunlit.migrate import upgrade

ACTOR = Actor(
    user_id=uuid.uuid4().hex,
    org_id=uuid.uuid4().hex,
    roles=frozenset({Role.BIDDER}),
    name="江苏恒远建设工程有限公司 周强",
    auth_method="certificate",
    ip="10.12.0.8",
)
BLOCK = 250
CHUNK = 50_000


def event_data(n: int) -> dict[str, Any]:
    """A typical event payload (a bid receipt): ~150 bytes of JSON."""
    return {
        "section": f"JS-2026-{n % 97:04d}-01",
        "ciphertext_sha": uuid.uuid4().hex + uuid.uuid4().hex,
        "size": 10_485_760 + n,
        "receipt": n,
    }


@use_case
def logged(db: Session, actor: Actor, n: int) -> None:
    audit.record(db, actor, "bidding.bid.submitted", "bid", new_id(), event_data(n))


def raw(db: Session, actor: Actor, n: int) -> None:
    """The same row, the same transaction shape, no log."""
    begin_write(db)
    db.add(
        AuditEvent(
            id=new_id(),
            occurred_at=clock.now(),
            action="bidding.bid.submitted",
            actor_user_id=actor.user_id,
            actor_org_id=actor.org_id,
            actor_name=actor.name,
            auth_method=actor.auth_method,
            ip=actor.ip,
            object_type="bid",
            object_id=new_id(),
            data=event_data(n),
        )
    )
    db.commit()


def fresh_database(url: str | None, folder: Path, name: str, reset: bool = False) -> Database:
    if url is None:
        database = Database(f"sqlite:///{folder / name}.db")
    else:
        database = Database(url)
        if inspect(database.engine).get_table_names() and not reset:
            sys.exit(f"{url}: the database is not empty; pass --reset-database to wipe it")
        with database.engine.begin() as conn:  # start from empty tables
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(database)
    return database


def part_appends(args: argparse.Namespace, folder: Path) -> tuple[float, float, int]:
    """Seconds for ``--appends`` logged use cases and for as many raw inserts."""
    logged_db = fresh_database(args.database_url, folder, "appends", args.reset_database)
    raw_db = (
        fresh_database(None, folder, "raw")
        if args.database_url is None
        else logged_db  # PostgreSQL: one database, rows are independent
    )
    t_log = t_raw = 0.0
    with logged_db.session_scope() as a, raw_db.session_scope() as b:
        for n in range(50):  # warm up both paths (and create the log's metadata row)
            logged(a, ACTOR, n)
            raw(b, ACTOR, n)
        done = 0
        while done < args.appends:
            todo = min(BLOCK, args.appends - done)
            start = time.perf_counter()
            for n in range(done, done + todo):
                raw(b, ACTOR, n)
            t_raw += time.perf_counter() - start
            start = time.perf_counter()
            for n in range(done, done + todo):
                logged(a, ACTOR, n)
            t_log += time.perf_counter() - start
            done += todo
        size = tlog.tree_size(a)
        a.rollback()
    with logged_db.session_scope() as s:
        meta = tlog.get_log(s)
        assert meta is not None
        assert size == args.appends + 50
        hashes = [
            bytes(h)
            for h in s.scalars(select(tlog.LogLeaf.leaf_hash).order_by(tlog.LogLeaf.leaf_index))
        ]
        frontier = CompactRange(tlog.hash_function(meta))
        for h in hashes:
            frontier.append(h)
        assert frontier.root() == tlog.root_at(s, meta, size), "stored tree is inconsistent"
    logged_db.dispose()
    raw_db.dispose()
    return t_log, t_raw, size


LEAF_TEMPLATE = (
    '{{"action":"bidding.bid.submitted","actor":{{"auth_method":"certificate","ip":"10.12.0.8",'
    '"name":"周强","org_id":"{org}","user_id":"{user}"}},"data":{{"receipt":{i},'
    '"section":"JS-2026-0001-01","size":10485760}},"id":"{id}","index":{i},'
    '"object_id":"{obj}","object_type":"bid","occurred_at":"2026-11-23T09:30:00.000000+08:00",'
    '"sealed":null,"v":1}}'
)


def _node_collector(nodes: list[dict[str, Any]]) -> Callable[[int, int, bytes], None]:
    def keep(level: int, index: int, h: bytes) -> None:
        if level:  # level 0 is the leaf hash, stored in tlog_leaves
            nodes.append({"level": level, "node_index": index, "hash": h})

    return keep


class BulkLoader:
    """Writes exactly the rows the append path writes, in large ``executemany`` chunks."""

    def __init__(self, database: Database, suite: str) -> None:
        self.database = database
        tlog.set_default_suite(suite)
        with database.session_scope() as s:
            meta = tlog.ensure_log(s)
            s.commit()
            self.hash_fn = tlog.hash_function(meta)
        self.frontier = CompactRange(self.hash_fn)

    def extend_to(self, size: int) -> None:
        while self.frontier.size < size:
            end = min(size, self.frontier.size + CHUNK)
            leaves: list[dict[str, Any]] = []
            nodes: list[dict[str, Any]] = []
            keep = _node_collector(nodes)
            for i in range(self.frontier.size, end):
                event_id = uuid.uuid4().hex
                leaf = LEAF_TEMPLATE.format(
                    i=i, id=event_id, obj=event_id[:16], org=ACTOR.org_id, user=ACTOR.user_id
                ).encode()
                h = leaf_hash(self.hash_fn, leaf)
                self.frontier.append(h, keep)
                leaves.append({"leaf_index": i, "event_id": event_id, "leaf_hash": h, "leaf": leaf})
            with self.database.engine.begin() as conn:
                conn.execute(insert(tlog.LogLeaf.__table__), leaves)
                conn.execute(insert(tlog.LogNode.__table__), nodes)


def median_us(fn: Callable[[int], object], args: list[int]) -> float:
    times = []
    for a in args:
        start = time.perf_counter()
        fn(a)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def part_proofs(args: argparse.Namespace, folder: Path) -> list[dict[str, Any]]:
    database = fresh_database(args.database_url, folder, "proofs", reset=True)
    loader = BulkLoader(database, args.suite)
    rng = random.Random(9162)
    rows = []
    size = 1000
    build = 0.0
    while size <= args.leaves:
        start = time.perf_counter()
        loader.extend_to(size)
        build += time.perf_counter() - start
        with database.session_scope() as s:
            meta = tlog.get_log(s)
            assert meta is not None
            hash_fn = tlog.hash_function(meta)
            idx = [rng.randrange(size) for _ in range(args.samples)]
            olds = [rng.randrange(1, size) for _ in range(args.samples)]

            def pk(i: int, s: Session = s) -> bytes:
                return bytes(
                    s.execute(
                        select(tlog.LogLeaf.leaf_hash).where(tlog.LogLeaf.leaf_index == i)
                    ).scalar_one()
                )

            pk(0)  # warm the statement cache
            base = median_us(pk, idx)
            incl = median_us(
                lambda i, s=s, m=meta, n=size: tlog.inclusion_proof_at(s, m, i, n), idx
            )
            cons = median_us(
                lambda o, s=s, m=meta, n=size: tlog.consistency_proof_at(s, m, o, n), olds
            )
            then = median_us(lambda o, s=s, m=meta: tlog.root_at(s, m, o), olds)
            # Correctness of what was timed, on a few samples.
            top = tlog.root_at(s, meta, size)
            assert top == loader.frontier.root()
            for i, o in list(zip(idx, olds, strict=True))[:20]:
                verify_inclusion(
                    hash_fn, i, size, pk(i), tlog.inclusion_proof_at(s, meta, i, size), top
                )
                verify_consistency(
                    hash_fn, o, size, tlog.consistency_proof_at(s, meta, o, size),
                    tlog.root_at(s, meta, o), top,
                )  # fmt: skip
            hashes = max(inclusion_proof_length(i, size) for i in idx)
        rows.append(
            {"size": size, "pk": base, "incl": incl, "cons": cons, "root": then,
             "hashes": hashes, "build": build}
        )  # fmt: skip
        size *= 10
    database.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--appends", type=int, default=3000)
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=300, help="proofs per size")
    parser.add_argument("--suite", choices=["gm", "intl"], default="gm")
    parser.add_argument(
        "--database-url", default=None, help="an EMPTY PostgreSQL database (default: SQLite)"
    )
    parser.add_argument("--reset-database", action="store_true", help="wipe --database-url first")
    args = parser.parse_args()
    tlog.set_default_suite(args.suite)
    engine = "PostgreSQL" if args.database_url else "SQLite (file, WAL, synchronous=NORMAL)"

    with tempfile.TemporaryDirectory(prefix="sunlit-bench-tlog-") as tmp:
        folder = Path(tmp)
        t_log, t_raw, _ = part_appends(args, folder)
        proof_rows = part_proofs(args, folder)

    cmd = (
        f"python bench/bench_tlog.py --appends {args.appends} --leaves {args.leaves} "
        f"--suite {args.suite}"
    )
    print(f"Command: `{cmd}`  ")
    print(
        f"Python {platform.python_version()} on {platform.machine()}, one thread, {engine}, "
        f"suite {args.suite} ({'SM3' if args.suite == 'gm' else 'SHA-256'}).\n"
    )
    n = args.appends
    print("| path (one transaction per audit event) | events | µs per event | events/s | ÷ raw |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| raw insert of the audit row, no log (baseline) | {n:,} "
        f"| {t_raw / n * 1e6:,.0f} | {n / t_raw:,.0f} | 1.00 |"
    )
    print(
        f"| use case + audit event + log append (leaf, nodes, lock, frontier) | {n:,} "
        f"| {t_log / n * 1e6:,.0f} | {n / t_log:,.0f} | {t_raw / t_log:.2f} |"
    )
    print()
    print(
        "| leaves | PK row read (µs, baseline) | inclusion proof (µs) | ÷ PK read "
        "| consistency proof (µs) | ÷ PK read | root at earlier size (µs) | ÷ PK read "
        "| max proof hashes | bulk build so far (s) |"
    )
    print("|" + "---:|" * 10)
    for r in proof_rows:
        pk = r["pk"]
        print(
            f"| {r['size']:,} | {pk:.0f} | {r['incl']:.0f} | {r['incl'] / pk:.1f} "
            f"| {r['cons']:.0f} | {r['cons'] / pk:.1f} | {r['root']:.0f} | {r['root'] / pk:.1f} "
            f"| {r['hashes']} | {r['build']:.0f} |"
        )


if __name__ == "__main__":
    main()
