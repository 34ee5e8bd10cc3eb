"""Award use cases (定标). Only this module writes award tables.

The entry point is the signed evaluation report: :func:`open_award` takes its ranked
candidates (an :class:`EvaluationResult`), checks them against the section's opening and fixes
the rules that apply (rules.py). The tenderer then publishes the candidates (中标候选人公示),
answers objections, decides (实施条例第55条), notifies (中标结果公告 + signed letters to every
bidder at the same time) and records the contract with its publicity.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sunlit.deposits import service as deposits_service
from sunlit.evaluation import queries as evaluation_queries
from sunlit.guarantees import service as guarantees_service
from sunlit.identity import queries as identity_queries
from sunlit.kernel import audit, clock
from sunlit.kernel.authz import Actor, system_actor
from sunlit.kernel.clock import WorkingCalendar
from sunlit.kernel.crypto import get_suite
from sunlit.kernel.db import after_commit, new_id, use_case
from sunlit.kernel.errors import Conflict, InvalidInput, PermissionDenied, not_found
from sunlit.notices import service as notice_service
from sunlit.notices.states import NoticeKind
from sunlit.opening import queries as opening_queries
from sunlit.projects import queries as project_queries
from sunlit.projects.models import Section, TenderProject
from sunlit.transparency import keys as platform_keys
from sunlit.transparency import service as transparency_service

from . import letters, rules
from .models import (
    AwardCandidate,
    AwardContract,
    AwardLetter,
    AwardObjection,
    AwardPassOver,
    AwardProcess,
)
from .policies import POLICY
from .rules import PassOver, RankedCandidate
from .states import LIFECYCLE, AwardAction, AwardStatus, DecisionContext

_log = logging.getLogger(__name__)

TEXT_MAX: Final = 2000
EVIDENCE_MAX: Final = 10 * 1024 * 1024
OPENED: Final = ("opened", "remedied")


@dataclass(frozen=True)
class EvaluationResult:
    """What the signed evaluation report (评标报告) hands to the award: its id and digest and
    the ranked candidates. The evaluation domain builds it from ``evaluation.queries``."""

    report_id: str
    candidates: Sequence[RankedCandidate]
    report_digest: str = ""


@dataclass(frozen=True)
class ContractIn:
    contract_code: str
    name: str
    price: str
    content: str
    signed_at: dt.datetime
    limit_time: str = ""
    quality: str = ""
    late_reason: str = ""


# --- helpers ---------------------------------------------------------------------------------


def _section(db: Session, section_id: str) -> Section:
    section = project_queries.section_by_id(db, section_id)
    if section is None:
        raise not_found("标段")
    return section


def _process(db: Session, section_id: str) -> tuple[AwardProcess, Section]:
    section = _section(db, section_id)
    row = db.scalar(select(AwardProcess).where(AwardProcess.section_id == section.id))
    if row is None:
        raise Conflict("award.not_open", "该标段尚未收到评标报告，定标未开始")
    return row, section


def _apply(
    row: AwardProcess,
    action: AwardAction,
    actor: Actor,
    tender: TenderProject,
    context: object = None,
) -> None:
    row.status = LIFECYCLE.apply(
        AwardStatus(row.status),
        action,
        context=context,
        has_permission=lambda p: POLICY.allows(actor, p, tender),
    )


def _text(value: str, code: str, field: str, empty: str, limit: int = TEXT_MAX) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(f"{code}.empty", empty, field=field)
    if len(text) > limit:
        raise InvalidInput(f"{code}.too_long", "内容不得超过{n}个字符", field=field, n=limit)
    return text


def _org(db: Session, org_id: str | None) -> tuple[str, str]:
    if org_id is None:
        return "", ""
    org = identity_queries.organization_summary(db, org_id)
    return (org.name, org.credit_code) if org is not None else ("", "")


def _checkpoint(reason: str) -> Callable[[Session], None]:
    def issue(db: Session) -> None:
        with contextlib.suppress(Conflict):  # the log did not grow since the last one
            transparency_service.issue_checkpoint(db, system_actor("award"), reason)

    return issue


def _bidders(db: Session, section: Section) -> list[opening_queries.OpenedBidder]:
    found = opening_queries.opened_bidders(db, section.id)
    if found is None:
        raise Conflict("award.no_opening", "该标段尚未开标")
    status, bidders = found
    if status != "closed":
        raise Conflict("award.opening_not_closed", "该标段的开标尚未结束（开标记录未确认）")
    return bidders


def _amount(row: AwardCandidate) -> Decimal:
    return Decimal(row.price).quantize(Decimal("0.01"))


# --- opening the award from the evaluation report ---------------------------------------------


def report_result(db: Session, section: Section) -> EvaluationResult:
    """The section's signed evaluation report (``evaluation.queries.signed_report``) as the
    award's input: its id, digest and 中标候选人 in rank order, with the duration and quality
    each bidder announced at the opening. Refused when no signed report exists."""
    report = evaluation_queries.signed_report(db, section.id)
    if report is None:
        raise Conflict(
            "award.no_signed_report",
            "该标段尚无评标委员会全体成员签署的评标报告，不能进入定标",
        )
    announced = {b.credit_code: b for b in _bidders(db, section)}
    candidates = []
    for c in report.candidates:
        bid = announced.get(c.credit_code)
        candidates.append(
            RankedCandidate(
                org_id=c.org_id or "",
                credit_code=c.credit_code,
                name=c.name,
                price=c.price,
                score="" if c.score is None else f"{c.score}",
                rank=c.rank,
                duration_days=bid.duration_days if bid else None,
                quality=(bid.quality or "") if bid else "",
            )
        )
    return EvaluationResult(report.report_id, candidates, report.digest)


@use_case
def open_award(db: Session, actor: Actor, section_id: str) -> AwardProcess:
    """收到评标报告: the candidates of the section's signed evaluation report become its
    award process (refused, changing nothing, while no signed report exists)."""
    section = _section(db, section_id)
    POLICY.require(actor, "award.open", section.tender_project)
    if db.scalar(select(AwardProcess.id).where(AwardProcess.section_id == section.id)):
        raise Conflict("award.exists", "该标段的定标已开始")
    return _open(db, actor, section, report_result(db, section))


@use_case
def open_award_from(
    db: Session, actor: Actor, section_id: str, result: EvaluationResult
) -> AwardProcess:
    """The same from a given result. Not reachable from the API or the pages: the award
    domain's own tests use it to start from a ranking without running an evaluation."""
    section = _section(db, section_id)
    POLICY.require(actor, "award.open", section.tender_project)
    return _open(db, actor, section, result)


