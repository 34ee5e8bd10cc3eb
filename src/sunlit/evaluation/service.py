"""Evaluation use cases (评标). Only this module writes evaluation tables.

Flow: the tenderer (or agency) defines the section's criteria table (:func:`set_plan`); the
center forms the committee from the drawn experts and the tenderer's representative
(:func:`form_committee`, fed by the experts domain) and sets the venues; each member signs in,
makes the 回避声明 and accepts the 承诺书, and votes for the leader; the center starts the
evaluation once the opening record is confirmed; each expert fills his score sheets and hands
them in; clarifications go to bidders and back; the leader generates the report, computed by
:mod:`sunlit.scoring`; every member signs it with his certificate key, a dissent recorded.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import rfc8785
from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit import scoring
from sunlit.experts import queries as experts_queries
from sunlit.experts import service as experts_service
from sunlit.experts.states import DRAW_LIFECYCLE, DrawStatus
from sunlit.identity import queries as identity_queries
from sunlit.kernel import audit, clock
from sunlit.kernel.authz import Actor, Role, system_actor
from sunlit.kernel.codes import parse_credit_code
from sunlit.kernel.crypto import CryptoError, InvalidSignature, get_suite, verify_any
from sunlit.kernel.db import new_id, use_case
from sunlit.kernel.errors import Conflict, DomainError, InvalidInput, PermissionDenied, not_found
from sunlit.notices.service import document_message
from sunlit.opening import queries as opening_queries
from sunlit.projects import queries as project_queries
from sunlit.projects.catalog import EVALUATION_METHODS
from sunlit.projects.models import Section

from .calc import PRICE_ONLY, SCORED, SUPPORTED, calculate, criteria_of
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
from .states import LIFECYCLE, EvaluationAction, EvaluationStatus

SOURCES: Final = {"drawn": "抽取专家", "tenderer_rep": "招标人代表"}
TEXT_MAX: Final = 2000
REPORT_FORMAT: Final = "sunlit-evaluation-report"
TIEBREAK_TAG: Final = b"sunlit-evaluation-tiebreak:v1\n"


# --- helpers --------------------------------------------------------------------------------


def _section(db: Session, section_id: str) -> Section:
    section = project_queries.section_by_id(db, section_id)
    if section is None or section.status not in ("published",):
        raise not_found("标段")
    return section


def _session(db: Session, section_id: str) -> EvaluationSession | None:
    return db.scalar(select(EvaluationSession).where(EvaluationSession.section_id == section_id))


def _load(db: Session, section_id: str) -> tuple[EvaluationSession, Section]:
    section = _section(db, section_id)
    row = _session(db, section.id)
    if row is None:
        raise Conflict("evaluation.not_formed", "该标段尚未组建评标委员会")
    return row, section


def members_of(db: Session, session_id: str) -> list[EvaluationMember]:
    stmt = (
        select(EvaluationMember)
        .where(EvaluationMember.session_id == session_id)
        .order_by(EvaluationMember.source, EvaluationMember.name, EvaluationMember.id)
    )
    return list(db.scalars(stmt))


def _active(members: Sequence[EvaluationMember]) -> list[EvaluationMember]:
    return [m for m in members if not m.recused]


def _mine(db: Session, actor: Actor, row: EvaluationSession) -> EvaluationMember | None:
    if actor.user_id is None:
        return None
    return db.scalar(
        select(EvaluationMember).where(
            EvaluationMember.session_id == row.id, EvaluationMember.user_id == actor.user_id
        )
    )


def context(db: Session, actor: Actor, row: EvaluationSession | None, section: Section) -> Ctx:
    member = _mine(db, actor, row) if row is not None else None
    return Ctx(section.tender_project, member, row.leader_member_id if row else None)


def _apply(row: EvaluationSession, action: EvaluationAction, actor: Actor, ctx: Ctx) -> None:
    row.status = LIFECYCLE.apply(
        EvaluationStatus(row.status),
        action,
        has_permission=lambda p: POLICY.allows(actor, p, ctx),
    )


def _member_of(db: Session, actor: Actor, row: EvaluationSession) -> EvaluationMember:
    member = _mine(db, actor, row)
    if member is None:
        raise PermissionDenied("evaluation.not_member", "您不是本标段评标委员会成员")
    if member.recused:
        raise PermissionDenied("evaluation.recused", "您已回避，不能参加本标段评标")
    return member


def _text(value: str, code: str, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(code, "请填写{what}", what=what)
    if len(text) > TEXT_MAX:
        raise InvalidInput(code, "{what}不能超过{n}字", what=what, n=TEXT_MAX)
    return text


def _decimal(value: Any, what: str) -> Decimal:
    return scoring.decimal_of(value, what)


# --- plan (评标办法与评分标准) ----------------------------------------------------------------


@dataclass(frozen=True)
class PlanInput:
    criteria: list[dict[str, Any]]
    price_points: str = "0"
    e1: str = "0"
    e2: str = "0"
    floor: str = "0"
    trim_from: int = 5
    committee_rule: str = "mean"
    coefficient_name: str = ""
    coefficient_kind: str = "multiplier"  # multiplier | discount_percent


def default_plan(method: str) -> dict[str, Any]:
    """The plan used when the tenderer defined none (a typical table per method)."""
    base: dict[str, Any] = {
        "criteria": [],
        "price_points": "0",
        "e1": "0",
        "e2": "0",
        "floor": "0",
        "trim_from": 5,
        "committee_rule": "mean",
        "coefficient_name": "",
        "coefficient_kind": "multiplier",
    }
    if method == "reasonable_low_price":
        base.update(price_points="100", e1="2", e2="1")
    elif method == "comprehensive":
        base.update(
            criteria=[
                {"key": "T1", "group": "technical", "name": "施工组织设计", "max_points": "30"},
                {"key": "T2", "group": "technical", "name": "项目管理机构", "max_points": "10"},
                {"key": "C1", "group": "commercial", "name": "企业业绩与信誉", "max_points": "10"},
            ],
            price_points="50",
            e1="1",
            e2="0.5",
            committee_rule="trimmed_mean",
        )
    elif method == "gp_comprehensive_scoring":
        base.update(
            criteria=[
                {"key": "T1", "group": "technical", "name": "技术响应与方案", "max_points": "40"},
                {"key": "C1", "group": "commercial", "name": "售后服务与业绩", "max_points": "30"},
            ],
            price_points="30",
        )
    return base


def check_plan(method: str, plan: dict[str, Any]) -> dict[str, Any]:
    """Validate a plan for ``method``; returns it normalised (decimals as strings)."""
    if method not in SUPPORTED:
        label = EVALUATION_METHODS[method].label if method in EVALUATION_METHODS else method
        raise InvalidInput(
            "evaluation.method_unsupported", "评标办法“{m}”暂不支持在线评标计算", m=label
        )
    out = dict(default_plan(method))
    out.update({k: v for k, v in plan.items() if k in out})
    crit = criteria_of(out)
    keys = [c.key for c in crit]
    if len(set(keys)) != len(keys):
        raise InvalidInput("evaluation.plan.duplicate", "评分项编号重复")
    for c in crit:
        if not c.key or not c.name.strip():
            raise InvalidInput("evaluation.plan.criterion", "评分项须有编号和名称")
        c.check()
    price = _decimal(out["price_points"], "价格分")
    for k in ("e1", "e2", "floor"):
        if _decimal(out[k], k) < 0:
            raise InvalidInput("evaluation.plan.negative", "扣分值与最低分不得为负数")
    if out["committee_rule"] not in {r.value for r in scoring.CommitteeRule}:
        raise InvalidInput("evaluation.plan.rule", "计分规则须为算术平均或去掉最高最低分后平均")
    if out["coefficient_kind"] not in ("multiplier", "discount_percent"):
        raise InvalidInput("evaluation.plan.coefficient_kind", "系数类型须为下浮系数或下浮率")
    if method in SCORED:
        if not crit:
            raise InvalidInput("evaluation.plan.no_criteria", "综合评估（评分）法须有评分标准表")
        total = sum((c.max_points for c in crit), Decimal(0)) + price
        if total != 100:
            raise InvalidInput(
                "evaluation.plan.total",
                "技术、商务分与价格分合计须为100分（现为{t}分）",
                t=total,
            )
        if method == "gp_comprehensive_scoring" and not Decimal(10) <= price <= Decimal(60):
            raise InvalidInput(
                "evaluation.plan.gp_price_weight",
                "政府采购综合评分法的价格分值须在10至60分之间（87号令）",
            )
    elif crit:
        raise InvalidInput("evaluation.plan.criteria_unused", "该评标办法不设评分项")
    if method == "reasonable_low_price" and price <= 0:
        raise InvalidInput("evaluation.plan.price_points", "合理低价法须设价格分满分")
    out["criteria"] = [
        {"key": c.key, "group": c.group, "name": c.name, "max_points": str(c.max_points)}
        for c in crit
    ]
    return out


@use_case
def set_plan(db: Session, actor: Actor, section_id: str, data: PlanInput) -> EvaluationPlan:
    """The tenderer or its agency defines the section's evaluation criteria table."""
    section = _section(db, section_id)
    row = _session(db, section.id)
    POLICY.require(actor, "evaluation.plan.edit", context(db, actor, row, section))
    if row is not None and row.status != EvaluationStatus.FORMED:
        raise Conflict("evaluation.plan.frozen", "评标已开始，评分标准不能再修改")
    plan = check_plan(section.evaluation_method, data.__dict__)
    existing = db.scalar(select(EvaluationPlan).where(EvaluationPlan.section_id == section.id))
    if existing is None:
        existing = EvaluationPlan(id=new_id(), section_id=section.id)
        db.add(existing)
    existing.method = section.evaluation_method
    existing.config = plan
    existing.updated_by = actor.user_id
    existing.updated_at = clock.now()
    audit.record(
        db,
        actor,
        "evaluation.plan.set",
        "evaluation_plan",
        existing.id,
        {"section_code": section.code, "method": existing.method, "plan": plan},
    )
    return existing


