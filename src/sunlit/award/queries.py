"""Award reads.

Visibility: the tender's parties, center staff and supervisors see the whole process
(objections, reasons and evidence digests, every letter); a bidder of the section sees the
candidates once published, its own objections and its own letter. The candidates, the result
and the contract are public anyway through the portal notices.

For other domains (bid deposits and guarantees are released after the award / contract):
:func:`section_award` answers without an actor.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.kernel import clock
from sunlit.kernel.authz import Actor
from sunlit.kernel.errors import not_found
from sunlit.notices import queries as notice_queries
from sunlit.opening import queries as opening_queries
from sunlit.projects import queries as project_queries

from . import dataspec, letters, rules
from .models import (
    AwardCandidate,
    AwardContract,
    AwardLetter,
    AwardObjection,
    AwardPassOver,
    AwardProcess,
)
from .policies import POLICY
from .states import LIFECYCLE, AwardStatus

# --- for other domains ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionAward:
    """Where a section's award stands."""

    section_id: str
    status: str
    winner_org_id: str | None
    winner_credit_code: str | None
    notified_at: dt.datetime | None  # 中标通知书发出时间
    contract_signed_at: dt.datetime | None

    @property
    def awarded(self) -> bool:
        """The award letter and the result notices have gone out."""
        return self.notified_at is not None

    @property
    def contracted(self) -> bool:
        return self.contract_signed_at is not None

    @property
    def cancelled(self) -> bool:
        return self.status == AwardStatus.CANCELLED


def section_award(db: Session, section_id: str) -> SectionAward | None:
    row = db.scalar(select(AwardProcess).where(AwardProcess.section_id == section_id))
    if row is None:
        return None
    winner = next((c for c in row.candidates if c.id == row.winner_id), None)
    contract = db.scalar(select(AwardContract).where(AwardContract.process_id == row.id))
    return SectionAward(
        section_id=section_id,
        status=row.status,
        winner_org_id=winner.org_id if winner else None,
        winner_credit_code=winner.credit_code if winner else None,
        notified_at=row.notified_at,
        contract_signed_at=contract.signed_at if contract else None,
    )


def is_awarded(db: Session, section_id: str) -> bool:
    found = section_award(db, section_id)
    return found is not None and found.awarded


def is_contracted(db: Session, section_id: str) -> bool:
    found = section_award(db, section_id)
    return found is not None and found.contracted


# --- the process page and API --------------------------------------------------------------------


def _bidder_org_ids(db: Session, section_id: str) -> set[str]:
    found = opening_queries.opened_bidders(db, section_id)
    return {b.org_id for b in found[1]} if found else set()


def _row(db: Session, actor: Actor, section_id: str) -> tuple[AwardProcess, Any, bool]:
    section = project_queries.section_by_id(db, section_id)
    if section is None:
        raise not_found("定标")
    row = db.scalar(select(AwardProcess).where(AwardProcess.section_id == section.id))
    full = POLICY.allows(actor, "award.view_all", section.tender_project)
    if row is None or not (
        full or (actor.org_id is not None and actor.org_id in _bidder_org_ids(db, section.id))
    ):
        raise not_found("定标")
    return row, section, full


def awaiting_report(db: Session, actor: Actor, section_id: str) -> Any:
    """The section, when the actor may follow its award but no report has arrived yet."""
    section = project_queries.section_by_id(db, section_id)
    if section is None or not POLICY.allows(actor, "award.view_all", section.tender_project):
        return None
    if db.scalar(select(AwardProcess.id).where(AwardProcess.section_id == section.id)):
        return None
    return section


def section_of(db: Session, actor: Actor, section_id: str) -> Any:
    return _row(db, actor, section_id)[1]


def _candidate(c: AwardCandidate, actor: Actor) -> dict[str, Any]:
    amount = c.price
    return {
        "id": c.id,
        "rank": c.rank,
        "name": c.name,
        "credit_code": c.credit_code,
        "price": f"{amount:.2f}",
        "amount": letters.format_amount(amount),
        "amount_words": letters.amount_in_words(amount),
        "score": c.score,
        "duration_days": c.duration_days,
        "quality": c.quality,
        "status": c.status,
        "own": c.org_id == actor.org_id,
    }


def _t(value: dt.datetime | None) -> str | None:
    return clock.ensure_aware(value).isoformat() if value is not None else None


