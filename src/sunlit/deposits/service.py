"""Deposit use cases. Only this module writes deposit tables (house rule 1).

Traffic with the bank goes through the signed partner layer (``kernel.partner``): requests to
the bank are queued in the partner outbox inside the use case that causes them and delivered
(retried with backoff) after commit; the bank's answers come back to the handlers registered
here; the bank's own messages (payment notices, refund results) are verified by the partner
layer and served once per idempotency key. Message formats: ``docs/spec/deposit-bank-api.md``.

Confidentiality (ADR 0017): who requested a sub-account or paid for a section is recorded in
the log with a masked actor and a sealed object revealed at the section's deadline, exactly
like a bid submission.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.identity import queries as identity_queries
from sunlit.kernel import audit, clock, partner
from sunlit.kernel.authz import Actor, Role, system_actor
from sunlit.kernel.db import new_id, use_case
from sunlit.kernel.errors import Conflict, InvalidInput, NotFound, PermissionDenied, not_found
from sunlit.projects import queries as project_queries
from sunlit.projects.models import Section

from . import interest as interest_calc
from .models import (
    DepositAccount,
    DepositAlert,
    DepositBank,
    DepositRate,
    PaymentNotice,
    Reconciliation,
    Refund,
    StatementLine,
)
from .policies import POLICY
from .schemas import (
    BankIn,
    PaymentNoticeIn,
    RateIn,
    RefundResultIn,
    StatementIn,
    normalize_account,
)
from .states import ACCOUNT, REFUND, AccountAction, AccountStatus, RefundAction, RefundStatus

TOPIC_OPEN = "deposits.open_sub_account"
TOPIC_REFUND = "deposits.refund"
PATH_OPEN = "/v1/sub-accounts"
PATH_REFUND = "/v1/refunds"
STATUTORY_DAYS = 5
# A bank booking time ahead of the trusted clock by more than the partner layer's clock window
# is not believable (ADR 0017).
FUTURE_TOLERANCE = dt.timedelta(
    seconds=300
)  # 招标投标法实施条例 第57条 (calendar days); 政府采购: working days


# --- helpers ---------------------------------------------------------------------------------


def _section(db: Session, section_id: str) -> Section:
    section = project_queries.section_by_id(db, section_id)
    if section is None:
        raise not_found("标段")
    return section


def _deadline(section: Section) -> dt.datetime:
    if section.bid_deadline is None:
        raise Conflict("deposits.no_deadline", "该标段尚未确定投标截止时间")
    return clock.ensure_aware(section.bid_deadline)


def _masked(actor: Actor) -> Actor:
    """The actor as the public log shows it before the deadline: nobody in particular."""
    roles = frozenset({Role.BIDDER}) if actor.has(Role.BIDDER) else frozenset({Role.FINANCIAL})
    return Actor(auth_method=actor.auth_method, roles=roles)


def _digest(payload: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def _bank(db: Session, bank_id: str) -> DepositBank:
    bank = db.get(DepositBank, bank_id)
    if bank is None:
        raise not_found("保证金开户行")
    return bank


def bank_for_partner(db: Session, partner_id: str) -> DepositBank:
    bank = db.scalar(select(DepositBank).where(DepositBank.partner_id == partner_id))
    if bank is None:
        raise PermissionDenied("deposits.not_a_bank", "发送方不是已准入的保证金开户行")
    return bank


def active_bank(db: Session) -> DepositBank | None:
    """The center's deposit bank (the most recently admitted active one)."""
    return db.scalar(
        select(DepositBank)
        .where(DepositBank.status == "active")
        .order_by(DepositBank.admitted_at.desc())
        .limit(1)
    )


def rates_of(db: Session, bank_id: str) -> list[tuple[dt.date, Decimal]]:
    rows = db.scalars(select(DepositRate).where(DepositRate.bank_id == bank_id))
    return [(r.effective_from, r.annual_rate) for r in rows]


def refund_due_by(section: Section, contract_signed_on: dt.date) -> dt.datetime:
    """The statutory refund limit: 5 days after the contract (招标投标法实施条例 第57条);
    政府采购: 5 working days (政府采购法实施条例 第33条). End of that day, Beijing time."""
    category = section.tender_project.category
    if category == "government_procurement":
        day = clock.WorkingCalendar().add_working_days(contract_signed_on, STATUTORY_DAYS)
    else:
        day = contract_signed_on + dt.timedelta(days=STATUTORY_DAYS)
    return dt.datetime.combine(day, dt.time(23, 59, 59), clock.CHINA_TZ)


# --- banks -----------------------------------------------------------------------------------


