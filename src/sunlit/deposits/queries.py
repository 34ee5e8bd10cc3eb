"""Deposit reads, scoped to what the actor may see.

Before a section's deadline: a bidder sees its own sub-account and payments; center staff see
counts only; nobody else sees anything (404). After the deadline the payer list of a section is
open to staff, the supervisor and the tenderer/agency (ADR 0017).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sunlit.identity import queries as identity_queries
from sunlit.kernel import clock
from sunlit.kernel.authz import Actor, Role
from sunlit.kernel.errors import not_found
from sunlit.projects import queries as project_queries
from sunlit.projects.models import Section

from .models import (
    DepositAccount,
    DepositAlert,
    DepositBank,
    DepositRate,
    PaymentNotice,
    Reconciliation,
    Refund,
)
from .policies import POLICY
from .states import ACCOUNT, NOTICE_OUTCOMES, REFUND, AccountStatus, RefundStatus


def _deadline_passed(section: Section) -> bool:
    return section.bid_deadline is not None and clock.now() >= clock.ensure_aware(
        section.bid_deadline
    )


def _notice_view(n: PaymentNotice) -> dict[str, Any]:
    return {
        "notice_id": n.notice_id,
        "amount": n.amount,
        "payer_account_no": n.payer_account_no,
        "payer_account_name": n.payer_account_name,
        "payer_bank": n.payer_bank,
        "booked_at": clock.ensure_aware(n.booked_at),
        "received_at": clock.ensure_aware(n.received_at),
        "source": n.source,
        "outcome": n.outcome,
        "outcome_label": NOTICE_OUTCOMES.get(n.outcome, n.outcome),
    }


def _refund_view(r: Refund) -> dict[str, Any]:
    return {
        "instruction_id": r.instruction_id,
        "kind": r.kind,
        "principal": r.principal,
        "interest": r.interest,
        "amount": r.principal + r.interest,
        "interest_detail": r.interest_detail,
        "payee_account_no": r.payee_account_no,
        "payee_account_name": r.payee_account_name,
        "reason": r.reason,
        "status": r.status,
        "status_label": REFUND.label(RefundStatus(r.status)),
        "created_at": clock.ensure_aware(r.created_at),
        "due_by": clock.ensure_aware(r.due_by) if r.due_by else None,
        "done_at": clock.ensure_aware(r.done_at) if r.done_at else None,
        "overdue": bool(
            r.due_by
            and r.status != RefundStatus.DONE
            and clock.now() > clock.ensure_aware(r.due_by)
        ),
        "failure": r.failure,
        "bank_ref": r.bank_ref,
    }


def account_view(db: Session, account: DepositAccount) -> dict[str, Any]:
    section = project_queries.section_by_id(db, account.section_id)
    org = identity_queries.organization_summary(db, account.org_id)
    notices = db.scalars(
        select(PaymentNotice)
        .where(PaymentNotice.account_id == account.id)
        .order_by(PaymentNotice.booked_at)
    )
    refunds = db.scalars(
        select(Refund)
        .where(
            (Refund.account_id == account.id)
            | Refund.notice_id.in_(
                select(PaymentNotice.id).where(PaymentNotice.account_id == account.id)
            )
        )
        .order_by(Refund.created_at)
    )
    bank = db.get(DepositBank, account.bank_id)
    return {
        "id": account.id,
        "section_id": account.section_id,
        "section_code": section.code if section else "",
        "section_name": section.name if section else "",
        "deadline": clock.ensure_aware(section.bid_deadline)
        if section and section.bid_deadline
        else None,
        "org_id": account.org_id,
        "bidder_name": org.name if org else "",
        "credit_code": org.credit_code if org else "",
        "bank_name": bank.name if bank else "",
        "sub_account_no": account.sub_account_no,
        "sub_account_name": account.sub_account_name,
        "required": account.required,
        "paid": account.paid,
        "status": account.status,
        "status_label": ACCOUNT.label(AccountStatus(account.status)),
        "paid_at": clock.ensure_aware(account.paid_at) if account.paid_at else None,
        "last_error": account.last_error,
        "notices": [_notice_view(n) for n in notices],
        "refunds": [_refund_view(r) for r in refunds],
    }


def my_accounts(db: Session, actor: Actor) -> list[dict[str, Any]]:
    if not actor.has(Role.BIDDER) or actor.org_id is None:
        return []
    rows = db.scalars(
        select(DepositAccount)
        .where(DepositAccount.org_id == actor.org_id)
        .order_by(DepositAccount.requested_at.desc())
    )
    return [account_view(db, a) for a in rows]


def my_account(db: Session, actor: Actor, section_id: str) -> dict[str, Any]:
    row = (
        db.scalar(
            select(DepositAccount).where(
                DepositAccount.section_id == section_id, DepositAccount.org_id == actor.org_id
            )
        )
        if actor.org_id
        else None
    )
    POLICY.require_visible(actor, "account.view_own", row, "保证金子账号")
    assert row is not None
    return account_view(db, row)


def section_overview(db: Session, actor: Actor, section_id: str) -> dict[str, Any]:
    """Counts before the deadline (staff only); the full payer list after it."""
    section = project_queries.section_by_id(db, section_id)
    if section is None:
        raise not_found("标段")
    tender = section.tender_project
    counts = dict(
        db.execute(
            select(DepositAccount.status, func.count())
            .where(DepositAccount.section_id == section.id)
            .group_by(DepositAccount.status)
        ).all()
    )
    base = {
        "section_id": section.id,
        "section_code": section.code,
        "section_name": section.name,
        "required": section.bid_security,
        "deadline": clock.ensure_aware(section.bid_deadline) if section.bid_deadline else None,
        "accounts": sum(counts.values()),
        "paid_count": counts.get(AccountStatus.PAID, 0),
    }
    if not _deadline_passed(section):
        POLICY.require_visible(actor, "section.count", tender, "标段")
        return {**base, "sealed": True, "bidders": None}
    if not POLICY.allows(actor, "section.list", tender):
        raise not_found("标段")
    rows = db.scalars(
        select(DepositAccount)
        .where(DepositAccount.section_id == section.id)
        .order_by(DepositAccount.requested_at)
    )
    return {**base, "sealed": False, "bidders": [account_view(db, a) for a in rows]}


def monitoring(db: Session, actor: Actor) -> list[dict[str, Any]]:
    """Staff overview of sections with sub-accounts (counts before the deadline)."""
    POLICY.require(actor, "section.count")
    ids = db.scalars(select(DepositAccount.section_id).distinct())
    out = []
    for sid in ids:
        out.append(section_overview(db, actor, sid))
    out.sort(key=lambda v: v["deadline"] or dt.datetime.max.replace(tzinfo=dt.UTC))
    return out


def section_securities(db: Session, section_id: str) -> dict[str, dict[str, Any]]:
    """For the opening record (system read, only after the deadline): each bidder's deposit,
    by organization id: sub-account, required, paid, status and whether it is sufficient."""
    section = project_queries.section_by_id(db, section_id)
    if section is None or not _deadline_passed(section):
        return {}
    out: dict[str, dict[str, Any]] = {}
    for a in db.scalars(select(DepositAccount).where(DepositAccount.section_id == section.id)):
        out[a.org_id] = {
            "kind": "deposit",
            "sub_account_no": a.sub_account_no,
            "required": a.required,
            "paid": a.paid,
            "paid_at": clock.ensure_aware(a.paid_at) if a.paid_at else None,
            "sufficient": a.paid >= a.required and a.status != AccountStatus.REQUESTED,
            "status": a.status,
            "status_label": ACCOUNT.label(AccountStatus(a.status)),
        }
    return out


def banks(db: Session, actor: Actor) -> list[dict[str, Any]]:
    POLICY.require(actor, "bank.view")
    out = []
    for b in db.scalars(select(DepositBank).order_by(DepositBank.admitted_at)):
        rates = db.scalars(
            select(DepositRate)
            .where(DepositRate.bank_id == b.id)
            .order_by(DepositRate.effective_from)
        )
        out.append(
            {
                "id": b.id,
                "code": b.code,
                "name": b.name,
                "status": b.status,
                "master_account_no": b.master_account_no,
                "master_account_name": b.master_account_name,
                "last_seq": b.last_seq,
                "rates": [
                    {"effective_from": r.effective_from, "annual_rate": r.annual_rate}
                    for r in rates
                ],
            }
        )
    return out


def reconciliations(db: Session, actor: Actor, limit: int = 60) -> list[Reconciliation]:
    POLICY.require(actor, "reconcile")
    return list(db.scalars(select(Reconciliation).order_by(Reconciliation.day.desc()).limit(limit)))


def reconciliation(db: Session, actor: Actor, rec_id: str) -> Reconciliation:
    POLICY.require(actor, "reconcile")
    row = db.get(Reconciliation, rec_id)
    if row is None:
        raise not_found("对账记录")
    return row


def day_records(db: Session, bank_id: str, day: dt.date) -> dict[str, Any]:
    """The platform side of a day (after the deadline of each section: staff only use)."""
    start = dt.datetime.combine(day, dt.time(0, 0), clock.CHINA_TZ)
    end = start + dt.timedelta(days=1)
    notices = db.scalars(
        select(PaymentNotice)
        .where(
            PaymentNotice.bank_id == bank_id,
            PaymentNotice.booked_at >= start,
            PaymentNotice.booked_at < end,
        )
        .order_by(PaymentNotice.booked_at)
    )
    refunds = db.scalars(
        select(Refund)
        .where(Refund.bank_id == bank_id, Refund.done_at >= start, Refund.done_at < end)
        .order_by(Refund.done_at)
    )
    return {
        "notices": [_notice_view(n) for n in notices],
        "refunds": [_refund_view(r) for r in refunds],
    }


def alerts(db: Session, actor: Actor) -> list[dict[str, Any]]:
    """Risk alerts whose section deadline has passed (none before: the payer list is sealed)."""
    POLICY.require(actor, "alert.view")
    now = clock.now()
    out = []
    for a in db.scalars(
        select(DepositAlert)
        .where(DepositAlert.visible_after <= now)
        .order_by(DepositAlert.raised_at.desc())
    ):
        section = project_queries.section_by_id(db, a.section_id)
        names = []
        for org_id in a.org_ids:
            org = identity_queries.organization_summary(db, org_id)
            names.append(
                {
                    "org_id": org_id,
                    "name": org.name if org else "",
                    "credit_code": org.credit_code if org else "",
                }
            )
        out.append(
            {
                "id": a.id,
                "section_id": a.section_id,
                "section_code": section.code if section else "",
                "section_name": section.name if section else "",
                "payer_account_no": a.payer_account_no,
                "bidders": names,
                "evidence": a.evidence,
                "raised_at": clock.ensure_aware(a.raised_at),
            }
        )
    return out


def overdue_refunds(db: Session, actor: Actor) -> list[dict[str, Any]]:
    POLICY.require(actor, "reconcile")
    rows = db.scalars(
        select(Refund)
        .where(Refund.status != RefundStatus.DONE, Refund.due_by.is_not(None))
        .order_by(Refund.due_by)
    )
    return [v for v in (_refund_view(r) for r in rows) if v["overdue"]]


def total(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal("0"))
