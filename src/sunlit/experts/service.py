"""Expert use cases: the pool, draws, notification and answers. Only this module writes.

A draw goes request (requirements + the center's commitment) → avoidance list (tenderer) →
fix (exclusions applied, hashed candidate lists and definition fixed and logged) → supervisor's
value → draw (the center reveals; ``sunlit.draws`` computes the record) → notification of the
selected experts → answers; a decline or a silence past the time limit calls the next alternate
of the same stratum, and when none is left the draw waits for a supplementary draw (补抽).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable, Sequence
from typing import Any, Final

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from sunlit.bidding import queries as bidding_queries
from sunlit.draws import (
    CenterSecret,
    DrawRecord,
    Stratum,
    StratumOutcome,
    SupervisorContribution,
    conceal_candidates,
    derive_candidate_salt,
    make_disclosure,
    run_draw,
    sample_definition,
)
from sunlit.draws.records import Definition, timestamp
from sunlit.identity import queries as identity_queries
from sunlit.kernel import audit, clock
from sunlit.kernel.authz import Actor, system_actor
from sunlit.kernel.codes import parse_credit_code, parse_region_code
from sunlit.kernel.db import new_id, use_case
from sunlit.kernel.errors import Conflict, InvalidInput, not_found
from sunlit.projects import queries as project_queries
from sunlit.projects.models import Section

from . import queries
from .catalog import full_name, id_digest, mask_id, parse_id_number, parse_mobile, parse_specialty
from .models import (
    DrawAssignment,
    DrawAvoidance,
    DrawExclusion,
    Expert,
    ExpertCreditRecord,
    ExpertDraw,
    ExpertLeave,
    ExpertNotification,
    ExpertSpecialty,
)
from .notify import Invitation, Notifier, invitation_text
from .policies import POLICY
from .schemas import (
    AvoidanceIn,
    DrawRequestIn,
    ExpertIn,
    LeaveIn,
    ProfileIn,
    ViolationIn,
)
from .selection import Context, StratumSpec, shortfall_message
from .selection import select as select_candidates
from .states import (
    ASSIGNMENT_LIFECYCLE,
    DRAW_LIFECYCLE,
    AssignmentAction,
    AssignmentStatus,
    DrawAction,
    DrawStatus,
)

CENTER_NAME: Final = "公共资源交易中心"
_HEX64 = re.compile(r"[0-9a-f]{64}")
MAX_OTHER_SPECIALTIES: Final = 5

# --- the pool ------------------------------------------------------------------------------


def _text(value: str, field: str, label: str, max_len: int, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput("experts.required", "请填写{label}", field=field, label=label)
    if len(text) > max_len:
        raise InvalidInput(
            "experts.too_long", "{label}不能超过{n}个字符", field=field, label=label, n=max_len
        )
    return text


def clean_specialties(main: str, others: Sequence[str]) -> list[str]:
    codes = [parse_specialty(main, "main_specialty")]
    for raw in others:
        if not (raw or "").strip():
            continue
        code = parse_specialty(raw, "other_specialties")
        if code in codes:
            raise InvalidInput(
                "experts.specialty.duplicate",
                "专业代码“{code}”重复",
                field="other_specialties",
                code=code,
            )
        codes.append(code)
    if len(codes) - 1 > MAX_OTHER_SPECIALTIES:
        raise InvalidInput(
            "experts.specialty.too_many",
            "其他评标专业最多{n}个",
            field="other_specialties",
            n=MAX_OTHER_SPECIALTIES,
        )
    return codes


def clean_expert(data: ExpertIn) -> dict[str, Any]:
    """Validate every field of an expert; raises on the first bad one (with its field)."""
    number = parse_id_number(data.id_number)
    return {
        "name": _text(data.name, "name", "姓名", 50),
        "id_number": number,
        "id_digest": id_digest(number),
        "id_masked": mask_id(number),
        "mobile": parse_mobile(data.mobile),
        "employer_name": _text(data.employer_name, "employer_name", "工作单位", 200),
        "employer_credit_code": parse_credit_code(
            data.employer_credit_code, "employer_credit_code"
        ).code,
        "title": _text(data.title, "title", "职称", 50, required=False),
        "region_code": parse_region_code(data.region_code),
        "specialties": clean_specialties(data.main_specialty, data.other_specialties),
    }


def _apply_fields(e: Expert, fields: dict[str, Any]) -> None:
    codes = fields.pop("specialties")
    for k, v in fields.items():
        setattr(e, k, v)
    e.main_specialty = codes[0]
    existing = {s.code: s for s in e.specialties}
    e.specialties = []
    for i, code in enumerate(codes):
        s = existing.get(code) or ExpertSpecialty(id=new_id(), code=code)
        s.position = i
        e.specialties.append(s)
    e.updated_at = clock.now()


def _check_user(db: Session, user_id: str | None, expert_id: str | None) -> None:
    if user_id is None:
        return
    other = queries.expert_by_user(db, user_id)
    if other is not None and other.id != expert_id:
        raise Conflict(
            "experts.user_taken", "该平台账号已关联专家“{name}”", field="user_id", name=other.name
        )


def _new_expert(db: Session, fields: dict[str, Any], user_id: str | None) -> Expert:
    now = clock.now()
    e = Expert(id=new_id(), user_id=user_id, status="active", created_at=now, updated_at=now)
    _apply_fields(e, fields)
    db.add(e)
    return e


@use_case
def register_expert(db: Session, actor: Actor, data: ExpertIn) -> Expert:
    """入库: staff add an expert to the pool."""
    POLICY.require(actor, "experts.pool.manage")
    fields = clean_expert(data)
    if db.scalar(select(Expert.id).where(Expert.id_digest == fields["id_digest"])):
        raise Conflict(
            "experts.duplicate",
            "身份证号码为 {id} 的专家已在库中",
            field="id_number",
            id=fields["id_masked"],
        )
    _check_user(db, data.user_id, None)
    e = _new_expert(db, fields, data.user_id)
    audit.record(
        db,
        actor,
        "experts.registered",
        "expert",
        e.id,
        {"specialty": e.main_specialty, "employer": e.employer_credit_code},
    )
    return e


@use_case
def update_profile(db: Session, actor: Actor, expert_id: str, data: ProfileIn) -> Expert:
    """The expert (or staff) updates contact, employer, title, region and specialties."""
    e = db.get(Expert, expert_id)
    POLICY.require_visible(actor, "experts.profile.edit", e, "专家")
    assert e is not None
    fields = {
        "mobile": parse_mobile(data.mobile),
        "employer_name": _text(data.employer_name, "employer_name", "工作单位", 200),
        "employer_credit_code": parse_credit_code(
            data.employer_credit_code, "employer_credit_code"
        ).code,
        "title": _text(data.title, "title", "职称", 50, required=False),
        "region_code": parse_region_code(data.region_code),
        "specialties": clean_specialties(data.main_specialty, data.other_specialties),
    }
    _apply_fields(e, fields)
    audit.record(
        db,
        actor,
        "experts.profile_updated",
        "expert",
        e.id,
        {"specialty": e.main_specialty, "employer": e.employer_credit_code},
    )
    return e


@use_case
def set_status(db: Session, actor: Actor, expert_id: str, status: str, reason: str) -> Expert:
    """Staff suspend (暂停) or reactivate an expert."""
    POLICY.require(actor, "experts.pool.manage")
    e = db.get(Expert, expert_id)
    if e is None:
        raise not_found("专家")
    if status not in ("active", "suspended"):
        raise InvalidInput("experts.status", "状态只能是 active 或 suspended", field="status")
    e.status = status
    e.updated_at = clock.now()
    audit.record(db, actor, "experts.status", "expert", e.id, {"status": status, "reason": reason})
    return e


@use_case
def add_leave(db: Session, actor: Actor, expert_id: str, data: LeaveIn) -> ExpertLeave:
    """请假: the expert (or staff) marks a period he is not available."""
    e = db.get(Expert, expert_id)
    POLICY.require_visible(actor, "experts.profile.edit", e, "专家")
    starts, ends = clock.ensure_aware(data.starts_at), clock.ensure_aware(data.ends_at)
    if ends <= starts:
        raise InvalidInput("experts.leave.order", "请假结束时间应晚于开始时间", field="ends_at")
    if ends <= clock.now():
        raise InvalidInput("experts.leave.past", "请假时间已过", field="ends_at")
    leave = ExpertLeave(
        id=new_id(),
        expert_id=expert_id,
        starts_at=starts,
        ends_at=ends,
        reason=_text(data.reason, "reason", "请假原因", 200, required=False),
        created_at=clock.now(),
    )
    db.add(leave)
    audit.record(
        db,
        actor,
        "experts.leave",
        "expert",
        expert_id,
        {"starts_at": starts.isoformat(), "ends_at": ends.isoformat()},
    )
    return leave


@use_case
def cancel_leave(db: Session, actor: Actor, leave_id: str) -> ExpertLeave:
    leave = db.get(ExpertLeave, leave_id)
    e = db.get(Expert, leave.expert_id) if leave is not None else None
    POLICY.require_visible(actor, "experts.profile.edit", e, "请假记录")
    assert leave is not None
    if leave.cancelled_at is not None:
        raise Conflict("experts.leave.cancelled", "该请假已取消")
    leave.cancelled_at = clock.now()
    audit.record(
        db, actor, "experts.leave_cancelled", "expert", leave.expert_id, {"leave": leave.id}
    )
    return leave


@use_case
def record_violation(
    db: Session, actor: Actor, expert_id: str, data: ViolationIn
) -> ExpertCreditRecord:
    """专家信用记录: a violation, optionally restricting draws until a date."""
    POLICY.require(actor, "experts.credit.record")
    e = db.get(Expert, expert_id)
    if e is None:
        raise not_found("专家")
    until = clock.ensure_aware(data.restricted_until) if data.restricted_until else None
    row = ExpertCreditRecord(
        id=new_id(),
        expert_id=e.id,
        violation=_text(data.violation, "violation", "违规行为", 2000),
        decided_by=_text(data.decided_by, "decided_by", "处理部门", 200, required=False),
        restricted_until=until,
        recorded_at=clock.now(),
    )
    db.add(row)
    if until is not None and (
        e.restricted_until is None or clock.ensure_aware(e.restricted_until) < until
    ):
        e.restricted_until = until
    audit.record(
        db,
        actor,
        "experts.violation",
        "expert",
        e.id,
        {"restricted_until": until.isoformat() if until else None},
    )
    return row


@use_case
def import_experts(db: Session, actor: Actor, rows: Sequence[ExpertIn]) -> dict[str, int]:
    """Excel import after every row was validated (``excel.parse``): new experts are added,
    known ID numbers updated. All or nothing."""
    POLICY.require(actor, "experts.pool.manage")
    added = updated = 0
    for data in rows:
        fields = clean_expert(data)
        e = db.scalar(select(Expert).where(Expert.id_digest == fields["id_digest"]))
        if e is None:
            _new_expert(db, fields, None)
            added += 1
        else:
            _apply_fields(e, fields)
            updated += 1
    db.flush()
    audit.record(
        db, actor, "experts.imported", "expert", None, {"added": added, "updated": updated}
    )
    return {"added": added, "updated": updated}


# --- draws: request, avoidance, fix --------------------------------------------------------


def _draw(db: Session, draw_id: str) -> ExpertDraw:
    d = db.get(ExpertDraw, draw_id)
    if d is None:
        raise not_found("专家抽取")
    return d


def _section(db: Session, section_id: str) -> Section:
    section = project_queries.section_by_id(db, section_id)
    if section is None:
        raise not_found("标段")
    return section


def _apply(d: ExpertDraw, action: DrawAction, actor: Actor | None, section: Section | None) -> None:
    tender = section.tender_project if section is not None else None
    d.status = DRAW_LIFECYCLE.apply(
        DrawStatus(d.status),
        action,
        has_permission=None if actor is None else (lambda p: POLICY.allows(actor, p, tender)),
    )


def _commitment(value: str) -> str:
    text = (value or "").strip().lower()
    if not _HEX64.fullmatch(text):
        raise InvalidInput(
            "experts.draw.commitment",
            "承诺值必须是 32 字节的十六进制串（64位）",
            field="commitment",
        )
    return text


def _strata(items: Iterable[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for s in items:
        code = parse_specialty(s.specialty, "strata")
        if any(code == o["specialty"] for o in out):
            raise InvalidInput(
                "experts.draw.stratum_duplicate", "抽取专业“{code}”重复", field="strata", code=code
            )
        out.append({"specialty": code, "count": s.count, "alternates": s.alternates})
    if not out:
        raise InvalidInput("experts.draw.no_strata", "请至少设置一个抽取专业", field="strata")
    return out


def _draw_code(db: Session, section: Section) -> str:
    n = len(list(db.scalars(select(ExpertDraw.id).where(ExpertDraw.section_id == section.id))))
    return f"expert-{section.code}-{n + 1}"


@use_case
def request_draw(db: Session, actor: Actor, section_id: str, data: DrawRequestIn) -> ExpertDraw:
    """抽取申请: how many experts per specialty, alternates, limits, and the center's commitment
    to its secret value (``draws.CenterSecret``, kept by the center until the draw)."""
    section = _section(db, section_id)
    POLICY.require(actor, "experts.draw.manage", section.tender_project)
    active = db.scalar(
        select(ExpertDraw.code).where(
            ExpertDraw.section_id == section.id,
            ExpertDraw.parent_id.is_(None),
            ExpertDraw.status != DrawStatus.CANCELLED,
        )
    )
    if active is not None:
        raise Conflict("experts.draw.exists", "该标段已有专家抽取 {code}", code=active)
    starts = clock.ensure_aware(data.evaluation_starts_at)
    ends = clock.ensure_aware(data.evaluation_ends_at)
    if starts <= clock.now():
        raise InvalidInput(
            "experts.draw.past", "评标开始时间应晚于当前时间", field="evaluation_starts_at"
        )
    if ends <= starts:
        raise InvalidInput(
            "experts.draw.window", "评标结束时间应晚于开始时间", field="evaluation_ends_at"
        )
    if data.suite not in ("gm", "intl"):
        raise InvalidInput("experts.draw.suite", "密码套件只能是 gm 或 intl", field="suite")
    regions = []
    for raw in data.regions:
        code = (raw or "").strip()
        if not code.isdigit() or not 2 <= len(code) <= 6:
            raise InvalidInput(
                "experts.draw.region",
                "限定地区“{code}”应为2至6位行政区划代码前缀",
                field="regions",
                code=code,
            )
        regions.append(code)
    if regions and not data.region_reason.strip():
        raise InvalidInput(
            "experts.draw.region_reason", "限定地区时请填写限制地区理由", field="region_reason"
        )
    now = clock.now()
    d = ExpertDraw(
        id=new_id(),
        section_id=section.id,
        code=_draw_code(db, section),
        status=DrawStatus.REQUESTED,
        suite=data.suite,
        evaluation_starts_at=starts,
        evaluation_ends_at=ends,
        venue=_text(data.venue, "venue", "评标地点", 200, required=False),
        strata=_strata(data.strata),
        regions=regions,
        region_reason=data.region_reason.strip()[:200],
        cooldown_days=data.cooldown_days,
        response_minutes=data.response_minutes,
        commitment=_commitment(data.commitment),
        committed_at=now,
        created_by=actor.user_id,
        created_at=now,
    )
    db.add(d)
    audit.record(
        db,
        actor,
        "experts.draw.requested",
        "expert_draw",
        d.id,
        {
            "section_code": section.code,
            "draw": d.code,
            "strata": d.strata,
            "regions": regions,
            "cooldown_days": d.cooldown_days,
            "commitment": d.commitment,
            "suite": d.suite,
        },
    )
    return d


@use_case
def add_avoidances(
    db: Session, actor: Actor, draw_id: str, entries: Sequence[AvoidanceIn]
) -> list[DrawAvoidance]:
    """回避名单: the tenderer (or its agency) names people who must not evaluate, with reasons."""
    d = _draw(db, draw_id)
    section = _section(db, d.section_id)
    tender = section.tender_project
    if not POLICY.allows(actor, "experts.draw.avoid", tender) and not POLICY.allows(
        actor, "experts.draw.view", tender
    ):
        raise not_found("专家抽取")
    _apply(d, DrawAction.AVOID, actor, section)
    if not entries:
        raise InvalidInput("experts.avoid.empty", "回避名单为空", field="entries")
    rows = []
    seen = {
        a.id_digest for a in db.scalars(select(DrawAvoidance).where(DrawAvoidance.draw_id == d.id))
    }
    for i, entry in enumerate(entries):
        number = parse_id_number(entry.id_number, f"entries[{i}].id_number")
        reason = _text(entry.reason, f"entries[{i}].reason", "回避理由", 500)
        digest = id_digest(number)
        if digest in seen:
            raise Conflict(
                "experts.avoid.duplicate",
                "{id} 已在回避名单中",
                field=f"entries[{i}].id_number",
                id=mask_id(number),
            )
        seen.add(digest)
        row = DrawAvoidance(
            id=new_id(),
            draw_id=d.id,
            name=_text(entry.name, f"entries[{i}].name", "姓名", 50),
            id_digest=digest,
            id_masked=mask_id(number),
            reason=reason,
            added_by=actor.user_id,
            added_at=clock.now(),
        )
        db.add(row)
        rows.append(row)
    audit.record(
        db,
        actor,
        "experts.draw.avoidance",
        "expert_draw",
        d.id,
        {"entries": [{"id": r.id_masked, "reason": r.reason} for r in rows]},
    )
    return rows


def _credit_codes(db: Session, org_ids: Iterable[str | None]) -> frozenset[str]:
    codes = set()
    for org_id in org_ids:
        if org_id is None:
            continue
        org = identity_queries.organization_summary(db, org_id)
        if org is not None:
            codes.add(org.credit_code)
    return frozenset(codes)


def _family_assigned(db: Session, root: ExpertDraw) -> frozenset[str]:
    ids = [d.id for d in queries.family(db, root)]
    return frozenset(
        db.scalars(select(DrawAssignment.expert_id).where(DrawAssignment.draw_id.in_(ids)))
    )


def selection_context(db: Session, d: ExpertDraw, section: Section) -> Context:
    """Everything the exclusion rules check, gathered from the other domains."""
    tender = section.tender_project
    bids = bidding_queries.valid_bids(db, section.id)
    avoid = {
        a.id_digest: f"{a.reason}（{a.name}）"
        for a in db.scalars(
            select(DrawAvoidance).where(DrawAvoidance.draw_id == (d.parent_id or d.id))
        )
    }
    root = queries.root_of(db, d)
    starts = clock.ensure_aware(d.evaluation_starts_at)
    return Context(
        evaluation_starts_at=starts,
        on_leave=queries.on_leave(db, starts, clock.ensure_aware(d.evaluation_ends_at)),
        regions=tuple(d.regions),
        bidder_codes=_credit_codes(db, [b.org_id for b in bids]),
        tenderer_codes=_credit_codes(db, [tender.tenderer_org_id]),
        agency_codes=_credit_codes(db, [tender.agency_org_id]),
        avoidance=avoid,
        cooldown_days=d.cooldown_days,
        already_drawn=_family_assigned(db, root) if d.parent_id else frozenset(),
    )


def _definition(d: ExpertDraw, key: bytes) -> tuple[Definition, dict[str, dict[str, str]]]:
    """The definition over hashed ids, rebuilt from the stored plain lists and salt key, and
    for each stratum the map hashed id -> expert id."""
    assert d.candidate_lists is not None and d.fixed_at is not None
    strata = []
    maps: dict[str, dict[str, str]] = {}
    for s in d.strata:
        concealed = conceal_candidates(d.suite, d.candidate_lists[s["specialty"]], key)
        maps[s["specialty"]] = {h: cid for cid, _, h in concealed}
        strata.append(
            Stratum(s["specialty"], [h for _, _, h in concealed], s["count"], s["alternates"])
        )
    definition = sample_definition(
        d.suite,
        strata,
        fixed_at=clock.ensure_aware(d.fixed_at),
        candidate_ids="hashed",
        context={
            "draw": d.code,
            "评标开始时间": timestamp(clock.ensure_aware(d.evaluation_starts_at)),
        },
    )
    return definition, maps


@use_case
def fix_candidates(db: Session, actor: Actor, draw_id: str) -> ExpertDraw:
    """固定候选名单: apply every exclusion rule, record each exclusion with its rule, hash the
    candidate lists (salts from a fresh per-draw key) and fix the definition. A stratum too
    small is refused naming the rule that emptied it; nothing is stored then."""
    d = _draw(db, draw_id)
    section = _section(db, d.section_id)
    _apply(d, DrawAction.FIX, actor, section)
    deadline = section.bid_deadline
    if deadline is None or clock.now() < clock.ensure_aware(deadline):
        raise Conflict(
            "experts.draw.before_deadline",
            "投标截止前不能固定候选名单：回避投标人需要截止后的投标人名单",
        )
    specs = [StratumSpec(s["specialty"], s["count"], s["alternates"]) for s in d.strata]
    ctx = selection_context(db, d, section)
    result = select_candidates(queries.pool_rows(db, [s.specialty for s in specs]), specs, ctx)
    short = result.short
    if short:
        errors = []
        for report in short:
            message, params = shortfall_message(report, full_name(report.specialty))
            errors.append({"stratum": report.specialty, "rule": params.get("rule_code"), **params})
        message, params = shortfall_message(short[0], full_name(short[0].specialty))
        raise InvalidInput(
            f"experts.draw.pool_too_small.{params.get('rule_code', 'specialty')}",
            message,
            errors=errors,
            **params,
        )
    d.candidate_lists = {r.specialty: list(r.candidates) for r in result.strata}
    d.exclusion_summary = [
        {
            "specialty": r.specialty,
            "in_specialty": r.in_specialty,
            "candidates": len(r.candidates),
            "excluded": r.excluded_by(),
        }
        for r in result.strata
    ]
    key = secrets.token_bytes(32)
    d.salt_key = key.hex()
    d.fixed_at = clock.now()
    definition, _ = _definition(d, key)
    d.definition_hash = definition.digest(d.suite).hex()
    if result.excluded:
        db.execute(
            insert(DrawExclusion),
            [
                {
                    "id": new_id(),
                    "draw_id": d.id,
                    "expert_id": x.expert_id,
                    "stratum": x.stratum,
                    "rule": x.rule.value,
                    "detail": x.detail,
                }
                for x in result.excluded
            ],
        )
    audit.record(
        db,
        actor,
        "experts.draw.fixed",
        "expert_draw",
        d.id,
        {"definition_hash": d.definition_hash, "strata": d.exclusion_summary},
    )
    return d


@use_case
def enter_supervisor_value(db: Session, actor: Actor, draw_id: str, value: str) -> ExpertDraw:
    """监督人录入随机数 (after the definition was fixed, before the center reveals)."""
    d = _draw(db, draw_id)
    section = _section(db, d.section_id)
    _apply(d, DrawAction.SUPERVISE, actor, section)
    text = (value or "").strip()
    if not text or len(text) > 200 or any(ord(c) < 32 for c in text):
        raise InvalidInput(
            "experts.draw.supervisor_value", "请录入1至200个字符的随机数", field="value"
        )
    d.supervisor_value = text
    d.supervisor_name = f"{actor.org_name} {actor.name}".strip() or "监督人"
    d.supervisor_entered_at = clock.now()
    audit.record(db, actor, "experts.draw.supervisor_value", "expert_draw", d.id, {"value": text})
    return d


def _hex32(value: str, field: str) -> bytes:
    text = (value or "").strip().lower()
    if not _HEX64.fullmatch(text):
        raise InvalidInput("experts.draw.reveal", "应为64位十六进制（32字节）", field=field)
    return bytes.fromhex(text)


@use_case
def draw(
    db: Session,
    actor: Actor,
    draw_id: str,
    center_value: str,
    center_salt: str,
    notifier: Notifier,
) -> ExpertDraw:
    """抽取: the center reveals its committed value; the draw record verifies offline; the
    selected experts are called at once (alternates wait on standby, in draw order)."""
    d = _draw(db, draw_id)
    section = _section(db, d.section_id)
    _apply(d, DrawAction.DRAW, actor, section)
    assert d.salt_key is not None and d.supervisor_value is not None
    assert d.supervisor_entered_at is not None
    definition, maps = _definition(d, bytes.fromhex(d.salt_key))
    if definition.digest(d.suite).hex() != d.definition_hash:
        raise Conflict("experts.draw.definition_changed", "候选名单与固定时不一致，不能抽取")
    secret = CenterSecret(
        _hex32(center_value, "center_value"),
        _hex32(center_salt, "center_salt"),
        bytes.fromhex(d.commitment),
        timestamp(clock.ensure_aware(d.committed_at)),
    )
    now = clock.now()
    record = run_draw(
        suite=d.suite,
        draw_id=d.code,
        definition=definition,
        center=secret.reveal(now),
        bidders=[],
        supervisor=SupervisorContribution.of(
            d.supervisor_value,
            d.supervisor_name or "监督人",
            clock.ensure_aware(d.supervisor_entered_at),
        ),
        drawn_at=now,
    )
    d.record = record.to_json()
    d.drawn_at = now
    called = []
    for outcome in record.outputs:
        assert isinstance(outcome, StratumOutcome)
        ids = maps[outcome.stratum]
        for i, h in enumerate((*outcome.selected, *outcome.alternates)):
            selected = i < len(outcome.selected)
            a = DrawAssignment(
                id=new_id(),
                draw_id=d.id,
                section_id=d.section_id,
                expert_id=ids[h],
                stratum=outcome.stratum,
                hashed_id=h,
                role="selected" if selected else "alternate",
                position=i,
                status=AssignmentStatus.STANDBY,
            )
            db.add(a)
            if selected:
                called.append(a)
    db.flush()
    for a in called:
        _call(db, d, a, notifier)
    audit.record(
        db,
        actor,
        "experts.draw.drawn",
        "expert_draw",
        d.id,
        {
            "seed": record.seed.hex(),
            "definition_hash": d.definition_hash,
            "outputs": [o.to_json() for o in record.outputs],
        },
    )
    return d


# --- notification and answers --------------------------------------------------------------


def _call(db: Session, d: ExpertDraw, a: DrawAssignment, notifier: Notifier) -> None:
    """Notify one drawn expert and start his answer clock (part of the calling use case)."""
    a.status = ASSIGNMENT_LIFECYCLE.apply(AssignmentStatus(a.status), AssignmentAction.CALL)
    now = clock.now()
    a.notified_at = now
    a.respond_by = now + dt.timedelta(minutes=d.response_minutes)
    e = db.get(Expert, a.expert_id)
    assert e is not None
    e.last_drawn_at = now
    reference = secrets.token_hex(16)
    text = invitation_text(
        CENTER_NAME, clock.ensure_aware(d.evaluation_starts_at), d.venue, a.respond_by
    )
    deliveries = notifier.send(Invitation(reference, e.mobile, e.name, text, a.respond_by))
    for i, delivery in enumerate(deliveries):
        db.add(
            ExpertNotification(
                id=new_id(),
                assignment_id=a.id,
                reference=reference if i == 0 else secrets.token_hex(16),
                channel=delivery.channel,
                text=text,
                artifact=delivery.artifact[:300],
                delivered=delivery.delivered,
                error=delivery.error[:500],
                sent_at=now,
            )
        )
    if not deliveries:  # a notifier that sends nothing still leaves a trace to reply to
        db.add(
            ExpertNotification(
                id=new_id(),
                assignment_id=a.id,
                reference=reference,
                channel="none",
                text=text,
                delivered=False,
                error="no channel",
                sent_at=now,
            )
        )


def _family_assignments(db: Session, root: ExpertDraw) -> list[tuple[ExpertDraw, DrawAssignment]]:
    out: list[tuple[ExpertDraw, DrawAssignment]] = []
    for d in queries.family(db, root):
        if d.status == DrawStatus.CANCELLED:
            continue
        rows = db.scalars(
            select(DrawAssignment)
            .where(DrawAssignment.draw_id == d.id)
            .order_by(DrawAssignment.stratum, DrawAssignment.position)
        )
        out.extend((d, a) for a in rows)
    return out


def _settle(db: Session, root: ExpertDraw, notifier: Notifier) -> list[str]:
    """After an answer: call alternates in order where a stratum lacks experts; complete the
    draw when every stratum is confirmed; mark it short when a stratum ran out. Returns the
    hashed ids called."""
    pairs = _family_assignments(db, root)
    called: list[str] = []
    complete = True
    short = False
    for s in root.strata:
        mine = [(d, a) for d, a in pairs if a.stratum == s["specialty"]]
        active = [
            a
            for _, a in mine
            if a.status in (AssignmentStatus.NOTIFIED, AssignmentStatus.CONFIRMED)
        ]
        standby = [(d, a) for d, a in mine if a.status == AssignmentStatus.STANDBY]
        missing = s["count"] - len(active)
        for d, a in standby[: max(0, missing)]:
            _call(db, d, a, notifier)
            called.append(a.hashed_id)
        missing -= min(len(standby), max(0, missing))
        confirmed = sum(1 for _, a in mine if a.status == AssignmentStatus.CONFIRMED)
        if confirmed < s["count"]:
            complete = False
        if missing > 0:
            short = True
    members = queries.family(db, root)
    if complete:
        for d in members:
            if d.status in (DrawStatus.NOTIFYING, DrawStatus.SHORT):
                _apply(d, DrawAction.COMPLETE, None, None)
                d.completed_at = clock.now()
    elif short:
        for d in members:
            if d.status == DrawStatus.NOTIFYING:
                _apply(d, DrawAction.SHORTFALL, None, None)
    return called


def _assignment(db: Session, assignment_id: str) -> tuple[DrawAssignment, ExpertDraw]:
    a = db.get(DrawAssignment, assignment_id)
    if a is None:
        raise not_found("抽取通知")
    d = _draw(db, a.draw_id)
    return a, d


def _answer(
    db: Session,
    actor: Actor,
    a: DrawAssignment,
    d: ExpertDraw,
    action: AssignmentAction,
    channel: str,
    reason: str,
    notifier: Notifier,
) -> DrawAssignment:
    root = queries.root_of(db, d)
    _apply(d, DrawAction.ANSWER, None, None)
    if (
        action != AssignmentAction.TIME_OUT
        and a.respond_by is not None
        and clock.now() > clock.ensure_aware(a.respond_by)
    ):
        raise Conflict("experts.answer.late", "答复期限已过，视为未答复")
    a.status = ASSIGNMENT_LIFECYCLE.apply(AssignmentStatus(a.status), action)
    a.responded_at = clock.now()
    a.response_channel = channel
    a.decline_reason = reason.strip()[:200]
    called = _settle(db, root, notifier)
    audit.record(
        db,
        actor,
        f"experts.draw.{a.status}",
        "expert_draw",
        d.id,
        {
            "hashed_id": a.hashed_id,
            "stratum": a.stratum,
            "channel": channel,
            "called": called,
            "draw_status": root.status,
        },
    )
    return a


@use_case
def answer(
    db: Session, actor: Actor, assignment_id: str, accept: bool, reason: str, notifier: Notifier
) -> DrawAssignment:
    """The drawn expert confirms or declines on his page / the API."""
    POLICY.require(actor, "experts.invitation.answer")
    a, d = _assignment(db, assignment_id)
    me = queries.my_expert(db, actor)
    if me is None or me.id != a.expert_id:
        raise not_found("抽取通知")
    action = AssignmentAction.CONFIRM if accept else AssignmentAction.DECLINE
    return _answer(db, actor, a, d, action, "web", reason, notifier)


CONFIRM_REPLIES: Final = {"1", "是", "确认", "Y", "YES"}
DECLINE_REPLIES: Final = {"2", "否", "不能", "N", "NO"}


@use_case
def sms_reply(db: Session, reference: str, reply: str, notifier: Notifier) -> DrawAssignment:
    """The SMS gateway forwards an expert's reply (``1`` confirm, ``2`` decline)."""
    n = db.scalar(
        select(ExpertNotification).where(ExpertNotification.reference == reference.strip())
    )
    if n is None:
        raise not_found("抽取通知")
    a, d = _assignment(db, n.assignment_id)
    text = reply.strip().upper()
    if text in CONFIRM_REPLIES:
        action = AssignmentAction.CONFIRM
    elif text in DECLINE_REPLIES:
        action = AssignmentAction.DECLINE
    else:
        raise InvalidInput(
            "experts.sms.reply", "无法识别的回复“{reply}”：请回复1或2", reply=reply[:20]
        )
    return _answer(db, system_actor("sms-gateway"), a, d, action, "sms", "", notifier)


