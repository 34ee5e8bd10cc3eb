"""Lifecycles of guarantee applications, claims, institutions and products (tables)."""

from __future__ import annotations

from enum import StrEnum

from sunlit.kernel.statemachine import StateMachine, Transition


class AppStatus(StrEnum):
    SUBMITTED = "submitted"  # queued for the FI (outbox)
    UNDERWRITING = "underwriting"  # the FI acknowledged the application
    AWAITING_PAYMENT = "awaiting_payment"  # approved, premium due
    PAID = "paid"  # premium paid from the basic account
    PAYMENT_REFUSED = "payment_refused"  # paid from another account or too late
    ISSUED = "issued"  # signed guarantee received, verified, bound to the bidder's bid
    REVEALED = "revealed"  # 解密还原 sent after the opening
    RELEASED = "released"  # 退保 / 注销
    CLAIMED = "claimed"  # a claim (索赔) is open
    COMPENSATED = "compensated"  # the FI paid a claim (理赔)
    REFUSED = "refused"  # the FI declined to underwrite
    CANCELLED = "cancelled"  # withdrawn by the bidder before issuance


class AppAction(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    APPROVE = "approve"
    DECLINE = "decline"
    PAY = "pay"
    REFUSE_PAYMENT = "refuse_payment"
    ISSUE = "issue"
    REVEAL = "reveal"
    RELEASE = "release"
    CLAIM = "claim"
    CLAIM_REFUSED = "claim_refused"
    COMPENSATE = "compensate"
    CANCEL = "cancel"


S, A = AppStatus, AppAction
BIDDER, FI, PLATFORM, BENEFICIARY = (
    "guarantee.apply",
    "guarantee.fi",
    "guarantee.platform",
    "guarantee.claim",
)

APPLICATION: StateMachine[AppStatus, AppAction] = StateMachine(
    "guarantee",
    [
        Transition(S.SUBMITTED, A.ACKNOWLEDGE, S.UNDERWRITING, FI),
        Transition(S.SUBMITTED, A.APPROVE, S.AWAITING_PAYMENT, FI),  # 实时秒开: no ack first
        Transition(S.SUBMITTED, A.DECLINE, S.REFUSED, FI),
        Transition(S.SUBMITTED, A.CANCEL, S.CANCELLED, BIDDER),
        Transition(S.UNDERWRITING, A.APPROVE, S.AWAITING_PAYMENT, FI),
        Transition(S.UNDERWRITING, A.DECLINE, S.REFUSED, FI),
        Transition(S.UNDERWRITING, A.CANCEL, S.CANCELLED, BIDDER),
        Transition(S.AWAITING_PAYMENT, A.PAY, S.PAID, FI),
        Transition(S.AWAITING_PAYMENT, A.REFUSE_PAYMENT, S.PAYMENT_REFUSED, FI),
        Transition(S.AWAITING_PAYMENT, A.CANCEL, S.CANCELLED, BIDDER),
        # A refused payment is refunded by the FI; a new payment from the basic account counts.
        Transition(S.PAYMENT_REFUSED, A.PAY, S.PAID, FI),
        Transition(S.PAYMENT_REFUSED, A.REFUSE_PAYMENT, S.PAYMENT_REFUSED, FI),
        Transition(S.PAYMENT_REFUSED, A.CANCEL, S.CANCELLED, BIDDER),
        Transition(S.PAID, A.ISSUE, S.ISSUED, FI),
        Transition(S.ISSUED, A.REVEAL, S.REVEALED, PLATFORM),
        Transition(S.ISSUED, A.RELEASE, S.RELEASED, PLATFORM),
        Transition(S.REVEALED, A.RELEASE, S.RELEASED, PLATFORM),
        Transition(S.REVEALED, A.CLAIM, S.CLAIMED, BENEFICIARY),
        Transition(S.CLAIMED, A.CLAIM_REFUSED, S.REVEALED, FI),
        Transition(S.CLAIMED, A.COMPENSATE, S.COMPENSATED, FI),
    ],
    labels={
        S.SUBMITTED: "已提交",
        S.UNDERWRITING: "审核中",
        S.AWAITING_PAYMENT: "待支付",
        S.PAID: "已支付",
        S.PAYMENT_REFUSED: "支付被拒",
        S.ISSUED: "已出函",
        S.REVEALED: "已解密还原",
        S.RELEASED: "已退保",
        S.CLAIMED: "理赔中",
        S.COMPENSATED: "已理赔",
        S.REFUSED: "审核不通过",
        S.CANCELLED: "已撤销",
        A.ACKNOWLEDGE: "受理",
        A.APPROVE: "审核通过",
        A.DECLINE: "审核不通过",
        A.PAY: "缴纳保费",
        A.REFUSE_PAYMENT: "拒绝保费",
        A.ISSUE: "出函",
        A.REVEAL: "解密还原",
        A.RELEASE: "退保",
        A.CLAIM: "索赔",
        A.CLAIM_REFUSED: "拒赔",
        A.COMPENSATE: "赔付",
        A.CANCEL: "撤销申请",
    },
)


class ClaimStatus(StrEnum):
    FILED = "filed"  # queued for the FI
    UNDER_REVIEW = "under_review"  # the FI acknowledged it
    PAID = "paid"
    REFUSED = "refused"


class ClaimAction(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    PAY = "pay"
    REFUSE = "refuse"


C, CA = ClaimStatus, ClaimAction
CLAIM: StateMachine[ClaimStatus, ClaimAction] = StateMachine(
    "guarantee.claim",
    [
        Transition(C.FILED, CA.ACKNOWLEDGE, C.UNDER_REVIEW, FI),
        Transition(C.FILED, CA.PAY, C.PAID, FI),
        Transition(C.FILED, CA.REFUSE, C.REFUSED, FI),
        Transition(C.UNDER_REVIEW, CA.PAY, C.PAID, FI),
        Transition(C.UNDER_REVIEW, CA.REFUSE, C.REFUSED, FI),
    ],
    labels={
        C.FILED: "已提交",
        C.UNDER_REVIEW: "审核中",
        C.PAID: "已赔付",
        C.REFUSED: "已拒赔",
        CA.ACKNOWLEDGE: "受理",
        CA.PAY: "赔付",
        CA.REFUSE: "拒赔",
    },
)


class InstStatus(StrEnum):
    ADMITTED = "admitted"
    SUSPENDED = "suspended"


class InstAction(StrEnum):
    SUSPEND = "suspend"
    RESTORE = "restore"


IS, IA = InstStatus, InstAction
INSTITUTION: StateMachine[InstStatus, InstAction] = StateMachine(
    "guarantee.institution",
    [
        Transition(IS.ADMITTED, IA.SUSPEND, IS.SUSPENDED, "guarantee.admit"),
        Transition(IS.SUSPENDED, IA.RESTORE, IS.ADMITTED, "guarantee.admit"),
    ],
    labels={IS.ADMITTED: "已准入", IS.SUSPENDED: "已暂停", IA.SUSPEND: "暂停", IA.RESTORE: "恢复"},
)


class ProductStatus(StrEnum):
    PROPOSED = "proposed"  # registered by the FI, awaiting the center
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REJECTED = "rejected"


class ProductAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    SUSPEND = "suspend"
    RESTORE = "restore"


P, PA = ProductStatus, ProductAction
PRODUCT: StateMachine[ProductStatus, ProductAction] = StateMachine(
    "guarantee.product",
    [
        Transition(P.PROPOSED, PA.APPROVE, P.ACTIVE, "guarantee.admit"),
        Transition(P.PROPOSED, PA.REJECT, P.REJECTED, "guarantee.admit"),
        Transition(P.ACTIVE, PA.SUSPEND, P.SUSPENDED, "guarantee.admit"),
        Transition(P.SUSPENDED, PA.RESTORE, P.ACTIVE, "guarantee.admit"),
    ],
    labels={
        P.PROPOSED: "待审核",
        P.ACTIVE: "已上架",
        P.SUSPENDED: "已暂停",
        P.REJECTED: "未通过",
        PA.APPROVE: "准入",
        PA.REJECT: "不予准入",
        PA.SUSPEND: "暂停",
        PA.RESTORE: "恢复",
    },
)