def process_view(db: Session, actor: Actor, section_id: str) -> dict[str, Any]:
    row, section, full = _row(db, actor, section_id)
    now = clock.now()
    published = row.publicity_start is not None or not row.publicity_required
    objections = select(AwardObjection).where(AwardObjection.process_id == row.id)
    if not full:
        objections = objections.where(AwardObjection.org_id == actor.org_id)
    letter_rows = select(AwardLetter).where(AwardLetter.process_id == row.id)
    if not full:
        letter_rows = letter_rows.where(AwardLetter.org_id == actor.org_id)
    contract = db.scalar(select(AwardContract).where(AwardContract.process_id == row.id))
    pass_overs = [
        {
            "candidate_id": po.candidate_id,
            "reason_code": po.reason_code,
            "reason": rules.reason_label(po.reason_code),
            "explanation": po.explanation,
            "evidence_name": po.evidence_name if full else "",
            "evidence_sha256": po.evidence_sha256,
            "evidence_sm3": po.evidence_sm3,
            "recorded_at": _t(po.recorded_at),
        }
        for po in db.scalars(
            select(AwardPassOver)
            .where(AwardPassOver.process_id == row.id)
            .order_by(AwardPassOver.recorded_at)
        )
    ]
    return {
        "id": row.id,
        "section_id": section.id,
        "section_code": section.code,
        "section_name": section.name,
        "tender_project_code": section.tender_project.code,
        "tender_project_name": section.tender_project.name,
        "status": row.status,
        "status_label": LIFECYCLE.label(AwardStatus(row.status)),
        "publicity_required": row.publicity_required,
        "rule_bound": row.rule_bound,
        "government_procurement": row.government_procurement,
        "report_id": row.report_id if full else None,
        "report_digest": row.report_digest if full else None,
        "report_received_at": _t(row.report_received_at),
        "candidates": [_candidate(c, actor) for c in row.candidates] if full or published else [],
        "publicity": {
            "notice_id": row.publicity_notice_id,
            "start": _t(row.publicity_start),
            "end": _t(row.publicity_end),
            "open": row.publicity_end is not None and now < clock.ensure_aware(row.publicity_end),
            "channel": row.objection_channel,
            "late": row.publicity_late,
            "due": _t(clock.ensure_aware(row.report_received_at) + rules.PUBLISH_WITHIN),
        },
        "objections": [
            {
                "id": o.id,
                "org_name": o.org_name,
                "own": o.org_id == actor.org_id,
                "content": o.content,
                "contact": o.contact if full or o.org_id == actor.org_id else "",
                "raised_at": _t(o.raised_at),
                "answer_due": _t(o.answer_due),
                "answer": o.answer,
                "answered_at": _t(o.answered_at),
                "overdue": (o.answered_at or now) > clock.ensure_aware(o.answer_due),
            }
            for o in db.scalars(objections.order_by(AwardObjection.raised_at, AwardObjection.id))
        ],
        "winner_id": row.winner_id,
        "decided_at": _t(row.decided_at),
        "decision_note": row.decision_note if full else "",
        "pass_overs": pass_overs,
        "result_notice_id": row.result_notice_id,
        "notified_at": _t(row.notified_at),
        "letters": [
            {
                "id": lt.id,
                "kind": lt.kind,
                "title": letters.TITLES[lt.kind],
                "number": lt.number,
                "name": lt.name,
                "credit_code": lt.credit_code,
                "issued_at": _t(lt.issued_at),
                "pdf_sha256": lt.pdf_sha256,
            }
            for lt in db.scalars(letter_rows.order_by(AwardLetter.number))
        ],
        "contract": _contract(contract) if contract is not None else None,
        "contract_due": (
            _t(rules.contract_due(clock.ensure_aware(row.notified_at))) if row.notified_at else None
        ),
        "cancelled_reason": row.cancelled_reason,
        "allowed_actions": [a.value for a in LIFECYCLE.allowed_actions(AwardStatus(row.status))],
    }


def _contract(c: AwardContract) -> dict[str, Any]:
    return {
        "contract_code": c.contract_code,
        "name": c.name,
        "tenderer_name": c.tenderer_name,
        "winner_name": c.winner_name,
        "winner_code": c.winner_code,
        "price": f"{c.price:.2f}",
        "amount_words": letters.amount_in_words(c.price),
        "content": c.content,
        "limit_time": c.limit_time,
        "quality": c.quality,
        "signed_at": _t(c.signed_at),
        "submitted_at": _t(c.submitted_at),
        "sign_due": _t(c.sign_due),
        "late": clock.ensure_aware(c.signed_at) > clock.ensure_aware(c.sign_due),
        "late_reason": c.late_reason,
        "publicity_notice_id": c.publicity_notice_id,
        "publicity_due": c.publicity_due.isoformat() if c.publicity_due else None,
        "publicity_late": c.publicity_late,
    }


def letter(db: Session, actor: Actor, letter_id: str) -> AwardLetter:
    """A letter for its recipient, the tender's parties, staff and supervisors."""
    row = db.get(AwardLetter, letter_id)
    if row is None:
        raise not_found("通知书")
    process = db.get(AwardProcess, row.process_id)
    assert process is not None
    tender = project_queries.tender_by_id(db, process.tender_project_id)
    if row.org_id != actor.org_id and not POLICY.allows(actor, "award.view_all", tender):
        raise not_found("通知书")
    return row


