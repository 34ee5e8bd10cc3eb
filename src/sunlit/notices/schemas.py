"""Input and output models of the notices API."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class NoticeIn(BaseModel):
    title: str = Field(default="", max_length=600, description="公告标题；不填则按项目名称生成")
    content: str = Field(min_length=1, max_length=100000, description="公告正文")
    section_ids: list[str] = Field(
        default_factory=list, description="公告包含的标段；不填为全部未发布标段"
    )
    invitee_credit_codes: list[str] = Field(
        default_factory=list, description="邀请招标：受邀投标人的统一社会信用代码（至少3家）"
    )


class ClarificationIn(BaseModel):
    title: str = Field(default="", max_length=600)
    content: str = Field(min_length=1, max_length=100000, description="澄清或修改的主要内容")
    new_deadline: dt.datetime | None = Field(
        default=None, description="顺延后的投标截止时间（同时为开标时间）"
    )
    section_ids: list[str] = Field(default_factory=list, description="涉及的标段；不填为全部")


class TerminationIn(BaseModel):
    reason: str = Field(min_length=2, max_length=5000, description="终止招标的原因")
    section_ids: list[str] = Field(
        default_factory=list, description="终止的标段；不填为全部未终止标段"
    )


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    tender_project_id: str
    notice_id: str | None
    kind: str
    file_name: str
    content_type: str
    size: int
    sha256: str
    sm3: str
    signed_digest: str
    signed_message: str
    certificate_fingerprint: str
    signature: str = Field(description="发布方签名（Base64 DER），对 signed_message 的签名")
    signer_name: str
    certificate_subject: str
    uploaded_at: dt.datetime

    @field_validator("signature", mode="before")
    @classmethod
    def _base64(cls, value: Any) -> Any:
        return base64.b64encode(value).decode() if isinstance(value, bytes) else value


class NoticeOut(BaseModel):
    id: str
    kind: str
    kind_label: str
    title: str
    status: str
    public_status: str
    public: bool
    tender_project_id: str
    tender_project_code: str
    tender_project_name: str
    category: str
    method: str
    region_code: str
    tenderer_name: str
    agency_name: str
    section_codes: list[str]
    deadline: dt.datetime | None
    previous_deadline: dt.datetime | None
    new_deadline: dt.datetime | None
    published_at: dt.datetime | None
    modified_at: dt.datetime
    parent_id: str | None
    url: str


class CoefficientView(BaseModel):
    name: str
    values: list[Decimal]


class SectionView(BaseModel):
    """What a notice announces about a section (public once published)."""

    id: str
    code: str
    name: str
    content: str
    qualification: str
    estimated_price: Decimal
    control_price: Decimal | None
    bid_security: Decimal
    duration_days: int | None
    bid_validity_days: int
    evaluation_method: str
    evaluation_label: str
    bid_deadline: dt.datetime | None
    opening_time: dt.datetime | None
    opening_places: list[str]
    min_bidders: int
    allow_consortium: bool
    status: str
    coefficients: list[CoefficientView]


class NoticeDetailOut(NoticeOut):
    content: str
    sections: list[SectionView]
    documents: list[DocumentOut]
    related: list[NoticeOut]


class FeedPage(BaseModel):
    items: list[NoticeOut]
    next_cursor: str | None = Field(description="下次请求的 after 参数；为空表示暂无更多")
    has_more: bool
    settle_seconds: float = Field(description="只提供修改时间早于当前时间减去该秒数的记录")


class DownloadOut(BaseModel):
    id: str
    document_id: str
    file_name: str
    tender_project_code: str
    tender_project_name: str
    org_id: str
    org_name: str
    downloaded_at: dt.datetime


class OpeningOut(BaseModel):
    section_id: str
    section_code: str
    section_name: str
    tender_project_code: str
    tender_project_name: str
    category: str
    opening_time: dt.datetime
    places: list[str]
    notice_id: str