def _open(db: Session, actor: Actor, section: Section, result: EvaluationResult) -> AwardProcess:
    tender = section.tender_project
    if db.scalar(select(AwardProcess.id).where(AwardProcess.section_id == section.id)):
        raise Conflict("award.exists", "该标段的定标已开始")
    report_id = _text(result.report_id, "award.report", "report_id", "缺少评标报告标识", 64)
    opened = {b.credit_code: b for b in _bidders(db, section)}
    resolved = []
    for c in result.candidates:
        bidder = opened.get(c.credit_code.strip().upper())
        if bidder is None or (c.org_id and c.org_id != bidder.org_id):
            raise InvalidInput(
                "award.candidates.not_bidder",
                "中标候选人{name}（{code}）未在该标段开标中递交投标文件",
                field="candidates",
                name=c.name or (bidder.bidder_name if bidder else ""),
                code=c.credit_code,
            )
        resolved.append(
            dataclasses.replace(c, org_id=bidder.org_id, credit_code=bidder.credit_code)
        )
    ranked = rules.check_ranking(resolved)
    by_org = {b.org_id: b for b in opened.values()}
    for c in ranked:
        bidder = by_org[c.org_id]
        if bidder.status not in OPENED:
            raise InvalidInput(
                "award.candidates.not_opened",
                "中标候选人{name}的投标文件未解密（{status}），不能列为中标候选人",
                field="candidates",
                name=bidder.bidder_name,
                status=bidder.status,
            )
    applies = rules.rules_for(tender.category, tender.must_tender)
    now = clock.now()
    row = AwardProcess(
        id=new_id(),
        section_id=section.id,
        tender_project_id=tender.id,
        section_code=section.code,
        status=AwardStatus.OPEN,
        publicity_required=applies.publicity_required,
        rule_bound=applies.rule_bound,
        government_procurement=applies.government_procurement,
        report_id=report_id,
        report_digest=result.report_digest.strip()[:128],
        report_received_at=now,
        opened_by=actor.user_id,
        created_at=now,
    )
    db.add(row)
    for c in ranked:
        bidder = by_org[c.org_id]
        db.add(
            AwardCandidate(
                id=new_id(),
                process_id=row.id,
                rank=c.rank,
                org_id=c.org_id,
                credit_code=bidder.credit_code,
                name=bidder.bidder_name,
                price=c.price.quantize(Decimal("0.01")),
                score=c.score.strip()[:40],
                duration_days=c.duration_days,
                quality=(c.quality or "").strip()[:200],
                status="candidate",
            )
        )
    db.flush()
    audit.record(
        db,
        actor,
        "award.opened",
        "award_process",
        row.id,
        {
            "section_code": section.code,
            "report_id": report_id,
            "report_digest": row.report_digest,
            "candidates": [
                {"rank": c.rank, "credit_code": c.credit_code, "price": str(c.price)}
                for c in ranked
            ],
            "publicity_required": row.publicity_required,
            "rule_bound": row.rule_bound,
        },
    )
    return row


