"""Lifecycle of a notice: a published notice changes only through clarification or termination."""

from __future__ import annotations

from enum import StrEnum

from sunlit.kernel.i18n import gettext
from sunlit.kernel.statemachine import StateMachine, Transition


class NoticeStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    TERMINATED = "terminated"


class NoticeAction(StrEnum):
    EDIT = "edit"
    PUBLISH = "publish"
    CLARIFY = "clarify"
    TERMINATE = "terminate"


N, NA = NoticeStatus, NoticeAction
MANAGE = "notice.manage"

NOTICE_LIFECYCLE: StateMachine[NoticeStatus, NoticeAction] = StateMachine(
    "notices.notice",
    [
        Transition(N.DRAFT, NA.EDIT, N.DRAFT, MANAGE),
        Transition(N.DRAFT, NA.PUBLISH, N.PUBLISHED, MANAGE),
        Transition(N.DRAFT, NA.TERMINATE, N.TERMINATED, MANAGE),
        Transition(N.PUBLISHED, NA.CLARIFY, N.PUBLISHED, MANAGE),
        Transition(N.PUBLISHED, NA.TERMINATE, N.TERMINATED, MANAGE),
    ],
    labels={
        N.DRAFT: "草稿",
        N.PUBLISHED: "已发布",
        N.TERMINATED: "已终止",
        NA.EDIT: "修改",
        NA.PUBLISH: "发布",
        NA.CLARIFY: "澄清或修改",
        NA.TERMINATE: "终止",
    },
)


class NoticeKind(StrEnum):
    TENDER = "tender_notice"
    INVITATION = "invitation"
    PROCUREMENT = "procurement_notice"
    SINGLE_SOURCE = "single_source"
    CLARIFICATION = "clarification"
    TERMINATION = "termination"
    # Award notices, published by the award domain through :func:`service.publish_award_notice`.
    CANDIDATES = "candidate_publicity"
    RESULT = "award_result"
    CONTRACT = "contract_publicity"


KIND_LABELS = {
    NoticeKind.TENDER: "招标公告",
    NoticeKind.INVITATION: "投标邀请书",
    NoticeKind.PROCUREMENT: "采购公告",
    NoticeKind.SINGLE_SOURCE: "单一来源采购公示",
    NoticeKind.CLARIFICATION: "澄清/修改公告",
    NoticeKind.TERMINATION: "终止公告",
    NoticeKind.CANDIDATES: "中标候选人公示",
    NoticeKind.RESULT: "中标结果公告",
    NoticeKind.CONTRACT: "合同公示",
}
AWARD_KINDS = frozenset({NoticeKind.CANDIDATES, NoticeKind.RESULT, NoticeKind.CONTRACT})
ORIGINAL_KINDS = frozenset(
    {NoticeKind.TENDER, NoticeKind.INVITATION, NoticeKind.PROCUREMENT, NoticeKind.SINGLE_SOURCE}
)


def kind_label(kind: str) -> str:
    return gettext(KIND_LABELS[NoticeKind(kind)]) if kind in NoticeKind._value2member_map_ else kind


class DocumentKind(StrEnum):
    TENDER = "tender_document"
    CLARIFICATION = "clarification_document"
    ATTACHMENT = "attachment"


DOCUMENT_KIND_LABELS = {
    DocumentKind.TENDER: "招标文件",
    DocumentKind.CLARIFICATION: "澄清/修改文件",
    DocumentKind.ATTACHMENT: "公告附件",
}


class PublicStatus(StrEnum):
    """What the portal shows: derived from the notice status and the clock."""

    OPEN = "open"
    CLOSED = "closed"
    TERMINATED = "terminated"


PUBLIC_STATUS_LABELS = {
    PublicStatus.OPEN: "正在招标",
    PublicStatus.CLOSED: "已截止",
    PublicStatus.TERMINATED: "已终止",
}
