"""Project reads, scoped to what the actor may see."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from sunlit.identity import queries as identity_queries
from sunlit.kernel import clock
from sunlit.kernel.authz import Actor
from sunlit.kernel.errors import not_found
from sunlit.projects.models import (
    Booking,
    Project,
    Restriction,
    Room,
    Section,
    TenderProject,
)
from sunlit.projects.policies import POLICY, is_party
from sunlit.projects.states import TenderStatus


def get_tender_project(db: Session, actor: Actor, tender_id: str) -> TenderProject:
    tender = db.get(TenderProject, tender_id)
    POLICY.require_visible(actor, "tender.view", tender, "招标项目")
    assert tender is not None
    return tender


def get_project(db: Session, actor: Actor, project_id: str) -> Project:
    project = db.get(Project, project_id)
    if project is None:
        raise not_found("项目")
    if not (
        POLICY.allows(actor, "tender.list_all")
        or actor.org_id in (project.owner_org_id, project.registered_by_org_id)
    ):
        raise not_found("项目")
    return project


def get_section(db: Session, actor: Actor, section_id: str) -> Section:
    section = db.get(Section, section_id)
    if section is None or not POLICY.allows(actor, "tender.view", section.tender_project):
        raise not_found("标段")
    return section


def section_by_id(db: Session, section_id: str) -> Section | None:
    """Unscoped, for other domains' services that enforce their own visibility rules."""
    return db.get(Section, section_id)


@dataclass(frozen=True)
class SectionGate:
    """The few facts of a section that a hot path (bid upload) checks: one row, one query."""

    id: str
    code: str
    status: str
    tender_status: str
    bid_deadline: dt.datetime | None


def section_gate(db: Session, section_id: str) -> SectionGate | None:
    """Unscoped, like :func:`section_by_id`, but one plain query and no ORM objects: nothing for
    a later rollback to expire and reload."""
    row = db.execute(
        select(Section.id, Section.code, Section.status, TenderProject.status, Section.bid_deadline)
        .join(TenderProject, TenderProject.id == Section.tender_project_id)
        .where(Section.id == section_id)
    ).first()
    return SectionGate(*row) if row is not None else None


def tender_by_id(db: Session, tender_id: str) -> TenderProject | None:
    """Unscoped, for other domains' services that enforce their own visibility rules."""
    return db.get(TenderProject, tender_id)


def sections_by_ids(db: Session, ids: Sequence[str]) -> list[Section]:
    if not ids:
        return []
    return list(db.scalars(select(Section).where(Section.id.in_(ids)).order_by(Section.code)))


def is_tender_party(actor: Actor, tender: TenderProject) -> bool:
    return is_party(actor, tender)


def can_view_tender(actor: Actor, tender: TenderProject) -> bool:
    return POLICY.allows(actor, "tender.view", tender)


def my_tender_projects(db: Session, actor: Actor, status: str | None = None) -> list[TenderProject]:
    """The tender projects of the actor's organization, as tenderer or as agency."""
    if actor.org_id is None:
        return []
    stmt = select(TenderProject).where(
        or_(
            TenderProject.tenderer_org_id == actor.org_id,
            TenderProject.agency_org_id == actor.org_id,
        )
    )
    if status:
        stmt = stmt.where(TenderProject.status == status)
    rows = db.scalars(stmt.order_by(TenderProject.updated_at.desc(), TenderProject.id))
    return [t for t in rows if is_party(actor, t)]


def search_tender_projects(
    db: Session,
    actor: Actor,
    status: str | None = None,
    q: str = "",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[TenderProject], int]:
    """Center staff and supervisors: every tender project (the acceptance queue by status)."""
    POLICY.require(actor, "tender.list_all")
    stmt = select(TenderProject)
    if status:
        stmt = stmt.where(TenderProject.status == status)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(TenderProject.name.like(like), TenderProject.code.like(like)))
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    order = (
        TenderProject.submitted_at.asc()
        if status == TenderStatus.SUBMITTED
        else TenderProject.updated_at.desc()
    )
    rows = db.scalars(stmt.order_by(order, TenderProject.id).limit(limit).offset(offset))
    return list(rows), total