@use_case
def admit_bank(db: Session, actor: Actor, data: BankIn) -> DepositBank:
    """准入保证金开户行: registers the bank as a signed-messaging partner with its rate."""
    POLICY.require(actor, "bank.admit")
    code = data.code.strip().lower()
    if db.scalar(select(DepositBank).where(DepositBank.code == code)) is not None:
        raise Conflict("deposits.bank.exists", "该银行已准入")
    p = partner.register_partner(
        db,
        code=code,
        name=data.name,
        kind="bank",
        public_key_pem=data.public_key_pem,
        base_url=data.base_url,
    )
    now = clock.now()
    bank = DepositBank(
        id=new_id(),
        partner_id=p.id,
        code=code,
        name=data.name,
        master_account_no=normalize_account(data.master_account_no),
        master_account_name=data.master_account_name,
        status="active",
        admitted_at=now,
        admitted_by=actor.user_id,
        last_seq=0,
    )
    db.add(bank)
    db.flush()
    db.add(
        DepositRate(
            id=new_id(),
            bank_id=bank.id,
            effective_from=data.rate_from,
            annual_rate=data.annual_rate,
            recorded_at=now,
        )
    )
    audit.record(
        db,
        actor,
        "deposits.bank.admitted",
        "deposit_bank",
        bank.id,
        {"code": code, "name": data.name, "rate": str(data.annual_rate)},
    )
    return bank


@use_case
def set_rate(db: Session, actor: Actor, bank_id: str, data: RateIn) -> DepositRate:
    """登记活期存款挂牌利率 from a date on (a later change never rewrites a past rate)."""
    POLICY.require(actor, "bank.admit")
    bank = _bank(db, bank_id)
    existing = db.scalar(
        select(DepositRate).where(
            DepositRate.bank_id == bank.id, DepositRate.effective_from == data.effective_from
        )
    )
    if existing is not None:
        raise Conflict("deposits.rate.exists", "该生效日的利率已登记，不能修改")
    if data.effective_from < clock.today():
        raise InvalidInput("deposits.rate.past", "利率生效日不能早于今天", field="effective_from")
    row = DepositRate(
        id=new_id(),
        bank_id=bank.id,
        effective_from=data.effective_from,
        annual_rate=data.annual_rate,
        recorded_at=clock.now(),
    )
    db.add(row)
    audit.record(
        db,
        actor,
        "deposits.rate.set",
        "deposit_bank",
        bank.id,
        {"from": data.effective_from.isoformat(), "rate": str(data.annual_rate)},
    )
    return row


@use_case
def set_bank_status(db: Session, actor: Actor, bank_id: str, status: str) -> DepositBank:
    """暂停 / 恢复: a suspended bank opens no new sub-accounts (money already there stays)."""
    POLICY.require(actor, "bank.admit")
    if status not in ("active", "suspended"):
        raise InvalidInput("deposits.bank.status", "状态只能是 active 或 suspended")
    bank = _bank(db, bank_id)
    bank.status = status
    audit.record(db, actor, f"deposits.bank.{status}", "deposit_bank", bank.id, {})
    return bank


# --- sub-accounts ----------------------------------------------------------------------------


def request_account(db: Session, actor: Actor, section_id: str) -> DepositAccount:
    """申请虚拟子账号 for a section; asking again returns the same account."""
    POLICY.require(actor, "account.request")
    db.rollback()
    if actor.org_id is not None:
        existing = db.scalar(
            select(DepositAccount).where(
                DepositAccount.section_id == section_id, DepositAccount.org_id == actor.org_id
            )
        )
        if existing is not None and existing.status != AccountStatus.REJECTED:
            return existing
    try:
        return _request_account(db, actor, section_id)
    except AccountExists:
        account = db.scalar(
            select(DepositAccount).where(
                DepositAccount.section_id == section_id, DepositAccount.org_id == actor.org_id
            )
        )
        assert account is not None
        return account


class AccountExists(Conflict):
    def __init__(self) -> None:
        super().__init__("deposits.account.exists", "本单位已申请该标段的保证金子账号")


@use_case
def _request_account(db: Session, actor: Actor, section_id: str) -> DepositAccount:
    POLICY.require(actor, "account.request")
    org = identity_queries.organization_summary(db, actor.org_id) if actor.org_id else None
    if org is None or not org.active:
        raise PermissionDenied("deposits.org_inactive", "本单位不是正常状态的市场主体")
    section = _section(db, section_id)
    if section.status != "published" or section.tender_project.status != "tendering":
        raise not_found("标段")
    if section.bid_security <= 0:
        raise Conflict("deposits.no_security", "该标段不要求提交投标保证金")
    deadline = _deadline(section)
    now = clock.now()
    if now >= deadline:
        raise Conflict("deposits.after_deadline", "投标截止时间已过，不能再申请保证金子账号")
    basic = identity_queries.basic_account(db, org.id)
    if not basic.account_no:
        raise Conflict(
            "deposits.no_basic_account", "本单位尚未登记基本存款账户，请先在“我的单位”中登记"
        )
    bank = active_bank(db)
    if bank is None:
        raise Conflict("deposits.no_bank", "交易中心尚未准入保证金开户行")
    old = db.scalar(
        select(DepositAccount).where(
            DepositAccount.section_id == section.id, DepositAccount.org_id == org.id
        )
    )
    if old is not None:
        if old.status != AccountStatus.REJECTED:
            raise AccountExists()  # a concurrent request won
        db.delete(old)
        db.flush()
    account = DepositAccount(
        id=new_id(),
        bank_id=bank.id,
        section_id=section.id,
        org_id=org.id,
        request_id=new_id(),
        sub_account_no=None,
        sub_account_name="",
        required=section.bid_security,
        paid=Decimal("0"),
        status=AccountStatus.REQUESTED,
        requested_at=now,
    )
    db.add(account)
    db.flush()
    # The bank learns the bidder (it is its customer), never the section.
    partner.enqueue(
        db,
        bank.partner_id,
        TOPIC_OPEN,
        PATH_OPEN,
        {
            "request_id": account.request_id,
            "bidder_name": org.name,
            "bidder_credit_code": org.credit_code,
            "basic_account_no": basic.account_no,
            "basic_account_bank": basic.bank,
            "valid_until": (deadline + dt.timedelta(days=120)).date().isoformat(),
        },
        ref_type="deposit_account",
        ref_id=account.id,
        idempotency_key=account.request_id,
    )
    audit.record(
        db,
        _masked(actor),
        "deposits.account.requested",
        "deposit_account",
        account.id,
        {},
        sealed={
            "section_id": section.id,
            "section_code": section.code,
            "org_id": org.id,
            "credit_code": org.credit_code,
            "user_id": actor.user_id,
            "at": now.isoformat(),
        },
        reveal_after=deadline,
    )
    return account