# --- committee ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberInput:
    user_id: str
    source: str  # drawn | tenderer_rep


def check_composition(sources: Sequence[str]) -> None:
    """评标委员会: an odd number, at least 5, of whom at least two thirds drawn experts
    (招标投标法第37条; 政府采购 87号令 第47条)."""
    n = len(sources)
    drawn = sum(1 for s in sources if s == "drawn")
    if n < 5 or n % 2 == 0:
        raise InvalidInput(
            "evaluation.committee.size", "评标委员会须为5人以上单数（现为{n}人）", n=n
        )
    if drawn * 3 < n * 2:
        raise InvalidInput(
            "evaluation.committee.experts",
            "评标委员会中抽取的专家不得少于成员总数的三分之二（{n}人中仅{d}名）",
            n=n,
            d=drawn,
        )


def _new_member(
    db: Session, section: Section, session_id: str, data: MemberInput
) -> EvaluationMember:
    if data.source not in SOURCES:
        raise InvalidInput("evaluation.member.source", "成员来源须为抽取专家或招标人代表")
    try:
        user = identity_queries.get_user(db, system_actor("evaluation"), data.user_id)
    except DomainError:
        user = None
    if user is None or user.status != "active":
        raise InvalidInput("evaluation.member.unknown", "成员账号不存在或已停用")
    employer = identity_queries.organization_summary(db, user.organization_id)
    assert employer is not None
    tender = section.tender_project
    if data.source == "drawn":
        if Role.EXPERT.value not in user.roles:
            raise InvalidInput(
                "evaluation.member.not_expert",
                "“{name}”不是评标专家，不能作为抽取专家",
                name=user.name,
            )
        if employer.id in {tender.tenderer_org_id, tender.agency_org_id}:
            raise InvalidInput(
                "evaluation.member.employer",
                "专家“{name}”任职于招标人或招标代理机构，须回避",
                name=user.name,
            )
    elif user.organization_id != tender.tenderer_org_id:
        raise InvalidInput(
            "evaluation.member.not_tenderer",
            "“{name}”不是招标人的人员，不能作为招标人代表",
            name=user.name,
        )
    return EvaluationMember(
        id=new_id(),
        session_id=session_id,
        user_id=user.id,
        name=user.name,
        source=data.source,
        employer_org_id=employer.id,
        employer_credit_code=employer.credit_code,
        employer_name=employer.name,
        avoid_credit_codes=[],
    )


