"""Deposit tables: admitted deposit banks and their demand-deposit rates, virtual sub-accounts,
the bank's incoming-payment notices, refund instructions, statements and risk alerts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from sunlit.kernel.db import Base, new_id

Money = Numeric(18, 2)
Rate = Numeric(9, 6)  # annual rate as a fraction: 0.001500 = 0.15 %


class DepositBank(Base):
    """A deposit bank (保证金账户开户行) admitted by the center, with its interface endpoint."""

    __tablename__ = "deposit_banks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # The bank as a partner of the signed messaging layer (kernel.partner): code, key, URL.
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), unique=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)  # = the partner code
    name: Mapped[str] = mapped_column(String(200))
    # The master account the sub-accounts belong to (保证金专户).
    master_account_no: Mapped[str] = mapped_column(String(64), default="")
    master_account_name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(12), index=True)  # active | suspended
    admitted_at: Mapped[dt.datetime]
    admitted_by: Mapped[str | None] = mapped_column(String(32))
    # The highest notice sequence number seen (gaps below it are found by reconciliation).
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class DepositRate(Base):
    """The bank's published demand-deposit rate (活期存款挂牌利率) from a date on."""

    __tablename__ = "deposit_rates"
    __table_args__ = (UniqueConstraint("bank_id", "effective_from"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    bank_id: Mapped[str] = mapped_column(ForeignKey("deposit_banks.id"), index=True)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    annual_rate: Mapped[Decimal] = mapped_column(Rate)
    recorded_at: Mapped[dt.datetime]


class DepositAccount(Base):
    """One bidder's virtual sub-account for one section, and the deposit paid into it."""

    __tablename__ = "deposit_accounts"
    __table_args__ = (UniqueConstraint("section_id", "org_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    bank_id: Mapped[str] = mapped_column(ForeignKey("deposit_banks.id"), index=True)
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    # Idempotency key of the platform's open request to the bank.
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    sub_account_no: Mapped[str | None] = mapped_column(String(64), unique=True)
    sub_account_name: Mapped[str] = mapped_column(String(200), default="")
    required: Mapped[Decimal] = mapped_column(Money)  # the section's bid security
    paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))  # accepted payments
    status: Mapped[str] = mapped_column(String(14), index=True)  # states.AccountStatus
    requested_at: Mapped[dt.datetime]
    opened_at: Mapped[dt.datetime | None]
    paid_at: Mapped[dt.datetime | None]
    last_error: Mapped[str] = mapped_column(String(300), default="")


class PaymentNotice(Base):
    """An incoming-payment notice (来账通知) of the bank, kept whatever its outcome."""

    __tablename__ = "deposit_payment_notices"
    __table_args__ = (
        UniqueConstraint("bank_id", "notice_id"),
        Index("ix_deposit_payment_notices_payer", "section_id", "payer_account_no"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    bank_id: Mapped[str] = mapped_column(ForeignKey("deposit_banks.id"))
    notice_id: Mapped[str] = mapped_column(String(64))  # the bank's unique id (dedup key)
    seq: Mapped[int | None] = mapped_column(Integer)
    sub_account_no: Mapped[str] = mapped_column(String(64), index=True)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("deposit_accounts.id"), index=True)
    section_id: Mapped[str | None] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Money)
    payer_account_no: Mapped[str] = mapped_column(String(64))
    payer_account_name: Mapped[str] = mapped_column(String(200))
    payer_bank: Mapped[str] = mapped_column(String(200), default="")
    booked_at: Mapped[dt.datetime]  # 到账时间 at the bank
    received_at: Mapped[dt.datetime]  # when the platform got it (trusted clock)
    source: Mapped[str] = mapped_column(String(12))  # notice | statement
    # accepted | not_basic_account | late | unknown_account | closed
    outcome: Mapped[str] = mapped_column(String(20), index=True)
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the canonical notice


class Refund(Base):
    """An instruction to the bank to pay money out of a sub-account (退还 / 退回)."""

    __tablename__ = "deposit_refunds"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    instruction_id: Mapped[str] = mapped_column(String(64), unique=True)  # idempotency key
    bank_id: Mapped[str] = mapped_column(ForeignKey("deposit_banks.id"), index=True)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("deposit_accounts.id"), index=True)
    notice_id: Mapped[str | None] = mapped_column(ForeignKey("deposit_payment_notices.id"))
    kind: Mapped[str] = mapped_column(String(12))  # refund (保证金退还) | return (错账退回)
    sub_account_no: Mapped[str] = mapped_column(String(64))
    payee_account_no: Mapped[str] = mapped_column(String(64))
    payee_account_name: Mapped[str] = mapped_column(String(200))
    principal: Mapped[Decimal] = mapped_column(Money)
    interest: Mapped[Decimal] = mapped_column(Money)
    interest_detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(String(200))
    due_by: Mapped[dt.datetime | None]
    # pending (not yet accepted by the bank) | sent | done | failed
    status: Mapped[str] = mapped_column(String(10), index=True)
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    done_at: Mapped[dt.datetime | None]
    bank_ref: Mapped[str] = mapped_column(String(64), default="")
    failure: Mapped[str] = mapped_column(String(300), default="")


class StatementLine(Base):
    """One line of the bank's daily statement of the deposit master account (对账单)."""

    __tablename__ = "deposit_statement_lines"
    __table_args__ = (UniqueConstraint("bank_id", "line_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    bank_id: Mapped[str] = mapped_column(ForeignKey("deposit_banks.id"))
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    line_id: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(6))  # credit | debit
    sub_account_no: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Money)
    counterparty_account_no: Mapped[str] = mapped_column(String(64))
    counterparty_name: Mapped[str] = mapped_column(String(200), default="")
    ref: Mapped[str] = mapped_column(String(64))  # notice id (credit) or instruction id (debit)
    booked_at: Mapped[dt.datetime]
    fetched_at: Mapped[dt.datetime]


class Reconciliation(Base):
    """A day's reconciliation (日对账) of one bank: the result and its differences."""

    __tablename__ = "deposit_reconciliations"
    __table_args__ = (UniqueConstraint("bank_id", "day"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    bank_id: Mapped[str] = mapped_column(ForeignKey("deposit_banks.id"))
    day: Mapped[dt.date] = mapped_column(Date)
    run_at: Mapped[dt.datetime]
    bank_credits: Mapped[Decimal] = mapped_column(Money)
    bank_debits: Mapped[Decimal] = mapped_column(Money)
    platform_credits: Mapped[Decimal] = mapped_column(Money)
    platform_debits: Mapped[Decimal] = mapped_column(Money)
    recovered: Mapped[int] = mapped_column(Integer, default=0)  # notices taken from the statement
    differences: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    balanced: Mapped[bool]


class DepositAlert(Base):
    """A risk alert for supervisors (围标串标预警): bidders of one section paying from one
    account. Shown only after the section's deadline."""

    __tablename__ = "deposit_alerts"
    __table_args__ = (UniqueConstraint("section_id", "payer_account_no"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"), index=True)
    payer_account_no: Mapped[str] = mapped_column(String(64))
    org_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    raised_at: Mapped[dt.datetime]
    visible_after: Mapped[dt.datetime]
    note: Mapped[str] = mapped_column(Text, default="")