def _on_open_delivered(
    db: Session, message: partner.OutboxMessage, status: int, answer: dict[str, Any]
) -> None:
    account = db.get(DepositAccount, message.ref_id)
    if account is None or account.status != AccountStatus.REQUESTED:
        return
    number = normalize_account(str(answer.get("sub_account_no") or ""))
    if not number:
        ACCOUNT.apply(AccountStatus(account.status), AccountAction.REJECT)
        account.status = AccountStatus.REJECTED
        account.last_error = "银行应答缺少子账号"
        return
    account.status = ACCOUNT.apply(AccountStatus(account.status), AccountAction.OPEN)
    account.sub_account_no = number
    account.sub_account_name = str(answer.get("sub_account_name") or "")[:200]
    account.opened_at = clock.now()


def _on_open_rejected(
    db: Session, message: partner.OutboxMessage, status: int, answer: dict[str, Any]
) -> None:
    account = db.get(DepositAccount, message.ref_id)
    if account is None or account.status != AccountStatus.REQUESTED:
        return
    account.status = ACCOUNT.apply(AccountStatus(account.status), AccountAction.REJECT)
    account.last_error = str(answer.get("message") or answer.get("detail") or status)[:300]


# --- payment notices -------------------------------------------------------------------------


@dataclass
class NoticeResult:
    notice_id: str
    result: str
    duplicate: bool = False
    return_instruction_id: str | None = None
    alerts: list[str] = field(default_factory=list)

    def answer(self) -> dict[str, Any]:
        from .states import NOTICE_OUTCOMES

        return {
            "notice_id": self.notice_id,
            "result": self.result,
            "message": NOTICE_OUTCOMES.get(self.result, self.result),
            "duplicate": self.duplicate,
            "return_instruction_id": self.return_instruction_id,
        }


def _notice_payload(data: PaymentNoticeIn) -> dict[str, Any]:
    return {
        "notice_id": data.notice_id,
        "sub_account_no": data.sub_account_no,
        "amount": str(data.amount.quantize(Decimal("0.01"))),
        "payer_account_no": data.payer_account_no,
        "payer_account_name": data.payer_account_name,
        "booked_at": data.booked_at.astimezone(dt.UTC).isoformat(),
    }