def drawn_members(db: Session, section_id: str) -> list[MemberInput]:
    """The experts confirmed in the section's expert draw (ADR 0013), as committee members.

    Refused, changing nothing, when there is no draw, when it is not complete (every stratum
    confirmed) or already disclosed, or when a confirmed expert has no platform account (he
    could neither sign in nor sign the report). The refusals name the draw and the stratum,
    never the expert: names stay hidden until evaluation starts."""
    status = experts_queries.draw_status(db, section_id)
    if status is None or status == DrawStatus.CANCELLED:
        raise Conflict("evaluation.committee.no_draw", "该标段尚未抽取评标专家，不能组建评标委员会")
    if status != DrawStatus.CONFIRMED:
        raise Conflict(
            "evaluation.committee.draw_incomplete",
            "专家抽取尚未完成（当前：{state}），须待各专业抽取的专家全部确认参加后才能组建"
            "评标委员会",
            state=DRAW_LIFECYCLE.label(status),
        )
    out = []
    for e in experts_queries.confirmed_experts(db, section_id):
        if e.user_id is None:
            raise Conflict(
                "evaluation.committee.expert_without_account",
                "专家抽取{draw}中{specialty}专业有一名确认参加的专家尚未开通平台账号，"
                "请先为其开通账号再组建评标委员会",
                draw=e.draw_code,
                specialty=e.specialty,
            )
        out.append(MemberInput(e.user_id, "drawn"))
    return out


@use_case
def form_committee(
    db: Session, actor: Actor, section_id: str, tenderer_reps: Sequence[str] = ()
) -> EvaluationSession:
    """组建评标委员会 from the experts confirmed in the section's expert draw
    (``experts.queries.confirmed_experts``) and the tenderer's representatives (user ids of
    the tenderer's staff). Refused while the draw is incomplete (:func:`drawn_members`)."""
    section = _section(db, section_id)
    POLICY.require(actor, "evaluation.host", context(db, actor, None, section))
    if _session(db, section.id) is not None:
        raise Conflict("evaluation.exists", "该标段已组建评标委员会")
    if section.evaluation_method not in SUPPORTED:
        check_plan(section.evaluation_method, {})
    members = [*drawn_members(db, section.id)]
    members += [MemberInput(u.strip(), "tenderer_rep") for u in tenderer_reps if u.strip()]
    ids = [m.user_id for m in members]
    if len(set(ids)) != len(ids):
        raise InvalidInput("evaluation.committee.duplicate", "同一人不能重复列入评标委员会")
    check_composition([m.source for m in members])
    row = EvaluationSession(
        id=new_id(),
        section_id=section.id,
        status=EvaluationStatus.FORMED,
        method=section.evaluation_method,
        formed_by=actor.user_id,
        formed_at=clock.now(),
        bids=[],
    )
    db.add(row)
    db.flush()
    rows = [_new_member(db, section, row.id, m) for m in members]
    db.add_all(rows)
    audit.record(
        db,
        actor,
        "evaluation.committee.formed",
        "evaluation_session",
        row.id,
        {
            "section_code": section.code,
            "members": [{"user_id": m.user_id, "source": m.source} for m in rows],
        },
    )
    return row


@use_case
def replace_member(
    db: Session, actor: Actor, section_id: str, member_id: str, user_id: str = ""
) -> EvaluationMember:
    """更换成员: a recused member (or one who did not come) is replaced; the old row stays,
    marked recused, for the record. A drawn expert is replaced by an expert confirmed in the
    section's expert draw who is not on the committee yet (after a supplementary draw);
    ``user_id`` picks one of them, else the first in draw order. A tenderer's representative
    is replaced by another of the tenderer's staff (``user_id`` required)."""
    row, section = _load(db, section_id)
    _apply(row, EvaluationAction.REPLACE, actor, context(db, actor, row, section))
    old = db.get(EvaluationMember, member_id)
    if old is None or old.session_id != row.id:
        raise not_found("评标委员会成员")
    if old.signed_in_at is not None and not old.recused:
        raise Conflict("evaluation.member.present", "该成员已签到且未回避，不能更换")
    listed = set(
        db.scalars(select(EvaluationMember.user_id).where(EvaluationMember.session_id == row.id))
    )
    user_id = user_id.strip()
    if old.source == "drawn":
        spare = [
            e.user_id
            for e in experts_queries.confirmed_experts(db, section.id)
            if e.user_id is not None and e.user_id not in listed
        ]
        if user_id and user_id not in spare:
            raise InvalidInput(
                "evaluation.member.not_drawn",
                "替补的专家须是本标段专家抽取中确认参加且尚未列入评标委员会的专家",
            )
        if not spare:
            raise Conflict(
                "evaluation.member.no_replacement",
                "专家抽取中没有可替补的已确认专家，请先补抽专家",
            )
        new = MemberInput(user_id or spare[0], "drawn")
    else:
        if not user_id:
            raise InvalidInput("evaluation.member.unknown", "请指定替换的招标人代表")
        if user_id in listed:
            raise InvalidInput("evaluation.committee.duplicate", "同一人不能重复列入评标委员会")
        new = MemberInput(user_id, "tenderer_rep")
    added = _new_member(db, section, row.id, new)
    if not old.recused:
        old.recused, old.recusal_reason = True, "未到场，已更换"
    if row.leader_member_id == old.id:
        row.leader_member_id = None
    db.add(added)
    audit.record(
        db,
        actor,
        "evaluation.member.replaced",
        "evaluation_session",
        row.id,
        {"old": old.user_id, "new": added.user_id, "source": added.source},
    )
    return added


