"""Shared pieces of the calculators: bids, rejections, rounding, averages, ranking.

Everything here is pure (no database, no clock, no I/O) and uses :class:`~decimal.Decimal`
only. The rules are written out in ``docs/spec/evaluation-methods.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Final

from sunlit.draws import RandomStream
from sunlit.kernel.errors import InvalidInput

__all__ = [
    "CENT",
    "POINT",
    "Bid",
    "CommitteeRule",
    "Ranked",
    "Rejected",
    "ScoringError",
    "TieBreak",
    "committee_score",
    "decimal_of",
    "mean",
    "money",
    "points",
    "rank",
    "split_rejections",
    "trimmed_mean",
]

CENT: Final = Decimal("0.01")  # money: 元 to 2 places (分)
POINT: Final = Decimal("0.01")  # scores: 2 places
RATE: Final = Decimal("0.01")  # deviation rates: percent to 2 places
ZERO: Final = Decimal("0")


class ScoringError(InvalidInput):
    """Input a calculator cannot work with (HTTP 422): stable code, Chinese message."""


def money(value: Decimal) -> Decimal:
    """Round an amount to 分 (2 places, half up)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def points(value: Decimal) -> Decimal:
    """Round a score to 2 places, half up."""
    return value.quantize(POINT, rounding=ROUND_HALF_UP)


def decimal_of(value: Any, what: str) -> Decimal:
    """A finite Decimal from a Decimal, int or string; floats are refused (binary rounding)."""
    if isinstance(value, float):
        raise ScoringError("scoring.float", "{what}须为十进制数（不接受浮点数）", what=what)
    try:
        out = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ScoringError(
            "scoring.number", "{what}不是有效的数字：{v}", what=what, v=value
        ) from None
    if not out.is_finite():
        raise ScoringError("scoring.number", "{what}不是有效的数字：{v}", what=what, v=value)
    return out


@dataclass(frozen=True, slots=True)
class Bid:
    """A bid as the calculators see it: the bidder's stable id (its credit code) and price."""

    bidder_id: str
    price: Decimal
    name: str = ""


@dataclass(frozen=True, slots=True)
class Rejected:
    """否决投标: the bid and every reason recorded for it."""

    bidder_id: str
    price: Decimal
    reasons: tuple[str, ...]
    name: str = ""


@dataclass(frozen=True, slots=True)
class Ranked:
    """One ranked bid. ``score`` is None for price-only ranking (经评审的最低投标价法)."""

    rank: int
    bidder_id: str
    name: str
    price: Decimal
    evaluated_price: Decimal
    score: Decimal | None
    technical: Decimal | None = None
    commercial: Decimal | None = None
    price_score: Decimal | None = None
    deviation_rate: Decimal | None = None
    tie_break: str = ""  # "" | "price" | "technical" | "draw"


@dataclass(frozen=True, slots=True)
class TieBreak:
    """Bids still equal after every ordered rule; ``order`` is the drawn order."""

    tied: tuple[str, ...]  # bidder ids, sorted
    order: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Result:
    method: str
    ranking: tuple[Ranked, ...]
    rejected: tuple[Rejected, ...]
    tie_breaks: tuple[TieBreak, ...] = ()
    benchmark: Decimal | None = None
    lowest_price: Decimal | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        def d(v: Decimal | None) -> str | None:
            return None if v is None else str(v)

        return {
            "method": self.method,
            "benchmark": d(self.benchmark),
            "lowest_price": d(self.lowest_price),
            "ranking": [
                {
                    "rank": r.rank,
                    "bidder_id": r.bidder_id,
                    "name": r.name,
                    "price": str(r.price),
                    "evaluated_price": str(r.evaluated_price),
                    "score": d(r.score),
                    "technical": d(r.technical),
                    "commercial": d(r.commercial),
                    "price_score": d(r.price_score),
                    "deviation_rate": d(r.deviation_rate),
                    "tie_break": r.tie_break,
                }
                for r in self.ranking
            ],
            "rejected": [
                {
                    "bidder_id": r.bidder_id,
                    "name": r.name,
                    "price": str(r.price),
                    "reasons": list(r.reasons),
                }
                for r in self.rejected
            ],
            "tie_breaks": [{"tied": list(t.tied), "order": list(t.order)} for t in self.tie_breaks],
            "details": dict(self.details),
        }


def check_bids(bids: Sequence[Bid]) -> None:
    seen: set[str] = set()
    for b in bids:
        if b.bidder_id in seen:
            raise ScoringError("scoring.duplicate_bid", "投标人 {id} 出现了两次", id=b.bidder_id)
        seen.add(b.bidder_id)
        if not isinstance(b.price, Decimal) or not b.price.is_finite() or b.price <= 0:
            raise ScoringError("scoring.bad_price", "投标人 {id} 的报价须为正数", id=b.bidder_id)


