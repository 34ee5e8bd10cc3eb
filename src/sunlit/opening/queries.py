"""Opening reads. Before the opening nothing about bids is shown; once announced, the 唱标
results are visible to every logged-in participant (they are read aloud in a public hall)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.kernel import clock
from sunlit.kernel.authz import Actor
from sunlit.kernel.errors import not_found
from sunlit.projects import queries as project_queries

from . import securities as bid_securities
from .models import (
    OpenedBid,
    OpeningConfirmation,
    OpeningObjection,
    OpeningSession,
    OpeningSignIn,
)
from .policies import POLICY
from .record import RESPONSE_LABELS


def _responses(db: Session, row: OpeningSession, obs: list[OpenedBid]) -> list[dict[str, Any]]:
    """Each bidder's answer to the announced results, live: confirmed, objected, or pending
    (window open) / deemed (window closed: 视为认可). The signed record's list once sealed."""
    if row.record is not None:
        return list(row.record.get("confirmations") or [])
    if row.announced_at is None:
        return []
    confirmed = {
        c.org_id: c
        for c in db.scalars(
            select(OpeningConfirmation).where(OpeningConfirmation.session_id == row.id)
        )
    }
    objected = set(
        db.scalars(select(OpeningObjection.org_id).where(OpeningObjection.session_id == row.id))
    )
    closed = row.confirm_until is None or clock.now() > clock.ensure_aware(row.confirm_until)
    out = []
    for ob in obs:
        c = confirmed.get(ob.org_id)
        if c is not None:
            response = "confirmed"
        elif ob.org_id in objected:
            response = "objected"
        else:
            response = "deemed" if closed else "pending"
        out.append(
            {
                "bidder_name": ob.bidder_name,
                "credit_code": ob.credit_code,
                "response": response,
                "response_label": RESPONSE_LABELS.get(response, "待确认"),
                "confirmed_by": c.user_name if c else None,
                "confirmed_at": c.confirmed_at.isoformat() if c else None,
            }
        )
    return out


def _bid_securities(
    db: Session, section: Any, row: OpeningSession, obs: list[OpenedBid]
) -> dict[str, dict[str, Any]]:
    """Each bid's security: as signed in the record once sealed, else verified live (唱标)."""
    if row.record is not None:
        signed = {b["credit_code"]: b.get("security") for b in row.record.get("bids", [])}
        return {ob.org_id: s for ob in obs if (s := signed.get(ob.credit_code))}
    found = bid_securities.section_securities(db, section)
    required = Decimal(section.bid_security or 0)
    return {ob.org_id: bid_securities.for_bid(found, ob.org_id, required) for ob in obs}