@use_case
def set_venues(
    db: Session, actor: Actor, section_id: str, main_booking_id: str
) -> list[EvaluationVenue]:
    """评标场地 from an evaluation booking and its remote sub-venues (远程异地评标)."""
    row, section = _load(db, section_id)
    _apply(row, EvaluationAction.VENUE, actor, context(db, actor, row, section))
    bookings = project_queries.active_bookings_of(db, section.tender_project_id)
    main = next((b for b in bookings if b.id == main_booking_id), None)
    if main is None or main.purpose != "evaluation" or main.main_booking_id is not None:
        raise InvalidInput("evaluation.venue.booking", "请选择本项目有效的评标场地预约（主会场）")
    subs = [b for b in bookings if b.main_booking_id == main.id]
    for old in db.scalars(select(EvaluationVenue).where(EvaluationVenue.session_id == row.id)):
        db.delete(old)
    db.flush()
    venues = [
        EvaluationVenue(
            id=new_id(),
            session_id=row.id,
            booking_id=b.id,
            center_name=b.room.center_name,
            room_name=b.room.name,
            is_main=b.id == main.id,
            seats=b.room.seats,
        )
        for b in [main, *subs]
    ]
    db.add_all(venues)
    row.remote = bool(subs)
    for m in members_of(db, row.id):
        m.venue_id, m.seat = None, ""
    audit.record(
        db,
        actor,
        "evaluation.venues.set",
        "evaluation_session",
        row.id,
        {"main": main.id, "subs": [b.id for b in subs], "remote": row.remote},
    )
    return venues


@use_case
def assign_seat(
    db: Session, actor: Actor, section_id: str, member_id: str, venue_id: str, seat: str
) -> EvaluationMember:
    """A member's seat in the main or a sub venue."""
    row, section = _load(db, section_id)
    _apply(row, EvaluationAction.VENUE, actor, context(db, actor, row, section))
    member = db.get(EvaluationMember, member_id)
    venue = db.get(EvaluationVenue, venue_id)
    if member is None or member.session_id != row.id:
        raise not_found("评标委员会成员")
    if venue is None or venue.session_id != row.id:
        raise not_found("评标场地")
    seat = (seat or "").strip()
    if not seat or len(seat) > 40:
        raise InvalidInput("evaluation.seat", "请填写席位号（不超过40字）")
    taken = db.scalar(
        select(EvaluationMember.name).where(
            EvaluationMember.venue_id == venue.id,
            EvaluationMember.seat == seat,
            EvaluationMember.id != member.id,
            EvaluationMember.recused.is_(False),
        )
    )
    if taken:
        raise Conflict("evaluation.seat_taken", "席位{seat}已分配给{name}", seat=seat, name=taken)
    used = db.scalars(
        select(EvaluationMember.id).where(
            EvaluationMember.venue_id == venue.id,
            EvaluationMember.id != member.id,
            EvaluationMember.recused.is_(False),
        )
    ).all()
    if venue.seats and len(used) >= venue.seats:
        raise Conflict(
            "evaluation.venue_full",
            "“{room}”共{n}个席位，已满",
            room=venue.room_name,
            n=venue.seats,
        )
    member.venue_id, member.seat = venue.id, seat
    audit.record(
        db,
        actor,
        "evaluation.member.seated",
        "evaluation_member",
        member.id,
        {"venue": venue.id, "seat": seat},
    )
    return member


@use_case
def sign_in(db: Session, actor: Actor, section_id: str) -> EvaluationMember:
    """专家签到."""
    row, section = _load(db, section_id)
    member = _member_of(db, actor, row)
    _apply(row, EvaluationAction.SIGN_IN, actor, context(db, actor, row, section))
    if member.signed_in_at is not None:
        raise Conflict("evaluation.signed_in", "您已签到")
    member.signed_in_at = clock.now()
    audit.record(db, actor, "evaluation.member.signed_in", "evaluation_member", member.id, {})
    return member


@use_case
def declare(
    db: Session,
    actor: Actor,
    section_id: str,
    *,
    avoid_credit_codes: Sequence[str] = (),
    recuse: bool = False,
    reason: str = "",
    commitment: bool = False,
) -> EvaluationMember:
    """回避声明 and 专家承诺书: the member lists the companies he must avoid (or recuses
    himself with a reason) and accepts the commitment. Once, after signing in."""
    row, section = _load(db, section_id)
    member = _member_of(db, actor, row)
    _apply(row, EvaluationAction.DECLARE, actor, context(db, actor, row, section))
    if member.signed_in_at is None:
        raise Conflict("evaluation.not_signed_in", "请先签到")
    if member.declared_at is not None:
        raise Conflict("evaluation.declared", "您已作出回避声明")
    codes = sorted(
        {parse_credit_code(c, "avoid_credit_codes").code for c in avoid_credit_codes if c.strip()}
    )
    if recuse:
        member.recused = True
        member.recusal_reason = _text(reason, "evaluation.declare.reason", "回避理由")
    elif not commitment:
        raise InvalidInput(
            "evaluation.declare.commitment", "须阅读并同意《评标专家承诺书》后方可参加评标"
        )
    else:
        member.committed_at = clock.now()
    member.declared_at = clock.now()
    member.avoid_credit_codes = codes
    audit.record(
        db,
        actor,
        "evaluation.member.declared",
        "evaluation_member",
        member.id,
        {"recused": recuse, "avoid": codes, "committed": member.committed_at is not None},
    )
    return member


