"""The award rules as pure functions (no database): which rules apply to a tender, the
statutory periods, the ranking a report may hand over and the 第55条 check of a decision.

Sources (china-standards.md §0, §1.3):

* 招标投标法实施条例 第53条: the committee recommends at most 3 ranked candidates;
  第54条: for 依法必须招标 projects the tenderer publishes the candidates within 3 days of
  receiving the report, for at least 3 days; objections on the evaluation result are raised
  during publicity and answered within 3 days, the process pausing until answered;
  第55条: the first-ranked candidate is awarded; only if it gives up, cannot perform because of
  force majeure, fails to provide the performance security the tender documents require, or is
  found to have acted unlawfully in a way that affects the result, may the next candidate in
  order be awarded (or the tender repeated).
* 政府采购货物和服务招标投标管理办法 (87号令) 第68条: the same order for 政府采购; no candidate
  publicity there, the result notice follows the decision.
* 招标投标法 第45条: the award letter to the winner and the result to every other bidder at
  the same time; 第46条: the contract within 30 days of the award letter;
  实施条例 第57条: its price and main terms must match the tender and the winning bid.
* 政府采购法实施条例 第50条: a procurement contract is published within 2 working days of
  signing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from sunlit.kernel.errors import InvalidInput

MAX_CANDIDATES: Final = 3
PUBLICITY_MIN_DAYS: Final = 3
PUBLICITY_MAX_DAYS: Final = 30
PUBLISH_WITHIN: Final = dt.timedelta(days=3)  # of receiving the report
ANSWER_WITHIN: Final = dt.timedelta(days=3)  # of receiving an objection
CONTRACT_WITHIN: Final = dt.timedelta(days=30)  # of the award letter
GP_CONTRACT_PUBLICITY_WORKING_DAYS: Final = 2

PASS_OVER_REASONS: Final = {
    "gave_up": "放弃中标",
    "force_majeure": "因不可抗力不能履行合同",
    "no_security": "未按照招标文件要求提交履约保证金",
    "unlawful": "被查实存在影响中标结果的违法行为",
}
OTHER_REASON: Final = "other"  # only where 第55条 does not bind (not 依法必须招标, not 政府采购)
OTHER_REASON_LABEL: Final = "其他理由"


@dataclass(frozen=True)
class Rules:
    publicity_required: bool
    rule_bound: bool
    government_procurement: bool


def rules_for(category: str, must_tender: bool) -> Rules:
    """Which award rules apply to a tender project."""
    gp = category == "government_procurement"
    return Rules(
        publicity_required=must_tender and not gp,
        rule_bound=must_tender or gp,
        government_procurement=gp,
    )


def reason_label(code: str) -> str:
    return PASS_OVER_REASONS.get(code) or (OTHER_REASON_LABEL if code == OTHER_REASON else code)


@dataclass(frozen=True)
class RankedCandidate:
    """A candidate as the evaluation report hands it over."""

    org_id: str  # may be empty: resolved from the credit code
    credit_code: str
    name: str
    price: Decimal
    score: str
    rank: int
    duration_days: int | None = None
    quality: str = ""


def check_ranking(candidates: Sequence[RankedCandidate]) -> list[RankedCandidate]:
    """Candidates in rank order, or InvalidInput: 1 to 3 of them, ranks 1..n, distinct
    bidders, positive prices."""
    if not candidates:
        raise InvalidInput("award.candidates.empty", "评标报告未推荐中标候选人", field="candidates")
    if len(candidates) > MAX_CANDIDATES:
        raise InvalidInput(
            "award.candidates.too_many",
            "中标候选人不得超过{n}个（招标投标法实施条例第五十三条），评标报告推荐了{m}个",
            field="candidates",
            n=MAX_CANDIDATES,
            m=len(candidates),
        )
    ordered = sorted(candidates, key=lambda c: c.rank)
    if [c.rank for c in ordered] != list(range(1, len(ordered) + 1)):
        raise InvalidInput(
            "award.candidates.ranks",
            "中标候选人排序应为从1开始的连续名次，收到的是{ranks}",
            field="candidates",
            ranks="、".join(str(c.rank) for c in ordered),
        )
    if len({c.org_id for c in ordered}) != len(ordered) or len(
        {c.credit_code for c in ordered}
    ) != len(ordered):
        raise InvalidInput(
            "award.candidates.duplicate", "同一投标人不能重复列为中标候选人", field="candidates"
        )
    for c in ordered:
        if c.price <= 0:
            raise InvalidInput(
                "award.candidates.price",
                "中标候选人{name}的投标价格必须大于零",
                field="candidates",
                name=c.name,
            )
    return ordered


def publicity_end(start: dt.datetime, days: int) -> dt.datetime:
    """The end of a publicity of ``days`` days starting at ``start`` (at least 3)."""
    if days < PUBLICITY_MIN_DAYS:
        raise InvalidInput(
            "award.publicity.too_short",
            "中标候选人公示期不得少于{n}日（招标投标法实施条例第五十四条）",
            field="days",
            n=PUBLICITY_MIN_DAYS,
        )
    if days > PUBLICITY_MAX_DAYS:
        raise InvalidInput(
            "award.publicity.too_long",
            "公示期不应超过{n}日",
            field="days",
            n=PUBLICITY_MAX_DAYS,
        )
    return start + dt.timedelta(days=days)


@dataclass(frozen=True)
class PassOver:
    """The recorded reason a better-ranked candidate is not awarded."""

    reason_code: str
    explanation: str
    evidence_name: str
    evidence: bytes


@dataclass(frozen=True)
class Ranked:
    """A candidate as the decision check needs it."""

    id: str
    rank: int
    name: str


def check_decision(
    candidates: Sequence[Ranked],
    winner_id: str,
    pass_overs: Mapping[str, PassOver],
    rule_bound: bool,
) -> Ranked:
    """The winner, if the decision follows the rules; otherwise InvalidInput naming what is
    missing. Every candidate ranked above the winner needs a recorded reason (for rule-bound
    tenders one of the 第55条 reasons) with an explanation and an evidence file; a reason for
    a candidate that is not passed over is refused too (it would misstate the record)."""
    by_id = {c.id: c for c in candidates}
    winner = by_id.get(winner_id)
    if winner is None:
        raise InvalidInput(
            "award.decision.not_candidate",
            "中标人须从评标委员会推荐的中标候选人中确定",
            field="winner_id",
        )
    for cid in pass_overs:
        other = by_id.get(cid)
        if other is None or other.rank >= winner.rank:
            raise InvalidInput(
                "award.decision.reason_not_needed",
                "只有排名在中标人之前、未被确定为中标人的候选人需要记录理由",
                field="pass_overs",
            )
    for c in sorted(candidates, key=lambda c: c.rank):
        if c.rank >= winner.rank:
            break
        po = pass_overs.get(c.id)
        if po is None:
            raise InvalidInput(
                "award.decision.reason_missing",
                "不能确定排名第{rank}的{winner}为中标人：排名第{other_rank}的{other}"
                "未记录招标投标法实施条例第五十五条规定的理由"
                "（放弃中标、因不可抗力不能履行合同、未按要求提交履约保证金或被查实存在"
                "影响中标结果的违法行为）及证据",
                field="pass_overs",
                rank=winner.rank,
                winner=winner.name,
                other_rank=c.rank,
                other=c.name,
            )
        allowed = set(PASS_OVER_REASONS) | (set() if rule_bound else {OTHER_REASON})
        if po.reason_code not in allowed:
            raise InvalidInput(
                "award.decision.reason_not_allowed",
                "“{code}”不是招标投标法实施条例第五十五条允许的理由；"
                "可选：放弃中标、因不可抗力不能履行合同、未按要求提交履约保证金、"
                "被查实存在影响中标结果的违法行为",
                field="pass_overs",
                code=po.reason_code,
            )
        if not po.explanation.strip():
            raise InvalidInput(
                "award.decision.explanation_missing",
                "请说明排名第{rank}的{name}{reason}的具体情况",
                field="pass_overs",
                rank=c.rank,
                name=c.name,
                reason=reason_label(po.reason_code),
            )
        if not po.evidence or not po.evidence_name.strip():
            raise InvalidInput(
                "award.decision.evidence_missing",
                "请上传排名第{rank}的{name}{reason}的证明材料（如书面放弃声明、处理决定）",
                field="pass_overs",
                rank=c.rank,
                name=c.name,
                reason=reason_label(po.reason_code),
            )
    return winner


def contract_due(letter_issued_at: dt.datetime) -> dt.datetime:
    return letter_issued_at + CONTRACT_WITHIN
