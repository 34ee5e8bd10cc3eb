"""The report's computation as a pure function of the report document's inputs.

:func:`calculate` takes the method, the frozen plan, the valid bids of the opening record,
the committee (who recused), every sheet, the control price, the drawn coefficient and the tie
seed — all stored in the evaluation report — and runs :mod:`sunlit.scoring`. The platform uses
it to write the report; ``sunlit evaluation verify-report`` uses it to recompute a published
report offline and compare."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from sunlit import scoring

PRICE_ONLY: Final = frozenset({"lowest_evaluated_price", "gp_lowest_price", "gp_lowest_price_deal"})
SCORED: Final = frozenset({"comprehensive", "gp_comprehensive_scoring"})
SUPPORTED: Final = PRICE_ONLY | SCORED | {"reasonable_low_price"}


def criteria_of(plan: Mapping[str, Any]) -> list[scoring.Criterion]:
    return [
        scoring.Criterion(
            str(c["key"]),
            str(c["group"]),
            str(c["name"]),
            scoring.decimal_of(c["max_points"], "分值"),
        )
        for c in plan.get("criteria", [])
    ]


def calculate(doc: Mapping[str, Any]) -> scoring.Result:
    """Rejections: a bid is rejected when more than half of the active members found it not
    conforming (their reasons kept). Price adjustments (price-only methods): the mean of the
    active members' proposals, to 分. Everything else: ``docs/spec/evaluation-methods.md``."""
    method = str(doc["method"])
    plan: Mapping[str, Any] = doc.get("plan") or {}
    active = [m for m in doc["committee"] if not m.get("recused")]
    ids = {m["member_id"] for m in active}
    names = {m["member_id"]: m["name"] for m in active}
    sheets = [s for s in doc["sheets"] if s["member_id"] in ids]
    bids = [scoring.Bid(b["credit_code"], Decimal(b["price"]), b["name"]) for b in doc["bids"]]
    rejections: dict[str, list[str]] = {}
    for b in doc["bids"]:
        against = [s for s in sheets if s["bidder"] == b["credit_code"] and not s["conforms"]]
        if len(against) * 2 > len(active):
            rejections[b["credit_code"]] = [
                f"{names[s['member_id']]}：{s['reason']}" for s in against
            ]
    control = doc.get("control_price")
    common: dict[str, Any] = {
        "rejections": rejections,
        "control_price": Decimal(control) if control else None,
        "tie_seed": bytes.fromhex(doc["tie_seed"]) if doc.get("tie_seed") else None,
    }
    if method in PRICE_ONLY:
        adj: dict[str, Decimal] = {}
        for b in doc["bids"]:
            values = [Decimal(s["adjustment"]) for s in sheets if s["bidder"] == b["credit_code"]]
            if values and b["credit_code"] not in rejections:
                adj[b["credit_code"]] = scoring.money(scoring.mean(values))
        return scoring.lowest_evaluated_price(bids, adjustments=adj, **common)
    price = scoring.decimal_of(plan.get("price_points", "0"), "价格分")
    deviation = scoring.DeviationRule(
        price,
        scoring.decimal_of(doc.get("coefficient") or "1", "系数"),
        scoring.decimal_of(plan.get("e1", "0"), "E1"),
        scoring.decimal_of(plan.get("e2", "0"), "E2"),
        scoring.decimal_of(plan.get("floor", "0"), "最低分"),
        int(plan.get("trim_from", 5)),
    )
    if method == "reasonable_low_price":
        return scoring.reasonable_low_price(bids, deviation, **common)
    expert_scores = {
        mid: {
            s["bidder"]: {k: Decimal(v) for k, v in s["scores"].items()}
            for s in sheets
            if s["member_id"] == mid
        }
        for mid in sorted(ids)
    }
    rule = scoring.CommitteeRule(plan.get("committee_rule", "mean"))
    if method == "gp_comprehensive_scoring":
        return scoring.gp_comprehensive(
            bids, criteria_of(plan), expert_scores, price, committee_rule=rule, **common
        )
    return scoring.comprehensive(
        bids, criteria_of(plan), expert_scores, deviation, committee_rule=rule, **common
    )


def verify(doc: Mapping[str, Any]) -> list[str]:
    """Differences between the stored result and a recomputation (empty when they agree)."""
    stored = doc.get("result") or {}
    again = calculate(doc).to_json()
    problems = []
    for key in ("benchmark", "ranking", "rejected", "tie_breaks"):
        if stored.get(key) != again.get(key):
            problems.append(key)
    return problems
