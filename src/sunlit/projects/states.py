"""Lifecycles of a tender project (受理) and of a section (标段)."""

from __future__ import annotations

from enum import StrEnum

from sunlit.kernel.statemachine import StateMachine, Transition


class TenderStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"
    TENDERING = "tendering"
    TERMINATED = "terminated"


class TenderAction(StrEnum):
    EDIT = "edit"
    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    ACCEPT = "accept"
    RETURN = "return"
    BOOK_VENUE = "book_venue"
    PUBLISH = "publish"
    CLARIFY = "clarify"
    TERMINATE_PART = "terminate_part"
    TERMINATE = "terminate"


T, A = TenderStatus, TenderAction
MANAGE, REVIEW, BOOK = "tender.manage", "tender.review", "venue.book"

TENDER_LIFECYCLE: StateMachine[TenderStatus, TenderAction] = StateMachine(
    "projects.tender",
    [
        Transition(T.DRAFT, A.EDIT, T.DRAFT, MANAGE),
        Transition(T.DRAFT, A.SUBMIT, T.SUBMITTED, MANAGE),
        Transition(T.RETURNED, A.EDIT, T.RETURNED, MANAGE),
        Transition(T.RETURNED, A.SUBMIT, T.SUBMITTED, MANAGE),
        Transition(T.SUBMITTED, A.WITHDRAW, T.DRAFT, MANAGE),
        Transition(T.SUBMITTED, A.ACCEPT, T.ACCEPTED, REVIEW),
        Transition(T.SUBMITTED, A.RETURN, T.RETURNED, REVIEW),
        Transition(T.ACCEPTED, A.WITHDRAW, T.DRAFT, MANAGE),
        Transition(T.ACCEPTED, A.BOOK_VENUE, T.ACCEPTED, BOOK),
        Transition(T.ACCEPTED, A.PUBLISH, T.TENDERING, MANAGE),
        Transition(T.ACCEPTED, A.TERMINATE_PART, T.ACCEPTED, MANAGE),
        Transition(T.ACCEPTED, A.TERMINATE, T.TERMINATED, MANAGE),
        Transition(T.TENDERING, A.BOOK_VENUE, T.TENDERING, BOOK),
        Transition(T.TENDERING, A.PUBLISH, T.TENDERING, MANAGE),
        Transition(T.TENDERING, A.CLARIFY, T.TENDERING, MANAGE),
        Transition(T.TENDERING, A.TERMINATE_PART, T.TENDERING, MANAGE),
        Transition(T.TENDERING, A.TERMINATE, T.TERMINATED, MANAGE),
    ],
    labels={
        T.DRAFT: "草稿",
        T.SUBMITTED: "待受理",
        T.RETURNED: "已退回",
        T.ACCEPTED: "已受理",
        T.TENDERING: "招标中",
        T.TERMINATED: "已终止",
        A.EDIT: "修改",
        A.SUBMIT: "提交受理",
        A.WITHDRAW: "撤回",
        A.ACCEPT: "受理",
        A.RETURN: "退回",
        A.BOOK_VENUE: "预约场地",
        A.PUBLISH: "发布公告",
        A.CLARIFY: "澄清或修改",
        A.TERMINATE_PART: "终止部分标段",
        A.TERMINATE: "终止招标",
    },
)


class SectionStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    TERMINATED = "terminated"


class SectionAction(StrEnum):
    EDIT = "edit"
    PUBLISH = "publish"
    CLARIFY = "clarify"
    TERMINATE = "terminate"


S, SA = SectionStatus, SectionAction

SECTION_LIFECYCLE: StateMachine[SectionStatus, SectionAction] = StateMachine(
    "projects.section",
    [
        Transition(S.DRAFT, SA.EDIT, S.DRAFT, MANAGE),
        Transition(S.DRAFT, SA.PUBLISH, S.PUBLISHED, MANAGE),
        Transition(S.DRAFT, SA.TERMINATE, S.TERMINATED, MANAGE),
        Transition(S.PUBLISHED, SA.CLARIFY, S.PUBLISHED, MANAGE),
        Transition(S.PUBLISHED, SA.TERMINATE, S.TERMINATED, MANAGE),
    ],
    labels={
        S.DRAFT: "未发布",
        S.PUBLISHED: "已发布",
        S.TERMINATED: "已终止",
        SA.EDIT: "修改",
        SA.PUBLISH: "发布",
        SA.CLARIFY: "澄清或修改",
        SA.TERMINATE: "终止",
    },
)