@use_case
def receive_payment(
    db: Session,
    actor: Actor,
    bank_id: str,
    data: PaymentNoticeIn,
    source: str = "notice",
    signed: partner.SignedRequest | None = None,
) -> NoticeResult:
    """来账通知: match the payment to a sub-account and check it (basic account, deadline).

    A notice id seen before is answered with the first result and counts once, whatever its
    idempotency key; the same id with different content is refused. Refused payments are
    returned to the payer by a return instruction (退回).
    """
    bank = _bank(db, bank_id)
    now = clock.now()
    digest = _digest(_notice_payload(data))
    seen = db.scalar(
        select(PaymentNotice).where(
            PaymentNotice.bank_id == bank.id, PaymentNotice.notice_id == data.notice_id
        )
    )
    if seen is not None:
        if seen.digest != digest:
            raise Conflict(
                "deposits.notice.conflict",
                "来账流水号 {notice_id} 已收到内容不同的通知",
                notice_id=data.notice_id,
            )
        result = NoticeResult(data.notice_id, seen.outcome, duplicate=True)
        audit.record(
            db,
            _masked(actor),
            "deposits.payment.duplicate",
            "deposit_notice",
            seen.id,
            {"source": source},
        )
        if signed is not None:
            partner.remember(db, signed, result.answer())
        return result
    account = db.scalar(
        select(DepositAccount)
        .where(DepositAccount.sub_account_no == data.sub_account_no)
        .with_for_update()
    )
    section = _section(db, account.section_id) if account is not None else None
    deadline = _deadline(section) if section is not None else None
    booked = clock.ensure_aware(data.booked_at)
    if booked > now + FUTURE_TOLERANCE:
        raise InvalidInput(
            "deposits.notice.future",
            "到账时间 {booked} 晚于平台时间，报文无效",
            booked=booked.strftime("%Y-%m-%d %H:%M:%S"),
        )
    basic = identity_queries.basic_account(db, account.org_id) if account is not None else None
    if account is None or section is None or deadline is None or basic is None:
        outcome = "unknown_account"
    elif booked >= deadline:
        outcome = "late"
    elif normalize_account(basic.account_no) != data.payer_account_no:
        outcome = "not_basic_account"
    elif account.status not in (AccountStatus.OPENED, AccountStatus.PAID):
        outcome = "closed"
    else:
        outcome = "accepted"
    notice = PaymentNotice(
        id=new_id(),
        bank_id=bank.id,
        notice_id=data.notice_id,
        seq=data.seq,
        sub_account_no=data.sub_account_no,
        account_id=account.id if account is not None else None,
        section_id=section.id if section is not None else None,
        amount=data.amount,
        payer_account_no=data.payer_account_no,
        payer_account_name=data.payer_account_name,
        payer_bank=data.payer_bank,
        booked_at=booked,
        received_at=now,
        source=source,
        outcome=outcome,
        digest=digest,
    )
    db.add(notice)
    db.flush()
    if data.seq is not None and data.seq > bank.last_seq:
        bank.last_seq = data.seq
    result = NoticeResult(data.notice_id, outcome)
    if outcome == "accepted":
        assert account is not None
        account.paid = account.paid + data.amount
        covered = account.paid >= account.required
        action = (
            AccountAction.SETTLE
            if covered and account.status == AccountStatus.OPENED
            else AccountAction.CREDIT
        )
        account.status = ACCOUNT.apply(AccountStatus(account.status), action)
        if action == AccountAction.SETTLE:
            account.paid_at = booked
    else:
        refund = _new_refund(
            db,
            bank,
            kind="return",
            account=None,
            notice=notice,
            sub_account_no=data.sub_account_no,
            payee_account_no=data.payer_account_no,
            payee_account_name=data.payer_account_name,
            principal=data.amount,
            payments=[(data.amount, booked.date())],
            reason=_RETURN_REASONS[outcome],
            due_by=None,
        )
        result.return_instruction_id = refund.instruction_id
    if section is not None and deadline is not None and account is not None:
        result.alerts = _check_same_payer(db, section, deadline, notice, account.org_id)
    sealed: dict[str, Any] = {
        "section_id": section.id if section else None,
        "org_id": account.org_id if account else None,
        "sub_account_no": data.sub_account_no,
        "amount": str(data.amount),
        "payer_account_no": data.payer_account_no,
        "payer_account_name": data.payer_account_name,
        "booked_at": booked.isoformat(),
        "outcome": outcome,
        "source": source,
    }
    audit.record(
        db,
        _masked(actor),
        "deposits.payment.received",
        "deposit_notice",
        notice.id,
        {"bank": bank.code},
        sealed=sealed,
        reveal_after=deadline or now,
    )
    if signed is not None:
        partner.remember(db, signed, result.answer())
    return result


_RETURN_REASONS = {
    "late": "投标截止时间后到账，原路退回",
    "not_basic_account": "非投标人基本存款账户缴纳，原路退回",
    "unknown_account": "子账号不存在，原路退回",
    "closed": "子账号已结清，原路退回",
}


def _check_same_payer(
    db: Session, section: Section, deadline: dt.datetime, notice: PaymentNotice, org_id: str
) -> list[str]:
    """围标串标预警: bidders of one section whose money comes from one account (including a
    payment from another bidder's basic account). Raised now, shown after the deadline."""
    payer = notice.payer_account_no
    evidence: list[dict[str, Any]] = []
    orgs: set[str] = {org_id}
    rows = db.execute(
        select(PaymentNotice, DepositAccount.org_id)
        .join(DepositAccount, DepositAccount.id == PaymentNotice.account_id)
        .where(PaymentNotice.section_id == section.id, PaymentNotice.payer_account_no == payer)
    ).all()
    for row, owner in rows:
        orgs.add(owner)
        evidence.append(
            {
                "kind": "payment",
                "org_id": owner,
                "notice_id": row.notice_id,
                "sub_account_no": row.sub_account_no,
                "amount": str(row.amount),
                "payer_account_no": row.payer_account_no,
                "payer_account_name": row.payer_account_name,
                "booked_at": clock.ensure_aware(row.booked_at).isoformat(),
                "outcome": row.outcome,
            }
        )
    bidders = db.scalars(
        select(DepositAccount.org_id).where(DepositAccount.section_id == section.id)
    )
    for other in bidders:
        if other in orgs:
            continue
        basic = identity_queries.basic_account(db, other)
        if basic.account_no and normalize_account(basic.account_no) == payer:
            orgs.add(other)
            evidence.append({"kind": "basic_account", "org_id": other, "account_no": payer})
    if len(orgs) < 2:
        return []
    alert = db.scalar(
        select(DepositAlert).where(
            DepositAlert.section_id == section.id, DepositAlert.payer_account_no == payer
        )
    )
    if alert is None:
        alert = DepositAlert(
            id=new_id(),
            section_id=section.id,
            payer_account_no=payer,
            raised_at=clock.now(),
            visible_after=deadline,
        )
        db.add(alert)
    alert.org_ids = sorted(orgs)
    alert.evidence = evidence
    return [alert.id]


