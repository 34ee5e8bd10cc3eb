"""The award process lifecycle (定标)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sunlit.kernel.statemachine import StateMachine, Transition


class AwardStatus(StrEnum):
    OPEN = "open"  # 评标报告已收到，待公示 / 待定标
    PUBLICIZING = "publicizing"  # 中标候选人公示中（含异议处理）
    DECIDED = "decided"  # 已定标，待发出中标通知书
    NOTIFIED = "notified"  # 已发出中标通知书和中标结果通知
    CONTRACTED = "contracted"  # 合同已签订并公示
    CANCELLED = "cancelled"


class AwardAction(StrEnum):
    PUBLISH = "publish"
    OBJECT = "object"
    ANSWER = "answer"
    DECIDE = "decide"
    NOTIFY = "notify"
    CONTRACT = "contract"
    CANCEL = "cancel"


@dataclass(frozen=True)
class DecisionContext:
    """What the decision guards look at."""

    publicity_required: bool
    publicity_over: bool
    unanswered: int


def _may_skip_publicity(ctx: DecisionContext) -> str | None:
    if ctx.publicity_required:
        return (
            "依法必须招标的项目须先公示中标候选人，公示期不少于3日（招标投标法实施条例第五十四条）"
        )
    return None


def _publicity_done(ctx: DecisionContext) -> str | None:
    if not ctx.publicity_over:
        return "中标候选人公示期尚未届满"
    if ctx.unanswered:
        return (
            f"尚有{ctx.unanswered}条异议未答复，作出答复前应当暂停招标投标活动"
            "（招标投标法实施条例第五十四条）"
        )
    return None


S, A = AwardStatus, AwardAction
MANAGE, OBJECT = "award.manage", "award.object"

LIFECYCLE: StateMachine[AwardStatus, AwardAction] = StateMachine(
    "award.process",
    [
        Transition(S.OPEN, A.PUBLISH, S.PUBLICIZING, MANAGE),
        Transition(S.OPEN, A.DECIDE, S.DECIDED, MANAGE, _may_skip_publicity),
        Transition(S.OPEN, A.CANCEL, S.CANCELLED, MANAGE),
        Transition(S.PUBLICIZING, A.OBJECT, S.PUBLICIZING, OBJECT),
        Transition(S.PUBLICIZING, A.ANSWER, S.PUBLICIZING, MANAGE),
        Transition(S.PUBLICIZING, A.DECIDE, S.DECIDED, MANAGE, _publicity_done),
        Transition(S.PUBLICIZING, A.CANCEL, S.CANCELLED, MANAGE),
        Transition(S.DECIDED, A.NOTIFY, S.NOTIFIED, MANAGE),
        Transition(S.DECIDED, A.CANCEL, S.CANCELLED, MANAGE),
        Transition(S.NOTIFIED, A.CONTRACT, S.CONTRACTED, MANAGE),
    ],
    labels={
        S.OPEN: "待公示",
        S.PUBLICIZING: "公示中",
        S.DECIDED: "已定标",
        S.NOTIFIED: "已发出中标通知书",
        S.CONTRACTED: "已签订合同",
        S.CANCELLED: "已终止",
        A.PUBLISH: "发布中标候选人公示",
        A.OBJECT: "提出异议",
        A.ANSWER: "答复异议",
        A.DECIDE: "确定中标人",
        A.NOTIFY: "发出中标通知书",
        A.CONTRACT: "登记合同",
        A.CANCEL: "终止定标",
    },
)
