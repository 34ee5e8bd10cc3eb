"""Benchmark of the expert draw (``sunlit.draws``), standalone and pure (no database).

    python bench/bench_draws.py [--candidates 100000] [--specialties 30] [--repeat 15] [--suite gm]

A synthetic pool of ``--candidates`` experts (ids in scrambled order, a specialty and an employer
each) is built once. The request: 3 specialties, 5 selected + 2 alternates each, with 回避
exclusions (the bidders' and tenderer's organizations, a blacklist, recent participants).
Measured in the same run as the baseline, round-robin (one run of every step per round, so
all see the same machine load), median of ``--repeat`` rounds:

* baseline: ``sorted()`` of all the pool's ids (the cheapest thing any draw over the pool does);
* the in-memory avoidance filter over the whole pool (what the expert domain will do, in SQL);
* the engine with plain ids: definition (sort, checks, list hashes) + draw + record;
* the engine with hashed ids (D4): per-candidate salt derivation and hashing, then the same;
* verification of the resulting record;
* a worst case: one stratum holding the whole pool.

Prints a Markdown table (for ``docs/performance.md``). Nothing here uses ``random``.
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sunlit.draws import (
    BidderContribution,
    CenterSecret,
    DrawRecord,
    Stratum,
    SupervisorContribution,
    conceal_candidates,
    new_secret,
    run_draw,
    sample_definition,
    verify_record,
)

FIXED_AT = "2026-11-23T08:00:00+08:00"
ENTERED_AT = "2026-11-23T10:05:00+08:00"
DRAWN_AT = "2026-11-23T10:06:00+08:00"
ORGANIZATIONS = 2_000
REQUESTED = 3
COUNT, ALTERNATES = 5, 2


@dataclass(frozen=True)
class Expert:
    id: str
    specialty: str
    organization: int


def build_pool(size: int, specialties: int) -> list[Expert]:
    """Deterministic pool, ids in a scrambled order (a multiplicative permutation)."""
    step = 7_919  # prime, coprime with any pool size not a multiple of it
    pool = []
    for i in range(size):
        n = (i * step + 13) % size
        pool.append(
            Expert(f"EX{n:07d}", f"A{(n * 31) % specialties + 1:02d}0101", n % ORGANIZATIONS)
        )
    return pool


def avoidance(pool: list[Expert], wanted: list[str]) -> dict[str, list[str]]:
    """The 回避 filter: drop experts of excluded organizations, blacklisted or recently drawn."""
    excluded_orgs = set(range(0, ORGANIZATIONS, 50))  # bidders, tenderer, agency: 40 organizations
    blacklist = {f"EX{n:07d}" for n in range(0, len(pool), 199)}
    recent = {f"EX{n:07d}" for n in range(7, len(pool), 97)}
    strata: dict[str, list[str]] = {s: [] for s in wanted}
    for e in pool:
        bucket = strata.get(e.specialty)
        if (
            bucket is not None
            and e.organization not in excluded_orgs
            and e.id not in blacklist
            and e.id not in recent
        ):
            bucket.append(e.id)
    return strata


def draw(suite: str, strata: dict[str, list[str]], mode: str, center: CenterSecret) -> DrawRecord:
    definition = sample_definition(
        suite,
        [Stratum(name, ids, COUNT, ALTERNATES) for name, ids in strata.items()],
        fixed_at=FIXED_AT,
        candidate_ids=mode,  # type: ignore[arg-type]
    )
    return run_draw(
        suite=suite,
        draw_id="BENCH-1",
        definition=definition,
        center=center.reveal(DRAWN_AT),
        bidders=[BidderContribution(f"91350200MA{n:08d}", bytes([n]) * 32) for n in range(8)],
        bidders_closed_at=ENTERED_AT,
        supervisor=SupervisorContribution("73912026", "监督员", ENTERED_AT),
        drawn_at=DRAWN_AT,
    )


def conceal(suite: str, strata: dict[str, list[str]], key: bytes | None) -> dict[str, list[str]]:
    return {
        name: [hashed for _, _, hashed in conceal_candidates(suite, ids, key)]
        for name, ids in strata.items()
    }


def interleaved_medians(steps: list[Callable[[], Any]], repeat: int) -> list[float]:
    """Median milliseconds of each step, measured round-robin (one run of every step per round)
    so that all steps, baseline included, see the same machine load."""
    times: list[list[float]] = [[] for _ in steps]
    for _ in range(repeat):
        for k, step in enumerate(steps):
            gc.collect()
            start = time.perf_counter()
            step()
            times[k].append(time.perf_counter() - start)
    return [statistics.median(t) * 1e3 for t in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--specialties", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--suite", choices=["gm", "intl"], default="gm")
    args = parser.parse_args()
    suite, repeat = args.suite, args.repeat

    pool = build_pool(args.candidates, args.specialties)
    ids = [e.id for e in pool]
    wanted = sorted({e.specialty for e in pool})[:REQUESTED]
    center = CenterSecret.new(suite, "2026-11-20T10:00:00+08:00")
    key = new_secret()
    strata = avoidance(pool, wanted)
    in_strata = sum(len(v) for v in strata.values())
    hashed = conceal(suite, strata, key)
    record = draw(suite, strata, "plain", center)
    record_json = record.to_json()
    whole = {"ALL": ids}

    steps: list[tuple[str, int, Callable[[], Any]]] = [
        ("baseline: `sorted()` of all pool ids", len(ids), lambda: sorted(ids)),
        ("回避 filter over the pool (in memory)", len(ids), lambda: avoidance(pool, wanted)),
        (
            "**engine, plain ids**: definition + draw + record",
            in_strata,
            lambda: draw(suite, strata, "plain", center),
        ),
        ("hashing ids, random salts (D4)", in_strata, lambda: conceal(suite, strata, None)),
        (
            "hashing ids, salts derived from a key (D4)",
            in_strata,
            lambda: conceal(suite, strata, key),
        ),
        (
            "**engine, hashed ids**: definition + draw + record",
            in_strata,
            lambda: draw(suite, hashed, "hashed", center),
        ),
        ("verify_record of the plain-id record", in_strata, lambda: verify_record(record_json)),
        (
            "worst case: one stratum = whole pool, plain ids",
            len(ids),
            lambda: draw(suite, whole, "plain", center),
        ),
    ]
    medians = interleaved_medians([step for _, _, step in steps], repeat)
    rows = [(label, items, ms) for (label, items, _), ms in zip(steps, medians, strict=True)]
    baseline = rows[0][2]
    end_to_end = rows[1][2] + rows[3][2] + rows[5][2]
    rows.append(("end to end: filter + random-salt hashing + hashed-id draw", len(ids), end_to_end))

    print(
        f"Expert draw: {args.candidates:,} experts, {args.specialties} specialties, "
        f"{REQUESTED} strata requested ({COUNT} + {ALTERNATES} alternates each), suite {suite}, "
        f"{in_strata:,} candidates left after 回避; Python {platform.python_version()}, "
        f"median of {repeat} interleaved rounds\n"
    )
    print("| step | items | ms (median) | ÷ sort baseline |")
    print("|---|---:|---:|---:|")
    for label, items, ms in rows:
        print(f"| {label} | {items:,} | {ms:.1f} | {ms / baseline:.2f} |")
    outputs = record.outputs
    print(f"\nDrawn (plain ids): {[o.to_json() for o in outputs]}")


if __name__ == "__main__":
    main()
