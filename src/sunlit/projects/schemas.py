"""Input and output models of the projects API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from sunlit.projects.catalog import (
    Category,
    Method,
    RoomKind,
    evaluation_label,
)
from sunlit.projects.states import SECTION_LIFECYCLE, TENDER_LIFECYCLE, SectionStatus, TenderStatus


class ProjectIn(BaseModel):
    """项目 (data spec table 500)."""

    name: str = Field(min_length=2, max_length=600, description="项目名称")
    category: Category = Field(description="交易类别")
    region_code: str = Field(description="项目所在行政区域代码（6位）")
    code: str | None = Field(default=None, description="项目编号（17位）；不填则由平台按规则生成")
    tenderer_credit_code: str | None = Field(
        default=None, description="项目业主（招标人）统一社会信用代码；招标代理登记时必填"
    )
    invest_project_code: str = Field(default="", description="投资项目统一代码（24位，可空）")
    address: str = Field(default="", max_length=300)
    legal_person: str = Field(default="", max_length=200, description="项目法人")
    fund_source: str = Field(default="", max_length=1000, description="资金来源")
    scale: str = Field(default="", max_length=4000, description="项目规模")
    approval_name: str = Field(default="", max_length=500, description="项目审批文件名称")
    approval_number: str = Field(default="", max_length=100, description="项目审批文号")
    approval_authority: str = Field(default="", max_length=200, description="项目审批单位")
    contact_name: str = Field(default="", max_length=100)
    contact_phone: str = Field(default="", max_length=100)


class EntrustmentIn(BaseModel):
    contract_no: str = Field(min_length=1, max_length=100, description="委托代理合同编号")
    scope: str = Field(default="", max_length=2000, description="委托范围")
    signed_on: dt.date | None = Field(default=None, description="合同签订日期")


class TenderProjectIn(BaseModel):
    """招标项目 / 采购项目 (data spec table 501)."""

    name: str = Field(min_length=2, max_length=600, description="招标项目名称")
    method: Method = Field(description="招标方式 / 采购方式")
    must_tender: bool = Field(default=True, description="是否依法必须招标")
    project_type: str = Field(default="", max_length=3, description="招标项目类型（工程，如A01）")
    content: str = Field(default="", max_length=20000, description="招标内容与范围")
    region_code: str | None = Field(default=None, description="行政区划，默认同项目")
    supervise_dept_name: str = Field(default="", max_length=200, description="监督部门名称")
    agency_credit_code: str | None = Field(
        default=None, description="受托招标代理机构统一社会信用代码（招标人委托代理时填写）"
    )
    entrustment: EntrustmentIn | None = Field(default=None, description="委托代理信息")


class RegisterTenderIn(BaseModel):
    """项目登记: a project and its first tender project in one step."""

    project: ProjectIn
    tender: TenderProjectIn


class CoefficientIn(BaseModel):
    name: str = Field(min_length=1, max_length=40, description="系数名称，如“下浮系数K”")
    candidates: list[Decimal] = Field(description="候选值（开标时随机抽取其一）")


class SectionIn(BaseModel):
    """标段（包） (data spec tables 502 and 504)."""

    name: str = Field(min_length=2, max_length=500, description="标段（包）名称")
    content: str = Field(default="", max_length=20000, description="标段（包）内容")
    classify_code: str = Field(default="", max_length=30, description="标段（包）分类代码")
    qualification: str = Field(default="", max_length=20000, description="投标人资格条件")
    estimated_price: Decimal = Field(description="合同估算价 / 预算金额（元）")
    control_price: Decimal | None = Field(default=None, description="最高投标限价（元）")
    bid_security: Decimal = Field(default=Decimal("0"), description="投标保证金（元）")
    duration_days: int | None = Field(default=None, description="工期 / 服务期（日历天）")
    bid_validity_days: int = Field(default=90, description="投标有效期（天）")
    evaluation_method: str = Field(description="评标办法")
    bid_deadline: dt.datetime | None = Field(default=None, description="投标截止时间")
    opening_time: dt.datetime | None = Field(
        default=None, description="开标时间；须与投标截止时间相同（招标投标法第34条），可不填"
    )
    min_bidders: int | None = Field(default=None, description="最少投标人数（默认3）")
    allow_consortium: bool = Field(default=False, description="是否接受联合体投标")
    coefficients: list[CoefficientIn] = Field(
        default_factory=list, description="开标时随机抽取的系数及候选值"
    )


class ReviewIn(BaseModel):
    note: str = Field(default="", max_length=2000, description="受理意见 / 退回原因")


class CoefficientOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    values: list[Decimal]


class SectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    code: str
    name: str
    content: str
    classify_code: str
    qualification: str
    estimated_price: Decimal
    control_price: Decimal | None
    bid_security: Decimal
    currency: str
    duration_days: int | None
    bid_validity_days: int
    evaluation_method: str
    bid_deadline: dt.datetime | None
    opening_time: dt.datetime | None
    min_bidders: int
    allow_consortium: bool
    status: str
    coefficients: list[CoefficientOut]

    @property
    def status_label(self) -> str:
        return SECTION_LIFECYCLE.label(SectionStatus(self.status))

    @property
    def evaluation_label(self) -> str:
        return evaluation_label(self.evaluation_method)


class EntrustmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    tenderer_org_id: str
    agency_org_id: str
    contract_no: str
    scope: str
    signed_on: dt.date | None
    declared_by_org_id: str
    recorded_at: dt.datetime


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    code: str
    name: str
    category: str
    region_code: str
    owner_org_id: str
    invest_project_code: str
    address: str
    legal_person: str
    fund_source: str
    approval_name: str
    approval_number: str
    created_at: dt.datetime


class TenderProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    code: str
    name: str
    project_id: str
    category: str
    method: str
    must_tender: bool
    project_type: str
    content: str
    region_code: str
    tenderer_org_id: str
    agency_org_id: str | None
    supervise_dept_name: str
    status: str
    review_note: str
    submitted_at: dt.datetime | None
    accepted_at: dt.datetime | None
    created_at: dt.datetime
    sections: list[SectionOut]
    entrustment: EntrustmentOut | None

    @property
    def status_label(self) -> str:
        return TENDER_LIFECYCLE.label(TenderStatus(self.status))


class RoomIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="房间名称，如“第一开标室”")
    kind: RoomKind = Field(description="opening 开标室 | evaluation 评标室")
    center_name: str = Field(min_length=2, max_length=200, description="所在交易中心")
    address: str = Field(default="", max_length=300)
    seats: int = Field(default=0, ge=0, le=10000, description="席位数")
    remote: bool = Field(default=False, description="是否为异地交易中心的远程场地（分会场）")


class RoomOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    kind: str
    center_name: str
    address: str
    seats: int
    remote: bool
    active: bool


class BookingIn(BaseModel):
    purpose: RoomKind = Field(description="opening 开标 | evaluation 评标")
    room_id: str = Field(description="主会场房间")
    starts_at: dt.datetime
    ends_at: dt.datetime
    section_id: str | None = Field(default=None, description="标段（开标预约须覆盖其开标时间）")
    branch_room_ids: list[str] = Field(
        default_factory=list, description="远程分会场房间（同一时段）"
    )
    note: str = Field(default="", max_length=500)


class BookingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    room: RoomOut
    tender_project_id: str
    section_id: str | None
    purpose: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    main_booking_id: str | None
    status: str
    note: str


class CancelIn(BaseModel):
    reason: str = Field(default="", max_length=500)


class RestrictionIn(BaseModel):
    credit_code: str = Field(description="被限制主体的统一社会信用代码")
    reason: str = Field(min_length=2, max_length=2000, description="处罚原因")
    authority: str = Field(min_length=2, max_length=200, description="处罚部门")
    document_no: str = Field(default="", max_length=100, description="处理文件文号")
    starts_at: dt.datetime | None = Field(default=None, description="限制开始时间，默认立即")
    ends_at: dt.datetime | None = Field(default=None, description="限制结束时间，空为长期")


class RestrictionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    org_id: str
    reason: str
    authority: str
    document_no: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    revoked_at: dt.datetime | None
