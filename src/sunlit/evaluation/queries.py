"""Evaluation reads, scoped to the actor.

Scores stay inside the committee (and the supervisor) until the report is signed; bidders see
only the clarifications addressed to them; the tenderer sees progress and, once signed, the
report. For the award domain: :func:`signed_report` (ranked candidates and the report id).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.kernel.authz import Actor, Role
from sunlit.kernel.errors import not_found
from sunlit.projects import queries as project_queries
from sunlit.projects.catalog import EVALUATION_METHODS

from .calc import criteria_of
from .models import (
    Clarification,
    EvaluationMember,
    EvaluationPlan,
    EvaluationReport,
    EvaluationSession,
    EvaluationVenue,
    ReportSignature,
    ScoreSheet,
)
from .policies import POLICY, Ctx
from .service import (
    SOURCES,
    check_plan,
    context,
    members_of,
    missing_of,
    readiness,
    report_of,
)
from .service import signing_message as service_signing_message
from .states import LIFECYCLE, EvaluationStatus


def _t(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _load(db: Session, actor: Actor, section_id: str) -> tuple[Any, EvaluationSession | None, Ctx]:
    section = project_queries.section_by_id(db, section_id)
    if section is None:
        raise not_found("评标")
    row = db.scalar(select(EvaluationSession).where(EvaluationSession.section_id == section.id))
    ctx = context(db, actor, row, section)
    return section, row, ctx


def plan_view(db: Session, actor: Actor, section_id: str) -> dict[str, Any]:
    """The section's criteria table (or the default one for its method)."""
    section, row, ctx = _load(db, actor, section_id)
    POLICY.require_visible(actor, "evaluation.plan.view", ctx, "评标办法")
    plan = db.scalar(select(EvaluationPlan).where(EvaluationPlan.section_id == section.id))
    method = section.evaluation_method
    supported = True
    try:
        config = plan.config if plan is not None else check_plan(method, {})
    except Exception:  # unsupported method: show nothing to compute
        config, supported = {}, False
    return {
        "section_id": section.id,
        "section_code": section.code,
        "section_name": section.name,
        "method": method,
        "method_label": EVALUATION_METHODS[method].label if method in EVALUATION_METHODS else "",
        "supported": supported,
        "defined": plan is not None,
        "frozen": row is not None and row.status != EvaluationStatus.FORMED,
        "plan": config,
        "coefficients": [c.name for c in section.coefficients],
        "editable": POLICY.allows(actor, "evaluation.plan.edit", ctx)
        and (row is None or row.status == EvaluationStatus.FORMED),
    }


