"""Project tables: 项目 (500), 招标项目 (501), 标段（包） (502/504), venues, restrictions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sunlit.kernel.db import Base, new_id

Money = Numeric(18, 2)


class Project(Base):
    """项目: the investment / procurement project a tender belongs to."""

    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(17), unique=True)
    name: Mapped[str] = mapped_column(String(600))
    category: Mapped[str] = mapped_column(String(30))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    owner_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    invest_project_code: Mapped[str] = mapped_column(String(24), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    legal_person: Mapped[str] = mapped_column(String(200), default="")
    fund_source: Mapped[str] = mapped_column(String(1000), default="")
    scale: Mapped[str] = mapped_column(Text, default="")
    approval_name: Mapped[str] = mapped_column(String(500), default="")
    approval_number: Mapped[str] = mapped_column(String(100), default="")
    approval_authority: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(100), default="")
    registered_by_org_id: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    tender_projects: Mapped[list[TenderProject]] = relationship(
        back_populates="project", order_by="TenderProject.code", lazy="selectin"
    )


class TenderProject(Base):
    """招标项目 / 采购项目: the unit the trading center accepts (受理) and a notice announces."""

    __tablename__ = "tender_projects"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(600))
    category: Mapped[str] = mapped_column(String(30), index=True)
    method: Mapped[str] = mapped_column(String(30))
    must_tender: Mapped[bool] = mapped_column(default=True)  # IS_TO_LAW 依法必须招标
    project_type: Mapped[str] = mapped_column(String(3), default="")  # TENDER_PROJECT_TYPE
    content: Mapped[str] = mapped_column(Text, default="")  # TENDER_CONTENT
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    tenderer_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    agency_org_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    supervise_dept_name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), index=True)
    review_note: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[dt.datetime | None]
    accepted_at: Mapped[dt.datetime | None]
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    project: Mapped[Project] = relationship(back_populates="tender_projects", lazy="selectin")
    sections: Mapped[list[Section]] = relationship(
        back_populates="tender_project", order_by="Section.code", lazy="selectin"
    )
    entrustment: Mapped[Entrustment | None] = relationship(
        back_populates="tender_project", lazy="selectin", uselist=False
    )


class Entrustment(Base):
    """委托代理: the tenderer entrusts an agency with the tender (招标投标法第12、13条)."""

    __tablename__ = "tender_entrustments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tender_project_id: Mapped[str] = mapped_column(ForeignKey("tender_projects.id"), unique=True)
    tenderer_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    agency_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    contract_no: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(Text, default="")
    signed_on: Mapped[dt.date | None] = mapped_column(Date)
    declared_by_org_id: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[dt.datetime]

    tender_project: Mapped[TenderProject] = relationship(back_populates="entrustment")


class Section(Base):
    """标段（包）: what bidders bid for; carries the terms of the tender documents (504)."""

    __tablename__ = "sections"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tender_project_id: Mapped[str] = mapped_column(ForeignKey("tender_projects.id"), index=True)
    code: Mapped[str] = mapped_column(String(23), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    content: Mapped[str] = mapped_column(Text, default="")
    classify_code: Mapped[str] = mapped_column(String(30), default="")
    qualification: Mapped[str] = mapped_column(Text, default="")
    estimated_price: Mapped[Decimal] = mapped_column(Money)  # 合同估算价 / 预算金额
    control_price: Mapped[Decimal | None] = mapped_column(Money)  # 最高投标限价
    bid_security: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    duration_days: Mapped[int | None]  # 工期 / 服务期
    bid_validity_days: Mapped[int] = mapped_column(default=90)
    evaluation_method: Mapped[str] = mapped_column(String(40))
    bid_deadline: Mapped[dt.datetime | None] = mapped_column(index=True)
    min_bidders: Mapped[int] = mapped_column(default=3)
    allow_consortium: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    tender_project: Mapped[TenderProject] = relationship(back_populates="sections", lazy="selectin")
    coefficients: Mapped[list[SectionCoefficient]] = relationship(
        back_populates="section",
        order_by="SectionCoefficient.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    @property
    def opening_time(self) -> dt.datetime | None:
        """开标时间 = 投标截止时间 (招标投标法第34条)."""
        return self.bid_deadline


class SectionCoefficient(Base):
    """A coefficient drawn at opening (e.g. 下浮系数K) and its candidate values.

    Frozen once the section's notice is published (DESIGN D1: candidates fixed before bidding
    closes). Candidates are stored as decimal strings, so they round-trip exactly.
    """

    __tablename__ = "section_coefficients"
    __table_args__ = (UniqueConstraint("section_id", "name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(40))
    candidates: Mapped[list[str]] = mapped_column(JSON)

    section: Mapped[Section] = relationship(back_populates="coefficients")

    @property
    def values(self) -> list[Decimal]:
        return [Decimal(v) for v in self.candidates]


class CodeCounter(Base):
    """The last serial used per code prefix (letter + region + year)."""

    __tablename__ = "project_code_counters"

    prefix: Mapped[str] = mapped_column(String(16), primary_key=True)
    last: Mapped[int]


class Room(Base):
    """开标室 / 评标室 managed by the center; ``remote`` rooms are at another center (远程异地)."""

    __tablename__ = "venue_rooms"
    __table_args__ = (UniqueConstraint("center_name", "name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    center_name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    seats: Mapped[int] = mapped_column(default=0)
    remote: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime]


class Booking(Base):
    """A room booked for an opening or an evaluation; a sub-venue (分会场) points to its main."""

    __tablename__ = "venue_bookings"
    __table_args__ = (Index("ix_venue_bookings_room_time", "room_id", "starts_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("venue_rooms.id"))
    tender_project_id: Mapped[str] = mapped_column(ForeignKey("tender_projects.id"), index=True)
    section_id: Mapped[str | None] = mapped_column(ForeignKey("sections.id"))
    purpose: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    main_booking_id: Mapped[str | None] = mapped_column(ForeignKey("venue_bookings.id"))
    status: Mapped[str] = mapped_column(String(20), default="active")
    note: Mapped[str] = mapped_column(String(500), default="")
    booked_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]
    cancelled_at: Mapped[dt.datetime | None]

    room: Mapped[Room] = relationship(lazy="selectin")
    tender_project: Mapped[TenderProject] = relationship(lazy="selectin")
    section: Mapped[Section | None] = relationship(lazy="selectin")

    @property
    def is_branch(self) -> bool:
        return self.main_booking_id is not None


class Restriction(Base):
    """A credit restriction (黑名单 / 限制投标, data spec 300/302) on an organization."""

    __tablename__ = "participation_restrictions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    authority: Mapped[str] = mapped_column(String(200))  # 处罚部门
    document_no: Mapped[str] = mapped_column(String(100), default="")  # 处理文件文号
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    revoke_note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]

    def active_at(self, when: dt.datetime) -> bool:
        if self.revoked_at is not None and self.revoked_at <= when:
            return False
        return self.starts_at <= when and (self.ends_at is None or when < self.ends_at)
