"""The evaluation methods (评标办法) as pure calculators.

* :func:`lowest_evaluated_price` — 经评审的最低投标价法 (七部委12号令 第30–31条).
* :func:`reasonable_low_price` — 合理低价法: deviation-rate price scoring against a benchmark
  = trimmed mean of the valid prices × the coefficient drawn at the opening.
* :func:`comprehensive` — 综合评估法 / 政府采购 综合评分法: technical and commercial points
  scored per criterion by each expert, the committee score per rule, plus a price score by
  :class:`DeviationRule` or :class:`LowestRatioRule` (价格分 = 评标基准价 / 投标报价 × 价格分值).

Rounding (stated once, used everywhere): amounts to 分 and scores and percentages to two
places, ``ROUND_HALF_UP``, at the points named in ``docs/spec/evaluation-methods.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from .core import (
    ZERO,
    Bid,
    CommitteeRule,
    Ranked,
    Result,
    ScoringError,
    committee_score,
    money,
    points,
    rank,
    split_rejections,
    trimmed_mean,
)

__all__ = [
    "GROUPS",
    "Criterion",
    "DeviationRule",
    "LowestRatioRule",
    "comprehensive",
    "deviation_scores",
    "gp_comprehensive",
    "lowest_evaluated_price",
    "lowest_ratio_scores",
    "reasonable_low_price",
]

HUNDRED: Final = Decimal(100)
GROUPS: Final = {"technical": "技术", "commercial": "商务"}


def _no_valid(rejected: Sequence[Any]) -> ScoringError:
    return ScoringError(
        "scoring.no_valid_bids", "没有有效投标（{n} 家均被否决），无法排序", n=len(rejected)
    )


# --- 经评审的最低投标价法 -------------------------------------------------------------------


def lowest_evaluated_price(
    bids: Sequence[Bid],
    *,
    adjustments: Mapping[str, Decimal] | None = None,
    rejections: Mapping[str, Sequence[str]] | None = None,
    control_price: Decimal | None = None,
    tie_seed: bytes | None = None,
    suite: str = "gm",
) -> Result:
    """评标价 = 投标报价 + the committee's price adjustments (算术错误修正, 偏差折价, may be
    negative), to 分. Ranked by 评标价 ascending, then the bid price, then a draw."""
    valid, rejected = split_rejections(bids, rejections, control_price)
    if not valid:
        raise _no_valid(rejected)
    adj = dict(adjustments or {})
    for bidder_id in adj:
        if bidder_id not in {b.bidder_id for b in valid}:
            raise ScoringError(
                "scoring.unknown_bidder", "价格调整的投标人 {id} 不是有效投标人", id=bidder_id
            )
    rows = [(b, money(b.price + adj.get(b.bidder_id, ZERO))) for b in valid]
    for b, evaluated in rows:
        if evaluated <= 0:
            raise ScoringError(
                "scoring.bad_adjustment", "投标人 {id} 调整后的评标价须为正数", id=b.bidder_id
            )
    order, draws = rank(
        rows,
        [("evaluated_price", lambda r: r[1]), ("price", lambda r: r[0].price)],
        lambda r: r[0].bidder_id,
        tie_seed,
        suite,
    )
    ranking = tuple(
        Ranked(n, b.bidder_id, b.name, b.price, ev, None, tie_break=why)
        for n, (b, ev), why in order
    )
    return Result(
        "lowest_evaluated_price",
        ranking,
        tuple(rejected),
        tuple(draws),
        lowest_price=min(b.price for b in valid),
        details={"adjustments": {k: str(v) for k, v in sorted(adj.items())}},
    )


# --- price scores ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviationRule:
    """偏差率法: benchmark B = trimmed mean of the valid prices × ``coefficient`` (to 分);
    deviation rate r = (P − B) / B × 100 (percent, 2 places); score = full − |r| × E1 when
    P > B, full − |r| × E2 when P < B (E1, E2 = points per 1 %), never below ``floor``."""

    full_points: Decimal
    coefficient: Decimal
    e1: Decimal
    e2: Decimal
    floor: Decimal = ZERO
    trim_from: int = 5

    def check(self) -> None:
        if self.full_points <= 0:
            raise ScoringError("scoring.rule", "价格分满分须为正数")
        if not Decimal("0.5") <= self.coefficient <= Decimal("1.5"):
            raise ScoringError(
                "scoring.coefficient", "下浮系数 {k} 不在合理范围（0.5～1.5）内", k=self.coefficient
            )
        if self.e1 < 0 or self.e2 < 0:
            raise ScoringError("scoring.rule", "扣分值 E1、E2 不得为负数")
        if not ZERO <= self.floor <= self.full_points:
            raise ScoringError("scoring.rule", "最低分须在 0 与满分之间")
        if self.trim_from < 3:
            raise ScoringError("scoring.rule", "去掉最高最低价的起算家数不得少于 3")


@dataclass(frozen=True, slots=True)
class LowestRatioRule:
    """低价优先法 (政府采购 综合评分法, 87号令 第55条): 评标基准价 = the lowest valid price;
    价格分 = 评标基准价 / 投标报价 × ``full_points``."""

    full_points: Decimal

    def check(self) -> None:
        if self.full_points <= 0:
            raise ScoringError("scoring.rule", "价格分满分须为正数")


PriceRule = DeviationRule | LowestRatioRule


def deviation_scores(
    valid: Sequence[Bid], rule: DeviationRule
) -> tuple[Decimal, dict[str, tuple[Decimal, Decimal]]]:
    """The benchmark and, per bidder id, (deviation rate in %, price score)."""
    rule.check()
    if not valid:
        raise _no_valid([])
    benchmark = money(trimmed_mean([b.price for b in valid], rule.trim_from) * rule.coefficient)
    out: dict[str, tuple[Decimal, Decimal]] = {}
    for b in valid:
        rate = points((b.price - benchmark) / benchmark * HUNDRED)
        per = rule.e1 if rate > 0 else rule.e2
        score = max(rule.floor, rule.full_points - abs(rate) * per)
        out[b.bidder_id] = (rate, points(score))
    return benchmark, out


def lowest_ratio_scores(
    valid: Sequence[Bid], rule: LowestRatioRule
) -> tuple[Decimal, dict[str, Decimal]]:
    rule.check()
    if not valid:
        raise _no_valid([])
    lowest = min(b.price for b in valid)
    return lowest, {b.bidder_id: points(lowest / b.price * rule.full_points) for b in valid}


# --- 合理低价法 -----------------------------------------------------------------------------


def reasonable_low_price(
    bids: Sequence[Bid],
    rule: DeviationRule,
    *,
    rejections: Mapping[str, Sequence[str]] | None = None,
    control_price: Decimal | None = None,
    tie_seed: bytes | None = None,
    suite: str = "gm",
) -> Result:
    """Price-only scoring by :class:`DeviationRule`; ranked by score (high first), then the
    lower price, then a draw."""
    valid, rejected = split_rejections(bids, rejections, control_price)
    if not valid:
        raise _no_valid(rejected)
    benchmark, scores = deviation_scores(valid, rule)
    order, draws = rank(
        valid,
        [("score", lambda b: -scores[b.bidder_id][1]), ("price", lambda b: b.price)],
        lambda b: b.bidder_id,
        tie_seed,
        suite,
    )
    ranking = tuple(
        Ranked(
            n,
            b.bidder_id,
            b.name,
            b.price,
            b.price,
            scores[b.bidder_id][1],
            price_score=scores[b.bidder_id][1],
            deviation_rate=scores[b.bidder_id][0],
            tie_break=why,
        )
        for n, b, why in order
    )
    return Result(
        "reasonable_low_price",
        ranking,
        tuple(rejected),
        tuple(draws),
        benchmark=benchmark,
        lowest_price=min(b.price for b in valid),
        details={
            "coefficient": str(rule.coefficient),
            "e1": str(rule.e1),
            "e2": str(rule.e2),
            "floor": str(rule.floor),
            "full_points": str(rule.full_points),
            "trim_from": rule.trim_from,
        },
    )


# --- 综合评估法 / 综合评分法 ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Criterion:
    """One row of the criteria table (评分标准): a technical or commercial item."""

    key: str
    group: str  # technical | commercial
    name: str
    max_points: Decimal

    def check(self) -> None:
        if self.group not in GROUPS:
            raise ScoringError(
                "scoring.criterion_group", "评分项 {key} 的类别须为技术或商务", key=self.key
            )
        if self.max_points <= 0:
            raise ScoringError(
                "scoring.criterion_points", "评分项 {key} 的分值须为正数", key=self.key
            )


ExpertScores = Mapping[str, Mapping[str, Mapping[str, Decimal]]]


def check_expert_score(criterion: Criterion, value: Decimal) -> None:
    """An expert's score of one criterion: 0 ≤ v ≤ max, at most two decimal places."""
    if not value.is_finite() or value < 0 or value > criterion.max_points:
        raise ScoringError(
            "scoring.out_of_range",
            "评分项“{name}”的得分须在 0 至 {max} 分之间",
            name=criterion.name,
            max=criterion.max_points,
        )
    if value != value.quantize(Decimal("0.01")):
        raise ScoringError(
            "scoring.precision", "评分项“{name}”的得分最多保留两位小数", name=criterion.name
        )