def overview(db: Session, actor: Actor, section_id: str) -> dict[str, Any]:
    """Everything a page needs, cut to what the actor may see."""
    section, row, ctx = _load(db, actor, section_id)
    if row is None or not (
        POLICY.allows(actor, "evaluation.progress", ctx)
        or POLICY.allows(actor, "evaluation.answer", ctx)
    ):
        raise not_found("评标")
    members = members_of(db, row.id)
    sheets = list(db.scalars(select(ScoreSheet).where(ScoreSheet.session_id == row.id)))
    see_progress = POLICY.allows(actor, "evaluation.progress", ctx)
    see_scores = POLICY.allows(actor, "evaluation.scores", ctx)
    me = ctx.member
    venues = list(db.scalars(select(EvaluationVenue).where(EvaluationVenue.session_id == row.id)))
    venue_names = {v.id: f"{v.center_name} {v.room_name}" for v in venues}
    votes: dict[str, int] = {}
    for m in members:
        if m.vote_for and not m.recused:
            votes[m.vote_for] = votes.get(m.vote_for, 0) + 1
    out: dict[str, Any] = {
        "id": row.id,
        "section_id": section.id,
        "section_code": section.code,
        "section_name": section.name,
        "tender_name": section.tender_project.name,
        "status": row.status,
        "status_label": LIFECYCLE.label(EvaluationStatus(row.status)),
        "method": row.method,
        "method_label": EVALUATION_METHODS[row.method].label,
        "remote": row.remote,
        "started_at": row.started_at,
        "finished_at": row.finished_at,
        "terminated_reason": row.terminated_reason,
        "is_host": POLICY.allows(actor, "evaluation.host", ctx),
        "is_member": POLICY.allows(actor, "evaluation.member", ctx),
        "is_leader": POLICY.allows(actor, "evaluation.leader", ctx),
        "is_bidder": actor.has(Role.BIDDER),
        "me": None,
        "members": [],
        "venues": [],
        "bids": [],
        "readiness": [],
        "clarifications": [],
        "report": None,
    }
    if see_progress:
        # Double-blind (ADR 0013): the tenderer learns the drawn experts' names only when
        # evaluation starts and the draw is disclosed.
        blind = (
            row.started_at is None
            and not POLICY.allows(actor, "evaluation.host", ctx)
            and not actor.has(Role.SUPERVISOR)
            and me is None
        )
        if row.status == EvaluationStatus.FORMED:
            problems = readiness(db, row)
            if blind:
                hidden = [m.name for m in members if m.source == "drawn"]
                for name in hidden:
                    problems = [p.replace(name, "抽取专家") for p in problems]
            out["readiness"] = problems
        out["venues"] = [
            {
                "id": v.id,
                "center_name": v.center_name,
                "room_name": v.room_name,
                "is_main": v.is_main,
                "seats": v.seats,
            }
            for v in sorted(venues, key=lambda v: (not v.is_main, v.center_name))
        ]
        for m in members:
            done = len(row.bids) - len(missing_of(row, m, sheets)) if row.bids else 0
            hide = blind and m.source == "drawn"
            out["members"].append(
                {
                    "id": m.id,
                    "name": "抽取专家（评标开始时公开）" if hide else m.name,
                    "source": m.source,
                    "source_label": SOURCES[m.source],
                    "employer": "" if hide else m.employer_name,
                    "signed_in": m.signed_in_at is not None,
                    "declared": m.declared_at is not None,
                    "committed": m.committed_at is not None,
                    "recused": m.recused,
                    "recusal_reason": m.recusal_reason,
                    "leader": m.id == row.leader_member_id,
                    "votes": votes.get(m.id, 0),
                    "voted": m.vote_for is not None,
                    "venue": venue_names.get(m.venue_id or "", ""),
                    "seat": m.seat,
                    "bids_done": done,
                    "submitted": m.submitted_at is not None,
                }
            )
        out["bids"] = [
            {k: b[k] for k in ("credit_code", "name", "price", "duration_days", "quality")}
            for b in row.bids
        ]
    if me is not None and not me.recused:
        out["me"] = {
            "id": me.id,
            "signed_in": me.signed_in_at is not None,
            "declared": me.declared_at is not None,
            "committed": me.committed_at is not None,
            "voted": me.vote_for is not None,
            "submitted": me.submitted_at is not None,
            "avoid": list(me.avoid_credit_codes or []),
            "employer_credit_code": me.employer_credit_code,
            "missing": missing_of(row, me, sheets) if row.bids else [],
        }
    clar = select(Clarification).where(Clarification.session_id == row.id)
    if not see_progress:
        clar = clar.where(Clarification.bidder_org_id == (actor.org_id or ""))
    names = {b["credit_code"]: b["name"] for b in row.bids}
    out["clarifications"] = [
        {
            "id": c.id,
            "bidder": names.get(c.credit_code, c.credit_code),
            "credit_code": c.credit_code,
            "question": c.question,
            "asked_at": c.asked_at,
            "answer": c.answer,
            "answered_at": c.answered_at,
            "mine": c.bidder_org_id == actor.org_id,
        }
        for c in db.scalars(clar.order_by(Clarification.asked_at, Clarification.id))
    ]
    report = report_of(db, row)
    if (
        report is not None
        and POLICY.allows(actor, "evaluation.report.view", ctx)
        and (see_scores or report.completed_at is not None)
    ):
        out["report"] = report_view(db, report, members)
    out["scores_visible"] = see_scores
    return out


def report_view(
    db: Session, report: EvaluationReport, members: list[EvaluationMember]
) -> dict[str, Any]:
    sigs = {
        s.member_id: s
        for s in db.scalars(select(ReportSignature).where(ReportSignature.report_id == report.id))
    }
    return {
        "id": report.id,
        "digest": report.digest,
        "generated_at": report.generated_at,
        "completed_at": report.completed_at,
        "document": report.document,
        "signatures": [
            {
                "member_id": m.id,
                "name": m.name,
                "signed": m.id in sigs,
                "signed_at": _t(sigs[m.id].signed_at) if m.id in sigs else None,
                "certificate": sigs[m.id].certificate_subject if m.id in sigs else "",
                "dissent": sigs[m.id].dissent if m.id in sigs else "",
            }
            for m in members
            if not m.recused
        ],
    }