def letter_bundle(row: AwardLetter) -> dict[str, Any]:
    """The signed letter as a self-contained JSON file (``sunlit award verify`` reads it)."""
    return {
        "letter": row.doc,
        "signature": row.signature,
        "pdf_sha256": row.pdf_sha256,
        "pdf_signature": row.pdf_signature,
        "key_id": row.key_id,
    }


def evidence(db: Session, actor: Actor, section_id: str, candidate_id: str) -> AwardPassOver:
    row, _, full = _row(db, actor, section_id)
    po = db.scalar(
        select(AwardPassOver).where(
            AwardPassOver.process_id == row.id, AwardPassOver.candidate_id == candidate_id
        )
    )
    if po is None or not full:
        raise not_found("证明材料")
    return po


def data_spec(db: Session, actor: Actor, section_id: str) -> dict[str, list[dict[str, Any]]]:
    """The award's records under the data spec's table numbers and field names."""
    row, section, full = _row(db, actor, section_id)
    if not full:
        raise not_found("定标")

    def notice(notice_id: str | None) -> Any:
        return notice_queries.get_notice(db, actor, notice_id) if notice_id else None

    return dataspec.records(
        tender=section.tender_project,
        section=section,
        process=row,
        candidates=list(row.candidates),
        publicity=notice(row.publicity_notice_id),
        result=notice(row.result_notice_id),
        letters=list(db.scalars(select(AwardLetter).where(AwardLetter.process_id == row.id))),
        contract=db.scalar(select(AwardContract).where(AwardContract.process_id == row.id)),
        objections=list(
            db.scalars(
                select(AwardObjection)
                .where(AwardObjection.process_id == row.id)
                .order_by(AwardObjection.raised_at, AwardObjection.id)
            )
        ),
    )


# --- monitoring (staff and supervisors) -------------------------------------------------------


def monitor(db: Session, actor: Actor) -> list[dict[str, Any]]:
    """Every award process with the flags a supervisor looks at."""
    POLICY.require(actor, "award.monitor")
    now = clock.now()
    out = []
    for row in db.scalars(select(AwardProcess).order_by(AwardProcess.created_at.desc()).limit(500)):
        contract = db.scalar(select(AwardContract).where(AwardContract.process_id == row.id))
        objections = list(
            db.scalars(select(AwardObjection).where(AwardObjection.process_id == row.id))
        )
        winner = next((c for c in row.candidates if c.id == row.winner_id), None)
        flags = []
        if row.publicity_late:
            flags.append("公示晚于收到评标报告后3日")
        if (
            row.publicity_required
            and row.publicity_start is None
            and now > clock.ensure_aware(row.report_received_at) + rules.PUBLISH_WITHIN
            and row.status == AwardStatus.OPEN
        ):
            flags.append("逾期未公示中标候选人")
        overdue = [
            o for o in objections if (o.answered_at or now) > clock.ensure_aware(o.answer_due)
        ]
        if overdue:
            flags.append(f"{len(overdue)}条异议逾期答复")
        if winner is not None and winner.rank != 1:
            flags.append(f"确定排名第{winner.rank}的候选人为中标人")
        if (
            row.notified_at
            and contract is None
            and now > rules.contract_due(clock.ensure_aware(row.notified_at))
        ):
            flags.append("逾期未签订合同")
        if contract is not None and contract.late_reason:
            flags.append("合同逾期签订")
        if contract is not None and contract.publicity_late:
            flags.append("合同公示逾期")
        out.append(
            {
                "section_id": row.section_id,
                "section_code": row.section_code,
                "status": row.status,
                "status_label": LIFECYCLE.label(AwardStatus(row.status)),
                "winner": winner.name if winner else "",
                "winner_rank": winner.rank if winner else None,
                "objections": len(objections),
                "unanswered": sum(1 for o in objections if o.answered_at is None),
                "flags": flags,
                "created_at": row.created_at,
            }
        )
    return out


def my_awards(db: Session, actor: Actor) -> list[dict[str, Any]]:
    """A bidder's letters (中标通知书 / 中标结果通知书)."""
    if actor.org_id is None:
        return []
    rows = db.execute(
        select(AwardLetter, AwardProcess)
        .join(AwardProcess, AwardProcess.id == AwardLetter.process_id)
        .where(AwardLetter.org_id == actor.org_id)
        .order_by(AwardLetter.issued_at.desc())
    )
    return [
        {
            "id": lt.id,
            "kind": lt.kind,
            "title": letters.TITLES[lt.kind],
            "number": lt.number,
            "section_id": p.section_id,
            "section_code": p.section_code,
            "issued_at": lt.issued_at,
        }
        for lt, p in rows
    ]