# --- refunds ---------------------------------------------------------------------------------


def _new_refund(
    db: Session,
    bank: DepositBank,
    *,
    kind: str,
    account: DepositAccount | None,
    notice: PaymentNotice | None,
    sub_account_no: str,
    payee_account_no: str,
    payee_account_name: str,
    principal: Decimal,
    payments: Sequence[tuple[Decimal, dt.date]],
    reason: str,
    due_by: dt.datetime | None,
) -> Refund:
    """A refund row and its instruction in the partner outbox (same transaction)."""
    today = clock.today()
    rates = rates_of(db, bank.id)
    parts = [interest_calc.compute(amount, start, today, rates) for amount, start in payments]
    unrounded = sum((s.amount for p in parts for s in p.segments), Decimal("0"))
    total_interest = unrounded.quantize(interest_calc.FEN, rounding=ROUND_HALF_UP)
    refund = Refund(
        id=new_id(),
        instruction_id=new_id(),
        bank_id=bank.id,
        account_id=account.id if account is not None else None,
        notice_id=notice.id if notice is not None else None,
        kind=kind,
        sub_account_no=sub_account_no,
        payee_account_no=payee_account_no,
        payee_account_name=payee_account_name,
        principal=principal,
        interest=total_interest,
        interest_detail={"basis": "actual/360", "payments": [p.to_json() for p in parts]},
        reason=reason,
        due_by=due_by,
        status=RefundStatus.PENDING,
        created_at=clock.now(),
    )
    db.add(refund)
    db.flush()
    partner.enqueue(
        db,
        bank.partner_id,
        TOPIC_REFUND,
        PATH_REFUND,
        {
            "instruction_id": refund.instruction_id,
            "kind": kind,
            "sub_account_no": sub_account_no,
            "payee_account_no": payee_account_no,
            "payee_account_name": payee_account_name,
            "principal": str(principal),
            "interest": str(total_interest),
            "amount": str(principal + total_interest),
            "reason": reason,
        },
        ref_type="deposit_refund",
        ref_id=refund.id,
        idempotency_key=refund.instruction_id,
    )
    return refund


def _accepted_payments(db: Session, account: DepositAccount) -> list[PaymentNotice]:
    return list(
        db.scalars(
            select(PaymentNotice)
            .where(PaymentNotice.account_id == account.id, PaymentNotice.outcome == "accepted")
            .order_by(PaymentNotice.booked_at)
        )
    )


def _refund_account(
    db: Session,
    bank: DepositBank,
    account: DepositAccount,
    reason: str,
    due_by: dt.datetime | None,
    payee: tuple[str, str] | None = None,
) -> Refund:
    payments = _accepted_payments(db, account)
    if not payments:
        raise Conflict("deposits.refund.nothing", "该子账号没有已入账的保证金")
    account.status = ACCOUNT.apply(AccountStatus(account.status), AccountAction.REFUND)
    payee_no, payee_name = payee or (payments[0].payer_account_no, payments[0].payer_account_name)
    return _new_refund(
        db,
        bank,
        kind="refund",
        account=account,
        notice=None,
        sub_account_no=account.sub_account_no or "",
        payee_account_no=payee_no,
        payee_account_name=payee_name,
        principal=account.paid,
        payments=[(p.amount, clock.ensure_aware(p.booked_at).date()) for p in payments],
        reason=reason,
        due_by=due_by,
    )


REFUNDABLE = (AccountStatus.OPENED, AccountStatus.PAID, AccountStatus.REFUND_FAILED)


@use_case
def release_section(
    db: Session,
    actor: Actor,
    section_id: str,
    contract_signed_on: dt.date,
    reason: str = "合同已签订，退还投标保证金",
    forfeit_org_ids: Sequence[str] = (),
) -> list[Refund]:
    """退还保证金 of a section after the contract is signed, with interest, within the
    statutory period. Called by center staff; the award domain runs :func:`release_step`
    inside its own use case. Bidders listed in ``forfeit_org_ids`` (不予退还, decided
    elsewhere with its legal ground) are skipped."""
    refunds, payload = release_step(
        db, actor, section_id, contract_signed_on, reason, forfeit_org_ids
    )
    audit.record(db, actor, "deposits.section.released", "section", section_id, payload)
    return refunds


