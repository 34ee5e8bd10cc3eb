"""Lifecycle of an organization's admission to the platform (主体注册审核)."""

from __future__ import annotations

from enum import StrEnum

from sunlit.kernel.statemachine import StateMachine, Transition


class OrgStatus(StrEnum):
    PENDING = "pending_review"
    ACTIVE = "active"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class OrgAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    RESUBMIT = "resubmit"


ORG_LIFECYCLE: StateMachine[OrgStatus, OrgAction] = StateMachine(
    "identity.organization",
    [
        Transition(OrgStatus.PENDING, OrgAction.APPROVE, OrgStatus.ACTIVE, "org.review"),
        Transition(OrgStatus.PENDING, OrgAction.REJECT, OrgStatus.REJECTED, "org.review"),
        Transition(OrgStatus.REJECTED, OrgAction.RESUBMIT, OrgStatus.PENDING, "org.resubmit"),
        Transition(OrgStatus.ACTIVE, OrgAction.SUSPEND, OrgStatus.SUSPENDED, "org.review"),
        Transition(OrgStatus.SUSPENDED, OrgAction.REINSTATE, OrgStatus.ACTIVE, "org.review"),
    ],
    labels={
        OrgStatus.PENDING: "待审核",
        OrgStatus.ACTIVE: "正常",
        OrgStatus.REJECTED: "已退回",
        OrgStatus.SUSPENDED: "已暂停",
        OrgAction.APPROVE: "审核通过",
        OrgAction.REJECT: "退回",
        OrgAction.SUSPEND: "暂停",
        OrgAction.REINSTATE: "恢复",
        OrgAction.RESUBMIT: "重新提交",
    },
)