def org_names(db: Session, ids: Sequence[str | None]) -> dict[str, str]:
    result = {}
    for org_id in {i for i in ids if i}:
        summary = identity_queries.organization_summary(db, org_id)
        if summary is not None:
            result[org_id] = summary.name
    return result


# --- venues --------------------------------------------------------------------------------


def rooms(db: Session, actor: Actor, include_inactive: bool = False) -> list[Room]:
    POLICY.require(actor, "venue.view")
    stmt = select(Room)
    if not include_inactive:
        stmt = stmt.where(Room.active.is_(True))
    return list(
        db.scalars(stmt.order_by(Room.remote, Room.kind.desc(), Room.center_name, Room.name))
    )


def bookings_between(
    db: Session, actor: Actor, start: dt.datetime, end: dt.datetime
) -> list[Booking]:
    """The venue calendar: active bookings overlapping [start, end)."""
    POLICY.require(actor, "venue.view")
    stmt = (
        select(Booking)
        .where(Booking.status == "active", Booking.starts_at < end, Booking.ends_at > start)
        .order_by(Booking.starts_at, Booking.id)
    )
    return list(db.scalars(stmt))


def bookings_of(db: Session, actor: Actor, tender_id: str) -> list[Booking]:
    get_tender_project(db, actor, tender_id)
    return active_bookings_of(db, tender_id)


def active_bookings_of(db: Session, tender_id: str) -> list[Booking]:
    """Active bookings of a tender project (the opening place is public once announced)."""
    stmt = (
        select(Booking)
        .where(Booking.tender_project_id == tender_id, Booking.status == "active")
        .order_by(Booking.starts_at, Booking.main_booking_id.is_not(None), Booking.id)
    )
    return list(db.scalars(stmt))


def opening_places(db: Session, section_ids: Sequence[str]) -> dict[str, list[Booking]]:
    """The opening rooms (main first, then sub-venues) booked for each section.

    A booking names a section, or none (then it serves every section of its tender project).
    Only bookings that cover the section's current opening time count: after a clarification
    moved the deadline, the old booking is no longer the opening place until staff rebook.
    """
    sections = sections_by_ids(db, section_ids)
    if not sections:
        return {}
    stmt = (
        select(Booking)
        .where(
            Booking.tender_project_id.in_({s.tender_project_id for s in sections}),
            Booking.status == "active",
            Booking.purpose == "opening",
        )
        .order_by(Booking.starts_at, Booking.main_booking_id.is_not(None), Booking.id)
    )
    bookings = list(db.scalars(stmt))
    result: dict[str, list[Booking]] = {}
    for s in sections:
        if s.bid_deadline is None:
            continue
        opening = clock.ensure_aware(s.bid_deadline)
        for b in bookings:
            if (
                b.tender_project_id == s.tender_project_id
                and b.section_id in (None, s.id)
                and clock.ensure_aware(b.starts_at) <= opening < clock.ensure_aware(b.ends_at)
            ):
                result.setdefault(s.id, []).append(b)
    return result


# --- restrictions --------------------------------------------------------------------------


def active_restriction(
    db: Session, org_id: str, at: dt.datetime | None = None
) -> Restriction | None:
    """The restriction that bars ``org_id`` at ``at`` (now by default), if any."""
    when = at or clock.now()
    stmt = select(Restriction).where(
        Restriction.org_id == org_id,
        Restriction.starts_at <= when,
        or_(Restriction.ends_at.is_(None), Restriction.ends_at > when),
        or_(Restriction.revoked_at.is_(None), Restriction.revoked_at > when),
    )
    return db.scalars(stmt.order_by(Restriction.starts_at)).first()


def restrictions(db: Session, actor: Actor) -> list[Restriction]:
    POLICY.require(actor, "restriction.view")
    return list(db.scalars(select(Restriction).order_by(Restriction.created_at.desc())))