def release_step(
    db: Session,
    actor: Actor,
    section_id: str,
    contract_signed_on: dt.date,
    reason: str = "合同已签订，退还投标保证金",
    forfeit_org_ids: Sequence[str] = (),
) -> tuple[list[Refund], dict[str, Any]]:
    """The work of :func:`release_section` without its audit event, for a use case of a
    domain above (award) that records the release in its own event. Returns the refunds and
    the audit payload."""
    POLICY.require(actor, "refund.release")
    section = _section(db, section_id)
    deadline = _deadline(section)
    if clock.now() < deadline:
        raise Conflict("deposits.release.before_deadline", "投标截止前不能统一退还保证金")
    if contract_signed_on > clock.today():
        raise InvalidInput("deposits.release.future", "合同签订日期不能晚于今天")
    if contract_signed_on < deadline.date():
        raise InvalidInput("deposits.release.before_deadline", "合同签订日期不能早于投标截止日")
    due = refund_due_by(section, contract_signed_on)
    accounts = list(
        db.scalars(
            select(DepositAccount)
            .where(DepositAccount.section_id == section.id)
            .order_by(DepositAccount.requested_at)
            .with_for_update()
        )
    )
    refunds: list[Refund] = []
    forfeited: list[str] = []
    for account in accounts:
        if account.org_id in forfeit_org_ids and account.status == AccountStatus.PAID:
            account.status = ACCOUNT.apply(AccountStatus(account.status), AccountAction.FORFEIT)
            forfeited.append(account.id)
            continue
        if account.status not in REFUNDABLE or account.paid <= 0:
            continue
        refunds.append(_refund_account(db, _bank(db, account.bank_id), account, reason, due))
    return (
        refunds,
        {
            "section_code": section.code,
            "contract_signed_on": contract_signed_on.isoformat(),
            "due_by": due.isoformat(),
            "refunds": [
                {
                    "instruction_id": r.instruction_id,
                    "account_id": r.account_id,
                    "principal": str(r.principal),
                    "interest": str(r.interest),
                }
                for r in refunds
            ],
            "forfeited": forfeited,
        },
    )


@use_case
def refund_account(
    db: Session,
    actor: Actor,
    account_id: str,
    reason: str,
    payee_account_no: str | None = None,
    payee_account_name: str | None = None,
) -> Refund:
    """退还 one bidder's deposit now (e.g. its bid was withdrawn before the deadline, 第35条:
    within 5 days), or again after a failed refund, optionally to a 白名单 account."""
    POLICY.require(actor, "refund.release")
    account = db.get(DepositAccount, account_id)
    if account is None:
        raise not_found("保证金子账号")
    if account.status not in REFUNDABLE:
        raise Conflict(
            "deposits.refund.state",
            "子账号当前状态为“{state}”，不能退还",
            state=ACCOUNT.label(AccountStatus(account.status)),
        )
    payee = None
    if payee_account_no:
        payee = (normalize_account(payee_account_no), payee_account_name or "")
    due = clock.now() + dt.timedelta(days=STATUTORY_DAYS)
    refund = _refund_account(db, _bank(db, account.bank_id), account, reason, due, payee)
    audit.record(
        db,
        actor,
        "deposits.account.refunded",
        "deposit_account",
        account.id,
        {
            "instruction_id": refund.instruction_id,
            "principal": str(refund.principal),
            "interest": str(refund.interest),
            "reason": reason,
            "whitelist": payee is not None,
        },
    )
    return refund


def _on_refund_delivered(
    db: Session, message: partner.OutboxMessage, status: int, answer: dict[str, Any]
) -> None:
    refund = db.get(Refund, message.ref_id)
    if refund is None or refund.status != RefundStatus.PENDING:
        return  # the result overtook the acknowledgement: nothing to do
    refund.status = REFUND.apply(RefundStatus(refund.status), RefundAction.ACKNOWLEDGE)
    refund.sent_at = clock.now()


def _on_refund_rejected(
    db: Session, message: partner.OutboxMessage, status: int, answer: dict[str, Any]
) -> None:
    refund = db.get(Refund, message.ref_id)
    if refund is None or refund.status != RefundStatus.PENDING:
        return
    _fail(db, refund, str(answer.get("message") or answer.get("detail") or status))


def _fail(db: Session, refund: Refund, reason: str) -> None:
    refund.status = REFUND.apply(RefundStatus(refund.status), RefundAction.FAIL)
    refund.failure = reason[:300]
    if refund.account_id is not None:
        account = db.get(DepositAccount, refund.account_id)
        if account is not None and account.status == AccountStatus.REFUNDING:
            account.status = ACCOUNT.apply(AccountStatus(account.status), AccountAction.FAIL)


