"""Lifecycles of a deposit sub-account and of a refund instruction."""

from __future__ import annotations

from enum import StrEnum

from sunlit.kernel.statemachine import StateMachine, Transition


class AccountStatus(StrEnum):
    REQUESTED = "requested"  # the platform asked the bank for a sub-account
    REJECTED = "rejected"  # the bank refused to open it (reason kept)
    OPENED = "opened"  # the bank gave the sub-account; nothing or not enough paid yet
    PAID = "paid"  # accepted payments cover the section's bid security
    REFUNDING = "refunding"  # refund instruction given to the bank
    REFUND_FAILED = "refund_failed"  # the bank could not pay (account closed, frozen)
    REFUNDED = "refunded"  # the bank confirmed the refund
    FORFEITED = "forfeited"  # 不予退还 (e.g. withdrawal after the deadline)


class AccountAction(StrEnum):
    OPEN = "open"
    REJECT = "reject"
    CREDIT = "credit"  # an accepted payment that does not (yet) cover the security
    SETTLE = "settle"  # an accepted payment that completes the security
    REFUND = "refund"
    CONFIRM = "confirm"
    FAIL = "fail"
    FORFEIT = "forfeit"


S, A = AccountStatus, AccountAction

ACCOUNT: StateMachine[AccountStatus, AccountAction] = StateMachine(
    "deposits.account",
    [
        Transition(S.REQUESTED, A.OPEN, S.OPENED),
        Transition(S.REQUESTED, A.REJECT, S.REJECTED),
        Transition(S.OPENED, A.CREDIT, S.OPENED),
        Transition(S.OPENED, A.SETTLE, S.PAID),
        Transition(S.PAID, A.CREDIT, S.PAID),  # over-payment: kept, refunded in full
        Transition(S.OPENED, A.REFUND, S.REFUNDING),  # a partial payment goes back too
        Transition(S.PAID, A.REFUND, S.REFUNDING),
        Transition(S.REFUNDING, A.CONFIRM, S.REFUNDED),
        Transition(S.REFUNDING, A.FAIL, S.REFUND_FAILED),
        Transition(S.REFUND_FAILED, A.REFUND, S.REFUNDING),  # again, e.g. to a 白名单 account
        Transition(S.PAID, A.FORFEIT, S.FORFEITED),
    ],
    labels={
        S.REQUESTED: "开户中",
        S.REJECTED: "银行拒绝开户",
        S.OPENED: "待缴纳",
        S.PAID: "已缴纳",
        S.REFUNDING: "退还中",
        S.REFUND_FAILED: "退还失败",
        S.REFUNDED: "已退还",
        S.FORFEITED: "不予退还",
        A.OPEN: "开立子账号",
        A.REJECT: "拒绝开户",
        A.CREDIT: "入账",
        A.SETTLE: "足额入账",
        A.REFUND: "退还",
        A.CONFIRM: "确认退还",
        A.FAIL: "退还失败",
        A.FORFEIT: "不予退还",
    },
)


class RefundStatus(StrEnum):
    PENDING = "pending"  # created; the bank has not acknowledged it yet (retried)
    SENT = "sent"  # the bank acknowledged the instruction
    DONE = "done"  # the bank confirmed the payment
    FAILED = "failed"  # the bank reported it could not pay


class RefundAction(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    CONFIRM = "confirm"
    FAIL = "fail"


R, RA = RefundStatus, RefundAction

REFUND: StateMachine[RefundStatus, RefundAction] = StateMachine(
    "deposits.refund",
    [
        Transition(R.PENDING, RA.ACKNOWLEDGE, R.SENT),
        # The bank's result may overtake the acknowledgement of the instruction (out of order).
        Transition(R.PENDING, RA.CONFIRM, R.DONE),
        Transition(R.PENDING, RA.FAIL, R.FAILED),
        Transition(R.SENT, RA.CONFIRM, R.DONE),
        Transition(R.SENT, RA.FAIL, R.FAILED),
    ],
    labels={
        R.PENDING: "待发送",
        R.SENT: "已发送银行",
        R.DONE: "银行已确认",
        R.FAILED: "银行退回失败",
        RA.ACKNOWLEDGE: "银行受理",
        RA.CONFIRM: "银行确认",
        RA.FAIL: "银行报告失败",
    },
)

NOTICE_OUTCOMES = {
    "accepted": "已入账",
    "not_basic_account": "非基本户缴纳，退回",
    "late": "截止时间后到账，退回",
    "unknown_account": "子账号不存在，退回",
    "closed": "子账号已结清，退回",
}