# --- 中标候选人公示 ------------------------------------------------------------------------------


def _publicity_content(row: AwardProcess, section: Section, channel: str, end: dt.datetime) -> str:
    lines = [
        f"招标项目：{section.tender_project.name}（{section.tender_project.code}）",
        f"标段（包）：{section.name}（{section.code}）",
        f"公示期：{clock.now():%Y-%m-%d %H:%M} 至 {end:%Y-%m-%d %H:%M}",
        "",
        "中标候选人（按排名）：",
    ]
    for c in row.candidates:
        extra = f"，工期{c.duration_days}日历天" if c.duration_days else ""
        extra += f"，质量{c.quality}" if c.quality else ""
        lines.append(
            f"  第{c.rank}名 {c.name}（统一社会信用代码 {c.credit_code}）"
            f" 投标报价 {letters.format_amount(_amount(c))} 元"
            f"（{letters.amount_in_words(_amount(c))}）"
            f"，评标得分 {c.score or '—'}{extra}"
        )
    lines += [
        "",
        "投标人或者其他利害关系人对评标结果有异议的，应当在公示期间提出；招标人自收到异议之日起"
        "3日内作出答复，作出答复前暂停招标投标活动（招标投标法实施条例第五十四条）。",
        f"异议渠道：{channel}",
    ]
    return "\n".join(lines)


@use_case
def publish_publicity(
    db: Session, actor: Actor, section_id: str, days: int = 3, objection_channel: str = ""
) -> AwardProcess:
    """发布中标候选人公示 on the portal, for at least 3 days."""
    row, section = _process(db, section_id)
    tender = section.tender_project
    _apply(row, AwardAction.PUBLISH, actor, tender)
    now = clock.now()
    end = rules.publicity_end(now, days)
    channel = (objection_channel or "").strip() or "通过本平台“定标”页面在线提出异议"
    if len(channel) > 500:
        raise InvalidInput("award.publicity.channel", "异议渠道说明不得超过500字", field="channel")
    notice = notice_service.publish_award_notice(
        db,
        actor,
        tender,
        [section],
        NoticeKind.CANDIDATES,
        f"{tender.name}{section.name}中标候选人公示",
        _publicity_content(row, section, channel, end),
    )
    row.publicity_notice_id = notice.id
    row.publicity_start, row.publicity_end = now, end
    row.objection_channel = channel
    row.publicity_late = now > clock.ensure_aware(row.report_received_at) + rules.PUBLISH_WITHIN
    audit.record(
        db,
        actor,
        "award.publicity_published",
        "award_process",
        row.id,
        {
            "notice_id": notice.id,
            "start": now.isoformat(),
            "end": end.isoformat(),
            "late": row.publicity_late,
        },
    )
    return row