@use_case
def time_out(db: Session, assignment_id: str, notifier: Notifier) -> DrawAssignment:
    """An expert who did not answer in time counts as not attending; the next one is called."""
    a, d = _assignment(db, assignment_id)
    if a.respond_by is None or clock.now() < clock.ensure_aware(a.respond_by):
        raise Conflict("experts.answer.not_due", "答复期限未到")
    return _answer(
        db, system_actor("experts"), a, d, AssignmentAction.TIME_OUT, "timeout", "", notifier
    )


def expire_due(db: Session, notifier: Notifier) -> int:
    """Scheduler job: time out every expert whose answer is overdue, one use case each."""
    db.rollback()
    due = list(
        db.scalars(
            select(DrawAssignment.id)
            .where(
                DrawAssignment.status == AssignmentStatus.NOTIFIED,
                DrawAssignment.respond_by <= clock.now(),
            )
            .order_by(DrawAssignment.respond_by)
        )
    )
    db.rollback()
    done = 0
    for assignment_id in due:
        try:
            time_out(db, assignment_id, notifier)
            done += 1
        except Conflict:  # answered meanwhile (another process, a late reply)
            continue
    return done


@use_case
def request_supplementary(
    db: Session, actor: Actor, draw_id: str, commitment: str, alternates: int = 2
) -> ExpertDraw:
    """补抽: when a stratum ran out of alternates, a new draw over the remaining experts of the
    missing specialties (those already drawn for the section are excluded)."""
    root = _draw(db, draw_id)
    if root.parent_id is not None:
        root = queries.root_of(db, root)
    section = _section(db, root.section_id)
    _apply(root, DrawAction.SUPPLEMENT, actor, section)
    pending = [
        d.code
        for d in queries.family(db, root)[1:]
        if d.status in (DrawStatus.REQUESTED, DrawStatus.FIXED, DrawStatus.SUPERVISED)
    ]
    if pending:
        raise Conflict("experts.draw.supplement_pending", "补抽 {code} 尚未完成", code=pending[0])
    pairs = _family_assignments(db, root)
    strata = []
    for s in root.strata:
        active = sum(
            1
            for _, a in pairs
            if a.stratum == s["specialty"]
            and a.status
            in (AssignmentStatus.NOTIFIED, AssignmentStatus.CONFIRMED, AssignmentStatus.STANDBY)
        )
        if active < s["count"]:
            strata.append(
                {
                    "specialty": s["specialty"],
                    "count": s["count"] - active,
                    "alternates": alternates,
                }
            )
    if not strata:
        raise Conflict("experts.draw.no_shortfall", "各专业人数已足，无需补抽")
    now = clock.now()
    child = ExpertDraw(
        id=new_id(),
        section_id=root.section_id,
        parent_id=root.id,
        code=_draw_code(db, section),
        status=DrawStatus.REQUESTED,
        suite=root.suite,
        evaluation_starts_at=root.evaluation_starts_at,
        evaluation_ends_at=root.evaluation_ends_at,
        venue=root.venue,
        strata=strata,
        regions=list(root.regions),
        region_reason=root.region_reason,
        cooldown_days=root.cooldown_days,
        response_minutes=root.response_minutes,
        commitment=_commitment(commitment),
        committed_at=now,
        created_by=actor.user_id,
        created_at=now,
    )
    db.add(child)
    audit.record(
        db,
        actor,
        "experts.draw.supplementary",
        "expert_draw",
        child.id,
        {"parent": root.code, "draw": child.code, "strata": strata, "commitment": child.commitment},
    )
    return child


