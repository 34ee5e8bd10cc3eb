"""Reads of the expert domain, scoped to what the actor may see.

Double-blind (DESIGN.md D4): before a draw is disclosed nobody — staff included — sees who was
drawn through these functions; views show hashed candidate ids and answers only. The functions
marked *unscoped* serve other domains' services (committee formation) and the draw itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from sunlit.kernel import clock
from sunlit.kernel.authz import Actor
from sunlit.kernel.errors import not_found
from sunlit.projects import queries as project_queries

from .catalog import RULE_LABELS, Rule, full_name, mask_mobile
from .catalog import specialties as specialty_table
from .models import (
    DrawAssignment,
    DrawAvoidance,
    Expert,
    ExpertCreditRecord,
    ExpertDraw,
    ExpertLeave,
    ExpertNotification,
    ExpertSpecialty,
)
from .policies import POLICY
from .selection import PoolRow
from .states import ASSIGNMENT_LIFECYCLE, DRAW_LIFECYCLE, AssignmentStatus, DrawStatus

# --- the pool ------------------------------------------------------------------------------


def expert_view(e: Expert) -> dict[str, Any]:
    return {
        "id": e.id,
        "user_id": e.user_id,
        "name": e.name,
        "id_number": e.id_masked,
        "mobile": mask_mobile(e.mobile),
        "employer_name": e.employer_name,
        "employer_credit_code": e.employer_credit_code,
        "title": e.title,
        "region_code": e.region_code,
        "main_specialty": e.main_specialty,
        "main_specialty_name": full_name(e.main_specialty),
        "other_specialties": [s.code for s in e.specialties if s.position > 0],
        "status": e.status,
        "restricted_until": e.restricted_until.isoformat() if e.restricted_until else None,
        "last_drawn_at": e.last_drawn_at.isoformat() if e.last_drawn_at else None,
    }


def get_expert(db: Session, actor: Actor, expert_id: str) -> Expert:
    e = db.get(Expert, expert_id)
    if e is None or not (
        POLICY.allows(actor, "experts.pool.view") or POLICY.allows(actor, "experts.profile.edit", e)
    ):
        raise not_found("专家")
    return e


def my_expert(db: Session, actor: Actor) -> Expert | None:
    if actor.user_id is None:
        return None
    return db.scalar(select(Expert).where(Expert.user_id == actor.user_id))


def expert_by_user(db: Session, user_id: str) -> Expert | None:
    """Unscoped: the pool entry of a platform user, if any."""
    return db.scalar(select(Expert).where(Expert.user_id == user_id))


def search_experts(
    db: Session,
    actor: Actor,
    q: str = "",
    specialty: str = "",
    status: str = "",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Expert], int]:
    POLICY.require(actor, "experts.pool.view")
    stmt = select(Expert)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Expert.name.like(like), Expert.employer_name.like(like)))
    if specialty:
        stmt = stmt.where(
            Expert.id.in_(
                select(ExpertSpecialty.expert_id).where(ExpertSpecialty.code.like(f"{specialty}%"))
            )
        )
    if status:
        stmt = stmt.where(Expert.status == status)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.scalars(stmt.order_by(Expert.name, Expert.id).limit(limit).offset(offset))
    return list(rows), total


def leaves_of(db: Session, actor: Actor, expert_id: str) -> list[ExpertLeave]:
    get_expert(db, actor, expert_id)
    return list(
        db.scalars(
            select(ExpertLeave)
            .where(ExpertLeave.expert_id == expert_id, ExpertLeave.cancelled_at.is_(None))
            .order_by(ExpertLeave.starts_at)
        )
    )


def credit_records_of(db: Session, actor: Actor, expert_id: str) -> list[ExpertCreditRecord]:
    get_expert(db, actor, expert_id)
    return list(
        db.scalars(
            select(ExpertCreditRecord)
            .where(ExpertCreditRecord.expert_id == expert_id)
            .order_by(ExpertCreditRecord.recorded_at)
        )
    )


def all_experts(db: Session, actor: Actor) -> list[Expert]:
    """Every expert, for the Excel export (staff)."""
    POLICY.require(actor, "experts.pool.manage")
    return list(db.scalars(select(Expert).order_by(Expert.name, Expert.id)))


def pool_rows(db: Session, specialties: Sequence[str]) -> list[PoolRow]:
    """Unscoped, for the draw: experts with a specialty under any of ``specialties``."""
    if not specialties:
        return []
    # The code table is small: expand each requested code to itself and its descendants, so
    # the query is an indexed IN instead of LIKE prefixes (case-insensitive in SQLite: no index).
    expanded = sorted({c for c in specialty_table() if any(c.startswith(s) for s in specialties)})
    cond = ExpertSpecialty.code.in_(expanded)
    stmt = (
        select(
            Expert.id,
            Expert.main_specialty,
            Expert.employer_credit_code,
            Expert.region_code,
            Expert.status,
            Expert.restricted_until,
            Expert.last_drawn_at,
            Expert.id_digest,
            ExpertSpecialty.code,
        )
        .join(ExpertSpecialty, ExpertSpecialty.expert_id == Expert.id)
        .where(cond)
    )
    rows: dict[str, PoolRow] = {}
    codes: dict[str, list[str]] = {}
    for r in db.execute(stmt):
        codes.setdefault(r[0], []).append(r[8])
        if r[0] not in rows:
            rows[r[0]] = PoolRow(
                r[0],
                r[1],
                (),
                r[2],
                r[3],
                r[4],
                clock.ensure_aware(r[5]) if r[5] is not None else None,
                clock.ensure_aware(r[6]) if r[6] is not None else None,
                r[7],
            )
    return [
        PoolRow(
            p.id,
            p.main_specialty,
            tuple(codes[p.id]),
            p.employer_credit_code,
            p.region_code,
            p.status,
            p.restricted_until,
            p.last_drawn_at,
            p.id_digest,
        )
        for p in rows.values()
    ]


def on_leave(db: Session, starts_at: dt.datetime, ends_at: dt.datetime) -> frozenset[str]:
    """Unscoped: experts with (uncancelled) leave overlapping [starts_at, ends_at)."""
    return frozenset(
        db.scalars(
            select(ExpertLeave.expert_id).where(
                ExpertLeave.cancelled_at.is_(None),
                ExpertLeave.starts_at < ends_at,
                ExpertLeave.ends_at > starts_at,
            )
        )
    )


# --- draws ---------------------------------------------------------------------------------


def _visible_draw(db: Session, actor: Actor, draw_id: str) -> ExpertDraw:
    d = db.get(ExpertDraw, draw_id)
    section = project_queries.section_by_id(db, d.section_id) if d is not None else None
    tender = section.tender_project if section is not None else None
    if d is None or not POLICY.allows(actor, "experts.draw.view", tender):
        raise not_found("专家抽取")
    return d


def draws_of_section(db: Session, actor: Actor, section_id: str) -> list[dict[str, Any]]:
    section = project_queries.section_by_id(db, section_id)
    if section is None or not POLICY.allows(actor, "experts.draw.view", section.tender_project):
        raise not_found("标段")
    rows = db.scalars(
        select(ExpertDraw)
        .where(ExpertDraw.section_id == section_id)
        .order_by(ExpertDraw.created_at, ExpertDraw.code)
    )
    return [draw_view(db, actor, d.id) for d in rows]


def recent_draws(db: Session, actor: Actor, limit: int = 100) -> list[ExpertDraw]:
    POLICY.require(actor, "experts.pool.view")
    return list(db.scalars(select(ExpertDraw).order_by(ExpertDraw.created_at.desc()).limit(limit)))


def root_of(db: Session, d: ExpertDraw) -> ExpertDraw:
    if d.parent_id is None:
        return d
    root = db.get(ExpertDraw, d.parent_id)
    assert root is not None
    return root


def family(db: Session, root: ExpertDraw) -> list[ExpertDraw]:
    """A draw and its supplementary draws (补抽), in creation order."""
    children = db.scalars(
        select(ExpertDraw)
        .where(ExpertDraw.parent_id == root.id)
        .order_by(ExpertDraw.created_at, ExpertDraw.code)
    )
    return [root, *children]


def draw_view(db: Session, actor: Actor, draw_id: str) -> dict[str, Any]:
    d = _visible_draw(db, actor, draw_id)
    section = project_queries.section_by_id(db, d.section_id)
    assert section is not None
    disclosed = root_of(db, d).disclosed_at is not None
    assignments = list(
        db.scalars(
            select(DrawAssignment)
            .where(DrawAssignment.draw_id == d.id)
            .order_by(DrawAssignment.stratum, DrawAssignment.position)
        )
    )
    names: dict[str, Expert] = {}
    if disclosed:
        ids = [a.expert_id for a in assignments]
        names = {e.id: e for e in db.scalars(select(Expert).where(Expert.id.in_(ids)))}
    avoidances = db.scalars(select(DrawAvoidance).where(DrawAvoidance.draw_id == d.id))
    status = DrawStatus(d.status)
    return {
        "id": d.id,
        "code": d.code,
        "parent_id": d.parent_id,
        "section_id": d.section_id,
        "section_code": section.code,
        "section_name": section.name,
        "status": d.status,
        "status_label": DRAW_LIFECYCLE.label(status),
        "suite": d.suite,
        "evaluation_starts_at": clock.ensure_aware(d.evaluation_starts_at).isoformat(),
        "evaluation_ends_at": clock.ensure_aware(d.evaluation_ends_at).isoformat(),
        "venue": d.venue,
        "strata": [{**s, "name": full_name(s["specialty"])} for s in d.strata],
        "regions": d.regions,
        "region_reason": d.region_reason,
        "cooldown_days": d.cooldown_days,
        "response_minutes": d.response_minutes,
        "commitment": d.commitment,
        "committed_at": clock.ensure_aware(d.committed_at).isoformat(),
        "definition_hash": d.definition_hash,
        "fixed_at": clock.ensure_aware(d.fixed_at).isoformat() if d.fixed_at else None,
        "exclusions": [
            {
                **s,
                "excluded": {
                    k: {"count": v, "label": RULE_LABELS[Rule(k)]}
                    for k, v in s.get("excluded", {}).items()
                },
            }
            for s in (d.exclusion_summary or [])
        ],
        "supervisor_entered_at": (
            clock.ensure_aware(d.supervisor_entered_at).isoformat()
            if d.supervisor_entered_at
            else None
        ),
        "supervisor_name": d.supervisor_name,
        "drawn_at": clock.ensure_aware(d.drawn_at).isoformat() if d.drawn_at else None,
        "disclosed": disclosed,
        "avoidances": [
            {"name": a.name, "id_number": a.id_masked, "reason": a.reason} for a in avoidances
        ],
        "assignments": [
            {
                "id": a.id,
                "stratum": a.stratum,
                "hashed_id": a.hashed_id,
                "role": a.role,
                "position": a.position,
                "status": a.status,
                "status_label": ASSIGNMENT_LIFECYCLE.label(AssignmentStatus(a.status)),
                "respond_by": clock.ensure_aware(a.respond_by).isoformat()
                if a.respond_by
                else None,
                "responded_at": (
                    clock.ensure_aware(a.responded_at).isoformat() if a.responded_at else None
                ),
                "name": names[a.expert_id].name if a.expert_id in names else None,
            }
            for a in assignments
        ],
        "actions": [str(x) for x in DRAW_LIFECYCLE.allowed_actions(status)],
    }


def record_document(db: Session, draw_id: str) -> dict[str, Any]:
    """Public once drawn: the draw record (hashed ids only) for ``sunlit draw verify``."""
    d = db.get(ExpertDraw, draw_id)
    if d is None or d.record is None:
        raise not_found("抽取记录")
    return d.record


def disclosure_document(db: Session, draw_id: str) -> dict[str, Any]:
    """Public once evaluation started: who is behind each hashed id, with the salts."""
    d = db.get(ExpertDraw, draw_id)
    if d is None or d.disclosure is None:
        raise not_found("抽取披露")
    return d.disclosure


@dataclass(frozen=True)
class ConfirmedExpert:
    """A confirmed expert of a section, for committee formation (evaluation domain)."""

    expert_id: str
    user_id: str | None
    name: str
    id_number: str  # full number: data spec 508 ID_CARD
    specialty: str  # the stratum he was drawn in
    main_specialty: str
    employer_credit_code: str
    draw_code: str


def confirmed_experts(db: Session, section_id: str) -> list[ConfirmedExpert]:
    """Unscoped, for the evaluation domain's services: the confirmed drawn experts of a
    section, in stratum and draw order. Names must not be shown before
    :func:`sunlit.experts.service.disclose` (see :func:`is_disclosed`)."""
    stmt = (
        select(DrawAssignment, Expert, ExpertDraw.code)
        .join(Expert, Expert.id == DrawAssignment.expert_id)
        .join(ExpertDraw, ExpertDraw.id == DrawAssignment.draw_id)
        .where(
            DrawAssignment.section_id == section_id,
            DrawAssignment.status == AssignmentStatus.CONFIRMED,
            ExpertDraw.status != DrawStatus.CANCELLED,
        )
        .order_by(DrawAssignment.stratum, ExpertDraw.created_at, DrawAssignment.position)
    )
    return [
        ConfirmedExpert(
            e.id,
            e.user_id,
            e.name,
            e.id_number,
            a.stratum,
            e.main_specialty,
            e.employer_credit_code,
            code,
        )
        for a, e, code in db.execute(stmt)
    ]


def draw_status(db: Session, section_id: str) -> DrawStatus | None:
    """Unscoped: the status of the section's (root) expert draw, None if there is none
    (a cancelled draw counts only when no other draw exists)."""
    rows = list(
        db.scalars(
            select(ExpertDraw.status).where(
                ExpertDraw.section_id == section_id, ExpertDraw.parent_id.is_(None)
            )
        )
    )
    live = [DrawStatus(s) for s in rows if s != DrawStatus.CANCELLED]
    if live:
        return live[0]
    return DrawStatus.CANCELLED if rows else None


def is_disclosed(db: Session, section_id: str) -> bool:
    return (
        db.scalar(
            select(func.count())
            .select_from(ExpertDraw)
            .where(
                ExpertDraw.section_id == section_id,
                ExpertDraw.parent_id.is_(None),
                ExpertDraw.disclosed_at.is_not(None),
            )
        )
        or 0
    ) > 0


def my_invitations(db: Session, actor: Actor) -> list[dict[str, Any]]:
    """The expert's own invitations: time, place and deadline only (专家盲抽)."""
    me = my_expert(db, actor)
    if me is None:
        return []
    stmt = (
        select(DrawAssignment, ExpertDraw)
        .join(ExpertDraw, ExpertDraw.id == DrawAssignment.draw_id)
        .where(
            DrawAssignment.expert_id == me.id,
            DrawAssignment.status != AssignmentStatus.STANDBY,
        )
        .order_by(DrawAssignment.notified_at.desc())
    )
    out = []
    for a, d in db.execute(stmt):
        root = root_of(db, d)
        section = project_queries.section_by_id(db, d.section_id) if root.disclosed_at else None
        out.append(
            {
                "id": a.id,
                "status": a.status,
                "status_label": ASSIGNMENT_LIFECYCLE.label(AssignmentStatus(a.status)),
                "evaluation_starts_at": clock.ensure_aware(d.evaluation_starts_at).isoformat(),
                "evaluation_ends_at": clock.ensure_aware(d.evaluation_ends_at).isoformat(),
                "venue": d.venue,
                "respond_by": clock.ensure_aware(a.respond_by).isoformat()
                if a.respond_by
                else None,
                "can_answer": a.status == AssignmentStatus.NOTIFIED,
                "section_name": section.name if section is not None else None,
                "section_id": section.id if section is not None else None,
            }
        )
    return out


def notifications_of(db: Session, assignment_id: str) -> list[ExpertNotification]:
    """Unscoped (tests, audit pages): the messages sent for one assignment."""
    return list(
        db.scalars(
            select(ExpertNotification)
            .where(ExpertNotification.assignment_id == assignment_id)
            .order_by(ExpertNotification.sent_at)
        )
    )