# --- objections during publicity (第54条) -------------------------------------------------------


@use_case
def raise_objection(
    db: Session, actor: Actor, section_id: str, content: str, contact: str = ""
) -> AwardObjection:
    """投标人在公示期间对评标结果提出异议 (a bidder that took part in the section's opening)."""
    row, section = _process(db, section_id)
    POLICY.require(actor, "award.object", section.tender_project)
    bidder = next((b for b in _bidders(db, section) if b.org_id == actor.org_id), None)
    if bidder is None:
        raise PermissionDenied(
            "award.objection.not_bidder", "本单位未参与该标段投标，不能对评标结果提出异议"
        )
    _apply(row, AwardAction.OBJECT, actor, section.tender_project)
    now = clock.now()
    assert row.publicity_end is not None
    if now >= clock.ensure_aware(row.publicity_end):
        raise Conflict(
            "award.objection.closed",
            "中标候选人公示已于{end}结束，异议应当在公示期间提出",
            end=clock.ensure_aware(row.publicity_end).strftime("%Y-%m-%d %H:%M"),
        )
    text = _text(content, "award.objection.content", "content", "请填写异议内容")
    objection = AwardObjection(
        id=new_id(),
        process_id=row.id,
        org_id=bidder.org_id,
        org_name=bidder.bidder_name,
        credit_code=bidder.credit_code,
        user_id=actor.user_id,
        contact=(contact or "").strip()[:200],
        content=text,
        raised_at=now,
        answer_due=now + rules.ANSWER_WITHIN,
    )
    db.add(objection)
    audit.record(
        db,
        actor,
        "award.objection_raised",
        "award_process",
        row.id,
        {"objection": objection.id, "bidder": bidder.credit_code, "content": text},
    )
    return objection


@use_case
def answer_objection(
    db: Session, actor: Actor, section_id: str, objection_id: str, answer: str
) -> AwardObjection:
    """招标人答复异议 (once; due within 3 days of receipt, the process paused until then)."""
    row, section = _process(db, section_id)
    objection = db.get(AwardObjection, objection_id)
    if objection is None or objection.process_id != row.id:
        raise not_found("异议")
    _apply(row, AwardAction.ANSWER, actor, section.tender_project)
    if objection.answered_at is not None:
        raise Conflict("award.objection.answered", "该异议已答复")
    text = _text(answer, "award.objection.answer", "answer", "请填写答复内容")
    now = clock.now()
    objection.answer, objection.answered_by, objection.answered_at = text, actor.user_id, now
    audit.record(
        db,
        actor,
        "award.objection_answered",
        "award_process",
        row.id,
        {
            "objection": objection.id,
            "answer": text,
            "late": now > clock.ensure_aware(objection.answer_due),
        },
    )
    return objection


def _unanswered(db: Session, row: AwardProcess) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(AwardObjection)
            .where(AwardObjection.process_id == row.id, AwardObjection.answered_at.is_(None))
        )
        or 0
    )


# --- 定标 (第55条) ----------------------------------------------------------------------------


