"""The award rules as pure functions: which rules apply, the ranking a report may hand over,
the publicity period and the 第55条 check of a decision (worked cases and properties)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sunlit.award import letters, rules
from sunlit.award.rules import PassOver, Ranked, RankedCandidate
from sunlit.kernel.errors import InvalidInput

EVIDENCE = b"%PDF signed statement"


def _cand(rank: int, code: str = "", price: str = "100.00") -> RankedCandidate:
    return RankedCandidate(
        f"org{rank}", code or f"CODE{rank}", f"公司{rank}", Decimal(price), "", rank
    )


def _code(fn: object) -> str:
    with pytest.raises(InvalidInput) as info:
        fn()  # type: ignore[operator]
    return info.value.code


def test_rules_for_each_kind_of_tender() -> None:
    eng = rules.rules_for("engineering", must_tender=True)
    assert (eng.publicity_required, eng.rule_bound, eng.government_procurement) == (
        True,
        True,
        False,
    )
    gp = rules.rules_for("government_procurement", must_tender=True)
    assert (gp.publicity_required, gp.rule_bound, gp.government_procurement) == (False, True, True)
    gp_free = rules.rules_for("government_procurement", must_tender=False)
    assert gp_free.rule_bound and not gp_free.publicity_required
    free = rules.rules_for("engineering", must_tender=False)
    assert (free.publicity_required, free.rule_bound) == (False, False)


def test_ranking_checks() -> None:
    ordered = rules.check_ranking([_cand(2), _cand(1), _cand(3)])
    assert [c.rank for c in ordered] == [1, 2, 3]
    assert _code(lambda: rules.check_ranking([])) == "award.candidates.empty"
    four = [_cand(i) for i in range(1, 5)]
    assert _code(lambda: rules.check_ranking(four)) == "award.candidates.too_many"
    assert _code(lambda: rules.check_ranking([_cand(1), _cand(3)])) == "award.candidates.ranks"
    assert _code(lambda: rules.check_ranking([_cand(1), _cand(1)])) == "award.candidates.ranks"
    dup = [_cand(1, "SAME"), _cand(2, "SAME")]
    assert _code(lambda: rules.check_ranking(dup)) == "award.candidates.duplicate"
    zero = [_cand(1, price="0")]
    assert _code(lambda: rules.check_ranking(zero)) == "award.candidates.price"


def test_publicity_end_is_at_least_three_days() -> None:
    start = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
    assert rules.publicity_end(start, 3) == dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
    assert rules.publicity_end(start, 5) - start == dt.timedelta(days=5)
    assert _code(lambda: rules.publicity_end(start, 2)) == "award.publicity.too_short"
    assert _code(lambda: rules.publicity_end(start, 31)) == "award.publicity.too_long"


RANKED = [Ranked("a", 1, "甲公司"), Ranked("b", 2, "乙公司"), Ranked("c", 3, "丙公司")]


def _po(code: str = "gave_up", text: str = "书面放弃", evidence: bytes = EVIDENCE) -> PassOver:
    return PassOver(code, text, "声明.pdf", evidence)


def test_decision_worked_cases() -> None:
    # The first-ranked: no reason needed.
    assert rules.check_decision(RANKED, "a", {}, True).id == "a"
    # The second without a reason for the first: refused, naming both.
    with pytest.raises(InvalidInput) as info:
        rules.check_decision(RANKED, "b", {}, True)
    assert info.value.code == "award.decision.reason_missing"
    assert "排名第2的乙公司" in info.value.detail and "排名第1的甲公司" in info.value.detail
    # With a 第55条 reason and evidence: accepted.
    assert rules.check_decision(RANKED, "b", {"a": _po()}, True).id == "b"
    # The third needs reasons for both better-ranked candidates.
    with pytest.raises(InvalidInput) as info:
        rules.check_decision(RANKED, "c", {"a": _po()}, True)
    assert "排名第2的乙公司" in info.value.detail
    assert rules.check_decision(RANKED, "c", {"a": _po(), "b": _po("no_security")}, True).id == "c"
    # Each of the four statutory reasons is accepted; anything else is not (when bound).
    for code in rules.PASS_OVER_REASONS:
        assert rules.check_decision(RANKED, "b", {"a": _po(code)}, True).id == "b"
    assert (
        _code(lambda: rules.check_decision(RANKED, "b", {"a": _po("other")}, True))
        == "award.decision.reason_not_allowed"
    )
    # Not bound by 第55条: another reason is allowed, but it must still be recorded.
    assert rules.check_decision(RANKED, "b", {"a": _po("other")}, False).id == "b"
    assert (
        _code(lambda: rules.check_decision(RANKED, "b", {}, False))
        == "award.decision.reason_missing"
    )
    # Empty explanation, missing evidence, a winner who is no candidate, a needless reason.
    assert (
        _code(lambda: rules.check_decision(RANKED, "b", {"a": _po(text=" ")}, True))
        == "award.decision.explanation_missing"
    )
    assert (
        _code(lambda: rules.check_decision(RANKED, "b", {"a": _po(evidence=b"")}, True))
        == "award.decision.evidence_missing"
    )
    assert (
        _code(lambda: rules.check_decision(RANKED, "zzz", {}, True))
        == "award.decision.not_candidate"
    )
    assert (
        _code(lambda: rules.check_decision(RANKED, "a", {"b": _po()}, True))
        == "award.decision.reason_not_needed"
    )


@given(
    n=st.integers(min_value=1, max_value=3),
    winner=st.integers(min_value=1, max_value=3),
    reasons=st.lists(st.sampled_from([*sorted(rules.PASS_OVER_REASONS), "other"]), max_size=3),
    with_reason=st.sets(st.integers(min_value=1, max_value=3)),
    bound=st.booleans(),
    shuffle=st.randoms(use_true_random=False),
)
def test_decision_property(
    n: int,
    winner: int,
    reasons: list[str],
    with_reason: set[int],
    bound: bool,
    shuffle: object,
) -> None:
    """Accepted exactly when every better-ranked candidate, and only those, has an allowed
    reason; the result never depends on the order the candidates are listed in."""
    winner = min(winner, n)
    cands = [Ranked(f"id{r}", r, f"公司{r}") for r in range(1, n + 1)]
    codes = {
        r: reasons[i % len(reasons)] if reasons else "gave_up" for i, r in enumerate(range(1, 4))
    }
    given_reasons = {f"id{r}": _po(codes[r]) for r in with_reason if r <= n}
    allowed = set(rules.PASS_OVER_REASONS) | (set() if bound else {"other"})
    expected = set(given_reasons) == {f"id{r}" for r in range(1, winner)} and all(
        po.reason_code in allowed for po in given_reasons.values()
    )
    listed = list(cands)
    shuffle.shuffle(listed)  # type: ignore[attr-defined]
    try:
        got = rules.check_decision(listed, f"id{winner}", given_reasons, bound)
    except InvalidInput:
        assert not expected
    else:
        assert expected and got.rank == winner


DIGITS = dict(zip("零壹贰叁肆伍陆柒捌玖", range(10), strict=True))
SMALL = {"拾": 10, "佰": 100, "仟": 1000}


def _read_words(words: str) -> Decimal:
    """An independent reader of 人民币大写 (the test's reference, not cn2an)."""
    yuan_part, sep, tail = words.partition("元")
    if not sep:
        yuan_part, tail = "", words
    result = section = number = 0
    for ch in yuan_part:
        if ch in DIGITS:
            number = DIGITS[ch]
        elif ch in SMALL:
            section += (number or 1) * SMALL[ch]
            number = 0
        elif ch == "万":
            result += (section + number) * 10_000
            section = number = 0
        elif ch == "亿":
            result = (result + section + number) * 100_000_000
            section = number = 0
        else:
            raise AssertionError(f"unexpected {ch} in {words}")
    value = Decimal(result + section + number)
    digit = 0
    for ch in tail.removesuffix("整"):
        if ch in DIGITS:
            digit = DIGITS[ch]
        elif ch == "角":
            value += Decimal(digit) / 10
        elif ch == "分":
            value += Decimal(digit) / 100
        else:
            raise AssertionError(f"unexpected {ch} in {words}")
    return value


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999999.99"), places=2))
def test_amount_in_words_reads_back(amount: Decimal) -> None:
    words = letters.amount_in_words(amount)
    assert _read_words(words) == amount, words


def test_amount_in_words_worked_examples() -> None:
    assert letters.amount_in_words(Decimal("12345000.50")) == "壹仟贰佰叁拾肆万伍仟元伍角"
    assert letters.amount_in_words(Decimal("100")) == "壹佰元整"
    assert letters.format_amount(Decimal("12345000.5")) == "12,345,000.50"
