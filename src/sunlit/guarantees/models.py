"""Guarantee tables: admitted institutions, products, sub-center choices, applications
(which carry the guarantee once issued), claims and risk alerts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sunlit.kernel.db import Base, new_id

Money = Numeric(18, 2)
Rate = Numeric(9, 6)


class Institution(Base):
    """A financial institution admitted (准入) by the trading center."""

    __tablename__ = "guarantee_institutions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), unique=True)
    org_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # bank | insurer | guarantor
    instant: Mapped[bool] = mapped_column(default=False)  # 实时秒开
    status: Mapped[str] = mapped_column(String(20), index=True)
    admission_ref: Mapped[str] = mapped_column(String(200), default="")  # 准入公告/协议编号
    admitted_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class Product(Base):
    """A guarantee product: bank guarantee, insurance policy or guarantee-company letter."""

    __tablename__ = "guarantee_products"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    institution_id: Mapped[str] = mapped_column(ForeignKey("guarantee_institutions.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))  # the FI's product code
    name: Mapped[str] = mapped_column(String(200))
    form: Mapped[str] = mapped_column(
        String(30)
    )  # bank_guarantee | insurance_policy | guarantor_letter
    rate: Mapped[Decimal] = mapped_column(Rate)  # premium rate, e.g. 0.001500
    min_premium: Mapped[Decimal] = mapped_column(Money)
    min_amount: Mapped[Decimal] = mapped_column(Money)
    max_amount: Mapped[Decimal] = mapped_column(Money)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every category
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("institution_id", "code"),)


class CenterChoice(Base):
    """A (sub-)center, named by its 行政区划 code, offers an admitted institution's products."""

    __tablename__ = "guarantee_center_choices"
    __table_args__ = (UniqueConstraint("region_code", "institution_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    institution_id: Mapped[str] = mapped_column(ForeignKey("guarantee_institutions.id"))
    chosen_by: Mapped[str | None] = mapped_column(String(32))
    chosen_at: Mapped[dt.datetime]


class Application(Base):
    """A bidder's guarantee application for one section, and the guarantee once issued."""

    __tablename__ = "guarantee_applications"
    __table_args__ = (
        Index("ix_guarantee_applications_section_org", "section_id", "org_id"),
        UniqueConstraint("institution_id", "guarantee_no"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    order_no: Mapped[str] = mapped_column(String(32), unique=True)  # the platform's 订单号
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    user_id: Mapped[str | None] = mapped_column(String(32))
    institution_id: Mapped[str] = mapped_column(ForeignKey("guarantee_institutions.id"), index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("guarantee_products.id"))
    status: Mapped[str] = mapped_column(String(20), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)  # 担保金额 requested
    required_amount: Mapped[Decimal] = mapped_column(Money)  # the section's bid security
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(30))
    # What the FI sees instead of the section and the tenderer: a commitment, and the
    # details encrypted to the platform key (数字信封). The salt opens the commitment at 解密还原.
    commitment: Mapped[str] = mapped_column(String(64))
    sealed_details: Mapped[dict[str, Any]]
    salt: Mapped[str] = mapped_column(String(64))
    # Where the application came from (risk alerts: one machine or address, several bidders).
    client_ip: Mapped[str] = mapped_column(String(64), default="")
    machine_id: Mapped[str] = mapped_column(String(128), default="")
    fi_order_no: Mapped[str | None] = mapped_column(String(64))
    premium: Mapped[Decimal | None] = mapped_column(Money)
    rate: Mapped[Decimal | None] = mapped_column(Rate)
    payer_account_no: Mapped[str | None] = mapped_column(String(64))
    payer_account_name: Mapped[str | None] = mapped_column(String(200))
    payer_bank: Mapped[str | None] = mapped_column(String(200))
    paid_at: Mapped[dt.datetime | None]
    refusal_code: Mapped[str | None] = mapped_column(String(80))
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    # The guarantee (保函) once issued.
    guarantee_no: Mapped[str | None] = mapped_column(String(64))
    guarantee_form: Mapped[str | None] = mapped_column(String(30))
    guarantee_amount: Mapped[Decimal | None] = mapped_column(Money)
    guarantee_valid_from: Mapped[dt.date | None] = mapped_column(Date)
    guarantee_valid_to: Mapped[dt.date | None] = mapped_column(Date)
    beneficiary: Mapped[str | None] = mapped_column(String(300))
    document: Mapped[dict[str, Any] | None]  # the canonical guarantee document the FI signed
    document_signature: Mapped[str | None] = mapped_column(Text)  # base64 DER
    signer_key_id: Mapped[str | None] = mapped_column(String(64))
    signer_public_key: Mapped[str | None] = mapped_column(Text)  # the FI key at issuance
    pdf_blob_key: Mapped[str | None] = mapped_column(String(200))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    verification_code: Mapped[str | None] = mapped_column(String(16))
    issued_at: Mapped[dt.datetime | None]
    revealed_at: Mapped[dt.datetime | None]
    released_at: Mapped[dt.datetime | None]
    release_reason: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class Claim(Base):
    """A beneficiary's claim (索赔) on a guarantee and the FI's handling (理赔)."""

    __tablename__ = "guarantee_claims"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    claim_no: Mapped[str] = mapped_column(String(32), unique=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("guarantee_applications.id"), index=True)
    claimant_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    ground: Mapped[str] = mapped_column(String(40))
    statement: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    payee_account_no: Mapped[str] = mapped_column(String(64))
    payee_account_name: Mapped[str] = mapped_column(String(200))
    payee_bank: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), index=True)
    paid_amount: Mapped[Decimal | None] = mapped_column(Money)
    fi_remark: Mapped[str] = mapped_column(Text, default="")
    filed_at: Mapped[dt.datetime]
    decided_at: Mapped[dt.datetime | None]


class Alert(Base):
    """A risk alert for supervisors: several bidders of one section share a trace."""

    __tablename__ = "guarantee_alerts"
    __table_args__ = (UniqueConstraint("section_id", "kind", "trace"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # payer_account | client_ip | machine_id
    trace: Mapped[str] = mapped_column(String(200))  # the shared account / address / machine
    org_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    visible_after: Mapped[dt.datetime]  # the bid deadline: who bids stays secret until then
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