@use_case
def decide(
    db: Session,
    actor: Actor,
    section_id: str,
    winner_id: str,
    pass_overs: Mapping[str, PassOver] | None = None,
    note: str = "",
) -> AwardProcess:
    """确定中标人: the first-ranked candidate, or another only with the 第55条 reasons and
    evidence recorded for every better-ranked candidate."""
    row, section = _process(db, section_id)
    now = clock.now()
    over = row.publicity_end is not None and now >= clock.ensure_aware(row.publicity_end)
    ctx = DecisionContext(row.publicity_required, over, _unanswered(db, row))
    _apply(row, AwardAction.DECIDE, actor, section.tender_project, ctx)
    given = dict(pass_overs or {})
    for po in given.values():
        if len(po.evidence) > EVIDENCE_MAX:
            raise InvalidInput(
                "award.decision.evidence_too_large", "证明材料不得超过10 MB", field="pass_overs"
            )
    candidates = list(row.candidates)
    winner = rules.check_decision(
        [rules.Ranked(c.id, c.rank, c.name) for c in candidates],
        winner_id,
        given,
        row.rule_bound,
    )
    for c in candidates:
        if c.id == winner.id:
            c.status = "winner"
        elif c.id in given:
            c.status = "passed_over"
            po = given[c.id]
            db.add(
                AwardPassOver(
                    id=new_id(),
                    process_id=row.id,
                    candidate_id=c.id,
                    reason_code=po.reason_code,
                    explanation=po.explanation.strip()[:TEXT_MAX],
                    evidence_name=po.evidence_name.strip()[:255],
                    evidence_sha256=hashlib.sha256(po.evidence).hexdigest(),
                    evidence_sm3=get_suite("gm").hash(po.evidence).hex(),
                    evidence=po.evidence,
                    recorded_by=actor.user_id,
                    recorded_at=now,
                )
            )
    row.winner_id = winner.id
    row.decided_at, row.decided_by = now, actor.user_id
    row.decision_note = (note or "").strip()[:TEXT_MAX]
    audit.record(
        db,
        actor,
        "award.decided",
        "award_process",
        row.id,
        {
            "winner_rank": winner.rank,
            "winner": next(c.credit_code for c in candidates if c.id == winner.id),
            "passed_over": [
                {
                    "rank": c.rank,
                    "credit_code": c.credit_code,
                    "reason": given[c.id].reason_code,
                    "evidence_sha256": hashlib.sha256(given[c.id].evidence).hexdigest(),
                }
                for c in candidates
                if c.id in given
            ],
        },
    )
    return row


# --- 中标结果公告 and the letters (招标投标法第45条) ----------------------------------------------


def _result_content(
    section: Section,
    winner: AwardCandidate,
    tenderer: str,
    passed: list[tuple[AwardCandidate, AwardPassOver]],
) -> str:
    tender = section.tender_project
    lines = [
        f"招标项目：{tender.name}（{tender.code}）",
        f"标段（包）：{section.name}（{section.code}）",
        f"招标人：{tenderer}",
        f"中标人：{winner.name}（统一社会信用代码 {winner.credit_code}）",
        f"中标价：{letters.format_amount(_amount(winner))} 元"
        f"（{letters.amount_in_words(_amount(winner))}）",
    ]
    if winner.duration_days:
        lines.append(f"工期：{winner.duration_days}日历天")
    if winner.quality:
        lines.append(f"质量：{winner.quality}")
    if passed:
        lines.append("")
        lines.append("排名在中标人之前的中标候选人未被确定为中标人的理由：")
        for c, po in passed:
            lines.append(
                f"  第{c.rank}名 {c.name}：{rules.reason_label(po.reason_code)}"
                f"（{po.explanation}；证明材料 SHA-256 {po.evidence_sha256}）"
            )
    return "\n".join(lines)


