"""Interest on a refunded deposit at the bank's demand-deposit rate (银行同期活期存款利息).

Day count (ADR 0017): the People's Bank rule for demand deposits, 日利率 = 年利率 / 360, simple
interest over actual days, counting the day the money arrived and not the day it is paid back
(算头不算尾). When the bank's published rate changes during the period, each day earns the rate
in force that day. The total is rounded once, half up, to the fen (分); the per-segment figures
are kept unrounded for the record. No capitalisation: deposits are held for weeks, and the
statutory duty (招标投标法实施条例 第57条) is 银行同期存款利息, not a compounded product.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

DAYS_IN_YEAR = 360
FEN = Decimal("0.01")


@dataclass(frozen=True)
class Segment:
    start: dt.date
    end: dt.date  # exclusive
    annual_rate: Decimal
    days: int
    amount: Decimal  # unrounded

    def to_json(self) -> dict[str, str | int]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "annual_rate": str(self.annual_rate),
            "days": self.days,
            "interest": str(self.amount),
        }


@dataclass(frozen=True)
class Interest:
    principal: Decimal
    start: dt.date
    end: dt.date
    days: int
    amount: Decimal  # rounded to the fen
    segments: tuple[Segment, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "principal": str(self.principal),
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "days": self.days,
            "basis": "actual/360",
            "interest": str(self.amount),
            "segments": [s.to_json() for s in self.segments],
        }


def rate_on(rates: Sequence[tuple[dt.date, Decimal]], day: dt.date) -> Decimal:
    """The rate in force on ``day`` (the latest effective on or before it)."""
    current: Decimal | None = None
    for effective, rate in sorted(rates):
        if effective <= day:
            current = rate
    if current is None:
        raise ValueError(f"no demand-deposit rate in force on {day.isoformat()}")
    return current


def compute(
    principal: Decimal,
    start: dt.date,
    end: dt.date,
    rates: Sequence[tuple[dt.date, Decimal]],
) -> Interest:
    """Interest on ``principal`` held from ``start`` (counted) to ``end`` (not counted)."""
    if principal < 0:
        raise ValueError("principal must not be negative")
    if end < start:
        raise ValueError("end before start")
    ordered = sorted(rates)
    segments: list[Segment] = []
    cursor = start
    while cursor < end:
        rate = rate_on(ordered, cursor)
        later = [eff for eff, _ in ordered if eff > cursor]
        stop = min([end, *later])
        days = (stop - cursor).days
        amount = principal * rate * days / DAYS_IN_YEAR
        segments.append(Segment(cursor, stop, rate, days, amount))
        cursor = stop
    total = sum((s.amount for s in segments), Decimal("0"))
    return Interest(
        principal=principal,
        start=start,
        end=end,
        days=(end - start).days,
        amount=total.quantize(FEN, rounding=ROUND_HALF_UP),
        segments=tuple(segments),
    )
