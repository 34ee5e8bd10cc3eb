"""Transparency tables: issued checkpoints and their witness co-signatures.

The log itself (leaves, subtree nodes, sealed openings, metadata) is in ``kernel.tlog``.
"""

from __future__ import annotations

import base64
import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sunlit.kernel.db import Base, new_id


class Checkpoint(Base):
    """A signed checkpoint (size, root, time, log, hash) as issued and published."""

    __tablename__ = "transparency_checkpoints"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tree_size: Mapped[int] = mapped_column(BigInteger, unique=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(64))
    origin: Mapped[str] = mapped_column(String(200))
    hash_algorithm: Mapped[str] = mapped_column(String(20))
    issued_at: Mapped[dt.datetime]
    body: Mapped[str] = mapped_column(Text)  # the note text that is signed
    key_name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[bytes] = mapped_column(LargeBinary(4))  # signed-note key ID
    key_id: Mapped[str] = mapped_column(String(64))  # hex suite hash of the SPKI
    signature: Mapped[bytes] = mapped_column(LargeBinary)  # DER
    reason: Mapped[str] = mapped_column(String(200))
    issued_by: Mapped[str | None] = mapped_column(String(32))  # user id; None for the platform

    cosignatures: Mapped[list[Cosignature]] = relationship(
        back_populates="checkpoint", lazy="selectin", order_by="Cosignature.signed_at"
    )

    @property
    def root_b64(self) -> str:
        """The root hash in standard base64, as in the checkpoint text."""
        return base64.b64encode(self.root_hash).decode("ascii")


class Cosignature(Base):
    """A supervisor's co-signature (见证联署) over a checkpoint's note text."""

    __tablename__ = "transparency_cosignatures"
    __table_args__ = (UniqueConstraint("checkpoint_id", "certificate_fingerprint"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    checkpoint_id: Mapped[str] = mapped_column(
        ForeignKey("transparency_checkpoints.id"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(32))
    org_id: Mapped[str | None] = mapped_column(String(32))
    signer_name: Mapped[str] = mapped_column(String(200))
    certificate_id: Mapped[str] = mapped_column(String(32))
    certificate_fingerprint: Mapped[str] = mapped_column(String(64))
    key_name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[bytes] = mapped_column(LargeBinary(4))
    public_key_pem: Mapped[str] = mapped_column(Text)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    signed_at: Mapped[dt.datetime]

    checkpoint: Mapped[Checkpoint] = relationship(back_populates="cosignatures")
