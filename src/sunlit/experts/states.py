"""Lifecycles of an expert draw (专家抽取) and of a drawn expert's answer."""

from __future__ import annotations

from enum import StrEnum

from sunlit.kernel.statemachine import StateMachine, Transition


class DrawStatus(StrEnum):
    REQUESTED = "requested"  # requirements and the center's commitment registered
    FIXED = "fixed"  # exclusions applied, candidate lists and definition fixed
    SUPERVISED = "supervised"  # the supervisor's value entered
    NOTIFYING = "notifying"  # drawn; experts being called
    SHORT = "short"  # alternates exhausted in a stratum: a supplementary draw is needed
    CONFIRMED = "confirmed"  # every stratum has its count of confirmed experts
    DISCLOSED = "disclosed"  # evaluation started: names and salts published
    CANCELLED = "cancelled"


class DrawAction(StrEnum):
    AVOID = "avoid"
    FIX = "fix"
    SUPERVISE = "supervise"
    DRAW = "draw"
    ANSWER = "answer"
    SHORTFALL = "shortfall"
    SUPPLEMENT = "supplement"
    COMPLETE = "complete"
    DISCLOSE = "disclose"
    CANCEL = "cancel"


S, A = DrawStatus, DrawAction
MANAGE, AVOID, SUPERVISE = "experts.draw.manage", "experts.draw.avoid", "experts.draw.supervise"

DRAW_LIFECYCLE: StateMachine[DrawStatus, DrawAction] = StateMachine(
    "experts.draw",
    [
        Transition(S.REQUESTED, A.AVOID, S.REQUESTED, AVOID),
        Transition(S.REQUESTED, A.FIX, S.FIXED, MANAGE),
        Transition(S.REQUESTED, A.CANCEL, S.CANCELLED, MANAGE),
        Transition(S.FIXED, A.SUPERVISE, S.SUPERVISED, SUPERVISE),
        Transition(S.FIXED, A.CANCEL, S.CANCELLED, MANAGE),
        Transition(S.SUPERVISED, A.DRAW, S.NOTIFYING, MANAGE),
        Transition(S.SUPERVISED, A.CANCEL, S.CANCELLED, MANAGE),
        Transition(S.NOTIFYING, A.ANSWER, S.NOTIFYING),
        Transition(S.NOTIFYING, A.SHORTFALL, S.SHORT),
        Transition(S.NOTIFYING, A.COMPLETE, S.CONFIRMED),
        Transition(S.SHORT, A.ANSWER, S.SHORT),
        Transition(S.SHORT, A.SUPPLEMENT, S.SHORT, MANAGE),
        Transition(S.SHORT, A.COMPLETE, S.CONFIRMED),
        Transition(S.CONFIRMED, A.DISCLOSE, S.DISCLOSED),
    ],
    labels={
        S.REQUESTED: "待抽取",
        S.FIXED: "候选名单已固定",
        S.SUPERVISED: "监督随机数已录入",
        S.NOTIFYING: "通知确认中",
        S.SHORT: "人数不足待补抽",
        S.CONFIRMED: "专家已确认",
        S.DISCLOSED: "已公开名单",
        S.CANCELLED: "已取消",
        A.AVOID: "提交回避名单",
        A.FIX: "固定候选名单",
        A.SUPERVISE: "录入监督随机数",
        A.DRAW: "抽取",
        A.ANSWER: "专家答复",
        A.SHORTFALL: "替补不足",
        A.SUPPLEMENT: "补抽",
        A.COMPLETE: "确认完成",
        A.DISCLOSE: "公开名单",
        A.CANCEL: "取消抽取",
    },
)


class AssignmentStatus(StrEnum):
    STANDBY = "standby"  # an alternate not called (yet)
    NOTIFIED = "notified"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    NO_ANSWER = "no_answer"


class AssignmentAction(StrEnum):
    CALL = "call"
    CONFIRM = "confirm"
    DECLINE = "decline"
    TIME_OUT = "time_out"


AS, AA = AssignmentStatus, AssignmentAction

ASSIGNMENT_LIFECYCLE: StateMachine[AssignmentStatus, AssignmentAction] = StateMachine(
    "experts.assignment",
    [
        Transition(AS.STANDBY, AA.CALL, AS.NOTIFIED),
        Transition(AS.NOTIFIED, AA.CONFIRM, AS.CONFIRMED),
        Transition(AS.NOTIFIED, AA.DECLINE, AS.DECLINED),
        Transition(AS.NOTIFIED, AA.TIME_OUT, AS.NO_ANSWER),
    ],
    labels={
        AS.STANDBY: "候补",
        AS.NOTIFIED: "已通知待答复",
        AS.CONFIRMED: "确认参加",
        AS.DECLINED: "拒绝参加",
        AS.NO_ANSWER: "未答复",
        AA.CALL: "通知",
        AA.CONFIRM: "确认参加",
        AA.DECLINE: "拒绝参加",
        AA.TIME_OUT: "答复超时",
    },
)