@use_case
def notify(
    db: Session,
    actor: Actor,
    section_id: str,
    project_lead: str = "",
    project_lead_certificate: str = "",
) -> AwardProcess:
    """发出中标通知书, 同时将中标结果通知所有未中标的投标人, 并发布中标结果公告."""
    row, section = _process(db, section_id)
    tender = section.tender_project
    _apply(row, AwardAction.NOTIFY, actor, tender)
    winner = next(c for c in row.candidates if c.id == row.winner_id)
    now = clock.now()
    key = platform_keys.platform_key()
    tenderer = _org(db, tender.tenderer_org_id)
    agency = _org(db, tender.agency_org_id) if tender.agency_org_id else None
    amount = _amount(winner)
    common = {
        "tender": tender,
        "section": section,
        "tenderer": tenderer,
        "agency": agency,
        "winner": (winner.name, winner.credit_code),
        "amount": amount,
        "time_limit": winner.duration_days,
        "quality": winner.quality,
        "bid_date": section.bid_deadline and clock.ensure_aware(section.bid_deadline),
        "issued_at": now,
        "key_id": key.key_id,
        "suite": key.suite,
    }
    recipients = [(winner.org_id, winner.name, winner.credit_code, "award")]
    recipients += [
        (b.org_id, b.bidder_name, b.credit_code, "non_award")
        for b in _bidders(db, section)
        if b.org_id != winner.org_id
    ]
    issued = []
    for i, (org_id, name, code, kind) in enumerate(recipients):
        number = f"{section.code}-ZB" if kind == "award" else f"{section.code}-WZ{i:02d}"
        doc = letters.build_letter(
            kind=kind,
            number=number,
            recipient=(name, code),
            project_lead=project_lead.strip()[:100] if kind == "award" else "",
            project_lead_certificate=(
                project_lead_certificate.strip()[:100] if kind == "award" else ""
            ),
            **common,  # type: ignore[arg-type]
        )
        pdf = letters.render_pdf(doc)
        db.add(
            AwardLetter(
                id=new_id(),
                process_id=row.id,
                kind=kind,
                number=number,
                org_id=org_id,
                credit_code=code,
                name=name,
                doc=doc,
                signature=letters.sign(key.private_key, letters.letter_bytes(doc)),
                pdf=pdf,
                pdf_sha256=hashlib.sha256(pdf).hexdigest(),
                pdf_signature=letters.sign(key.private_key, letters.pdf_statement(number, pdf)),
                key_id=key.key_id,
                issued_at=now,
            )
        )
        issued.append({"kind": kind, "number": number, "credit_code": code})
    reasons = {
        po.candidate_id: po
        for po in db.scalars(select(AwardPassOver).where(AwardPassOver.process_id == row.id))
    }
    passed = [(c, reasons[c.id]) for c in row.candidates if c.id in reasons]
    content = _result_content(section, winner, tenderer[0], passed)
    notice = notice_service.publish_award_notice(
        db,
        actor,
        tender,
        [section],
        NoticeKind.RESULT,
        f"{tender.name}{section.name}中标结果公告",
        content,
    )
    row.result_notice_id = notice.id
    row.notified_at = now
    audit.record(
        db,
        actor,
        "award.notified",
        "award_process",
        row.id,
        {
            "winner": winner.credit_code,
            "amount": str(amount),
            "notice_id": notice.id,
            "letters": issued,
        },
    )
    after_commit(db, lambda: _checkpoint(f"中标通知书 标段 {section.code}")(db))
    return row


# --- 合同 (招标投标法第46条, 实施条例第57条, 政府采购法实施条例第50条) ------------------------


def _price(value: str) -> Decimal:
    try:
        price = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise InvalidInput("award.contract.price", "合同金额格式不正确", field="price") from None
    if not price.is_finite() or price <= 0:
        raise InvalidInput("award.contract.price", "合同金额必须大于零", field="price")
    return price.quantize(Decimal("0.01"))


