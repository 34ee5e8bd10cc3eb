"""Messages of the deposit-bank interface (docs/spec/deposit-bank-api.md) and API inputs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


def normalize_account(value: str) -> str:
    """Bank account numbers compare without spaces or hyphens."""
    return "".join(ch for ch in value if ch not in " -\t")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PaymentNoticeIn(_Strict):
    """来账通知: money arrived in a sub-account (bank → platform)."""

    notice_id: str = Field(min_length=1, max_length=64, description="银行来账流水号（唯一）")
    seq: int | None = Field(default=None, ge=1, description="银行通知序号（递增，可有间隙）")
    sub_account_no: str = Field(min_length=1, max_length=64, description="虚拟子账号")
    amount: Decimal = Field(gt=0, max_digits=18, decimal_places=2, description="金额（元）")
    payer_account_no: str = Field(min_length=1, max_length=64, description="付款账号")
    payer_account_name: str = Field(min_length=1, max_length=200, description="付款户名")
    payer_bank: str = Field(default="", max_length=200, description="付款行")
    booked_at: dt.datetime = Field(description="到账时间（银行记账时间，带时区）")

    @field_validator("booked_at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("booked_at must carry a timezone offset")
        return value

    @field_validator("sub_account_no", "payer_account_no")
    @classmethod
    def _account(cls, value: str) -> str:
        return normalize_account(value)


class RefundResultIn(_Strict):
    """退款结果通知 (bank → platform)."""

    instruction_id: str = Field(min_length=1, max_length=64)
    status: Literal["done", "failed"]
    bank_ref: str = Field(default="", max_length=64, description="银行交易流水号")
    done_at: dt.datetime = Field(description="银行处理时间（带时区）")
    reason: str = Field(default="", max_length=300, description="失败原因")

    @field_validator("done_at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("done_at must carry a timezone offset")
        return value


class StatementLineIn(BaseModel):
    line_id: str = Field(min_length=1, max_length=64)
    direction: Literal["credit", "debit"]
    sub_account_no: str
    amount: Decimal = Field(gt=0, max_digits=18, decimal_places=2)
    counterparty_account_no: str
    counterparty_name: str = ""
    ref: str = Field(description="贷方：来账流水号 notice_id；借方：退款指令号 instruction_id")
    booked_at: dt.datetime
    # Payer bank of a credit line (to recover a lost notice)
    counterparty_bank: str = ""
    seq: int | None = None


class StatementIn(BaseModel):
    day: dt.date
    master_account_no: str = ""
    lines: list[StatementLineIn]


class BankIn(_Strict):
    code: str = Field(min_length=2, max_length=63, description="银行系统编号（小写字母、数字）")
    name: str = Field(min_length=2, max_length=200, description="银行名称")
    base_url: str = Field(min_length=8, max_length=300, description="银行接口地址")
    public_key_pem: str = Field(description="银行签名公钥（PEM）")
    master_account_no: str = Field(default="", max_length=64, description="保证金专户账号")
    master_account_name: str = Field(default="", max_length=200, description="保证金专户户名")
    annual_rate: Decimal = Field(ge=0, lt=1, description="活期存款年利率（小数，如 0.0015）")
    rate_from: dt.date = Field(description="利率生效日")


class RateIn(_Strict):
    annual_rate: Decimal = Field(ge=0, lt=1)
    effective_from: dt.date


class ReleaseIn(_Strict):
    contract_signed_on: dt.date = Field(description="书面合同签订日期")
    reason: str = Field(default="合同已签订，退还投标保证金", max_length=200)
    forfeit_org_ids: list[str] = Field(default_factory=list, description="不予退还的投标人")


class RefundIn(_Strict):
    reason: str = Field(min_length=2, max_length=200)
    payee_account_no: str | None = Field(default=None, description="白名单替代账户（可选）")
    payee_account_name: str | None = None
