"""Bidding tables: opening keys and draw commitments of a section, sealed bids (投标文件)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from sunlit.kernel.db import Base, new_id


class OpeningKeyRecord(Base):
    """A section's opening public key of one role, and (optionally) its holder's private key
    encrypted under a passphrase the platform never sees (ADR 0008, ADR 0010)."""

    __tablename__ = "bid_opening_keys"
    __table_args__ = (UniqueConstraint("section_id", "role"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))  # tenderer | center
    suite: Mapped[str] = mapped_column(String(8))
    key_id: Mapped[str] = mapped_column(String(64))
    public_pem: Mapped[str] = mapped_column(Text)
    encrypted_private_pem: Mapped[str | None] = mapped_column(Text)
    registered_by_org_id: Mapped[str | None] = mapped_column(String(32))
    registered_by: Mapped[str | None] = mapped_column(String(32))
    registered_at: Mapped[dt.datetime]


class DrawCommitment(Base):
    """The center's commitment to its coefficient-draw value, made before the deadline."""

    __tablename__ = "bid_draw_commitments"

    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"), primary_key=True)
    suite: Mapped[str] = mapped_column(String(8))
    commitment: Mapped[str] = mapped_column(String(128))  # hex
    committed_at: Mapped[dt.datetime]
    registered_by: Mapped[str | None] = mapped_column(String(32))


class Bid(Base):
    """One accepted upload of a sealed bid. The last valid one of a bidder counts."""

    __tablename__ = "bids"
    __table_args__ = (
        Index("ix_bids_section_org", "section_id", "org_id"),
        # At most one counting bid per bidder and section, even under concurrent uploads.
        Index(
            "uq_bids_one_valid",
            "section_id",
            "org_id",
            unique=True,
            sqlite_where=text("status = 'valid'"),
            postgresql_where=text("status = 'valid'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    user_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12), index=True)  # valid|superseded|withdrawn
    header_bid_id: Mapped[str] = mapped_column(String(64))  # the container's bid id (hex)
    bid_digest: Mapped[str] = mapped_column(String(128))  # hex
    size: Mapped[int] = mapped_column(BigInteger)
    blob_key: Mapped[str] = mapped_column(String(200))
    certificate_fingerprint: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[dt.datetime]
    withdrawn_at: Mapped[dt.datetime | None]
    audit_event_id: Mapped[str] = mapped_column(String(32))