def my_sheets(db: Session, actor: Actor, section_id: str) -> dict[str, Any]:
    """The expert's own page: the valid bids, the criteria, his sheets and avoidances."""
    section, row, ctx = _load(db, actor, section_id)
    if row is None or not POLICY.allows(actor, "evaluation.member", ctx):
        raise not_found("评标")
    me = ctx.member
    assert me is not None
    sheets = {
        s.credit_code: s
        for s in db.scalars(select(ScoreSheet).where(ScoreSheet.member_id == me.id))
    }
    crit = criteria_of(row.plan or {})
    bids = []
    for b in row.bids:
        s = sheets.get(b["credit_code"])
        avoid = b["credit_code"] == me.employer_credit_code or b["credit_code"] in (
            me.avoid_credit_codes or []
        )
        bids.append(
            {
                **{k: b[k] for k in ("credit_code", "name", "price", "duration_days", "quality")},
                "avoid": avoid,
                "scores": s.scores if s else {},
                "conforms": s.conforms if s else True,
                "reason": s.reason if s else "",
                "adjustment": s.adjustment if s else "0",
                "total": str(sum((Decimal(v) for v in s.scores.values()), Decimal(0))) if s else "",
            }
        )
    return {
        "section_id": section.id,
        "status": row.status,
        "method": row.method,
        "method_label": EVALUATION_METHODS[row.method].label,
        "price_only": not crit,
        "criteria": [
            {"key": c.key, "group": c.group, "name": c.name, "max_points": str(c.max_points)}
            for c in crit
        ],
        "plan": row.plan,
        "bids": bids,
        "submitted": me.submitted_at is not None,
    }


def my_evaluations(db: Session, actor: Actor) -> list[dict[str, Any]]:
    """Evaluations the actor takes part in or oversees (expert, staff, supervisor, tenderer)
    and, for a bidder, those with clarifications addressed to it."""
    rows = list(db.scalars(select(EvaluationSession).order_by(EvaluationSession.formed_at.desc())))
    out = []
    for row in rows:
        section = project_queries.section_by_id(db, row.section_id)
        if section is None:
            continue
        ctx = context(db, actor, row, section)
        visible = POLICY.allows(actor, "evaluation.progress", ctx)
        if not visible and actor.has(Role.BIDDER) and actor.org_id:
            visible = (
                db.scalar(
                    select(Clarification.id).where(
                        Clarification.session_id == row.id,
                        Clarification.bidder_org_id == actor.org_id,
                    )
                )
                is not None
            )
        if not visible:
            continue
        if actor.has(Role.EXPERT) and ctx.member is None and not actor.has(Role.SUPERVISOR):
            continue
        out.append(
            {
                "section_id": section.id,
                "section_code": section.code,
                "section_name": section.name,
                "tender_name": section.tender_project.name,
                "status": row.status,
                "status_label": LIFECYCLE.label(EvaluationStatus(row.status)),
                "method_label": EVALUATION_METHODS[row.method].label,
                "member": ctx.member is not None,
            }
        )
    return out


# --- for the award domain -------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    rank: int
    org_id: str | None
    credit_code: str
    name: str
    price: Decimal
    score: Decimal | None


@dataclass(frozen=True)
class SignedReport:
    report_id: str
    section_id: str
    digest: str
    completed_at: Any
    candidates: tuple[Candidate, ...]  # 中标候选人 (up to 3), rank order
    ranking: tuple[Candidate, ...]  # every valid bid, rank order
    dissents: tuple[str, ...]


def signed_report(db: Session, section_id: str) -> SignedReport | None:
    """The section's evaluation report once every member has signed it, else None."""
    row = db.scalar(select(EvaluationSession).where(EvaluationSession.section_id == section_id))
    if row is None or row.status != EvaluationStatus.SIGNED:
        return None
    report = report_of(db, row)
    if report is None or report.completed_at is None:
        return None
    doc = report.document
    org = {b["credit_code"]: b.get("org_id") for b in row.bids}

    def cand(r: dict[str, Any]) -> Candidate:
        return Candidate(
            r["rank"],
            org.get(r["bidder_id"]),
            r["bidder_id"],
            r["name"],
            Decimal(r["price"]),
            None if r["score"] is None else Decimal(r["score"]),
        )

    ranking = tuple(cand(r) for r in doc["result"]["ranking"])
    dissents = tuple(
        s.dissent
        for s in db.scalars(select(ReportSignature).where(ReportSignature.report_id == report.id))
        if s.dissent
    )
    return SignedReport(
        report.id, section_id, report.digest, report.completed_at, ranking[:3], ranking, dissents
    )


def signing_message(db: Session, actor: Actor, section_id: str, dissent: str, audience: str) -> str:
    """The exact text the member's certificate helper signs for the current report."""
    section, row, ctx = _load(db, actor, section_id)
    if row is None or not POLICY.allows(actor, "evaluation.member", ctx):
        raise not_found("评标报告")
    report = report_of(db, row)
    if report is None:
        raise not_found("评标报告")
    return service_signing_message(
        report, section.tender_project.code, ctx.member.id, dissent, audience
    ).decode()