def session_view(db: Session, actor: Actor, section_id: str) -> dict[str, Any]:
    section = project_queries.section_by_id(db, section_id)
    if section is None or not POLICY.allows(actor, "opening.view", section.tender_project):
        raise not_found("开标")
    row = db.scalar(select(OpeningSession).where(OpeningSession.section_id == section_id))
    if row is None:
        raise not_found("开标")
    bids: list[dict[str, Any]] = []
    obs: list[OpenedBid] = []
    if row.status not in ("scheduled",):
        obs = list(
            db.scalars(
                select(OpenedBid)
                .where(OpenedBid.session_id == row.id)
                .order_by(OpenedBid.credit_code)
            )
        )
        announced = row.announced_at is not None
        securities = _bid_securities(db, section, row, obs) if announced else {}
        for ob in obs:
            bids.append(
                {
                    "id": ob.id,
                    "bidder_name": ob.bidder_name,
                    "credit_code": ob.credit_code,
                    "own": ob.org_id == actor.org_id,
                    "status": ob.status,
                    "price": ob.price if announced else None,
                    "duration_days": ob.duration_days if announced else None,
                    "quality": ob.quality if announced else None,
                    "items": ob.items if announced else {},
                    "failure_code": ob.failure_code,
                    "failure_reason": ob.failure_reason,
                    "bidder_fault": ob.bidder_fault,
                    "remedy_until": ob.remedy_until.isoformat() if ob.remedy_until else None,
                    "security": securities.get(ob.org_id),
                }
            )
    return {
        "id": row.id,
        "section_id": section_id,
        "section_code": section.code,
        "status": row.status,
        "bid_count": row.bid_count,
        "min_bidders": row.min_bidders,
        "insufficient": row.insufficient,
        "decision": row.decision,
        "tenderer_decrypted": row.tenderer_decrypted_at is not None,
        "center_decrypted": row.center_decrypted_at is not None,
        "bids": bids,
        "draw_record": row.draw_record,
        "record": row.record,
        "record_signature": row.record_signature,
        "confirmed": row.confirmed_at is not None,
        "confirm_until": row.confirm_until.isoformat() if row.confirm_until else None,
        "confirm_open": (
            row.status == "announced"
            and row.record is None
            and row.confirm_until is not None
            and clock.now() <= clock.ensure_aware(row.confirm_until)
        ),
        "confirmations": _responses(db, row, obs),
        "sign_ins": [
            {"bidder_name": si.bidder_name, "user_name": si.user_name, "at": si.signed_in_at}
            for si in db.scalars(
                select(OpeningSignIn)
                .where(OpeningSignIn.session_id == row.id)
                .order_by(OpeningSignIn.signed_in_at)
            )
        ],
        "started_at": row.started_at,
        "announced_at": row.announced_at,
        "supervisor_entered": row.supervisor_entered_at is not None,
        "supervisor_value": row.supervisor_value,
        "supervisor_name": row.supervisor_name,
        "closed_at": row.closed_at,
        "terminated_reason": row.terminated_reason,
    }


def section_of(db: Session, actor: Actor, section_id: str) -> Any:
    """The section, if ``actor`` may look at its opening hall."""
    section = project_queries.section_by_id(db, section_id)
    if section is None or not POLICY.allows(actor, "opening.view", section.tender_project):
        raise not_found("开标")
    return section


def objections(db: Session, actor: Actor, section_id: str) -> list[dict[str, Any]]:
    """开标异议: the tenderer/agency, center staff and the supervisor see all; a bidder its own."""
    section = section_of(db, actor, section_id)
    stmt = (
        select(OpeningObjection)
        .where(OpeningObjection.section_id == section.id)
        .order_by(OpeningObjection.raised_at, OpeningObjection.id)
    )
    if not POLICY.allows(actor, "opening.objection.view_all", section.tender_project):
        if actor.org_id is None:
            return []
        stmt = stmt.where(OpeningObjection.org_id == actor.org_id)
    return [
        {
            "id": o.id,
            "bidder_name": o.bidder_name,
            "own": o.org_id == actor.org_id,
            "content": o.content,
            "raised_at": o.raised_at,
            "answer": o.answer,
            "answered_at": o.answered_at,
            "answered": o.answered_at is not None,
        }
        for o in db.scalars(stmt)
    ]


def draw_record(db: Session, actor: Actor, section_id: str) -> dict[str, Any]:
    """The coefficient draw record (public to the hall once drawn)."""
    view = session_view(db, actor, section_id)
    if not view["draw_record"]:
        raise not_found("系数抽取记录")
    record: dict[str, Any] = view["draw_record"]
    return record


@dataclass(frozen=True)
class OpenedBidder:
    org_id: str
    credit_code: str
    bidder_name: str
    status: str
    price: str | None
    duration_days: int | None
    quality: str | None


def opened_bidders(db: Session, section_id: str) -> tuple[str, list[OpenedBidder]] | None:
    """For later stages (evaluation, award): the opening's status and every bidder in it, or
    None when the section has no opening. Not actor-scoped: callers scope their own output."""
    row = db.scalar(select(OpeningSession).where(OpeningSession.section_id == section_id))
    if row is None:
        return None
    obs = db.scalars(
        select(OpenedBid).where(OpenedBid.session_id == row.id).order_by(OpenedBid.credit_code)
    )
    return row.status, [
        OpenedBidder(
            ob.org_id,
            ob.credit_code,
            ob.bidder_name,
            ob.status,
            ob.price,
            ob.duration_days,
            ob.quality,
        )
        for ob in obs
    ]
