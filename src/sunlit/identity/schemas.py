"""Input and output models of the identity API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from sunlit.kernel.authz import Role


class UserIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="姓名")
    mobile: str = Field(default="", max_length=20, description="手机号")
    username: str | None = Field(default=None, max_length=64, description="登录名（口令登录用）")
    roles: list[Role] = Field(default_factory=list, description="本人在单位中承担的角色")


class OrganizationIn(BaseModel):
    name: str = Field(min_length=2, max_length=200, description="单位名称")
    credit_code: str = Field(description="统一社会信用代码（18位）")
    roles: list[Role] = Field(min_length=1, description="主体角色")
    legal_representative: str = Field(default="", max_length=100)
    contact_name: str = Field(default="", max_length=100)
    contact_phone: str = Field(default="", max_length=40)
    address: str = Field(default="", max_length=300)
    basic_account_bank: str = Field(default="", max_length=200, description="基本户开户行")
    basic_account_no: str = Field(default="", max_length=64, description="基本户账号")
    admin: UserIn | None = Field(default=None, description="单位经办人（首个用户）")


class ReviewIn(BaseModel):
    action: str = Field(description="approve | reject | suspend | reinstate | resubmit")
    note: str = Field(default="", max_length=1000)


class OrganizationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    credit_code: str
    region_code: str
    status: str
    role_names: list[str]
    legal_representative: str
    contact_name: str
    contact_phone: str
    address: str
    created_at: dt.datetime


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    organization_id: str
    name: str
    username: str | None
    mobile: str
    roles: list[str]
    status: str
    locked_until: dt.datetime | None


class CertificateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    fingerprint: str
    serial: str
    issuer: str
    subject: str
    algorithm: str
    not_before: dt.datetime
    not_after: dt.datetime
    status: str


class ChallengeOut(BaseModel):
    challenge_id: str
    message: str = Field(description="要签名的原文（UTF-8），签名算法由证书决定")
    expires_at: dt.datetime


class CertificateLoginIn(BaseModel):
    challenge_id: str
    certificate: str = Field(description="PEM 或 Base64 DER 格式的签名证书")
    signature: str = Field(description="对挑战原文的签名，Base64（DER 编码）")


class PasswordLoginIn(BaseModel):
    username: str
    password: str
    totp: str = Field(description="动态口令（6位）")


class LoginOut(BaseModel):
    token: str = Field(description="会话令牌，用作 Authorization: Bearer")
    expires_at: dt.datetime
    user: UserOut
    organization: OrganizationOut


class TrustedCAIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    certificate: str = Field(description="CA 根证书 PEM")


class TrustedCAOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    fingerprint: str
    subject: str
    algorithm: str
    enabled: bool
    crl_updated_at: dt.datetime | None


class MeOut(BaseModel):
    user: UserOut
    organization: OrganizationOut
    certificates: list[CertificateOut]