@use_case
def vote(db: Session, actor: Actor, section_id: str, candidate_id: str) -> EvaluationSession:
    """推选评标组长: a member votes (once); more than half of the active members' votes
    elect. The tenderer's representative may vote but not be elected (he may not lead)."""
    row, section = _load(db, section_id)
    member = _member_of(db, actor, row)
    _apply(row, EvaluationAction.VOTE, actor, context(db, actor, row, section))
    if member.committed_at is None:
        raise Conflict("evaluation.not_declared", "请先作出回避声明并签署承诺书")
    if member.vote_for is not None:
        raise Conflict("evaluation.voted", "您已投票")
    active = _active(members_of(db, row.id))
    candidate = next((m for m in active if m.id == candidate_id), None)
    if candidate is None:
        raise InvalidInput("evaluation.vote.candidate", "被推选人须为未回避的委员会成员")
    if candidate.source != "drawn":
        raise InvalidInput("evaluation.vote.tenderer_rep", "招标人代表不宜担任评标组长")
    member.vote_for = candidate.id
    tally = Counter(m.vote_for for m in active if m.vote_for)
    top, votes = tally.most_common(1)[0]
    if votes * 2 > len(active):
        row.leader_member_id = top
    audit.record(
        db,
        actor,
        "evaluation.leader.vote",
        "evaluation_session",
        row.id,
        {"member": member.id, "for": candidate.id, "leader": row.leader_member_id},
    )
    return row


# --- start ----------------------------------------------------------------------------------


def _tie_seed(section_id: str, signature_b64: str) -> str:
    return get_suite("gm").hash(TIEBREAK_TAG + f"{section_id}\n{signature_b64}".encode()).hex()


def _readiness(db: Session, row: EvaluationSession) -> list[str]:
    """What still stands in the way of starting (Chinese, for the page and the refusal)."""
    problems: list[str] = []
    members = _active(members_of(db, row.id))
    try:
        check_composition([m.source for m in members])
    except InvalidInput as exc:
        problems.append(exc.message.format(**exc.params) + "（回避后须更换成员）")
    for m in members:
        if m.signed_in_at is None:
            problems.append(f"{m.name}未签到")
        elif m.committed_at is None:
            problems.append(f"{m.name}未作回避声明和承诺")
    if row.leader_member_id is None:
        problems.append("尚未推选评标组长")
    venues = list(db.scalars(select(EvaluationVenue).where(EvaluationVenue.session_id == row.id)))
    if row.remote and any(m.venue_id is None for m in members):
        problems.append("远程异地评标须为每位成员分配席位")
    if venues and not any(v.is_main for v in venues):
        problems.append("未设主会场")
    return problems


def readiness(db: Session, row: EvaluationSession) -> list[str]:
    return _readiness(db, row)


@use_case
def start(db: Session, actor: Actor, section_id: str) -> EvaluationSession:
    """开始评标: after the opening record is confirmed, with every member signed in,
    declared and committed, a leader elected and the committee still complete. The valid
    bids and the plan are frozen here."""
    row, section = _load(db, section_id)
    ctx = context(db, actor, row, section)
    POLICY.require(actor, "evaluation.host", ctx)
    opening = opening_queries.session_view(db, system_actor("evaluation"), section.id)
    if not opening["confirmed"] or not opening["record_signature"]:
        raise Conflict("evaluation.opening_not_confirmed", "开标记录尚未确认，不能开始评标")
    problems = _readiness(db, row)
    if problems:
        raise Conflict("evaluation.not_ready", "尚不能开始评标：{p}", p="；".join(problems))
    _apply(row, EvaluationAction.START, actor, ctx)
    bids = []
    for b in opening["bids"]:
        if b["status"] in ("opened", "remedied") and b["price"] is not None:
            org = identity_queries.organization_by_credit_code(db, b["credit_code"])
            bids.append(
                {
                    "credit_code": b["credit_code"],
                    "org_id": org.id if org else None,
                    "name": b["bidder_name"],
                    "price": b["price"],
                    "duration_days": b["duration_days"],
                    "quality": b["quality"],
                }
            )
    if not bids:
        raise Conflict("evaluation.no_bids", "开标记录中没有有效投标，无法评标")
    plan_row = db.scalar(select(EvaluationPlan).where(EvaluationPlan.section_id == section.id))
    plan = plan_row.config if plan_row is not None else check_plan(row.method, {})
    row.plan = plan
    row.bids = bids
    row.started_at = clock.now()
    signature = str(opening["record_signature"])
    row.opening_digest = hashlib.sha256(bytes(rfc8785.dumps(opening["record"]))).hexdigest()
    row.tie_seed = _tie_seed(section.id, signature)
    # 评标开始: the expert draw's names are disclosed in the same transaction (ADR 0013),
    # unless the center already disclosed them through the experts domain.
    draw_id: str | None = None
    disclosed: list[str] = []
    if not experts_queries.is_disclosed(db, section.id):
        _records, draw_id, disclosed = experts_service.disclose_step(db, actor, section.id)
    audit.record(
        db,
        actor,
        "evaluation.started",
        "evaluation_session",
        row.id,
        {
            "section_code": section.code,
            "bids": len(bids),
            "opening_digest": row.opening_digest,
            "plan": plan,
            "experts_disclosed": {"draw_id": draw_id, "draws": disclosed},
        },
    )
    return row


