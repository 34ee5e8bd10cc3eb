"""Interest at the demand-deposit rate (actual/360, 算头不算尾, rate changes split the period)
and the lifecycle tables, every (state, action)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sunlit.deposits import interest
from sunlit.deposits.states import (
    ACCOUNT,
    REFUND,
    AccountAction,
    AccountStatus,
    RefundAction,
    RefundStatus,
)
from sunlit.kernel.errors import IllegalTransition

D = dt.date
RATES = [(D(2026, 1, 1), Decimal("0.0035"))]


def test_known_value_and_day_count() -> None:
    # 800,000 元 from 23 Nov to 6 Jan: 44 days counted (23 Nov counted, 6 Jan not).
    r = interest.compute(Decimal("800000.00"), D(2026, 11, 23), D(2027, 1, 6), RATES)
    assert r.days == 44
    assert r.amount == Decimal("342.22")  # 800000 × 0.35 % × 44 / 360 = 342.222…
    assert r.to_json()["basis"] == "actual/360"


def test_same_day_is_zero_and_half_up_rounding() -> None:
    assert interest.compute(Decimal("1000"), D(2026, 5, 1), D(2026, 5, 1), RATES).amount == 0
    # 1800 × 0.0035 × 1 / 360 = 0.0175 → 0.02 (half up), not banker's 0.02/0.01 ambiguity
    assert interest.compute(Decimal("1800"), D(2026, 5, 1), D(2026, 5, 2), RATES).amount == (
        Decimal("0.02")
    )


def test_rate_change_splits_the_period() -> None:
    rates = [*RATES, (D(2026, 12, 1), Decimal("0.0020"))]
    r = interest.compute(Decimal("360000"), D(2026, 11, 21), D(2026, 12, 11), rates)
    assert [(s.days, s.annual_rate) for s in r.segments] == [
        (10, Decimal("0.0035")),
        (10, Decimal("0.0020")),
    ]
    assert r.amount == Decimal("35.00") + Decimal("20.00")


def test_no_rate_in_force_is_refused() -> None:
    with pytest.raises(ValueError):
        interest.compute(Decimal("1"), D(2025, 12, 1), D(2026, 1, 5), RATES)


@given(
    principal=st.decimals(min_value=0, max_value=10**9, places=2),
    start=st.dates(D(2026, 1, 1), D(2027, 12, 31)),
    first=st.integers(0, 400),
    second=st.integers(0, 400),
    change=st.dates(D(2026, 1, 2), D(2028, 12, 31)),
    rate=st.decimals(min_value=0, max_value=Decimal("0.05"), places=6),
)
def test_interest_is_additive_over_time(
    principal: Decimal, start: dt.date, first: int, second: int, change: dt.date, rate: Decimal
) -> None:
    rates = [*RATES, (change, rate)]
    mid = start + dt.timedelta(days=first)
    end = mid + dt.timedelta(days=second)
    whole = interest.compute(principal, start, end, rates)
    a = interest.compute(principal, start, mid, rates)
    b = interest.compute(principal, mid, end, rates)
    unrounded = sum(s.amount for s in whole.segments)
    parts = sum(s.amount for s in a.segments) + sum(s.amount for s in b.segments)
    assert abs(unrounded - parts) < Decimal("1e-15")  # Decimal division keeps 28 digits
    assert sum(s.days for s in whole.segments) == whole.days == first + second
    assert whole.amount >= 0
    assert abs(whole.amount - unrounded) <= Decimal("0.005")


ACCOUNT_ALLOWED = {
    (AccountStatus.REQUESTED, AccountAction.OPEN): AccountStatus.OPENED,
    (AccountStatus.REQUESTED, AccountAction.REJECT): AccountStatus.REJECTED,
    (AccountStatus.OPENED, AccountAction.CREDIT): AccountStatus.OPENED,
    (AccountStatus.OPENED, AccountAction.SETTLE): AccountStatus.PAID,
    (AccountStatus.PAID, AccountAction.CREDIT): AccountStatus.PAID,
    (AccountStatus.OPENED, AccountAction.REFUND): AccountStatus.REFUNDING,
    (AccountStatus.PAID, AccountAction.REFUND): AccountStatus.REFUNDING,
    (AccountStatus.REFUNDING, AccountAction.CONFIRM): AccountStatus.REFUNDED,
    (AccountStatus.REFUNDING, AccountAction.FAIL): AccountStatus.REFUND_FAILED,
    (AccountStatus.REFUND_FAILED, AccountAction.REFUND): AccountStatus.REFUNDING,
    (AccountStatus.PAID, AccountAction.FORFEIT): AccountStatus.FORFEITED,
}


@pytest.mark.parametrize("state", list(AccountStatus))
@pytest.mark.parametrize("action", list(AccountAction))
def test_account_table(state: AccountStatus, action: AccountAction) -> None:
    expected = ACCOUNT_ALLOWED.get((state, action))
    if expected is None:
        with pytest.raises(IllegalTransition):
            ACCOUNT.apply(state, action)
    else:
        assert ACCOUNT.apply(state, action) == expected


REFUND_ALLOWED = {
    (RefundStatus.PENDING, RefundAction.ACKNOWLEDGE): RefundStatus.SENT,
    (RefundStatus.PENDING, RefundAction.CONFIRM): RefundStatus.DONE,
    (RefundStatus.PENDING, RefundAction.FAIL): RefundStatus.FAILED,
    (RefundStatus.SENT, RefundAction.CONFIRM): RefundStatus.DONE,
    (RefundStatus.SENT, RefundAction.FAIL): RefundStatus.FAILED,
}


@pytest.mark.parametrize("state", list(RefundStatus))
@pytest.mark.parametrize("action", list(RefundAction))
def test_refund_table(state: RefundStatus, action: RefundAction) -> None:
    expected = REFUND_ALLOWED.get((state, action))
    if expected is None:
        with pytest.raises(IllegalTransition):
            REFUND.apply(state, action)
    else:
        assert REFUND.apply(state, action) == expected
