"""Award tables (定标): the process per section, its ranked candidates (data spec 510 / 9017),
objections during publicity (9019), reasons for passing over a better-ranked candidate
(实施条例第55条), the signed award and non-award letters (9018) and the contract (512)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sunlit.kernel.db import Base, new_id

Money = Numeric(18, 2)


class AwardProcess(Base):
    """One award process per section, opened from the signed evaluation report."""

    __tablename__ = "award_processes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"), unique=True)
    tender_project_id: Mapped[str] = mapped_column(ForeignKey("tender_projects.id"), index=True)
    section_code: Mapped[str] = mapped_column(String(23), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    # The rule set in force, fixed when the process opens (see rules.py).
    publicity_required: Mapped[bool]
    rule_bound: Mapped[bool]  # 第55条 (or 87号令第68条) governs passing over candidates
    government_procurement: Mapped[bool] = mapped_column(default=False)
    # 评标报告 (data spec 509): which report, its digest, when the tenderer received it.
    report_id: Mapped[str] = mapped_column(String(64))
    report_digest: Mapped[str] = mapped_column(String(128), default="")
    report_received_at: Mapped[dt.datetime]
    opened_by: Mapped[str | None] = mapped_column(String(32))
    # 中标候选人公示 (511)
    publicity_notice_id: Mapped[str | None] = mapped_column(String(32))
    publicity_start: Mapped[dt.datetime | None]
    publicity_end: Mapped[dt.datetime | None]
    objection_channel: Mapped[str] = mapped_column(Text, default="")
    publicity_late: Mapped[bool] = mapped_column(default=False)
    # 定标
    winner_id: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[dt.datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decision_note: Mapped[str] = mapped_column(Text, default="")
    # 中标结果公告 (513) and the letters (9018)
    result_notice_id: Mapped[str | None] = mapped_column(String(32))
    notified_at: Mapped[dt.datetime | None]
    cancelled_reason: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]

    candidates: Mapped[list[AwardCandidate]] = relationship(
        order_by="AwardCandidate.rank", lazy="selectin"
    )


class AwardCandidate(Base):
    """A ranked candidate of the evaluation report (中标候选人 510, 评标结果 9017)."""

    __tablename__ = "award_candidates"
    __table_args__ = (
        UniqueConstraint("process_id", "rank"),
        UniqueConstraint("process_id", "org_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    process_id: Mapped[str] = mapped_column(ForeignKey("award_processes.id"), index=True)
    rank: Mapped[int]  # WIN_CANDIDATE_ORDER
    org_id: Mapped[str] = mapped_column(String(32), index=True)
    credit_code: Mapped[str] = mapped_column(String(18))  # WIN_CANDIDATE_CODE
    name: Mapped[str] = mapped_column(String(200))  # WIN_CANDIDATE_NAME
    price: Mapped[Decimal] = mapped_column(Money)  # BID_PRICE (元)
    score: Mapped[str] = mapped_column(String(40), default="")  # EVALUATION_RESULT
    duration_days: Mapped[int | None]
    quality: Mapped[str] = mapped_column(String(200), default="")  # QUALITY
    # candidate | passed_over (第55条) | winner
    status: Mapped[str] = mapped_column(String(20), default="candidate")


class AwardObjection(Base):
    """异议 on the evaluation result during publicity (实施条例第54条; data spec 9019, type 3)."""

    __tablename__ = "award_objections"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    process_id: Mapped[str] = mapped_column(ForeignKey("award_processes.id"), index=True)
    org_id: Mapped[str] = mapped_column(String(32), index=True)
    org_name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18))
    user_id: Mapped[str | None] = mapped_column(String(32))
    contact: Mapped[str] = mapped_column(String(200), default="")
    content: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[dt.datetime]
    answer_due: Mapped[dt.datetime]  # 3 days after receipt
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(32))
    answered_at: Mapped[dt.datetime | None]


class AwardPassOver(Base):
    """Why a better-ranked candidate was not chosen (第55条), with the evidence file."""

    __tablename__ = "award_pass_overs"
    __table_args__ = (UniqueConstraint("process_id", "candidate_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    process_id: Mapped[str] = mapped_column(ForeignKey("award_processes.id"), index=True)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("award_candidates.id"))
    reason_code: Mapped[str] = mapped_column(String(30))
    explanation: Mapped[str] = mapped_column(Text)
    evidence_name: Mapped[str] = mapped_column(String(255))
    evidence_sha256: Mapped[str] = mapped_column(String(64))
    evidence_sm3: Mapped[str] = mapped_column(String(64))
    evidence: Mapped[bytes] = mapped_column(LargeBinary)
    recorded_by: Mapped[str | None] = mapped_column(String(32))
    recorded_at: Mapped[dt.datetime]


class AwardLetter(Base):
    """中标通知书 (kind ``award``) or 中标结果通知书 (kind ``non_award``).

    ``doc`` is the structured letter (data spec 9018 fields), signed by the platform key over
    its RFC 8785 canonical form (``signature``); ``pdf`` is rendered once from ``doc`` at
    issuance and signed as bytes (``pdf_signature``), so the file itself verifies offline.
    """

    __tablename__ = "award_letters"
    __table_args__ = (UniqueConstraint("process_id", "org_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    process_id: Mapped[str] = mapped_column(ForeignKey("award_processes.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    number: Mapped[str] = mapped_column(String(100), unique=True)  # WIN_NOTICE_CODE
    org_id: Mapped[str] = mapped_column(String(32), index=True)
    credit_code: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(200))
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)
    signature: Mapped[str] = mapped_column(Text)  # base64
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    pdf_signature: Mapped[str] = mapped_column(Text)  # base64
    key_id: Mapped[str] = mapped_column(String(128))
    issued_at: Mapped[dt.datetime]


class AwardContract(Base):
    """合同 (data spec 512), recorded by the tenderer with its publicity (合同公示)."""

    __tablename__ = "award_contracts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    process_id: Mapped[str] = mapped_column(ForeignKey("award_processes.id"), unique=True)
    contract_code: Mapped[str] = mapped_column(String(600))  # CONTRACT_CODE
    name: Mapped[str] = mapped_column(String(600))  # CONTRACT_NAME
    tenderer_name: Mapped[str] = mapped_column(String(200))
    tenderer_code: Mapped[str] = mapped_column(String(18))
    winner_name: Mapped[str] = mapped_column(String(200))
    winner_code: Mapped[str] = mapped_column(String(18))
    price: Mapped[Decimal] = mapped_column(Money)  # CONTRACT_PRICE (元, CNY)
    content: Mapped[str] = mapped_column(Text)  # CONTRACT_CONTENT
    limit_time: Mapped[str] = mapped_column(String(200), default="")  # LIMITE_TIME
    quality: Mapped[str] = mapped_column(String(200), default="")  # QUALITY_REQUIRE
    signed_at: Mapped[dt.datetime]  # CONTRACT_SIGN_TIME
    submitted_at: Mapped[dt.datetime]  # SUBMIT_TIME
    sign_due: Mapped[dt.datetime]  # 30 days after the award letter (招标投标法第46条)
    late_reason: Mapped[str] = mapped_column(Text, default="")
    publicity_notice_id: Mapped[str | None] = mapped_column(String(32))
    publicity_due: Mapped[dt.date | None]  # 政府采购: 2 working days after signing
    publicity_late: Mapped[bool] = mapped_column(default=False)
    recorded_by: Mapped[str | None] = mapped_column(String(32))
    # The section's bid deposits released (deposits.release_step) after the contract: set by
    # the award.security_release job; None until then (the job retries until it is set).
    securities_released_at: Mapped[dt.datetime | None] = mapped_column(default=None)
