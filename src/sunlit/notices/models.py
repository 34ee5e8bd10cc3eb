"""Notice tables: documents, notices (503/504), their sections and invitees, downloads (9006)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sunlit.kernel.db import Base, new_id


class Notice(Base):
    """A notice: 招标公告, 投标邀请书, 采购公告, 单一来源公示, 澄清/修改公告 or 终止公告.

    Columns the public portal filters on are copied from the tender project when the notice
    is created (category, method, region, names), so listing 100,000 notices needs no join.
    ``modified_at`` moves forward on every change: the change feed pages on it.
    """

    __tablename__ = "notices"
    __table_args__ = (
        Index("ix_notices_feed", "modified_at", "id"),
        # The listing reads this backwards in (published_at, id) order; the filter columns
        # ride along so that counting matches (up to COUNT_CAP) never touches the table.
        Index(
            "ix_notices_portal",
            "public",
            "published_at",
            "id",
            "status",
            "category",
            "method",
            "region_code",
            "kind",
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tender_project_id: Mapped[str] = mapped_column(ForeignKey("tender_projects.id"), index=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("notices.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    title: Mapped[str] = mapped_column(String(600))
    content: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20))
    public: Mapped[bool] = mapped_column(default=True)
    tender_project_code: Mapped[str] = mapped_column(String(20), index=True)
    tender_project_name: Mapped[str] = mapped_column(String(600))
    category: Mapped[str] = mapped_column(String(30), index=True)
    method: Mapped[str] = mapped_column(String(30), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    tenderer_name: Mapped[str] = mapped_column(String(200), default="")
    agency_name: Mapped[str] = mapped_column(String(200), default="")
    deadline: Mapped[dt.datetime | None]  # the latest bid deadline of its sections
    previous_deadline: Mapped[dt.datetime | None]  # clarifications that moved the deadline
    new_deadline: Mapped[dt.datetime | None]
    published_at: Mapped[dt.datetime | None]
    modified_at: Mapped[dt.datetime]
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]

    sections: Mapped[list[NoticeSection]] = relationship(
        back_populates="notice",
        cascade="all, delete-orphan",
        order_by="NoticeSection.section_code",
        lazy="selectin",
    )
    invitees: Mapped[list[NoticeInvitee]] = relationship(
        back_populates="notice", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def section_ids(self) -> list[str]:
        return [s.section_id for s in self.sections]

    @property
    def section_codes(self) -> list[str]:
        return [s.section_code for s in self.sections]


class NoticeSection(Base):
    __tablename__ = "notice_sections"

    notice_id: Mapped[str] = mapped_column(ForeignKey("notices.id"), primary_key=True)
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"), primary_key=True, index=True)
    section_code: Mapped[str] = mapped_column(String(23))

    notice: Mapped[Notice] = relationship(back_populates="sections")


class NoticeInvitee(Base):
    """An organization invited by a 投标邀请书 (only they see it and its documents)."""

    __tablename__ = "notice_invitees"

    notice_id: Mapped[str] = mapped_column(ForeignKey("notices.id"), primary_key=True)
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id"), primary_key=True, index=True
    )
    org_name: Mapped[str] = mapped_column(String(200))

    notice: Mapped[Notice] = relationship(back_populates="invitees")


class Document(Base):
    """A file of a tender: 招标文件, 澄清/修改文件 or 公告附件, signed by its issuer.

    ``signed_digest`` is the digest line the issuer signed (``sha256:<hex>`` or ``sm3:<hex>``),
    ``signed_message`` the whole signed text and ``signature`` the DER signature over it
    (ADR 0007), so anyone can re-verify a document later with the signer's certificate.
    """

    __tablename__ = "tender_documents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tender_project_id: Mapped[str] = mapped_column(ForeignKey("tender_projects.id"), index=True)
    notice_id: Mapped[str | None] = mapped_column(ForeignKey("notices.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    sm3: Mapped[str] = mapped_column(String(64))
    blob_key: Mapped[str] = mapped_column(String(300))
    signed_digest: Mapped[str] = mapped_column(String(80))
    signed_message: Mapped[str] = mapped_column(Text)  # the exact text signed (re-verifiable)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    signer_user_id: Mapped[str | None] = mapped_column(String(32))
    signer_name: Mapped[str] = mapped_column(String(200), default="")
    signer_org_id: Mapped[str | None] = mapped_column(String(32))
    certificate_fingerprint: Mapped[str] = mapped_column(String(64))
    certificate_subject: Mapped[str] = mapped_column(String(500), default="")
    uploaded_at: Mapped[dt.datetime]


class Download(Base):
    """招标文件获取记录 (data spec 9006). Hidden from everyone but the downloader until the
    bid deadline: no query reveals who or how many downloaded before it."""

    __tablename__ = "document_downloads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    document_id: Mapped[str] = mapped_column(ForeignKey("tender_documents.id"), index=True)
    tender_project_id: Mapped[str] = mapped_column(ForeignKey("tender_projects.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    user_id: Mapped[str | None] = mapped_column(String(32))
    downloaded_at: Mapped[dt.datetime]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(300), default="")