# --- scoring --------------------------------------------------------------------------------


def _bid(row: EvaluationSession, credit_code: str) -> dict[str, Any]:
    bid = next((b for b in row.bids if b["credit_code"] == credit_code), None)
    if bid is None:
        raise not_found("有效投标")
    return bid


def check_avoidance(member: EvaluationMember, bid: dict[str, Any]) -> None:
    """An expert may not evaluate a bid of his own employer or of a company he declared."""
    code = bid["credit_code"]
    if member.employer_credit_code and member.employer_credit_code == code:
        raise PermissionDenied(
            "evaluation.avoidance.employer",
            "您任职于投标人“{name}”，须回避，不能评审其投标文件",
            name=bid["name"],
        )
    if code in (member.avoid_credit_codes or []):
        raise PermissionDenied(
            "evaluation.avoidance.declared",
            "您已声明与投标人“{name}”存在利害关系，须回避，不能评审其投标文件",
            name=bid["name"],
        )


@use_case
def save_sheet(
    db: Session,
    actor: Actor,
    section_id: str,
    credit_code: str,
    *,
    scores: dict[str, Any] | None = None,
    conforms: bool = True,
    reason: str = "",
    adjustment: str = "0",
) -> ScoreSheet:
    """An expert's sheet for one bid: every criterion's points, conformity (a reason when
    not conforming) and, for price-only methods, the proposed price adjustment."""
    row, section = _load(db, section_id)
    member = _member_of(db, actor, row)
    _apply(row, EvaluationAction.SCORE, actor, context(db, actor, row, section))
    bid = _bid(row, credit_code)
    check_avoidance(member, bid)
    if member.submitted_at is not None:
        raise Conflict("evaluation.submitted", "您已提交评分，不能再修改")
    plan = row.plan or {}
    crit = {c.key: c for c in criteria_of(plan)}
    given = dict(scores or {})
    unknown = sorted(set(given) - set(crit))
    if unknown:
        raise InvalidInput(
            "evaluation.score.unknown", "评分项{items}不在评分标准表中", items="、".join(unknown)
        )
    clean: dict[str, str] = {}
    for key, value in given.items():
        if value is None or str(value).strip() == "":
            continue
        points = _decimal(value, crit[key].name)
        scoring.check_expert_score(crit[key], points)
        clean[key] = str(points)
    reason = (reason or "").strip()
    if not conforms and not reason:
        raise InvalidInput("evaluation.score.reason", "认定不符合要求（否决）须写明理由")
    if len(reason) > TEXT_MAX:
        raise InvalidInput("evaluation.score.reason", "理由不能超过{n}字", n=TEXT_MAX)
    adj = _decimal(adjustment or "0", "价格调整")
    if adj != 0 and row.method not in PRICE_ONLY:
        raise InvalidInput("evaluation.score.adjustment", "该评标办法不设价格调整")
    sheet = db.scalar(
        select(ScoreSheet).where(
            ScoreSheet.member_id == member.id, ScoreSheet.credit_code == credit_code
        )
    )
    if sheet is None:
        sheet = ScoreSheet(id=new_id(), session_id=row.id, member_id=member.id)
        sheet.credit_code = credit_code
        db.add(sheet)
    sheet.scores, sheet.conforms, sheet.reason = clean, conforms, reason
    sheet.adjustment = str(adj)
    sheet.updated_at = clock.now()
    audit.record(
        db,
        actor,
        "evaluation.sheet.saved",
        "evaluation_score_sheet",
        sheet.id,
        {"bidder": credit_code, "complete": len(clean) == len(crit)},
    )
    return sheet


def _sheets(db: Session, row: EvaluationSession) -> list[ScoreSheet]:
    return list(db.scalars(select(ScoreSheet).where(ScoreSheet.session_id == row.id)))


def missing_of(
    row: EvaluationSession, member: EvaluationMember, sheets: Sequence[ScoreSheet]
) -> list[str]:
    """What ``member`` has not scored yet: '投标人名称：评分项…' lines."""
    crit = criteria_of(row.plan or {})
    mine = {s.credit_code: s for s in sheets if s.member_id == member.id}
    out = []
    for bid in row.bids:
        sheet = mine.get(bid["credit_code"])
        if sheet is None:
            out.append(f"{bid['name']}：未评审")
            continue
        lacking = [c.name for c in crit if c.key not in sheet.scores]
        if lacking:
            out.append(f"{bid['name']}：{'、'.join(lacking)}")
    return out


@use_case
def submit_scores(db: Session, actor: Actor, section_id: str) -> EvaluationMember:
    """Hand in the sheets: every valid bid reviewed, every criterion scored."""
    row, section = _load(db, section_id)
    member = _member_of(db, actor, row)
    _apply(row, EvaluationAction.SUBMIT, actor, context(db, actor, row, section))
    if member.submitted_at is not None:
        raise Conflict("evaluation.submitted", "您已提交评分")
    missing = missing_of(row, member, _sheets(db, row))
    if missing:
        raise Conflict(
            "evaluation.sheet.incomplete", "评分尚未完成：{m}", m="；".join(missing[:10])
        )
    member.submitted_at = clock.now()
    audit.record(db, actor, "evaluation.sheets.submitted", "evaluation_member", member.id, {})
    return member


# --- clarifications -------------------------------------------------------------------------


