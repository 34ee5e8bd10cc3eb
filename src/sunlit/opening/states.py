"""The opening session lifecycle (开标)."""

from __future__ import annotations

from enum import StrEnum

from sunlit.kernel.statemachine import StateMachine, Transition


class OpeningStatus(StrEnum):
    SCHEDULED = "scheduled"
    STARTED = "started"
    DECRYPTING = "decrypting"
    ANNOUNCED = "announced"
    CLOSED = "closed"
    TERMINATED = "terminated"


class OpeningAction(StrEnum):
    START = "start"
    CONTINUE = "continue"  # fewer than the minimum bids: the host decides to go on
    DECRYPT = "decrypt"  # one holder's collective decryption (stays until both are done)
    ANNOUNCE = "announce"  # both shares in: 唱标
    REMEDY = "remedy"
    BIDDER_CONFIRM = "bidder_confirm"  # a bidder's 确认无误 of the announced results
    SUPERVISOR_VALUE = "supervisor_value"
    DRAW = "draw"
    SEAL_RECORD = "seal_record"
    CONFIRM = "confirm"
    TERMINATE = "terminate"


S, A = OpeningStatus, OpeningAction
HOST, HOLDER, BIDDER, SUPERVISE, PARTY, BIDDER_CONFIRM = (
    "opening.host",
    "opening.decrypt",
    "opening.remedy",
    "opening.supervise",
    "opening.confirm",
    "opening.bidder_confirm",
)

LIFECYCLE: StateMachine[OpeningStatus, OpeningAction] = StateMachine(
    "opening.session",
    [
        Transition(S.SCHEDULED, A.START, S.STARTED, HOST),
        Transition(S.SCHEDULED, A.TERMINATE, S.TERMINATED, HOST),
        Transition(S.STARTED, A.CONTINUE, S.STARTED, HOST),
        Transition(S.STARTED, A.DECRYPT, S.DECRYPTING, HOLDER),
        Transition(S.STARTED, A.TERMINATE, S.TERMINATED, HOST),
        Transition(S.DECRYPTING, A.DECRYPT, S.DECRYPTING, HOLDER),
        Transition(S.DECRYPTING, A.ANNOUNCE, S.ANNOUNCED, HOLDER),
        Transition(S.DECRYPTING, A.TERMINATE, S.TERMINATED, HOST),
        Transition(S.ANNOUNCED, A.REMEDY, S.ANNOUNCED, BIDDER),
        Transition(S.ANNOUNCED, A.BIDDER_CONFIRM, S.ANNOUNCED, BIDDER_CONFIRM),
        Transition(S.ANNOUNCED, A.SUPERVISOR_VALUE, S.ANNOUNCED, SUPERVISE),
        Transition(S.ANNOUNCED, A.DRAW, S.ANNOUNCED, HOST),
        Transition(S.ANNOUNCED, A.SEAL_RECORD, S.ANNOUNCED, HOST),
        Transition(S.ANNOUNCED, A.CONFIRM, S.CLOSED, PARTY),
        Transition(S.ANNOUNCED, A.TERMINATE, S.TERMINATED, HOST),
    ],
    labels={
        S.SCHEDULED: "待开标",
        S.STARTED: "开标中",
        S.DECRYPTING: "解密中",
        S.ANNOUNCED: "已唱标",
        S.CLOSED: "已结束",
        S.TERMINATED: "已终止",
        A.START: "开始开标",
        A.CONTINUE: "继续开标",
        A.DECRYPT: "解密",
        A.ANNOUNCE: "唱标",
        A.REMEDY: "解密补救",
        A.BIDDER_CONFIRM: "投标人确认唱标结果",
        A.SUPERVISOR_VALUE: "录入监督随机数",
        A.DRAW: "抽取系数",
        A.SEAL_RECORD: "生成开标记录",
        A.CONFIRM: "确认开标记录",
        A.TERMINATE: "终止开标",
    },
)
