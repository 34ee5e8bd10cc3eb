"""Evaluation tables (评标): the section's method and criteria, the committee and its venues,
each expert's score sheets, clarifications, the report and its signatures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sunlit.kernel.db import Base, new_id


class EvaluationPlan(Base):
    """评标办法与评分标准 of a section, defined by the tenderer or its agency (one per section);
    frozen into the evaluation session when evaluation starts."""

    __tablename__ = "evaluation_plans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"), unique=True)
    method: Mapped[str] = mapped_column(String(40))
    # {"criteria": [{key, group, name, max_points}], "price_points", "e1", "e2", "floor",
    #  "trim_from", "committee_rule", "coefficient_name", "coefficient_kind"}
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_by: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[dt.datetime]


class EvaluationSession(Base):
    """One evaluation per section: committee formed → started (scoring) → report → signed."""

    __tablename__ = "evaluation_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"), unique=True)
    status: Mapped[str] = mapped_column(String(12), index=True)
    method: Mapped[str] = mapped_column(String(40))
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # frozen at start
    remote: Mapped[bool] = mapped_column(default=False)  # 远程异地评标
    formed_by: Mapped[str | None] = mapped_column(String(32))
    formed_at: Mapped[dt.datetime]
    started_at: Mapped[dt.datetime | None]
    leader_member_id: Mapped[str | None] = mapped_column(String(32))
    opening_digest: Mapped[str] = mapped_column(String(64), default="")
    tie_seed: Mapped[str] = mapped_column(String(64), default="")
    # The valid bids taken from the confirmed opening record at start (credit code, org,
    # name, price), so scoring never depends on later reads of another domain.
    bids: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    finished_at: Mapped[dt.datetime | None]
    terminated_reason: Mapped[str] = mapped_column(Text, default="")


class EvaluationMember(Base):
    """评标委员会成员: a drawn expert or the tenderer's representative (招标人代表)."""

    __tablename__ = "evaluation_members"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("evaluation_sessions.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(20))  # drawn | tenderer_rep
    employer_org_id: Mapped[str | None] = mapped_column(String(32))
    employer_credit_code: Mapped[str] = mapped_column(String(18), default="")
    employer_name: Mapped[str] = mapped_column(String(200), default="")
    venue_id: Mapped[str | None] = mapped_column(String(32))
    seat: Mapped[str] = mapped_column(String(40), default="")
    signed_in_at: Mapped[dt.datetime | None]
    # 回避声明: declared credit codes of companies the member must avoid, or a recusal.
    declared_at: Mapped[dt.datetime | None]
    avoid_credit_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    recused: Mapped[bool] = mapped_column(default=False)
    recusal_reason: Mapped[str] = mapped_column(Text, default="")
    committed_at: Mapped[dt.datetime | None]  # 专家承诺书
    vote_for: Mapped[str | None] = mapped_column(String(32))  # 推选评标组长
    submitted_at: Mapped[dt.datetime | None]  # score sheets handed in


class EvaluationVenue(Base):
    """评标场地: the main venue and, for 远程异地评标, sub venues (bookings of the projects
    domain, possibly rooms of other centers)."""

    __tablename__ = "evaluation_venues"
    __table_args__ = (UniqueConstraint("session_id", "booking_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("evaluation_sessions.id"), index=True)
    booking_id: Mapped[str] = mapped_column(String(32))
    center_name: Mapped[str] = mapped_column(String(200))
    room_name: Mapped[str] = mapped_column(String(100))
    is_main: Mapped[bool] = mapped_column(default=False)
    seats: Mapped[int] = mapped_column(default=0)


class ScoreSheet(Base):
    """One expert's sheet for one bid: per-criterion points, conformity (符合性) and, for
    经评审的最低投标价法, the proposed price adjustment."""

    __tablename__ = "evaluation_score_sheets"
    __table_args__ = (UniqueConstraint("member_id", "credit_code"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("evaluation_sessions.id"), index=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("evaluation_members.id"), index=True)
    credit_code: Mapped[str] = mapped_column(String(18))
    scores: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    conforms: Mapped[bool] = mapped_column(default=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    adjustment: Mapped[str] = mapped_column(String(40), default="0")
    updated_at: Mapped[dt.datetime]


class Clarification(Base):
    """评标澄清: a committee member's question to one bidder and the bidder's answer."""

    __tablename__ = "evaluation_clarifications"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("evaluation_sessions.id"), index=True)
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    bidder_org_id: Mapped[str] = mapped_column(String(32), index=True)
    asked_by_member_id: Mapped[str] = mapped_column(String(32))
    question: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[dt.datetime]
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(32))
    answered_at: Mapped[dt.datetime | None]


class EvaluationReport(Base):
    """评标报告: the structured document (RFC 8785 JSON) and its digest; the PDF is rendered
    from the document on demand."""

    __tablename__ = "evaluation_reports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("evaluation_sessions.id"), unique=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 hex of the canonical bytes
    generated_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None]  # every member has signed


class ReportSignature(Base):
    """A member's signature of the report (ADR 0007 document message), with any dissent."""

    __tablename__ = "evaluation_report_signatures"
    __table_args__ = (UniqueConstraint("report_id", "member_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    report_id: Mapped[str] = mapped_column(ForeignKey("evaluation_reports.id"), index=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("evaluation_members.id"))
    signed_message: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(Text)  # base64
    certificate_fingerprint: Mapped[str] = mapped_column(String(64))
    certificate_subject: Mapped[str] = mapped_column(String(500))
    dissent: Mapped[str] = mapped_column(Text, default="")
    signed_at: Mapped[dt.datetime]