@use_case
def refund_result(
    db: Session,
    actor: Actor,
    bank_id: str,
    data: RefundResultIn,
    source: str = "callback",
    signed: partner.SignedRequest | None = None,
) -> dict[str, Any]:
    """退款结果: the bank paid (done) or could not (failed). A repeated result changes nothing;
    a contradicting one is refused; an unknown instruction is refused (404)."""
    refund = db.scalar(
        select(Refund)
        .where(Refund.bank_id == bank_id, Refund.instruction_id == data.instruction_id)
        .with_for_update()
    )
    if refund is None:
        raise NotFound(
            "deposits.refund.unknown",
            "退款指令 {instruction_id} 不存在",
            instruction_id=data.instruction_id,
        )
    target = RefundStatus.DONE if data.status == "done" else RefundStatus.FAILED
    duplicate = refund.status == target
    if not duplicate:
        if refund.status in (RefundStatus.DONE, RefundStatus.FAILED):
            raise Conflict(
                "deposits.refund.contradiction",
                "退款指令 {instruction_id} 已是“{state}”，不能改为相反的结果",
                instruction_id=data.instruction_id,
                state=REFUND.label(RefundStatus(refund.status)),
            )
        if target == RefundStatus.DONE:
            refund.status = REFUND.apply(RefundStatus(refund.status), RefundAction.CONFIRM)
            refund.done_at = clock.ensure_aware(data.done_at)
            refund.bank_ref = data.bank_ref
            if refund.account_id is not None:
                account = db.get(DepositAccount, refund.account_id)
                if account is not None and account.status == AccountStatus.REFUNDING:
                    account.status = ACCOUNT.apply(
                        AccountStatus(account.status), AccountAction.CONFIRM
                    )
        else:
            refund.bank_ref = data.bank_ref
            _fail(db, refund, data.reason or "银行未说明原因")
    answer = {
        "instruction_id": refund.instruction_id,
        "status": refund.status,
        "duplicate": duplicate,
    }
    audit.record(
        db,
        actor,
        "deposits.refund.duplicate_result" if duplicate else f"deposits.refund.{refund.status}",
        "deposit_refund",
        refund.id,
        {
            "instruction_id": refund.instruction_id,
            "kind": refund.kind,
            "principal": str(refund.principal),
            "interest": str(refund.interest),
            "bank_ref": data.bank_ref,
            "source": source,
        },
    )
    if signed is not None:
        partner.remember(db, signed, answer)
    return answer


@use_case
def forfeit(db: Session, actor: Actor, account_id: str, reason: str) -> DepositAccount:
    """不予退还 (e.g. 投标截止后撤销投标文件, 中标后拒签合同), with its ground; the money stays
    in the sub-account for the tenderer's claim, handled outside the platform."""
    POLICY.require(actor, "refund.forfeit")
    account = db.get(DepositAccount, account_id)
    if account is None:
        raise not_found("保证金子账号")
    if len(reason.strip()) < 4:
        raise InvalidInput("deposits.forfeit.reason", "请写明不予退还的事实和法律依据")
    account.status = ACCOUNT.apply(AccountStatus(account.status), AccountAction.FORFEIT)
    audit.record(
        db, actor, "deposits.account.forfeited", "deposit_account", account.id, {"reason": reason}
    )
    return account


# --- reconciliation --------------------------------------------------------------------------

BANK = system_actor("deposit-reconciliation")


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(0, 0), clock.CHINA_TZ)
    return start, start + dt.timedelta(days=1)


@dataclass
class ReconcileReport:
    reconciliation: Reconciliation
    recovered_notices: int
    recovered_results: int


def reconcile(
    db: Session,
    actor: Actor,
    bank_id: str,
    day: dt.date,
    fetch: Callable[[DepositBank, dt.date], StatementIn],
) -> ReconcileReport:
    """日对账: fetch the bank's statement of ``day``; take in every credit the platform never
    heard of (a notice lost while a side was down) and every refund the bank executed whose
    result never arrived, through the same use cases as the live messages; then record the
    comparison. Running it again for the same day is safe (nothing counted twice)."""
    POLICY.require(actor, "reconcile")
    db.rollback()
    bank = _bank(db, bank_id)
    statement = fetch(bank, day)
    if statement.day != day:
        raise Conflict("deposits.statement.day", "银行返回的对账单日期不符")
    known = set(db.scalars(select(PaymentNotice.notice_id).where(PaymentNotice.bank_id == bank.id)))
    recovered = 0
    results = 0
    bank_actor = Actor(name=bank.name, org_name=bank.name, auth_method="partner")
    for line in statement.lines:
        if line.direction == "credit" and line.ref not in known:
            receive_payment(
                db,
                bank_actor,
                bank.id,
                PaymentNoticeIn(
                    notice_id=line.ref,
                    seq=line.seq,
                    sub_account_no=line.sub_account_no,
                    amount=line.amount,
                    payer_account_no=line.counterparty_account_no,
                    payer_account_name=line.counterparty_name or "-",
                    payer_bank=line.counterparty_bank,
                    booked_at=line.booked_at,
                ),
                source="statement",
            )
            known.add(line.ref)
            recovered += 1
        elif line.direction == "debit":
            refund = db.scalar(
                select(Refund).where(Refund.bank_id == bank.id, Refund.instruction_id == line.ref)
            )
            db.rollback()
            if refund is not None and refund.status in (RefundStatus.PENDING, RefundStatus.SENT):
                refund_result(
                    db,
                    bank_actor,
                    bank.id,
                    RefundResultIn(
                        instruction_id=line.ref,
                        status="done",
                        bank_ref=line.line_id,
                        done_at=line.booked_at,
                    ),
                    source="statement",
                )
                results += 1
    row = _record_reconciliation(db, actor, bank.id, statement, recovered)
    return ReconcileReport(row, recovered, results)


