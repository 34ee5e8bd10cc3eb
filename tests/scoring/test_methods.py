"""The calculators against worked examples computed by hand (the arithmetic is written out in
each test and in docs/spec/evaluation-methods.md), plus property-based tests."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sunlit.scoring import (
    Bid,
    CommitteeRule,
    Criterion,
    DeviationRule,
    LowestRatioRule,
    ScoringError,
    comprehensive,
    gp_comprehensive,
    lowest_evaluated_price,
    reasonable_low_price,
    trimmed_mean,
)

SEED = bytes(range(32))


def _by_id(result):  # type: ignore[no-untyped-def]
    return {r.bidder_id: r for r in result.ranking}


# --- 合理低价法 ---------------------------------------------------------------------------


def test_reasonable_low_price_seven_bids_worked_example() -> None:
    # 7 valid bids (≥ 5): drop the highest (F 10,500,000) and the lowest (G 9,000,000);
    # mean of A B C D E = 49,000,000 / 5 = 9,800,000; × K 0.97 = 9,506,000.00 (benchmark).
    # H (11,000,000) is above the control price 10,800,000: rejected, not in the mean.
    bids = [
        Bid("A", D("9600000")),
        Bid("B", D("9800000")),
        Bid("C", D("10000000")),
        Bid("D", D("10200000")),
        Bid("E", D("9400000")),
        Bid("F", D("10500000")),
        Bid("G", D("9000000")),
        Bid("H", D("11000000")),
    ]
    rule = DeviationRule(D("100"), D("0.97"), e1=D("2"), e2=D("1"))
    result = reasonable_low_price(bids, rule, control_price=D("10800000"))
    assert result.benchmark == D("9506000.00")
    by = _by_id(result)
    # A:  94,000 / 9,506,000 = 0.98886 % -> 0.99 %;  100 - 0.99 × 2 = 98.02
    # B: 294,000 / 9,506,000 = 3.09278 % -> 3.09 %;  100 - 6.18      = 93.82
    # C: 494,000 / 9,506,000 = 5.19672 % -> 5.20 %;  100 - 10.40     = 89.60
    # D: 694,000 / 9,506,000 = 7.30065 % -> 7.30 %;  100 - 14.60     = 85.40
    # E: -106,000 / 9,506,000 = -1.11509 % -> -1.12 %; 100 - 1.12 × 1 = 98.88
    # F: 994,000 / 9,506,000 = 10.45655 % -> 10.46 %; 100 - 20.92    = 79.08
    # G: -506,000 / 9,506,000 = -5.32295 % -> -5.32 %; 100 - 5.32    = 94.68
    expected = {
        "A": ("0.99", "98.02"),
        "B": ("3.09", "93.82"),
        "C": ("5.20", "89.60"),
        "D": ("7.30", "85.40"),
        "E": ("-1.12", "98.88"),
        "F": ("10.46", "79.08"),
        "G": ("-5.32", "94.68"),
    }
    for bidder, (rate, score) in expected.items():
        assert by[bidder].deviation_rate == D(rate), bidder
        assert by[bidder].score == D(score), bidder
    assert [r.bidder_id for r in result.ranking] == ["E", "A", "G", "B", "C", "D", "F"]
    assert [r.rank for r in result.ranking] == list(range(1, 8))
    assert [r.bidder_id for r in result.rejected] == ["H"]
    assert "最高投标限价" in result.rejected[0].reasons[0]


def test_reasonable_low_price_few_bids_plain_mean_and_floor() -> None:
    # 3 bids (< 5): plain mean (100 + 96 + 104) / 3 = 100; × 0.97 = 97.00.
    # A: 3/97 = 3.0928 % -> 3.09 -> 100 - 6.18 = 93.82; B: -1/97 = -1.0309 % -> -1.03 -> 98.97;
    # C: 7/97 = 7.2165 % -> 7.22 -> 85.56.
    bids = [Bid("A", D("100")), Bid("B", D("96")), Bid("C", D("104"))]
    rule = DeviationRule(D("100"), D("0.97"), e1=D("2"), e2=D("1"))
    result = reasonable_low_price(bids, rule)
    assert result.benchmark == D("97.00")
    assert {r.bidder_id: r.score for r in result.ranking} == {
        "A": D("93.82"),
        "B": D("98.97"),
        "C": D("85.56"),
    }
    # E1 = 10 per 1 %: C loses 72.2 points, A 30.9; with a floor of 40, C stops at 40.00.
    steep = DeviationRule(D("100"), D("0.97"), e1=D("10"), e2=D("1"), floor=D("40"))
    by = _by_id(reasonable_low_price(bids, steep))
    assert by["A"].score == D("69.10") and by["C"].score == D("40")


def test_rejection_needs_a_reason_and_removes_the_bid_from_the_benchmark() -> None:
    bids = [Bid("A", D("100")), Bid("B", D("96")), Bid("C", D("104")), Bid("X", D("50"))]
    rule = DeviationRule(D("100"), D("0.97"), e1=D("2"), e2=D("1"))
    with pytest.raises(ScoringError) as err:
        reasonable_low_price(bids, rule, rejections={"X": ["  "]})
    assert err.value.code == "scoring.rejection_reason"
    result = reasonable_low_price(bids, rule, rejections={"X": ["投标报价低于成本"]})
    assert result.benchmark == D("97.00")  # X is not in the mean
    assert result.rejected[0].reasons == ("投标报价低于成本",)
    with pytest.raises(ScoringError) as err:
        reasonable_low_price(bids, rule, rejections={"Y": ["?"]})
    assert err.value.code == "scoring.unknown_bidder"
    with pytest.raises(ScoringError) as err:
        reasonable_low_price(bids, rule, rejections={b.bidder_id: ["不响应"] for b in bids})
    assert err.value.code == "scoring.no_valid_bids"


def test_trimmed_mean_rule() -> None:
    assert trimmed_mean([D(1), D(2), D(3), D(100)]) == D("26.5")  # 4 values: plain mean
    assert trimmed_mean([D(1), D(2), D(3), D(4), D(100)]) == D(3)  # 5: drop 1 and 100


# --- 经评审的最低投标价法 -------------------------------------------------------------------


def test_lowest_evaluated_price_worked_example() -> None:
    # A 5,000,000 unchanged; B 4,900,000 + 120,000 (偏差加价) = 5,020,000;
    # C 4,950,000 - 10,000.50 (算术错误修正) = 4,939,999.50.  Order: C, A, B.
    bids = [Bid("A", D("5000000")), Bid("B", D("4900000")), Bid("C", D("4950000"))]
    result = lowest_evaluated_price(bids, adjustments={"B": D("120000"), "C": D("-10000.50")})
    assert [(r.bidder_id, r.evaluated_price) for r in result.ranking] == [
        ("C", D("4939999.50")),
        ("A", D("5000000.00")),
        ("B", D("5020000.00")),
    ]
    assert all(r.score is None for r in result.ranking)


def test_lowest_evaluated_price_tie_broken_by_lower_bid_price_then_draw() -> None:
    # A 100 + 0 = 100; B 90 + 10 = 100: equal evaluated price, B's bid price is lower.
    result = lowest_evaluated_price(
        [Bid("A", D("100")), Bid("B", D("90"))], adjustments={"B": D("10")}
    )
    assert [(r.bidder_id, r.tie_break) for r in result.ranking] == [("B", "price"), ("A", "price")]
    # Fully equal bids need the draw: refused without a seed, decided by it with one.
    same = [Bid("A", D("100")), Bid("B", D("100")), Bid("C", D("100"))]
    with pytest.raises(ScoringError) as err:
        lowest_evaluated_price(same)
    assert err.value.code == "scoring.tie_unresolved"
    one = lowest_evaluated_price(same, tie_seed=SEED)
    assert one.tie_breaks[0].tied == ("A", "B", "C")
    assert [r.bidder_id for r in one.ranking] == list(one.tie_breaks[0].order)
    assert all(r.tie_break == "draw" for r in one.ranking)
    orders = {
        tuple(r.bidder_id for r in lowest_evaluated_price(same, tie_seed=bytes([i]) * 32).ranking)
        for i in range(40)
    }
    assert len(orders) > 1  # the seed decides, not the input order


# --- 综合评估法 (five experts, trimmed mean, deviation-rate price score) --------------------

CRITERIA = [
    Criterion("T1", "technical", "施工方案", D("20")),
    Criterion("T2", "technical", "进度计划", D("10")),
    Criterion("C1", "commercial", "类似业绩", D("10")),
]


def _scores(table: dict[str, tuple[list[str], list[str]]]) -> dict[str, dict[str, dict[str, D]]]:
    """expert -> bidder -> criterion, from each bidder's technical and commercial sums per
    expert (T2 is 10 when the technical sum is ≥ 28, else 8; T1 takes the rest)."""
    out: dict[str, dict[str, dict[str, D]]] = {}
    for bidder, (tech, comm) in table.items():
        for i, (t, c) in enumerate(zip(tech, comm, strict=True)):
            t2 = D(10) if D(t) >= 28 else D(8)
            out.setdefault(f"e{i + 1}", {})[bidder] = {"T1": D(t) - t2, "T2": t2, "C1": D(c)}
    return out


COMP_TABLE = {
    "X": (["25", "26", "27", "24", "28"], ["8", "9", "7", "10", "8"]),
    "Y": (["22", "23", "21", "29", "22.5"], ["9", "9", "9", "9", "9"]),
    "Z": (["28", "29", "27.5", "28.5", "30"], ["10", "9.5", "10", "9", "10"]),
}


def test_comprehensive_worked_example() -> None:
    # Price: mean (1,000,000 + 980,000 + 1,030,000) / 3 = 1,003,333.333…; × 0.98 =
    # 983,266.666… -> benchmark 983,266.67.  Full 60, E1 1, E2 0.5 per 1 %.
    # X: 16,733.33 / 983,266.67 = 1.7018 % -> 1.70 -> 60 - 1.70 = 58.30
    # Y: -3,266.67 / 983,266.67 = -0.3322 % -> -0.33 -> 60 - 0.165 = 59.835 -> 59.84
    # Z: 46,733.33 / 983,266.67 = 4.7528 % -> 4.75 -> 60 - 4.75 = 55.25
    # Technical (trimmed mean of 5): X (25+26+27)/3 = 26.00; Y (22+22.5+23)/3 = 22.50;
    #   Z (28+28.5+29)/3 = 28.50.  Commercial: X (8+9+8)/3 = 8.33; Y 9.00; Z (9.5+10+10)/3 = 9.83.
    # Totals: X 26.00 + 8.33 + 58.30 = 92.63; Y 22.50 + 9.00 + 59.84 = 91.34;
    #   Z 28.50 + 9.83 + 55.25 = 93.58.  Order: Z, X, Y.
    bids = [Bid("X", D("1000000")), Bid("Y", D("980000")), Bid("Z", D("1030000"))]
    rule = DeviationRule(D("60"), D("0.98"), e1=D("1"), e2=D("0.5"))
    result = comprehensive(
        bids, CRITERIA, _scores(COMP_TABLE), rule, committee_rule=CommitteeRule.TRIMMED_MEAN
    )
    assert result.benchmark == D("983266.67")
    by = _by_id(result)
    assert (by["X"].price_score, by["Y"].price_score, by["Z"].price_score) == (
        D("58.30"),
        D("59.84"),
        D("55.25"),
    )
    assert (by["X"].technical, by["Y"].technical, by["Z"].technical) == (
        D("26.00"),
        D("22.50"),
        D("28.50"),
    )
    assert (by["X"].commercial, by["Y"].commercial, by["Z"].commercial) == (
        D("8.33"),
        D("9.00"),
        D("9.83"),
    )
    assert [(r.bidder_id, r.score) for r in result.ranking] == [
        ("Z", D("93.58")),
        ("X", D("92.63")),
        ("Y", D("91.34")),
    ]
    assert result.details["max_total"] == "100"
    # With the plain mean instead: X technical (25+26+27+24+28)/5 = 26.00 (same),
    # commercial 42/5 = 8.40 -> X total 92.70.
    plain = comprehensive(bids, CRITERIA, _scores(COMP_TABLE), rule)
    assert _by_id(plain)["X"].score == D("92.70")


def test_comprehensive_refuses_incomplete_or_out_of_range_scores() -> None:
    bids = [Bid("X", D("1000000")), Bid("Y", D("980000")), Bid("Z", D("1030000"))]
    rule = DeviationRule(D("60"), D("0.98"), e1=D("1"), e2=D("0.5"))
    scores = _scores(COMP_TABLE)
    del scores["e3"]["Y"]["C1"]
    with pytest.raises(ScoringError) as err:
        comprehensive(bids, CRITERIA, scores, rule)
    assert err.value.code == "scoring.incomplete" and "类似业绩" in err.value.message.format(
        **err.value.params
    )
    scores = _scores(COMP_TABLE)
    scores["e1"]["X"]["C1"] = D("10.5")
    with pytest.raises(ScoringError) as err:
        comprehensive(bids, CRITERIA, scores, rule)
    assert err.value.code == "scoring.out_of_range"
    scores = _scores(COMP_TABLE)
    four = {k: v for k, v in scores.items() if k != "e5"}
    with pytest.raises(ScoringError) as err:
        comprehensive(bids, CRITERIA, four, rule, committee_rule=CommitteeRule.TRIMMED_MEAN)
    assert err.value.code == "scoring.trimmed_mean_experts"
    # A rejected bid needs no scores.
    del scores["e2"]["Y"]
    result = comprehensive(bids, CRITERIA, scores, rule, rejections={"Y": ["工期不响应"]})
    # Y is out of the mean: (1,000,000 + 1,030,000) / 2 × 0.98 = 994,700.00;
    # X 5,300 / 994,700 = 0.53 % -> 59.47; Z 35,300 / 994,700 = 3.55 % -> 56.45.  Plain mean
    # of 5: X 130/5 = 26.00 + 42/5 = 8.40 -> 93.87; Z 143/5 = 28.60 + 48.5/5 = 9.70 -> 94.75.
    assert result.benchmark == D("994700.00")
    assert [(r.bidder_id, r.score) for r in result.ranking] == [
        ("Z", D("94.75")),
        ("X", D("93.87")),
    ]
    assert result.rejected[0].reasons == ("工期不响应",)


# --- 政府采购 综合评分法 ---------------------------------------------------------------------

GP_CRITERIA = [
    Criterion("T", "technical", "技术响应", D("50")),
    Criterion("C", "commercial", "售后服务", D("20")),
]


def test_gp_comprehensive_worked_example() -> None:
    # Price points 30, lowest valid price 750,000 (Q).
    # P: 750,000 / 800,000 × 30 = 28.125 -> 28.13;  Q: 30.00;  R: 750,000 / 900,000 × 30 = 25.00
    # Technical (mean of 3): P 41.00, Q 36.00, R 45.00; commercial: P 16.00,
    # Q (15+15+16)/3 = 15.33, R (18+18+19)/3 = 18.33.
    # Totals: P 85.13, Q 81.33, R 88.33.  Order: R, P, Q.
    tech = {"P": ["40", "42", "41"], "Q": ["35", "36", "37"], "R": ["45", "46", "44"]}
    comm = {"P": ["15", "16", "17"], "Q": ["15", "15", "16"], "R": ["18", "18", "19"]}
    scores = {
        f"e{i + 1}": {b: {"T": D(tech[b][i]), "C": D(comm[b][i])} for b in tech} for i in range(3)
    }
    bids = [Bid("P", D("800000")), Bid("Q", D("750000")), Bid("R", D("900000"))]
    result = gp_comprehensive(bids, GP_CRITERIA, scores, D("30"))
    by = _by_id(result)
    assert (by["P"].price_score, by["Q"].price_score, by["R"].price_score) == (
        D("28.13"),
        D("30.00"),
        D("25.00"),
    )
    assert [(r.bidder_id, r.score) for r in result.ranking] == [
        ("R", D("88.33")),
        ("P", D("85.13")),
        ("Q", D("81.33")),
    ]
    assert result.benchmark == D("750000") and result.method == "gp_comprehensive_scoring"


def test_comprehensive_tie_rules_price_then_technical_then_draw() -> None:
    crit = [
        Criterion("T", "technical", "技术", D("40")),
        Criterion("C", "commercial", "商务", D("30")),
    ]
    # Same price, same total 70 + 30: J has the higher technical score (40 vs 35).
    scores = {"e1": {"J": {"T": D("40"), "C": D("25")}, "K": {"T": D("35"), "C": D("30")}}}
    bids = [Bid("J", D("500")), Bid("K", D("500"))]
    result = gp_comprehensive(bids, crit, scores, D("30"))
    assert [(r.bidder_id, r.tie_break) for r in result.ranking] == [
        ("J", "technical"),
        ("K", "technical"),
    ]
    scores["e1"]["K"] = {"T": D("40"), "C": D("25")}
    drawn = gp_comprehensive(bids, crit, scores, D("30"), tie_seed=SEED)
    assert drawn.tie_breaks and drawn.ranking[0].tie_break == "draw"


# --- properties -----------------------------------------------------------------------------

prices = st.decimals(min_value=D("1000"), max_value=D("99999999"), places=2)
bid_lists = st.lists(prices, min_size=1, max_size=12).map(
    lambda ps: [Bid(f"B{i:02d}", p) for i, p in enumerate(ps)]
)
coefficients = st.sampled_from([D("0.95"), D("0.96"), D("0.97"), D("0.98"), D("1")])
deductions = st.decimals(min_value=D("0"), max_value=D("5"), places=1)


@settings(max_examples=150, deadline=None)
@given(bids=bid_lists, k=coefficients, e1=deductions, e2=deductions, data=st.data())
def test_reasonable_low_price_properties(bids, k, e1, e2, data) -> None:  # type: ignore[no-untyped-def]
    rule = DeviationRule(D("100"), k, e1=e1, e2=e2)
    result = reasonable_low_price(bids, rule, tie_seed=SEED)
    assert [r.rank for r in result.ranking] == list(range(1, len(bids) + 1))
    for r in result.ranking:
        assert r.score is not None and D(0) <= r.score <= D(100)
    scores = [r.score for r in result.ranking]
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    lo, hi = min(b.price for b in bids), max(b.price for b in bids)
    assert result.benchmark is not None and lo * k - D("0.01") <= result.benchmark <= hi * k + D(
        "0.01"
    )
    shuffled = data.draw(st.permutations(bids))
    again = reasonable_low_price(shuffled, rule, tie_seed=SEED)
    assert again.ranking == result.ranking and again.benchmark == result.benchmark


@settings(max_examples=150, deadline=None)
@given(bids=bid_lists, data=st.data())
def test_lowest_evaluated_price_properties(bids, data) -> None:  # type: ignore[no-untyped-def]
    result = lowest_evaluated_price(bids, tie_seed=SEED)
    evaluated = [r.evaluated_price for r in result.ranking]
    assert evaluated == sorted(evaluated)
    assert result.ranking[0].evaluated_price == min(b.price for b in bids)
    again = lowest_evaluated_price(data.draw(st.permutations(bids)), tie_seed=SEED)
    assert again.ranking == result.ranking


@st.composite
def scored_bids(draw):  # type: ignore[no-untyped-def]
    bids = draw(bid_lists)
    n_experts = draw(st.integers(min_value=1, max_value=7))
    crit = [
        Criterion("T1", "technical", "方案", D("30")),
        Criterion("T2", "technical", "质量", D("10")),
        Criterion("C1", "commercial", "业绩", D("20")),
    ]
    pts = {c.key: st.decimals(min_value=D(0), max_value=c.max_points, places=2) for c in crit}
    scores = {
        f"e{i}": {b.bidder_id: {k: draw(s) for k, s in pts.items()} for b in bids}
        for i in range(n_experts)
    }
    return bids, crit, scores


@settings(max_examples=100, deadline=None)
@given(case=scored_bids(), gp=st.booleans(), data=st.data())
def test_comprehensive_properties(case, gp, data) -> None:  # type: ignore[no-untyped-def]
    bids, crit, scores = case
    rule = (
        LowestRatioRule(D("40"))
        if gp
        else DeviationRule(D("40"), D("0.97"), e1=D("1"), e2=D("0.5"))
    )
    committee = CommitteeRule.TRIMMED_MEAN if len(scores) >= 5 else CommitteeRule.MEAN
    result = comprehensive(bids, crit, scores, rule, committee_rule=committee, tie_seed=SEED)
    for r in result.ranking:
        assert r.score is not None and D(0) <= r.score <= D(100)
        assert r.technical is not None and D(0) <= r.technical <= D(40)
        assert r.commercial is not None and D(0) <= r.commercial <= D(20)
        assert r.price_score is not None and D(0) <= r.price_score <= D(40)
    if gp:
        lowest = min(b.price for b in bids)
        assert all(r.price_score == D("40.00") for r in result.ranking if r.price == lowest)
    totals = [r.score for r in result.ranking]
    assert totals == sorted(totals, reverse=True)  # type: ignore[type-var]
    again = comprehensive(
        data.draw(st.permutations(bids)),
        crit,
        scores,
        rule,
        committee_rule=committee,
        tie_seed=SEED,
    )
    assert again.ranking == result.ranking
