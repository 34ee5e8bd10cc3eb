"""Input and output models of the expert API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class ExpertIn(BaseModel):
    name: str = Field(description="姓名")
    id_number: str = Field(description="居民身份证号码（18位）")
    mobile: str = Field(description="手机号码")
    employer_name: str = Field(description="工作单位")
    employer_credit_code: str = Field(description="工作单位统一社会信用代码")
    title: str = Field("", description="职称")
    region_code: str = Field(description="所在地区（6位行政区划代码）")
    main_specialty: str = Field(description="主评专业代码")
    other_specialties: list[str] = Field(default_factory=list, description="其他评标专业代码")
    user_id: str | None = Field(None, description="平台账号（专家已注册为用户时）")


class ProfileIn(BaseModel):
    """What an expert may change himself (name and ID number stay with the center)."""

    mobile: str
    employer_name: str
    employer_credit_code: str
    title: str = ""
    region_code: str
    main_specialty: str
    other_specialties: list[str] = Field(default_factory=list)


class LeaveIn(BaseModel):
    starts_at: dt.datetime
    ends_at: dt.datetime
    reason: str = ""


class StatusIn(BaseModel):
    status: str = Field(description="active 或 suspended")
    reason: str = ""


class ViolationIn(BaseModel):
    violation: str = Field(description="违规行为")
    decided_by: str = Field("", description="处理部门 / 文号")
    restricted_until: dt.datetime | None = Field(None, description="限制抽取至")


class StratumIn(BaseModel):
    specialty: str
    count: int = Field(ge=1, le=50)
    alternates: int = Field(0, ge=0, le=50)


class DrawRequestIn(BaseModel):
    evaluation_starts_at: dt.datetime
    evaluation_ends_at: dt.datetime
    venue: str = ""
    strata: list[StratumIn]
    regions: list[str] = Field(default_factory=list, description="限定地区（行政区划代码前缀）")
    region_reason: str = ""
    cooldown_days: int = Field(0, ge=0, le=3650)
    response_minutes: int = Field(30, ge=1, le=24 * 60)
    commitment: str = Field(description="交易中心承诺值（draws.CenterSecret，64位十六进制）")
    suite: str = "gm"


class AvoidanceIn(BaseModel):
    name: str
    id_number: str
    reason: str


class AvoidanceListIn(BaseModel):
    entries: list[AvoidanceIn]


class ValueIn(BaseModel):
    value: str


class RevealIn(BaseModel):
    center_value: str
    center_salt: str


class SupplementIn(BaseModel):
    commitment: str
    alternates: int = Field(2, ge=0, le=50)


class AnswerIn(BaseModel):
    accept: bool
    reason: str = ""


class SmsReplyIn(BaseModel):
    reference: str
    reply: str