def _contract_content(c: AwardContract, section: Section) -> str:
    lines = [
        f"合同名称：{c.name}",
        f"合同编号：{c.contract_code}",
        f"招标项目：{section.tender_project.name}（{section.tender_project.code}）",
        f"标段（包）：{section.name}（{section.code}）",
        f"采购人（招标人）：{c.tenderer_name}",
        f"供应商（中标人）：{c.winner_name}（统一社会信用代码 {c.winner_code}）",
        f"合同金额：{letters.format_amount(c.price)} 元（{letters.amount_in_words(c.price)}）",
        f"签订日期：{clock.ensure_aware(c.signed_at):%Y-%m-%d}",
    ]
    if c.limit_time:
        lines.append(f"合同期限：{c.limit_time}")
    if c.quality:
        lines.append(f"质量要求：{c.quality}")
    lines += ["", "合同主要内容：", c.content]
    return "\n".join(lines)


@use_case
def record_contract(
    db: Session, actor: Actor, section_id: str, data: ContractIn, calendar: WorkingCalendar
) -> AwardContract:
    """登记合同 and publish it (合同公示). Its price must equal the award (第57条); signed
    within 30 days of the award letter or with the reason recorded."""
    row, section = _process(db, section_id)
    tender = section.tender_project
    _apply(row, AwardAction.CONTRACT, actor, tender)
    winner = next(c for c in row.candidates if c.id == row.winner_id)
    code = _text(data.contract_code, "award.contract.code", "contract_code", "请填写合同编号", 100)
    name = _text(data.name, "award.contract.name", "name", "请填写合同名称", 600)
    content = _text(data.content, "award.contract.content", "content", "请填写合同主要内容", 8000)
    price = _price(data.price)
    if price != _amount(winner):
        raise InvalidInput(
            "award.contract.price_mismatch",
            "合同金额{price}元与中标价{award}元不一致：合同的价款等主要条款应当与招标文件和"
            "中标人的投标文件一致（招标投标法实施条例第五十七条）",
            field="price",
            price=letters.format_amount(price),
            award=letters.format_amount(_amount(winner)),
        )
    now = clock.now()
    signed_at = clock.ensure_aware(data.signed_at)
    assert row.notified_at is not None
    notified = clock.ensure_aware(row.notified_at)
    if signed_at < notified:
        raise InvalidInput(
            "award.contract.before_notice",
            "合同签订时间不能早于中标通知书发出时间（{time}）",
            field="signed_at",
            time=notified.strftime("%Y-%m-%d %H:%M"),
        )
    if signed_at > now:
        raise InvalidInput(
            "award.contract.future", "合同签订时间不能晚于当前时间", field="signed_at"
        )
    due = rules.contract_due(notified)
    late_reason = (data.late_reason or "").strip()[:TEXT_MAX]
    if signed_at > due and not late_reason:
        raise InvalidInput(
            "award.contract.late_reason",
            "合同应当自中标通知书发出之日起30日内（{due}前）签订（招标投标法第四十六条）；"
            "逾期签订的，请说明原因",
            field="late_reason",
            due=due.strftime("%Y-%m-%d"),
        )
    publicity_due = (
        calendar.add_working_days(signed_at.date(), rules.GP_CONTRACT_PUBLICITY_WORKING_DAYS)
        if row.government_procurement
        else None
    )
    tenderer = _org(db, tender.tenderer_org_id)
    contract = AwardContract(
        id=new_id(),
        process_id=row.id,
        contract_code=code,
        name=name,
        tenderer_name=tenderer[0],
        tenderer_code=tenderer[1],
        winner_name=winner.name,
        winner_code=winner.credit_code,
        price=price,
        content=content,
        limit_time=(data.limit_time or "").strip()[:200],
        quality=(data.quality or "").strip()[:200],
        signed_at=signed_at,
        submitted_at=now,
        sign_due=due,
        late_reason=late_reason if signed_at > due else "",
        publicity_due=publicity_due,
        publicity_late=publicity_due is not None and now.date() > publicity_due,
        recorded_by=actor.user_id,
    )
    notice = notice_service.publish_award_notice(
        db,
        actor,
        tender,
        [section],
        NoticeKind.CONTRACT,
        f"{tender.name}{section.name}合同公示",
        _contract_content(contract, section),
    )
    contract.publicity_notice_id = notice.id
    db.add(contract)
    row.closed_at = now
    audit.record(
        db,
        actor,
        "award.contract_recorded",
        "award_process",
        row.id,
        {
            "contract_code": code,
            "price": str(price),
            "signed_at": signed_at.isoformat(),
            "late": signed_at > due,
            "publicity_late": contract.publicity_late,
            "notice_id": notice.id,
        },
    )
    return contract


