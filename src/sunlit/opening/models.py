"""Opening tables: one session per section, one row per bid opened in it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sunlit.kernel.db import Base, new_id


class OpeningSession(Base):
    __tablename__ = "opening_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"), unique=True)
    status: Mapped[str] = mapped_column(String(12), index=True)
    host_user_id: Mapped[str | None] = mapped_column(String(32))
    scheduled_at: Mapped[dt.datetime]
    started_at: Mapped[dt.datetime | None]
    bid_count: Mapped[int] = mapped_column(default=0)
    min_bidders: Mapped[int] = mapped_column(default=3)
    insufficient: Mapped[bool] = mapped_column(default=False)
    decision: Mapped[str] = mapped_column(String(20), default="")  # "" | continue
    tenderer_decrypted_at: Mapped[dt.datetime | None]
    center_decrypted_at: Mapped[dt.datetime | None]
    announced_at: Mapped[dt.datetime | None]
    # Bidders confirm the announced results or object until then; silence counts as 视为认可.
    confirm_until: Mapped[dt.datetime | None]
    supervisor_value: Mapped[str | None] = mapped_column(String(200))
    supervisor_name: Mapped[str | None] = mapped_column(String(200))
    supervisor_entered_at: Mapped[dt.datetime | None]
    draw_record: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    record: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    record_signature: Mapped[str | None] = mapped_column(Text)
    confirmed_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    terminated_reason: Mapped[str] = mapped_column(Text, default="")


class OpenedBid(Base):
    """A bid in an opening: the holders' shares, the 唱标 summary, or the failure and remedy."""

    __tablename__ = "opening_bids"
    __table_args__ = (UniqueConstraint("session_id", "bid_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("opening_sessions.id"), index=True)
    bid_id: Mapped[str] = mapped_column(ForeignKey("bids.id"))
    org_id: Mapped[str] = mapped_column(String(32))
    credit_code: Mapped[str] = mapped_column(String(18))
    bidder_name: Mapped[str] = mapped_column(String(200))
    # Shares (hex) per part and role; harmless after the opening time, needed for the files.
    shares: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # pending | opened | failed | remedied | revoked (撤销) | withdrawn (撤回)
    status: Mapped[str] = mapped_column(String(12))
    failure_code: Mapped[str] = mapped_column(String(40), default="")
    failure_reason: Mapped[str] = mapped_column(Text, default="")
    bidder_fault: Mapped[bool | None]
    remedy_until: Mapped[dt.datetime | None]
    files_key: Mapped[str | None] = mapped_column(String(64))  # recovered by remedy (hex)
    price: Mapped[str | None] = mapped_column(String(40))
    duration_days: Mapped[int | None]
    quality: Mapped[str | None] = mapped_column(String(200))
    items: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    random: Mapped[str | None] = mapped_column(String(128))
    machine: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    opened_at: Mapped[dt.datetime | None]


class OpeningSignIn(Base):
    """A bidder's sign-in to the (remote) opening hall: one per organization and session."""

    __tablename__ = "opening_sign_ins"
    __table_args__ = (UniqueConstraint("session_id", "org_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("opening_sessions.id"), index=True)
    org_id: Mapped[str] = mapped_column(String(32))
    bidder_name: Mapped[str] = mapped_column(String(200))
    user_name: Mapped[str] = mapped_column(String(200))
    signed_in_at: Mapped[dt.datetime]


class OpeningObjection(Base):
    """开标异议 (招标投标法实施条例第44条): raised by a bidder on the spot, answered on the spot."""

    __tablename__ = "opening_objections"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("opening_sessions.id"), index=True)
    section_id: Mapped[str] = mapped_column(String(32), index=True)
    org_id: Mapped[str] = mapped_column(String(32))
    bidder_name: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str | None] = mapped_column(String(32))
    user_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    content: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[dt.datetime]
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(32))
    answered_by_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    answered_at: Mapped[dt.datetime | None]


class OpeningConfirmation(Base):
    """A bidder's 确认无误 of the announced results: at most one per organization and session.

    Bidders without a row when the window closes are 视为认可 (deemed to confirm) unless they
    raised an objection; the signed opening record says which is which."""

    __tablename__ = "opening_confirmations"
    __table_args__ = (UniqueConstraint("session_id", "org_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("opening_sessions.id"), index=True)
    org_id: Mapped[str] = mapped_column(String(32))
    bidder_name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18))
    user_id: Mapped[str | None] = mapped_column(String(32))
    user_name: Mapped[str] = mapped_column(String(200))
    confirmed_at: Mapped[dt.datetime]
