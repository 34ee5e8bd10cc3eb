"""Expert tables: the pool (专家库) and the draws (专家抽取) with their notifications."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sunlit.kernel.db import Base, new_id


class Expert(Base):
    """One expert of the pool (data spec 212 评标专家基本信息)."""

    __tablename__ = "experts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    # The full number is kept for the data-spec tables (508 ID_CARD) and is never shown;
    # pages and the API show the masked form, avoidance lists match on the digest.
    id_number: Mapped[str] = mapped_column(String(18))
    id_digest: Mapped[str] = mapped_column(String(64), unique=True)
    id_masked: Mapped[str] = mapped_column(String(18))
    mobile: Mapped[str] = mapped_column(String(20))
    employer_name: Mapped[str] = mapped_column(String(200))
    employer_credit_code: Mapped[str] = mapped_column(String(18), index=True)
    title: Mapped[str] = mapped_column(String(50), default="")  # 职称
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    main_specialty: Mapped[str] = mapped_column(String(11), index=True)
    status: Mapped[str] = mapped_column(
        String(12), default="active", index=True
    )  # active|suspended
    restricted_until: Mapped[dt.datetime | None]  # latest credit restriction
    last_drawn_at: Mapped[dt.datetime | None]  # for the cooldown rule
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    specialties: Mapped[list[ExpertSpecialty]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ExpertSpecialty.position"
    )


class ExpertSpecialty(Base):
    """Every specialty of an expert (position 0 = the main one, IS_MAIN)."""

    __tablename__ = "expert_specialties"
    __table_args__ = (UniqueConstraint("expert_id", "code"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    expert_id: Mapped[str] = mapped_column(ForeignKey("experts.id"), index=True)
    code: Mapped[str] = mapped_column(String(11), index=True)
    position: Mapped[int] = mapped_column(default=0)


class ExpertLeave(Base):
    """请假: the expert is not available in [starts_at, ends_at)."""

    __tablename__ = "expert_leaves"
    __table_args__ = (Index("ix_expert_leaves_period", "starts_at", "ends_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    expert_id: Mapped[str] = mapped_column(ForeignKey("experts.id"), index=True)
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime]
    cancelled_at: Mapped[dt.datetime | None]


class ExpertCreditRecord(Base):
    """专家信用记录 (data spec 208): a violation and the restriction it carries."""

    __tablename__ = "expert_credit_records"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    expert_id: Mapped[str] = mapped_column(ForeignKey("experts.id"), index=True)
    violation: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    restricted_until: Mapped[dt.datetime | None]
    recorded_at: Mapped[dt.datetime]


class ExpertDraw(Base):
    """A draw of experts for a section (or a supplementary draw 补抽 of it: ``parent_id``)."""

    __tablename__ = "expert_draws"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"), index=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("expert_draws.id"), index=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)  # the draw id in the record
    status: Mapped[str] = mapped_column(String(16), index=True)
    suite: Mapped[str] = mapped_column(String(8))
    evaluation_starts_at: Mapped[dt.datetime]
    evaluation_ends_at: Mapped[dt.datetime]
    venue: Mapped[str] = mapped_column(String(200), default="")
    # [{"specialty": "A0101", "count": 3, "alternates": 2}, ...]
    strata: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    regions: Mapped[list[str]] = mapped_column(JSON)  # allowed 行政区划 prefixes; [] = any
    region_reason: Mapped[str] = mapped_column(String(200), default="")  # 限制地区理由
    cooldown_days: Mapped[int] = mapped_column(default=0)
    response_minutes: Mapped[int] = mapped_column(default=30)
    commitment: Mapped[str] = mapped_column(String(64))
    committed_at: Mapped[dt.datetime]
    # Secret until disclosure: the key the candidate salts derive from, and the plain lists.
    salt_key: Mapped[str | None] = mapped_column(String(64))
    candidate_lists: Mapped[dict[str, list[str]] | None] = mapped_column(JSON)
    exclusion_summary: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    definition_hash: Mapped[str | None] = mapped_column(String(64))
    fixed_at: Mapped[dt.datetime | None]
    supervisor_value: Mapped[str | None] = mapped_column(String(200))
    supervisor_name: Mapped[str | None] = mapped_column(String(200))
    supervisor_entered_at: Mapped[dt.datetime | None]
    record: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    drawn_at: Mapped[dt.datetime | None]
    completed_at: Mapped[dt.datetime | None]
    disclosure: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    disclosed_at: Mapped[dt.datetime | None]
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]


class DrawAvoidance(Base):
    """The tenderer's 回避 list for a draw: who, and why (kept as digest + masked number)."""

    __tablename__ = "expert_draw_avoidances"
    __table_args__ = (UniqueConstraint("draw_id", "id_digest"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    draw_id: Mapped[str] = mapped_column(ForeignKey("expert_draws.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    id_digest: Mapped[str] = mapped_column(String(64))
    id_masked: Mapped[str] = mapped_column(String(18))
    reason: Mapped[str] = mapped_column(String(500))
    added_by: Mapped[str | None] = mapped_column(String(32))
    added_at: Mapped[dt.datetime]


class DrawExclusion(Base):
    """An expert of a requested specialty left out of a draw, with the rule that excluded him."""

    __tablename__ = "expert_draw_exclusions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    draw_id: Mapped[str] = mapped_column(ForeignKey("expert_draws.id"), index=True)
    expert_id: Mapped[str] = mapped_column(String(32))
    stratum: Mapped[str] = mapped_column(String(11))
    rule: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(String(500), default="")


class DrawAssignment(Base):
    """A drawn expert: selected (正式) or alternate (替补), and how he answered."""

    __tablename__ = "expert_draw_assignments"
    __table_args__ = (UniqueConstraint("draw_id", "expert_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    draw_id: Mapped[str] = mapped_column(ForeignKey("expert_draws.id"), index=True)
    section_id: Mapped[str] = mapped_column(String(32), index=True)
    expert_id: Mapped[str] = mapped_column(ForeignKey("experts.id"), index=True)
    stratum: Mapped[str] = mapped_column(String(11))
    hashed_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(10))  # selected | alternate
    position: Mapped[int]  # order within the stratum: selected first, then alternates
    status: Mapped[str] = mapped_column(String(12), index=True)
    notified_at: Mapped[dt.datetime | None]
    respond_by: Mapped[dt.datetime | None] = mapped_column(index=True)
    responded_at: Mapped[dt.datetime | None]
    response_channel: Mapped[str] = mapped_column(String(12), default="")
    decline_reason: Mapped[str] = mapped_column(String(200), default="")


class ExpertNotification(Base):
    """One message sent to a drawn expert (voice call, SMS…) and its delivery result."""

    __tablename__ = "expert_notifications"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    assignment_id: Mapped[str] = mapped_column(ForeignKey("expert_draw_assignments.id"), index=True)
    # Unguessable reference the SMS gateway returns with the expert's reply.
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    artifact: Mapped[str] = mapped_column(String(300), default="")  # e.g. the WAV file
    delivered: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str] = mapped_column(String(500), default="")
    sent_at: Mapped[dt.datetime]