@use_case
def ask(
    db: Session, actor: Actor, section_id: str, credit_code: str, question: str
) -> Clarification:
    """评标澄清: a member asks a bidder (through the platform, never in person)."""
    row, section = _load(db, section_id)
    member = _member_of(db, actor, row)
    _apply(row, EvaluationAction.ASK, actor, context(db, actor, row, section))
    bid = _bid(row, credit_code)
    check_avoidance(member, bid)
    if not bid.get("org_id"):
        raise Conflict("evaluation.clarify.no_org", "该投标人未在平台注册，无法在线澄清")
    c = Clarification(
        id=new_id(),
        session_id=row.id,
        credit_code=credit_code,
        bidder_org_id=bid["org_id"],
        asked_by_member_id=member.id,
        question=_text(question, "evaluation.clarify.question", "澄清问题"),
        asked_at=clock.now(),
    )
    db.add(c)
    audit.record(
        db,
        actor,
        "evaluation.clarification.asked",
        "evaluation_clarification",
        c.id,
        {"bidder": credit_code},
    )
    return c


@use_case
def answer(
    db: Session, actor: Actor, section_id: str, clarification_id: str, text: str
) -> Clarification:
    """The bidder answers once (澄清不得超出投标文件的范围或改变实质性内容)."""
    row, section = _load(db, section_id)
    c = db.get(Clarification, clarification_id)
    if c is None or c.session_id != row.id or c.bidder_org_id != actor.org_id:
        raise not_found("澄清")
    _apply(row, EvaluationAction.ANSWER, actor, context(db, actor, row, section))
    if c.answered_at is not None:
        raise Conflict("evaluation.clarify.answered", "该澄清已答复")
    c.answer = _text(text, "evaluation.clarify.answer", "澄清答复")
    c.answered_by, c.answered_at = actor.user_id, clock.now()
    audit.record(
        db, actor, "evaluation.clarification.answered", "evaluation_clarification", c.id, {}
    )
    return c


# --- the report -----------------------------------------------------------------------------


def _coefficient(plan: dict[str, Any], record: dict[str, Any] | None) -> Decimal:
    """The drawn coefficient as a multiplier (k, or 1 − Δ/100 for a 下浮率)."""
    outputs = ((record or {}).get("draw") or {}).get("outputs") or []
    if not outputs:
        return Decimal(1)
    name = plan.get("coefficient_name") or ""
    out = next((o for o in outputs if o["name"] == name), None) if name else outputs[0]
    if out is None:
        raise Conflict("evaluation.coefficient", "开标时未抽取名为“{n}”的系数", n=name)
    value = _decimal(str(out["value"]).rstrip("%"), "系数")
    if plan.get("coefficient_kind") == "discount_percent":
        return Decimal(1) - value / 100
    return value


def report_digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(bytes(rfc8785.dumps(document))).hexdigest()


def _all_in(db: Session, row: EvaluationSession) -> list[str]:
    """Members whose scores are not all in (names), empty when everyone has handed in."""
    sheets = _sheets(db, row)
    return [
        m.name
        for m in _active(members_of(db, row.id))
        if m.submitted_at is None or missing_of(row, m, sheets)
    ]


@use_case
def generate_report(db: Session, actor: Actor, section_id: str) -> EvaluationReport:
    """生成评标报告 (the leader), once every member has handed in complete sheets."""
    row, section = _load(db, section_id)
    ctx = context(db, actor, row, section)
    if row.status == EvaluationStatus.STARTED:
        pending = _all_in(db, row)
        if pending:
            raise Conflict(
                "evaluation.scores_incomplete",
                "尚有专家未完成评分（{names}），不能生成评标报告",
                names="、".join(pending),
            )
    _apply(row, EvaluationAction.REPORT, actor, ctx)
    members = members_of(db, row.id)
    sheets = _sheets(db, row)
    opening = opening_queries.session_view(db, system_actor("evaluation"), section.id)
    now = clock.now()
    by_code = {b["credit_code"]: b for b in row.bids}
    tender = section.tender_project
    names = {m.id: m.name for m in members}
    clarifications = list(
        db.scalars(
            select(Clarification)
            .where(Clarification.session_id == row.id)
            .order_by(Clarification.asked_at)
        )
    )
    document: dict[str, Any] = {
        "format": REPORT_FORMAT,
        "version": 1,
        "section_id": section.id,
        "section_code": section.code,
        "section_name": section.name,
        "tender_code": tender.code,
        "tender_name": tender.name,
        "method": row.method,
        "method_label": EVALUATION_METHODS[row.method].label,
        "plan": row.plan,
        "opening_digest": row.opening_digest,
        "tie_seed": row.tie_seed,
        "started_at": row.started_at.isoformat() if row.started_at else None,
        "generated_at": now.isoformat(),
        "remote": row.remote,
        "committee": [
            {
                "member_id": m.id,
                "name": m.name,
                "source": m.source,
                "employer": m.employer_name,
                "leader": m.id == row.leader_member_id,
                "recused": m.recused,
                "recusal_reason": m.recusal_reason,
                "signed_in_at": m.signed_in_at.isoformat() if m.signed_in_at else None,
            }
            for m in members
        ],
        "bids": row.bids,
        "control_price": None if section.control_price is None else str(section.control_price),
        "coefficient": str(_coefficient(row.plan or {}, opening["record"])),
        "sheets": [
            {
                "member": names.get(s.member_id, ""),
                "member_id": s.member_id,
                "bidder": s.credit_code,
                "scores": s.scores,
                "conforms": s.conforms,
                "reason": s.reason,
                "adjustment": s.adjustment,
            }
            for s in sorted(sheets, key=lambda s: (names.get(s.member_id, ""), s.credit_code))
        ],
        "clarifications": [
            {
                "bidder": c.credit_code,
                "question": c.question,
                "answer": c.answer,
                "asked_at": c.asked_at.isoformat(),
                "answered_at": c.answered_at.isoformat() if c.answered_at else None,
            }
            for c in clarifications
        ],
    }
    result = calculate(document)
    document["result"] = result.to_json()
    document["candidates"] = [
        {
            "rank": r.rank,
            "credit_code": r.bidder_id,
            "org_id": by_code[r.bidder_id]["org_id"],
            "name": r.name,
            "price": str(r.price),
            "evaluated_price": str(r.evaluated_price),
            "score": None if r.score is None else str(r.score),
        }
        for r in result.ranking[:3]
    ]
    report = EvaluationReport(
        id=new_id(),
        session_id=row.id,
        document=document,
        digest=report_digest(document),
        generated_at=now,
    )
    db.add(report)
    audit.record(
        db,
        actor,
        "evaluation.report.generated",
        "evaluation_report",
        report.id,
        {
            "section_code": section.code,
            "digest": report.digest,
            "candidates": [c["credit_code"] for c in document["candidates"]],
        },
    )
    return report