def split_rejections(
    bids: Sequence[Bid],
    rejections: Mapping[str, Sequence[str]] | None,
    control_price: Decimal | None = None,
) -> tuple[list[Bid], list[Rejected]]:
    """Valid bids and 否决投标 (sorted by bidder id). A price above the control price
    (最高投标限价) is rejected automatically; a rejection must give at least one reason."""
    check_bids(bids)
    given = dict(rejections or {})
    known = {b.bidder_id for b in bids}
    for bidder_id, reasons in given.items():
        if bidder_id not in known:
            raise ScoringError(
                "scoring.unknown_bidder", "否决的投标人 {id} 不在投标人之列", id=bidder_id
            )
        if not [r for r in reasons if str(r).strip()]:
            raise ScoringError(
                "scoring.rejection_reason", "否决投标人 {id} 须写明理由", id=bidder_id
            )
    valid: list[Bid] = []
    rejected: list[Rejected] = []
    for b in sorted(bids, key=lambda x: x.bidder_id):
        reasons = [str(r).strip() for r in given.get(b.bidder_id, ()) if str(r).strip()]
        if control_price is not None and b.price > control_price:
            reasons.append(f"投标报价 {b.price} 元超过最高投标限价 {control_price} 元")
        if reasons:
            rejected.append(Rejected(b.bidder_id, b.price, tuple(reasons), b.name))
        else:
            valid.append(b)
    return valid, rejected


def mean(values: Sequence[Decimal]) -> Decimal:
    """Arithmetic mean, exact in Decimal (28 significant digits); the caller rounds."""
    if not values:
        raise ScoringError("scoring.empty", "没有可计算的数值")
    return sum(values, ZERO) / Decimal(len(values))


def trimmed_mean(values: Sequence[Decimal], trim_from: int = 5) -> Decimal:
    """Mean after dropping one highest and one lowest value when there are at least
    ``trim_from`` values; the plain mean otherwise."""
    ordered = sorted(values)
    if len(ordered) >= trim_from:
        ordered = ordered[1:-1]
    return mean(ordered)


class CommitteeRule(StrEnum):
    """How the committee score is formed from the experts' scores of one bid."""

    MEAN = "mean"  # 算术平均
    TRIMMED_MEAN = "trimmed_mean"  # 去掉一个最高分和一个最低分后平均 (≥ 5 experts)


def committee_score(values: Sequence[Decimal], rule: CommitteeRule) -> Decimal:
    if rule == CommitteeRule.TRIMMED_MEAN:
        return points(trimmed_mean(values, 5))
    return points(mean(values))


SortKey = Callable[[Any], tuple[Any, ...]]


def rank(
    items: Iterable[Any],
    keys: Sequence[tuple[str, Callable[[Any], Any]]],
    bidder_id: Callable[[Any], str],
    tie_seed: bytes | None,
    suite: str = "gm",
) -> tuple[list[tuple[int, Any, str]], list[TieBreak]]:
    """Order ``items`` by the named keys in turn (each ascending; negate for descending).

    Items equal on the first key are separated by the next one; the name of the key that
    separated an item from its neighbours is reported. Items equal on every key are ordered
    by a draw: groups in rank order, each group's bidder ids sorted, then a Fisher–Yates
    shuffle driven by ``RandomStream(suite, tie_seed)`` (``sunlit.draws``), so the result
    depends on the seed and the bids, never on the order the bids were given in. Without a
    seed an unbreakable tie is refused. Returns ``[(rank, item, tie_rule)]`` and the draws.
    """
    pool = sorted(items, key=bidder_id)
    full = sorted(pool, key=lambda it: tuple(k(it) for _, k in keys))
    stream = RandomStream(suite, tie_seed) if tie_seed is not None else None
    out: list[tuple[int, Any, str]] = []
    draws: list[TieBreak] = []
    i = 0
    while i < len(full):
        primary = keys[0][1](full[i])
        j = i
        while j < len(full) and keys[0][1](full[j]) == primary:
            j += 1
        group = full[i:j]
        if len(group) == 1:
            out.append((len(out) + 1, group[0], ""))
        else:
            _resolve(group, keys, 1, bidder_id, stream, out, draws)
        i = j
    return out, draws


def _resolve(
    group: list[Any],
    keys: Sequence[tuple[str, Callable[[Any], Any]]],
    level: int,
    bidder_id: Callable[[Any], str],
    stream: RandomStream | None,
    out: list[tuple[int, Any, str]],
    draws: list[TieBreak],
) -> None:
    if level >= len(keys):
        ids = sorted(bidder_id(it) for it in group)
        if stream is None:
            raise ScoringError(
                "scoring.tie_unresolved",
                "投标人 {ids} 得分与报价完全相同，须以随机抽取决定排序，但未提供抽取种子",
                ids="、".join(ids),
            )
        by_id = {bidder_id(it): it for it in group}
        order = list(ids)
        for k in range(len(order) - 1, 0, -1):  # Fisher–Yates, unbiased via randbelow
            m = stream.randbelow(k + 1)
            order[k], order[m] = order[m], order[k]
        draws.append(TieBreak(tuple(ids), tuple(order)))
        for bid_id in order:
            out.append((len(out) + 1, by_id[bid_id], "draw"))
        return
    name, key = keys[level]
    group = sorted(group, key=lambda it: (key(it), bidder_id(it)))
    i = 0
    while i < len(group):
        value = key(group[i])
        j = i
        while j < len(group) and key(group[j]) == value:
            j += 1
        sub = group[i:j]
        if len(sub) == 1:
            out.append((len(out) + 1, sub[0], name))
        else:
            _resolve(sub, keys, level + 1, bidder_id, stream, out, draws)
        i = j
