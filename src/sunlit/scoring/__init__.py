"""Evaluation methods (评标办法) as pure calculators: no database, no clock, no I/O.

The rules, with worked examples, are in ``docs/spec/evaluation-methods.md``::

    from decimal import Decimal as D
    from sunlit.scoring import Bid, DeviationRule, reasonable_low_price

    result = reasonable_low_price(
        [Bid("A", D("100")), Bid("B", D("96")), Bid("C", D("104"))],
        DeviationRule(full_points=D("100"), coefficient=D("0.97"), e1=D("2"), e2=D("1")),
        rejections={"C": ["未按要求提供投标保证金"]},
        tie_seed=seed_from_the_opening_record,
    )
    result.ranking[0].bidder_id, result.benchmark

Ties left after every ordered rule are broken by a draw on ``sunlit.draws.RandomStream``.
"""

from __future__ import annotations

from .core import (
    Bid,
    CommitteeRule,
    Ranked,
    Rejected,
    Result,
    ScoringError,
    TieBreak,
    committee_score,
    decimal_of,
    mean,
    money,
    points,
    split_rejections,
    trimmed_mean,
)
from .methods import (
    GROUPS,
    Criterion,
    DeviationRule,
    LowestRatioRule,
    PriceRule,
    check_expert_score,
    comprehensive,
    deviation_scores,
    gp_comprehensive,
    lowest_evaluated_price,
    lowest_ratio_scores,
    reasonable_low_price,
)

__all__ = [
    "GROUPS",
    "Bid",
    "CommitteeRule",
    "Criterion",
    "DeviationRule",
    "LowestRatioRule",
    "PriceRule",
    "Ranked",
    "Rejected",
    "Result",
    "ScoringError",
    "TieBreak",
    "check_expert_score",
    "committee_score",
    "comprehensive",
    "decimal_of",
    "deviation_scores",
    "gp_comprehensive",
    "lowest_evaluated_price",
    "lowest_ratio_scores",
    "mean",
    "money",
    "points",
    "reasonable_low_price",
    "split_rejections",
    "trimmed_mean",
]
