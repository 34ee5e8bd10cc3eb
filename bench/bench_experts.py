"""Benchmark of an expert draw from a pool of 100,000 experts with 回避 rules, through the
database (the expert domain's real query, rules and storage) and the draw engine.

    python bench/bench_experts.py [--experts 100000] [--repeat 9] [--database-url URL]

A migrated database (a temporary SQLite file by default) gets ``--experts`` experts in 30
specialties (each with its main specialty, 30 % with a second one), employers among 2,000
organizations, 1 % on leave over the evaluation day, 1 % credit-restricted, 5 % drawn in the last
30 days, 2 % in another region. The request: 3 specialties, 5 selected + 2 alternates each,
regions limited to 3205, a 30-day cooldown, 10 bidders, the tenderer and agency, a 20-person
回避 list. Steps, run round-robin so they see the same load, medians of ``--repeat`` rounds:

* baseline: ``SELECT id, main_specialty FROM experts`` — every pool row once, the cheapest query
  that looks at the whole pool;
* ``experts.queries.pool_rows`` + ``on_leave`` (the candidates of the requested specialties);
* ``experts.selection.select`` (every rule, each exclusion with its rule);
* hashed ids, definition, seed and outputs (``fix`` + ``draw`` engine work, D4);
* storing the exclusion rows (one ``executemany``, rolled back after timing);
* the whole: what ``fix_candidates`` + ``draw`` do for the pool, end to end.

Prints a Markdown table for ``docs/performance.md``. Nothing here uses ``random`` for anything
drawn: the synthetic pool comes from a fixed hash sequence.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sqlalchemy import insert, text

from sunlit.draws import (
    CenterSecret,
    Stratum,
    SupervisorContribution,
    conceal_candidates,
    run_draw,
    sample_definition,
)
from sunlit.experts import queries
from sunlit.experts.catalog import id_check_char, id_digest, specialties
from sunlit.experts.models import Expert, ExpertSpecialty
from sunlit.experts.selection import Context, StratumSpec, select
from sunlit.kernel.clock import CHINA_TZ
from sunlit.kernel.codes import make_credit_code
from sunlit.kernel.db import Database, new_id
from sunlit.migrate import upgrade

NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=CHINA_TZ)
START = NOW + dt.timedelta(days=2)
END = START + dt.timedelta(hours=8)
ORGS = [make_credit_code("9", "1", "320500", f"{70000000 + i:08d}") for i in range(2000)]


def _u(n: int, salt: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{salt}:{n}".encode()).digest()[:8], "big")


def fill(database: Database, n: int) -> list[str]:
    codes = [c for c in specialties() if len(c) == 7][:30]
    experts, specs, leaves = [], [], []
    for i in range(n):
        first17 = f"320502{1960 + i % 40}0101{i % 1000:03d}"
        number = first17 + id_check_char(first17)
        eid = f"{_u(i, 'id'):032x}"[:32]
        main = codes[_u(i, "spec") % len(codes)]
        r = _u(i, "rule") % 100
        experts.append(
            {
                "id": eid,
                "user_id": None,
                "name": f"专家{i}",
                "id_number": number,
                "id_digest": id_digest(f"{i:018d}"),
                "id_masked": number[:4] + "*" * 10 + number[-4:],
                "mobile": f"137{i:08d}",
                "employer_name": "单位",
                "employer_credit_code": ORGS[_u(i, "org") % len(ORGS)],
                "title": "高级工程师",
                "region_code": "320100" if r < 2 else "320500",
                "main_specialty": main,
                "status": "active",
                "restricted_until": NOW + dt.timedelta(days=90) if r in (2,) else None,
                "last_drawn_at": NOW - dt.timedelta(days=3) if 3 <= r < 8 else None,
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
        specs.append({"id": new_id(), "expert_id": eid, "code": main, "position": 0})
        if _u(i, "second") % 10 < 3:
            other = codes[(codes.index(main) + 1) % len(codes)]
            specs.append({"id": new_id(), "expert_id": eid, "code": other, "position": 1})
        if r == 8:
            leaves.append(
                {
                    "id": new_id(),
                    "expert_id": eid,
                    "starts_at": START - dt.timedelta(hours=1),
                    "ends_at": END,
                    "reason": "出差",
                    "created_at": NOW,
                    "cancelled_at": None,
                }
            )
    from sunlit.experts.models import ExpertLeave

    with database.session_scope() as db:
        for table, rows in ((Expert, experts), (ExpertSpecialty, specs), (ExpertLeave, leaves)):
            for k in range(0, len(rows), 20000):
                db.execute(insert(table), rows[k : k + 20000])
        db.commit()
    return codes[:3]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--experts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--suite", default="gm")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(database)
        t0 = time.perf_counter()
        wanted = fill(database, args.experts)
        print(
            f"inserted {args.experts:,} experts in {time.perf_counter() - t0:.1f} s",
            file=sys.stderr,
        )
        strata = [StratumSpec(w, 5, 2) for w in wanted]
        ctx_base = dict(
            evaluation_starts_at=START,
            regions=("3205",),
            bidder_codes=frozenset(ORGS[:10]),
            tenderer_codes=frozenset(ORGS[10:11]),
            agency_codes=frozenset(ORGS[11:12]),
            avoidance={id_digest(f"{i:018d}"): "曾任技术顾问" for i in range(0, 2000, 100)},
            cooldown_days=30,
        )
        center = CenterSecret.new(args.suite, committed_at=NOW)
        out: dict[str, Any] = {}

        with database.session_scope() as db:
            db.execute(
                text(
                    "CREATE TABLE bench_exclusions (id VARCHAR(32) PRIMARY KEY, "
                    "draw_id VARCHAR(32), expert_id VARCHAR(32), stratum VARCHAR(11), "
                    "rule VARCHAR(20), detail VARCHAR(500))"
                )
            )
            db.execute(text("CREATE INDEX ix_bench_exclusions_draw ON bench_exclusions (draw_id)"))
            db.commit()

            def baseline() -> None:
                out["base"] = db.execute(text("SELECT id, main_specialty FROM experts")).all()
                db.rollback()

            def query() -> None:
                out["rows"] = queries.pool_rows(db, wanted)
                out["leave"] = queries.on_leave(db, START, END)
                db.rollback()

            def rules() -> None:
                out["sel"] = select(out["rows"], strata, Context(on_leave=out["leave"], **ctx_base))

            def engine() -> None:
                key = b"k" * 32
                built = []
                for r in out["sel"].strata:
                    concealed = conceal_candidates(args.suite, r.candidates, key)
                    built.append(Stratum(r.specialty, [h for _, _, h in concealed], 5, 2))
                definition = sample_definition(
                    args.suite,
                    built,
                    fixed_at=NOW,
                    candidate_ids="hashed",
                    context={"draw": "bench"},
                )
                out["record"] = run_draw(
                    suite=args.suite,
                    draw_id="bench",
                    definition=definition,
                    center=center.reveal(NOW + dt.timedelta(minutes=2)),
                    bidders=[],
                    supervisor=SupervisorContribution.of(
                        "2026", "监督", NOW + dt.timedelta(minutes=1)
                    ),
                    drawn_at=NOW + dt.timedelta(minutes=2),
                )

            def store() -> None:
                rows = [
                    {
                        "id": new_id(),
                        "draw_id": "bench",
                        "expert_id": x.expert_id,
                        "stratum": x.stratum,
                        "rule": x.rule.value,
                        "detail": x.detail,
                    }
                    for x in out["sel"].excluded
                ]
                if rows:
                    # Same columns as expert_draw_exclusions, without the foreign key to a draw
                    # row that this benchmark does not create.
                    db.execute(
                        text(
                            "INSERT INTO bench_exclusions (id, draw_id, expert_id, stratum, rule, "
                            "detail) VALUES (:id, :draw_id, :expert_id, :stratum, :rule, :detail)"
                        ),
                        rows,
                    )
                db.rollback()

            def whole() -> None:
                query()
                rules()
                engine()
                store()

            steps: list[tuple[str, Callable[[], None]]] = [
                ("baseline: SELECT id, main_specialty of the whole pool", baseline),
                ("pool query of the 3 specialties + leave", query),
                ("回避 rules (10 rules, each exclusion with its rule)", rules),
                ("hashed ids + definition + seed + outputs (engine, D4)", engine),
                ("store the exclusion rows (executemany, rolled back)", store),
                ("**whole: fix + draw for the pool**", whole),
            ]
            times: dict[str, list[float]] = {name: [] for name, _ in steps}
            for _ in range(args.repeat):
                for name, fn in steps:
                    t = time.perf_counter()
                    fn()
                    times[name].append((time.perf_counter() - t) * 1000)
        sel = out["sel"]
        base = statistics.median(times[steps[0][0]])
        print(
            f"pool {args.experts:,} experts; {len(out['rows']):,} in the 3 requested specialties; "
            f"{len(sel.excluded):,} excluded; "
            f"{sum(len(r.candidates) for r in sel.strata):,} candidates; "
            f"suite {args.suite}; {database.url.split(':')[0]}"
        )
        print()
        print("| step | ms (median) | ÷ baseline |")
        print("|---|---:|---:|")
        for name, _ in steps:
            m = statistics.median(times[name])
            print(f"| {name} | {m:.1f} | {m / base:.2f} |")


if __name__ == "__main__":
    main()
