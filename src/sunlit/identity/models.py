"""Identity tables."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sunlit.kernel.db import Base, new_id


class Organization(Base):
    """A market subject (市场主体) identified by its 统一社会信用代码."""

    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    region_code: Mapped[str] = mapped_column(String(6))
    legal_representative: Mapped[str] = mapped_column(String(100), default="")
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    basic_account_bank: Mapped[str] = mapped_column(String(200), default="")
    basic_account_no: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(20), index=True)
    review_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    roles: Mapped[list[OrganizationRole]] = relationship(
        back_populates="organization", cascade="all, delete-orphan", lazy="selectin"
    )
    users: Mapped[list[User]] = relationship(back_populates="organization", lazy="raise")

    @property
    def role_names(self) -> list[str]:
        return sorted(r.role for r in self.roles)


class OrganizationRole(Base):
    __tablename__ = "organization_roles"
    __table_args__ = (UniqueConstraint("organization_id", "role"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    role: Mapped[str] = mapped_column(String(20))
    organization: Mapped[Organization] = relationship(back_populates="roles")


class User(Base):
    """A person acting for an organization (for experts: their employer)."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    mobile: Mapped[str] = mapped_column(String(20), default="")
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)  # roles this person holds
    status: Mapped[str] = mapped_column(String(20), default="active")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None]
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None]
    last_login_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]

    organization: Mapped[Organization] = relationship(back_populates="users", lazy="joined")
    certificates: Mapped[list[Certificate]] = relationship(back_populates="user", lazy="raise")


class Certificate(Base):
    """An X.509 certificate bound to a user (证书绑定)."""

    __tablename__ = "certificates"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the DER
    serial: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(500))
    algorithm: Mapped[str] = mapped_column(String(20))
    not_before: Mapped[dt.datetime]
    not_after: Mapped[dt.datetime]
    der: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20), default="active")
    bound_at: Mapped[dt.datetime]

    user: Mapped[User] = relationship(back_populates="certificates", lazy="joined")


class TrustedCA(Base):
    """A CA root the platform trusts (多CA互认: several at once)."""

    __tablename__ = "trusted_cas"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[str] = mapped_column(String(500))
    algorithm: Mapped[str] = mapped_column(String(20))
    der: Mapped[bytes] = mapped_column(LargeBinary)
    enabled: Mapped[bool] = mapped_column(default=True)
    crl_der: Mapped[bytes | None] = mapped_column(LargeBinary)
    crl_updated_at: Mapped[dt.datetime | None]
    added_at: Mapped[dt.datetime]


class LoginChallenge(Base):
    """A one-time challenge a certificate holder signs (replay and expiry protected)."""

    __tablename__ = "login_challenges"
    __table_args__ = (Index("ix_login_challenges_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    nonce: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(20))  # login | bind
    subject_id: Mapped[str | None] = mapped_column(String(32))  # the user, for bind
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]

    def message(self, audience: str) -> bytes:
        """The exact bytes the client signs."""
        return (
            f"sunlit-{self.purpose}:v1\n{audience}\n{self.id}\n{self.nonce}\n"
            f"{self.expires_at.isoformat()}"
        ).encode()
