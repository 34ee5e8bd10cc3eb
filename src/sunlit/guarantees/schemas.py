"""The guarantee interface's message bodies, as published in the OpenAPI document
(docs/spec/guarantee-api.openapi.json). Amounts are decimal strings with two decimals (元),
dates ``YYYY-MM-DD``, times ISO 8601 with offset."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Money = str
Date = str
Time = str


class Applicant(BaseModel):
    name: str
    credit_code: str = Field(description="统一社会信用代码")
    basic_account_no: str = Field(description="登记的基本存款账户账号（保费须从此账户缴纳）")
    basic_account_bank: str


class Sealed(BaseModel):
    commitment: str = Field(
        description="hex(H(salt ‖ JCS(details)))，H = SM3（gm）或 SHA-256（intl）"
    )
    envelope: dict[str, str] = Field(description="数字信封：details 以平台公钥加密")


class ApplicationMsg(BaseModel):
    """Platform → FI ``POST {base}/applications`` (Idempotency-Key = order_no)."""

    order_no: str
    product_code: str
    form: Literal["bank_guarantee", "insurance_policy", "guarantor_letter"]
    applicant: Applicant
    amount: Money
    currency: Literal["CNY"]
    valid_from: Date
    valid_to: Date
    category: str = Field(description="项目类别 engineering / government_procurement / …")
    payment_deadline: Time = Field(description="投标截止时间：此后缴纳的保费不被接受")
    sealed: Sealed
    callback_base: str


class ApplicationAck(BaseModel):
    accepted: bool
    fi_order_no: str | None = None


class Details(BaseModel):
    tender_project_code: str
    tender_project_name: str
    section_code: str
    section_name: str
    tenderer_name: str
    tenderer_credit_code: str
    region_code: str
    bid_deadline: Time


class RevealMsg(BaseModel):
    """Platform → FI ``POST {base}/reveals`` after the opening (解密还原)."""

    order_no: str
    guarantee_no: str
    commitment: str
    salt: str = Field(description="hex; the FI checks H(salt ‖ JCS(details)) = commitment")
    details: Details
    opened_at: Time


class ReleaseMsg(BaseModel):
    """Platform → FI ``POST {base}/releases`` (退保 / 注销)."""

    order_no: str
    guarantee_no: str
    reason: Literal[
        "contract_signed", "awarded_other", "terminated", "expired", "cancelled_by_center"
    ]
    reason_text: str
    released_at: Time


class CancelMsg(BaseModel):
    """Platform → FI ``POST {base}/cancellations``: the bidder withdrew before issuance."""

    order_no: str
    reason: str


class Payee(BaseModel):
    account_no: str
    account_name: str
    bank: str


class Party(BaseModel):
    name: str
    credit_code: str


class EvidenceFile(BaseModel):
    name: str
    sha256: str
    content_base64: str


class ClaimMsg(BaseModel):
    """Platform → FI ``POST {base}/claims`` (索赔; Idempotency-Key = claim_no)."""

    claim_no: str
    order_no: str
    guarantee_no: str
    claimant: Party
    amount: Money
    ground: str = Field(description="withdraw_after_deadline / refuse_contract / …")
    ground_text: str
    statement: str
    payee: Payee
    evidence: list[EvidenceFile]
    filed_at: Time


class DecisionMsg(BaseModel):
    """FI → platform ``POST /api/v1/guarantee/fi/decisions`` (审核结果)."""

    order_no: str
    decision: Literal["approved", "declined"]
    premium: Money | None = Field(default=None, description="approved 时必填")
    rate: str | None = None
    reason: str | None = Field(default=None, description="declined 时的原因")
    fi_order_no: str | None = None


class PaymentMsg(BaseModel):
    """FI → platform ``POST /api/v1/guarantee/fi/payments`` (保费支付结果)."""

    order_no: str
    amount: Money = Field(description="须等于核定保费")
    payer_account_no: str
    payer_account_name: str = ""
    payer_bank: str = ""
    paid_at: Time


class PaymentAnswer(BaseModel):
    order_no: str
    status: str
    result: Literal["accepted", "refused"]
    code: str | None = Field(
        default=None, description="guarantee.payment.not_basic_account / guarantee.payment.late"
    )
    reason: str | None = None
    duplicate: bool | None = None


class GuaranteeDocument(BaseModel):
    """What the FI signs (SM2/ECDSA over JCS of this object): the guarantee's 验真 record."""

    version: Literal["SUNLIT-GUARANTEE-1"]
    guarantee_no: str
    order_no: str
    form: Literal["bank_guarantee", "insurance_policy", "guarantor_letter"]
    institution_name: str
    institution_credit_code: str
    applicant_name: str
    applicant_credit_code: str
    beneficiary: str = Field(description="开标前为密文受益人（承诺值），不得写明招标人")
    commitment: str
    amount: Money = Field(description="不得低于申请的担保金额（标段投标保证金）")
    currency: Literal["CNY"]
    valid_from: Date
    valid_to: Date
    issued_at: Time
    pdf_sha256: str = Field(description="保函 PDF 的 SHA-256（hex）")


class IssuanceMsg(BaseModel):
    """FI → platform ``POST /api/v1/guarantee/fi/issuances`` (出函结果)."""

    guarantee: GuaranteeDocument
    document_signature: str = Field(description="base64 DER 签名，覆盖 JCS(guarantee)")
    pdf_base64: str


class IssuanceAnswer(BaseModel):
    order_no: str
    status: str
    verification_code: str = Field(description="验真码：印在保函上或随保函交付投标人")
    duplicate: bool | None = None


class ClaimResultMsg(BaseModel):
    """FI → platform ``POST /api/v1/guarantee/fi/claim-results`` (理赔结果)."""

    claim_no: str
    decision: Literal["acknowledged", "paid", "refused"]
    paid_amount: Money | None = None
    paid_at: Time | None = None
    remark: str = ""


class OrderView(BaseModel):
    order_no: str
    status: str
    fi_order_no: str | None
    premium: Money | None
    payer_account_no: str | None
    guarantee_no: str | None
    pdf_sha256: str | None
    refusal_code: str | None
    refusal_reason: str | None
    revealed: bool
    released: bool
    updated_at: Time


class PlatformReconcile(BaseModel):
    orders: list[OrderView]


class FiOrderRecord(BaseModel):
    order_no: str
    fi_order_no: str | None = None
    status: str
    decision: DecisionMsg | None = None
    payment: PaymentMsg | None = None
    issuance: IssuanceMsg | None = None
    claim_results: list[ClaimResultMsg] = Field(default_factory=list)


class FiReconcile(BaseModel):
    """FI → platform answer to ``GET {base}/reconcile?since=``: the FI's full records."""

    orders: list[FiOrderRecord]