@use_case
def cancel_draw(db: Session, actor: Actor, draw_id: str, reason: str) -> ExpertDraw:
    d = _draw(db, draw_id)
    section = _section(db, d.section_id)
    _apply(d, DrawAction.CANCEL, actor, section)
    audit.record(db, actor, "experts.draw.cancelled", "expert_draw", d.id, {"reason": reason[:500]})
    return d


# --- disclosure (called by the evaluation domain when evaluation starts) -------------------


@use_case
def disclose(db: Session, actor: Actor, section_id: str) -> list[DrawRecord | None]:
    """评标开始: publish who is behind every hashed id of the section's expert draws (full
    disclosure with salts, so anyone can check the draw and that nobody was listed twice).
    Requires the draw to be confirmed; idempotent refusal once disclosed."""
    out, root_id, published = disclose_step(db, actor, section_id)
    audit.record(db, actor, "experts.draw.disclosed", "expert_draw", root_id, {"draws": published})
    return out


def disclose_step(
    db: Session, actor: Actor, section_id: str
) -> tuple[list[DrawRecord | None], str, list[str]]:
    """The work of :func:`disclose` without its audit event, for a use case of another
    domain (evaluation's start) that discloses inside its own transaction and records the
    disclosure in its own event. Returns the records, the root draw id and the draw codes."""
    root = db.scalar(
        select(ExpertDraw).where(
            ExpertDraw.section_id == section_id,
            ExpertDraw.parent_id.is_(None),
            ExpertDraw.status != DrawStatus.CANCELLED,
        )
    )
    if root is None:
        raise not_found("专家抽取")
    POLICY.require(actor, "experts.draw.manage", _section(db, section_id).tender_project)
    _apply(root, DrawAction.DISCLOSE, None, None)
    now = clock.now()
    out: list[DrawRecord | None] = []
    published = []
    for d in queries.family(db, root):
        if d.record is None or d.salt_key is None or d.candidate_lists is None:
            out.append(None)
            continue
        record = DrawRecord.from_json(d.record)
        key = bytes.fromhex(d.salt_key)
        pairs = [
            (cid, derive_candidate_salt(d.suite, key, cid))
            for ids in d.candidate_lists.values()
            for cid in ids
        ]
        d.disclosure = make_disclosure(record, pairs).to_json()
        d.disclosed_at = now
        published.append(d.code)
        out.append(record)
    return out, root.id, published