def signing_digest(report: EvaluationReport, member_id: str, dissent: str) -> str:
    """What a member signs: SHA-256 over RFC 8785 {report digest, member, dissent}."""
    doc = {"report": report.digest, "member": member_id, "dissent": dissent.strip()}
    return hashlib.sha256(bytes(rfc8785.dumps(doc))).hexdigest()


def signing_message(
    report: EvaluationReport, tender_code: str, member_id: str, dissent: str, audience: str
) -> bytes:
    """The exact bytes the member's certificate key signs (the ADR 0007 document message,
    so the local certificate helper signs it like any document)."""
    digest = signing_digest(report, member_id, dissent)
    return document_message(audience, tender_code, f"sha256:{digest}")


def report_of(db: Session, row: EvaluationSession) -> EvaluationReport | None:
    return db.scalar(select(EvaluationReport).where(EvaluationReport.session_id == row.id))


@use_case
def sign_report(
    db: Session,
    actor: Actor,
    section_id: str,
    signature: str,
    dissent: str,
    audience: str,
) -> ReportSignature:
    """签署评标报告 with a bound, valid certificate key. A dissenting member writes the
    dissent and its reasons (评标委员会成员对评标结果有不同意见的，应以书面形式说明) and still
    signs. Refused while any member's scores are not all in."""
    row, section = _load(db, section_id)
    member = _member_of(db, actor, row)
    if row.status == EvaluationStatus.STARTED:
        pending = _all_in(db, row)
        raise Conflict(
            "evaluation.scores_incomplete",
            "尚有专家未完成评分（{names}），不能签署评标报告",
            names="、".join(pending) or "评标报告尚未生成",
        )
    ctx = context(db, actor, row, section)
    _apply(row, EvaluationAction.SIGN, actor, ctx)
    report = report_of(db, row)
    assert report is not None
    if db.scalar(
        select(ReportSignature.id).where(
            ReportSignature.report_id == report.id, ReportSignature.member_id == member.id
        )
    ):
        raise Conflict("evaluation.report.signed", "您已签署评标报告")
    dissent = (dissent or "").strip()
    if len(dissent) > TEXT_MAX:
        raise InvalidInput("evaluation.dissent", "不同意见不能超过{n}字", n=TEXT_MAX)
    message = signing_message(report, section.tender_project.code, member.id, dissent, audience)
    try:
        sig = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            "evaluation.signature_encoding", "签名值不是有效的 Base64 编码", field="signature"
        ) from None
    now = clock.now()
    candidates = identity_queries.active_certificate_public_keys(db, actor.user_id or "", now)
    if not candidates:
        raise PermissionDenied(
            "evaluation.no_certificate", "您尚未绑定有效的数字证书，不能签署评标报告"
        )
    signer = None
    for cert in candidates:
        try:
            verify_any(cert.public_key, message, sig)
        except (InvalidSignature, CryptoError):
            continue
        signer = cert
        break
    if signer is None:
        raise InvalidInput(
            "evaluation.bad_signature",
            "签名验证失败：须以您本人已绑定的有效证书对本评标报告（及不同意见）签名",
            field="signature",
        )
    row_sig = ReportSignature(
        id=new_id(),
        report_id=report.id,
        member_id=member.id,
        signed_message=message.decode(),
        signature=base64.b64encode(sig).decode(),
        certificate_fingerprint=signer.fingerprint,
        certificate_subject=signer.subject,
        dissent=dissent,
        signed_at=now,
    )
    db.add(row_sig)
    db.flush()
    signed = set(
        db.scalars(select(ReportSignature.member_id).where(ReportSignature.report_id == report.id))
    )
    if all(m.id in signed for m in _active(members_of(db, row.id))):
        _apply(row, EvaluationAction.COMPLETE, actor, ctx)
        report.completed_at = now
        row.finished_at = now
    audit.record(
        db,
        actor,
        "evaluation.report.signed",
        "evaluation_report",
        report.id,
        {
            "member": member.id,
            "certificate": signer.fingerprint,
            "dissent": bool(dissent),
            "completed": report.completed_at is not None,
        },
    )
    return row_sig


@use_case
def terminate(db: Session, actor: Actor, section_id: str, reason: str) -> EvaluationSession:
    row, section = _load(db, section_id)
    _apply(row, EvaluationAction.TERMINATE, actor, context(db, actor, row, section))
    row.terminated_reason = _text(reason, "evaluation.terminate.reason", "终止理由")
    row.finished_at = clock.now()
    audit.record(
        db,
        actor,
        "evaluation.terminated",
        "evaluation_session",
        row.id,
        {"reason": row.terminated_reason},
    )
    return row