@use_case
def _record_reconciliation(
    db: Session, actor: Actor, bank_id: str, statement: StatementIn, recovered: int
) -> Reconciliation:
    bank = _bank(db, bank_id)
    now = clock.now()
    start, end = _day_bounds(statement.day)
    for line in statement.lines:
        exists = db.scalar(
            select(StatementLine).where(
                StatementLine.bank_id == bank.id, StatementLine.line_id == line.line_id
            )
        )
        if exists is None:
            db.add(
                StatementLine(
                    id=new_id(),
                    bank_id=bank.id,
                    day=statement.day,
                    line_id=line.line_id,
                    direction=line.direction,
                    sub_account_no=normalize_account(line.sub_account_no),
                    amount=line.amount,
                    counterparty_account_no=normalize_account(line.counterparty_account_no),
                    counterparty_name=line.counterparty_name,
                    ref=line.ref,
                    booked_at=clock.ensure_aware(line.booked_at),
                    fetched_at=now,
                )
            )
    notices = list(
        db.scalars(
            select(PaymentNotice).where(
                PaymentNotice.bank_id == bank.id,
                PaymentNotice.booked_at >= start,
                PaymentNotice.booked_at < end,
            )
        )
    )
    refunds = list(
        db.scalars(
            select(Refund).where(
                Refund.bank_id == bank.id,
                Refund.status == RefundStatus.DONE,
                Refund.done_at >= start,
                Refund.done_at < end,
            )
        )
    )
    credits = {ln.ref: ln for ln in statement.lines if ln.direction == "credit"}
    debits = {ln.ref: ln for ln in statement.lines if ln.direction == "debit"}
    differences: list[dict[str, Any]] = []
    for n in notices:
        credit = credits.get(n.notice_id)
        if credit is None:
            differences.append(
                _diff("missing_at_bank", n.notice_id, n.sub_account_no, None, n.amount)
            )
        elif credit.amount != n.amount:
            differences.append(
                _diff("amount_mismatch", n.notice_id, n.sub_account_no, credit.amount, n.amount)
            )
    platform_refs = {n.notice_id for n in notices}
    for ref, credit in credits.items():
        if ref not in platform_refs:
            differences.append(
                _diff("missing_on_platform", ref, credit.sub_account_no, credit.amount, None)
            )
    done = {r.instruction_id: r for r in refunds}
    for r in refunds:
        debit = debits.get(r.instruction_id)
        total = r.principal + r.interest
        if debit is None:
            differences.append(
                _diff("missing_at_bank", r.instruction_id, r.sub_account_no, None, total)
            )
        elif debit.amount != total:
            differences.append(
                _diff("amount_mismatch", r.instruction_id, r.sub_account_no, debit.amount, total)
            )
    for ref, debit in debits.items():
        if ref not in done:
            differences.append(
                _diff("missing_on_platform", ref, debit.sub_account_no, debit.amount, None)
            )
    row = db.scalar(
        select(Reconciliation).where(
            Reconciliation.bank_id == bank.id, Reconciliation.day == statement.day
        )
    )
    if row is None:
        row = Reconciliation(id=new_id(), bank_id=bank.id, day=statement.day)
        db.add(row)
    zero = Decimal("0")
    row.run_at = now
    row.bank_credits = sum((ln.amount for ln in credits.values()), zero)
    row.bank_debits = sum((ln.amount for ln in debits.values()), zero)
    row.platform_credits = sum((n.amount for n in notices), zero)
    row.platform_debits = sum((r.principal + r.interest for r in refunds), zero)
    row.recovered = recovered
    row.differences = differences
    row.balanced = not differences
    audit.record(
        db,
        actor,
        "deposits.reconciled",
        "deposit_reconciliation",
        row.id,
        {
            "bank": bank.code,
            "day": statement.day.isoformat(),
            "bank_credits": str(row.bank_credits),
            "bank_debits": str(row.bank_debits),
            "platform_credits": str(row.platform_credits),
            "platform_debits": str(row.platform_debits),
            "recovered": recovered,
            "differences": len(differences),
        },
    )
    return row


def _diff(
    kind: str, ref: str, sub_account: str, bank: Decimal | None, platform: Decimal | None
) -> dict[str, Any]:
    return {
        "kind": kind,
        "ref": ref,
        "sub_account_no": sub_account,
        "bank_amount": str(bank) if bank is not None else None,
        "platform_amount": str(platform) if platform is not None else None,
    }


def register_partner_handlers() -> None:
    """Called by the app (and the tests): answers to deposit messages land here."""
    partner.register_handler(TOPIC_OPEN, delivered=_on_open_delivered, rejected=_on_open_rejected)
    partner.register_handler(
        TOPIC_REFUND, delivered=_on_refund_delivered, rejected=_on_refund_rejected
    )


register_partner_handlers()