def comprehensive(
    bids: Sequence[Bid],
    criteria: Sequence[Criterion],
    expert_scores: ExpertScores,
    price_rule: PriceRule,
    *,
    committee_rule: CommitteeRule = CommitteeRule.MEAN,
    rejections: Mapping[str, Sequence[str]] | None = None,
    control_price: Decimal | None = None,
    tie_seed: bytes | None = None,
    suite: str = "gm",
    method: str = "comprehensive",
) -> Result:
    """Total = technical + commercial + price score. For each valid bid, each expert's
    technical (commercial) points are the sum of his criterion scores; the committee's
    technical (commercial) score is the mean — or trimmed mean — of the experts' sums, to two
    places. Ranked by total (high first), then the lower price, then the higher technical
    score, then a draw. Every expert must have scored every criterion of every valid bid."""
    keys = [c.key for c in criteria]
    if not criteria:
        raise ScoringError("scoring.no_criteria", "评分标准表为空")
    if len(set(keys)) != len(keys):
        raise ScoringError("scoring.criterion_duplicate", "评分项编号重复")
    for c in criteria:
        c.check()
    price_rule.check()
    if not expert_scores:
        raise ScoringError("scoring.no_experts", "没有专家评分")
    if committee_rule == CommitteeRule.TRIMMED_MEAN and len(expert_scores) < 5:
        raise ScoringError(
            "scoring.trimmed_mean_experts",
            "去掉最高分和最低分的计分规则须至少 5 名专家（现有 {n} 名）",
            n=len(expert_scores),
        )
    valid, rejected = split_rejections(bids, rejections, control_price)
    if not valid:
        raise _no_valid(rejected)
    by_key = {c.key: c for c in criteria}
    per_expert: dict[str, dict[str, dict[str, str]]] = {}
    tech: dict[str, Decimal] = {}
    comm: dict[str, Decimal] = {}
    for b in valid:
        sums: dict[str, list[Decimal]] = {"technical": [], "commercial": []}
        for expert_id in sorted(expert_scores):
            given = expert_scores[expert_id].get(b.bidder_id)
            missing = [k for k in keys if given is None or k not in given]
            if missing:
                raise ScoringError(
                    "scoring.incomplete",
                    "专家 {expert} 尚未对投标人 {bidder} 的评分项 {items} 评分",
                    expert=expert_id,
                    bidder=b.bidder_id,
                    items="、".join(by_key[k].name for k in missing),
                )
            assert given is not None
            extra = set(given) - set(keys)
            if extra:
                raise ScoringError(
                    "scoring.unknown_criterion",
                    "评分项 {items} 不在评分标准表中",
                    items="、".join(sorted(extra)),
                )
            totals = {"technical": ZERO, "commercial": ZERO}
            for k in keys:
                check_expert_score(by_key[k], given[k])
                totals[by_key[k].group] += given[k]
            for g in sums:
                sums[g].append(totals[g])
            per_expert.setdefault(b.bidder_id, {})[expert_id] = {
                g: str(v) for g, v in totals.items()
            }
        has = {c.group for c in criteria}
        tech[b.bidder_id] = (
            committee_score(sums["technical"], committee_rule) if "technical" in has else ZERO
        )
        comm[b.bidder_id] = (
            committee_score(sums["commercial"], committee_rule) if "commercial" in has else ZERO
        )
    benchmark: Decimal | None
    rates: dict[str, Decimal | None]
    if isinstance(price_rule, DeviationRule):
        benchmark, dev = deviation_scores(valid, price_rule)
        price_scores = {k: v[1] for k, v in dev.items()}
        rates = {k: v[0] for k, v in dev.items()}
    else:
        benchmark, price_scores = lowest_ratio_scores(valid, price_rule)
        rates = {k: None for k in price_scores}
    total = {
        b.bidder_id: tech[b.bidder_id] + comm[b.bidder_id] + price_scores[b.bidder_id]
        for b in valid
    }
    order, draws = rank(
        valid,
        [
            ("score", lambda b: -total[b.bidder_id]),
            ("price", lambda b: b.price),
            ("technical", lambda b: -tech[b.bidder_id]),
        ],
        lambda b: b.bidder_id,
        tie_seed,
        suite,
    )
    ranking = tuple(
        Ranked(
            n,
            b.bidder_id,
            b.name,
            b.price,
            b.price,
            total[b.bidder_id],
            technical=tech[b.bidder_id],
            commercial=comm[b.bidder_id],
            price_score=price_scores[b.bidder_id],
            deviation_rate=rates[b.bidder_id],
            tie_break=why,
        )
        for n, b, why in order
    )
    max_total = sum((c.max_points for c in criteria), ZERO) + price_rule.full_points
    return Result(
        method,
        ranking,
        tuple(rejected),
        tuple(draws),
        benchmark=benchmark,
        lowest_price=min(b.price for b in valid),
        details={
            "committee_rule": str(committee_rule),
            "max_total": str(max_total),
            "price_rule": "deviation" if isinstance(price_rule, DeviationRule) else "lowest_ratio",
            "experts": per_expert,
        },
    )


def gp_comprehensive(
    bids: Sequence[Bid],
    criteria: Sequence[Criterion],
    expert_scores: ExpertScores,
    price_points: Decimal,
    **options: Any,
) -> Result:
    """政府采购 综合评分法: :func:`comprehensive` with the 低价优先法 price score."""
    return comprehensive(
        bids,
        criteria,
        expert_scores,
        LowestRatioRule(price_points),
        method="gp_comprehensive_scoring",
        **options,
    )
