"""Property tests of the exclusion rules (pure): every expert of a requested specialty ends up
exactly once, as a candidate or excluded by one rule; candidates break no rule; the refusal
names the rule after which a stratum fell short."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from sunlit.experts.catalog import Rule
from sunlit.experts.selection import Context, PoolRow, StratumSpec, select

START = dt.datetime(2026, 12, 20, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
CODES = ["A010101", "A010102", "A040101", "A040102", "B070101"]
ORGS = [f"ORG{i}" for i in range(6)]


@st.composite
def rows(draw: st.DrawFn) -> list[PoolRow]:
    n = draw(st.integers(0, 40))
    out = []
    for i in range(n):
        main = draw(st.sampled_from(CODES))
        others = tuple(draw(st.lists(st.sampled_from(CODES), max_size=2, unique=True)))
        out.append(
            PoolRow(
                id=f"e{i:03d}",
                main_specialty=main,
                specialties=(main, *[o for o in others if o != main]),
                employer_credit_code=draw(st.sampled_from(ORGS)),
                region_code=draw(st.sampled_from(["320500", "320100", "110000"])),
                status=draw(st.sampled_from(["active", "active", "active", "suspended"])),
                restricted_until=draw(
                    st.sampled_from(
                        [None, START + dt.timedelta(days=1), START - dt.timedelta(days=1)]
                    )
                ),
                last_drawn_at=draw(
                    st.sampled_from(
                        [None, START - dt.timedelta(days=5), START - dt.timedelta(days=50)]
                    )
                ),
                id_digest=f"d{i:03d}",
            )
        )
    return out


@settings(max_examples=200, deadline=None)
@given(
    pool=rows(),
    leave=st.sets(st.integers(0, 40)),
    avoid=st.sets(st.integers(0, 40)),
    drawn=st.sets(st.integers(0, 40)),
    counts=st.tuples(st.integers(1, 5), st.integers(0, 3), st.integers(1, 5)),
)
def test_each_expert_once_and_candidates_break_no_rule(
    pool: list[PoolRow],
    leave: set[int],
    avoid: set[int],
    drawn: set[int],
    counts: tuple[int, int, int],
) -> None:
    strata = [StratumSpec("A0101", counts[0], counts[1]), StratumSpec("A04", counts[2], 0)]
    ctx = Context(
        evaluation_starts_at=START,
        on_leave=frozenset(f"e{i:03d}" for i in leave),
        regions=("3205",),
        bidder_codes=frozenset(ORGS[:2]),
        tenderer_codes=frozenset(ORGS[2:3]),
        agency_codes=frozenset(ORGS[3:4]),
        avoidance={f"d{i:03d}": "理由" for i in avoid},
        cooldown_days=30,
        already_drawn=frozenset(f"e{i:03d}" for i in drawn),
    )
    result = select(pool, strata, ctx)
    covered = [r for r in pool if any(c.startswith(("A0101", "A04")) for c in r.specialties)]
    candidates = [c for s in result.strata for c in s.candidates]
    excluded = [x.expert_id for x in result.excluded]
    assert sorted(candidates + excluded) == sorted(r.id for r in covered)  # exactly once each
    by_id = {r.id: r for r in pool}
    for report in result.strata:
        assert list(report.candidates) == sorted(report.candidates)
        for cid in report.candidates:
            r = by_id[cid]
            assert r.status == "active"
            assert r.restricted_until is None or r.restricted_until <= START
            assert cid not in ctx.on_leave and cid not in ctx.already_drawn
            assert r.region_code.startswith("3205")
            assert r.employer_credit_code not in set(ORGS[:4])
            assert r.id_digest not in ctx.avoidance
            assert r.last_drawn_at is None or r.last_drawn_at < START - dt.timedelta(days=30)
        # the reported counts add up, and a short stratum names the first rule that broke it
        assert report.in_specialty - sum(report.excluded_by().values()) == len(report.candidates)
        if report.short_by and report.in_specialty >= report.needed:
            rule = report.emptied_by
            assert rule is not None
            remaining = dict(report.after_rule)
            order = list(Rule)
            assert remaining[rule] < report.needed
            assert all(remaining[r] >= report.needed for r in order[: order.index(rule)])