# --- termination --------------------------------------------------------------------------------


@use_case
def cancel(db: Session, actor: Actor, section_id: str, reason: str) -> AwardProcess:
    """终止定标 (e.g. every candidate falls away and the tender is repeated, 第55条)."""
    row, section = _process(db, section_id)
    text = _text(reason, "award.cancel.reason", "reason", "请填写终止原因")
    _apply(row, AwardAction.CANCEL, actor, section.tender_project)
    row.cancelled_reason = text
    row.closed_at = clock.now()
    audit.record(db, actor, "award.cancelled", "award_process", row.id, {"reason": text})
    return row


# --- bid deposits after the contract (招标投标法实施条例第五十七条) ---------------------------

# Pass-over reasons whose bidder's deposit is not returned (实施条例第七十四条: 中标人无正当理由
# 不与招标人订立合同, 或者不按照招标文件要求提交履约保证金, 投标保证金不予退还).
FORFEIT_REASONS: Final = frozenset({"gave_up", "no_security"})


def contracts_awaiting_release(db: Session) -> list[str]:
    """Sections whose contract is recorded and whose deposits are not released yet."""
    return list(
        db.scalars(
            select(AwardProcess.section_id)
            .join(AwardContract, AwardContract.process_id == AwardProcess.id)
            .where(AwardContract.securities_released_at.is_(None))
            .order_by(AwardContract.submitted_at)
        )
    )


@use_case
def release_securities(db: Session, actor: Actor, section_id: str) -> AwardContract:
    """Bid securities of a contracted section: 退还投标保证金 (within 5 days of signing, with
    interest) and 退保 of the e-guarantees (notified to the FIs), except for candidates passed
    over for giving up the award or not furnishing the performance security (their deposit is
    forfeited, their guarantee stays live for the tenderer's claim). One transaction with the
    marker, so a crash never releases twice or forgets a section."""
    row, section = _process(db, section_id)
    contract = db.scalar(
        select(AwardContract).where(AwardContract.process_id == row.id).with_for_update()
    )
    if contract is None:
        raise Conflict("award.deposits.no_contract", "合同尚未登记，不能退还投标保证金")
    if contract.securities_released_at is not None:
        raise Conflict("award.securities.released", "该标段的投标保证金已退还")
    forfeit = [
        c.org_id
        for c in row.candidates
        for po in db.scalars(select(AwardPassOver).where(AwardPassOver.candidate_id == c.id))
        if po.reason_code in FORFEIT_REASONS
    ]
    signed_on = clock.ensure_aware(contract.signed_at).date()
    _refunds, payload = deposits_service.release_step(
        db, actor, section.id, signed_on, forfeit_org_ids=forfeit
    )
    # The same bidders' guarantees stay live so that the tenderer can claim on them.
    payload["guarantees_released"] = guarantees_service.release_step(
        db, section.id, "contract_signed", keep_org_ids=forfeit
    )
    contract.securities_released_at = clock.now()
    audit.record(
        db,
        actor,
        "award.securities.released",
        "award_process",
        row.id,
        {"section_code": section.code, "contract_code": contract.contract_code, **payload},
    )
    return contract


def release_due_securities(db: Session) -> int:
    """Scheduler job (``award.security_release``): release the deposits of every contracted
    section not released yet, each in its own transaction; a failure is retried next run."""
    done = 0
    for section_id in contracts_awaiting_release(db):
        db.rollback()
        try:
            release_securities(db, system_actor("award"), section_id)
            done += 1
        except Exception:
            _log.exception("releasing the deposits of section %s failed", section_id)
    return done
