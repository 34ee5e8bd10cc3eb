"""Projects use cases: the only code that writes project, section, venue and restriction tables.

Each public function decorated with ``@use_case`` is one transaction with one audit event. The
few undecorated public functions (``publish_sections``, ``extend_deadlines``,
``terminate_sections``) are steps that the notices domain runs *inside its own* use cases: they
apply the lifecycle tables and record no audit event of their own.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sunlit.identity import queries as identity_queries
from sunlit.kernel import audit, clock
from sunlit.kernel.authz import Actor, Role
from sunlit.kernel.codes import parse_region_code
from sunlit.kernel.db import new_id, use_case
from sunlit.kernel.errors import Conflict, InvalidInput, not_found
from sunlit.projects import codes
from sunlit.projects.catalog import (
    BOOKING_PURPOSE_LABELS,
    ENGINEERING_TYPES,
    EVALUATION_METHODS,
    GP_ONLY_METHODS,
    Category,
    Draws,
    Method,
    RoomKind,
    evaluation_methods_for,
    minimum_bidders,
)
from sunlit.projects.models import (
    Booking,
    CodeCounter,
    Entrustment,
    Project,
    Restriction,
    Room,
    Section,
    SectionCoefficient,
    TenderProject,
)
from sunlit.projects.policies import POLICY
from sunlit.projects.schemas import (
    BookingIn,
    CoefficientIn,
    EntrustmentIn,
    ProjectIn,
    RegisterTenderIn,
    RestrictionIn,
    RoomIn,
    SectionIn,
    TenderProjectIn,
)
from sunlit.projects.states import (
    SECTION_LIFECYCLE,
    TENDER_LIFECYCLE,
    SectionAction,
    SectionStatus,
    TenderAction,
    TenderStatus,
)

CENT = Decimal("0.01")
# One trillion yuan: 15 significant digits, which also round-trip exactly through SQLite, where
# Numeric(18, 2) is stored as a double (PostgreSQL stores it exactly).
MAX_MONEY = Decimal("999999999999.99")
SECURITY_RATE = Decimal("0.02")
_CLASSIFY = re.compile(r"^[A-E][0-9A-Z]{0,29}$")


def as_china(value: dt.datetime) -> dt.datetime:
    """A datetime from a form or a client, in Asia/Shanghai (naive means Beijing time)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=clock.CHINA_TZ)
    return value.astimezone(clock.CHINA_TZ)


def fmt(value: dt.datetime) -> str:
    return clock.ensure_aware(value).strftime("%Y-%m-%d %H:%M")


def _transition(tender: TenderProject, action: TenderAction, actor: Actor) -> None:
    tender.status = TENDER_LIFECYCLE.apply(
        TenderStatus(tender.status),
        action,
        has_permission=lambda p: POLICY.allows(actor, p, tender),
    )


def _section_transition(
    section: Section, action: SectionAction, actor: Actor, tender: TenderProject
) -> None:
    section.status = SECTION_LIFECYCLE.apply(
        SectionStatus(section.status),
        action,
        has_permission=lambda p: POLICY.allows(actor, p, tender),
    )


# --- projects and tender projects ----------------------------------------------------------


def _next_serial(db: Session, prefix: str) -> int:
    row = db.get(CodeCounter, prefix, with_for_update=True)
    if row is None:
        try:
            with db.begin_nested():
                db.add(CodeCounter(prefix=prefix, last=1))
            return 1
        except IntegrityError:  # another transaction created the counter meanwhile
            row = db.get(CodeCounter, prefix, with_for_update=True, populate_existing=True)
            assert row is not None
    row.last += 1
    return row.last


def _project_code(db: Session, data: ProjectIn, category: Category, region: str) -> str:
    if data.code:
        code = codes.parse_project_code(data.code)
        if code[1:7] != region:
            raise InvalidInput(
                "projects.code.region_mismatch",
                "项目编号中的行政区划代码“{code_region}”与项目所在行政区域“{region}”不一致",
                field="code",
                code_region=code[1:7],
                region=region,
            )
        if db.scalar(select(Project.id).where(Project.code == code)):
            raise Conflict(
                "projects.code.duplicate", "项目编号{code}已被登记", field="code", code=code
            )
        return code
    prefix = f"{category.code_letter}{region}{clock.now().year:04d}"
    serial = _next_serial(db, prefix)
    if serial > 999999:
        raise Conflict("projects.code.exhausted", "本年度该地区项目编号已用尽")
    return f"{prefix}{serial:06d}"


def _org(db: Session, credit_code: str, role: Role, field: str) -> identity_queries.OrgSummary:
    org = identity_queries.organization_by_credit_code(db, credit_code)
    if org is None or not org.active:
        raise InvalidInput(
            "projects.org.unknown",
            "统一社会信用代码为{code}的单位未在本平台注册或未通过审核",
            field=field,
            code=(credit_code or "").strip().upper(),
        )
    if role.value not in org.roles:
        raise InvalidInput(
            "projects.org.role",
            "{name}不具有“{role}”主体角色",
            field=field,
            name=org.name,
            role=role.label,
        )
    return org


def _new_project(db: Session, actor: Actor, data: ProjectIn) -> Project:
    POLICY.require(actor, "project.create")
    region = parse_region_code(data.region_code)
    if actor.has(Role.TENDERER) and not data.tenderer_credit_code:
        owner_id = actor.org_id
    else:
        if not data.tenderer_credit_code:
            raise InvalidInput(
                "projects.project.tenderer_required",
                "招标代理登记项目时须填写项目业主（招标人）的统一社会信用代码",
                field="tenderer_credit_code",
            )
        owner = _org(db, data.tenderer_credit_code, Role.TENDERER, "tenderer_credit_code")
        if actor.has(Role.TENDERER) and not actor.has(Role.AGENCY) and owner.id != actor.org_id:
            raise InvalidInput(
                "projects.project.other_tenderer",
                "招标人只能登记本单位的项目",
                field="tenderer_credit_code",
            )
        owner_id = owner.id
    if owner_id is None:
        raise InvalidInput("projects.project.no_owner", "无法确定项目业主（招标人）")
    now = clock.now()
    project = Project(
        id=new_id(),
        code=_project_code(db, data, data.category, region),
        name=data.name.strip(),
        category=data.category.value,
        region_code=region,
        owner_org_id=owner_id,
        invest_project_code=codes.parse_invest_project_code(data.invest_project_code),
        address=data.address,
        legal_person=data.legal_person,
        fund_source=data.fund_source,
        scale=data.scale,
        approval_name=data.approval_name,
        approval_number=data.approval_number,
        approval_authority=data.approval_authority,
        contact_name=data.contact_name,
        contact_phone=data.contact_phone,
        registered_by_org_id=actor.org_id,
        created_by=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    db.add(project)
    db.flush()
    return project


def _may_act_for_project(actor: Actor, project: Project) -> bool:
    """The project's owner (tenderer), or the organization that registered it (its agency)."""
    if actor.auth_method == "system":
        return True
    if actor.org_id is None:
        return False
    owner = actor.org_id == project.owner_org_id and actor.has(Role.TENDERER)
    registrar = actor.org_id == project.registered_by_org_id and actor.has(Role.AGENCY)
    return owner or registrar


def _check_method(category: Category, method: Method) -> None:
    if method in GP_ONLY_METHODS and category != Category.GOVERNMENT_PROCUREMENT:
        raise InvalidInput(
            "projects.method.category",
            "“{method}”仅适用于政府采购项目；{category}项目只能采用公开招标或邀请招标",
            field="method",
            method=method.label,
            category=category.label,
        )


def _entrust(
    db: Session,
    actor: Actor,
    tender: TenderProject,
    agency_code: str | None,
    entrustment: EntrustmentIn | None,
) -> None:
    """Work out who the agency is and record the entrustment (委托代理)."""
    if actor.has(Role.AGENCY) and actor.org_id != tender.tenderer_org_id:
        agency_id: str | None = actor.org_id
    elif agency_code:
        agency_id = _org(db, agency_code, Role.AGENCY, "agency_credit_code").id
    else:
        agency_id = None
    tender.agency_org_id = agency_id
    if agency_id is None:
        return
    if entrustment is None:
        raise InvalidInput(
            "projects.entrustment.required",
            "委托招标代理的，须登记委托代理合同编号（招标投标法第十五条）",
            field="entrustment",
        )
    assert actor.org_id is not None or actor.auth_method == "system"
    db.add(
        Entrustment(
            id=new_id(),
            tender_project=tender,
            tenderer_org_id=tender.tenderer_org_id,
            agency_org_id=agency_id,
            contract_no=entrustment.contract_no.strip(),
            scope=entrustment.scope,
            signed_on=entrustment.signed_on,
            declared_by_org_id=actor.org_id or "system",
            recorded_at=clock.now(),
        )
    )


def _new_tender(
    db: Session, actor: Actor, project: Project, data: TenderProjectIn
) -> TenderProject:
    if not _may_act_for_project(actor, project):
        raise not_found("项目")
    category = Category(project.category)
    _check_method(category, data.method)
    project_type = data.project_type.strip().upper()
    if category == Category.ENGINEERING and project_type and project_type not in ENGINEERING_TYPES:
        raise InvalidInput(
            "projects.tender.project_type",
            "招标项目类型代码“{code}”无效",
            field="project_type",
            code=project_type,
        )
    region = parse_region_code(data.region_code) if data.region_code else project.region_code
    db.get(Project, project.id, with_for_update=True)  # serializes the child sequence
    taken = db.scalars(select(TenderProject.code).where(TenderProject.project_id == project.id))
    sequence = max((int(c[-3:]) for c in taken), default=0) + 1
    now = clock.now()
    tender = TenderProject(
        id=new_id(),
        project=project,
        code=codes.child_code(project.code, sequence),
        name=data.name.strip(),
        category=category.value,
        method=data.method.value,
        must_tender=data.must_tender,
        project_type=project_type,
        content=data.content,
        region_code=region,
        tenderer_org_id=project.owner_org_id,
        supervise_dept_name=data.supervise_dept_name,
        status=TenderStatus.DRAFT,
        created_by=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    db.add(tender)
    _entrust(db, actor, tender, data.agency_credit_code, data.entrustment)
    db.flush()
    return tender


@use_case
def create_project(db: Session, actor: Actor, data: ProjectIn) -> Project:
    """项目登记."""
    project = _new_project(db, actor, data)
    audit.record(
        db,
        actor,
        "projects.project.created",
        "project",
        project.id,
        {"code": project.code, "name": project.name, "category": project.category},
    )
    return project


@use_case
def create_tender_project(
    db: Session, actor: Actor, project_id: str, data: TenderProjectIn
) -> TenderProject:
    """招标项目登记 under an existing project."""
    POLICY.require(actor, "project.create")
    project = db.get(Project, project_id)
    if project is None:
        raise not_found("项目")
    tender = _new_tender(db, actor, project, data)
    audit.record(
        db,
        actor,
        "projects.tender.created",
        "tender_project",
        tender.id,
        {"code": tender.code, "name": tender.name, "method": tender.method},
    )
    return tender


@use_case
def register_tender(db: Session, actor: Actor, data: RegisterTenderIn) -> TenderProject:
    """项目登记 and its first tender project in one step (the workspace form)."""
    project = _new_project(db, actor, data.project)
    tender = _new_tender(db, actor, project, data.tender)
    audit.record(
        db,
        actor,
        "projects.tender.registered",
        "tender_project",
        tender.id,
        {"project_code": project.code, "code": tender.code, "name": tender.name},
    )
    return tender


def _load_tender(db: Session, actor: Actor, tender_id: str, lock: bool = True) -> TenderProject:
    tender = db.get(TenderProject, tender_id, with_for_update=lock)
    POLICY.require_visible(actor, "tender.view", tender, "招标项目")
    assert tender is not None
    return tender


@use_case
def update_tender_project(
    db: Session, actor: Actor, tender_id: str, data: TenderProjectIn
) -> TenderProject:
    tender = _load_tender(db, actor, tender_id)
    _transition(tender, TenderAction.EDIT, actor)
    category = Category(tender.category)
    _check_method(category, data.method)
    if data.method.value != tender.method:
        for section in tender.sections:
            if section.evaluation_method not in {
                m.key for m in evaluation_methods_for(category, data.method)
            }:
                raise InvalidInput(
                    "projects.tender.method_conflicts_sections",
                    "标段“{name}”的评标办法不适用于{method}，请先修改标段",
                    field="method",
                    name=section.name,
                    method=data.method.label,
                )
    tender.name = data.name.strip()
    tender.method = data.method.value
    tender.must_tender = data.must_tender
    tender.project_type = data.project_type.strip().upper()
    tender.content = data.content
    if data.region_code:
        tender.region_code = parse_region_code(data.region_code)
    tender.supervise_dept_name = data.supervise_dept_name
    tender.updated_at = clock.now()
    audit.record(db, actor, "projects.tender.updated", "tender_project", tender.id)
    return tender


# --- sections ------------------------------------------------------------------------------


def _money(value: Decimal, field: str, label: str, *, allow_zero: bool = False) -> Decimal:
    try:
        ok = value.is_finite() and value == value.quantize(CENT)
    except InvalidOperation:
        ok = False
    if not ok:
        raise InvalidInput(
            "projects.money.format", "{label}须为金额（元），最多两位小数", field=field, label=label
        )
    if value < 0 or (value == 0 and not allow_zero) or value > MAX_MONEY:
        raise InvalidInput(
            "projects.money.range",
            "{label}金额{value}元超出允许范围",
            field=field,
            label=label,
            value=value,
        )
    return value.quantize(CENT)


def _coefficients(
    items: list[CoefficientIn], draws: Draws, method_label: str
) -> list[tuple[str, list[str]]]:
    if draws == Draws.NONE and items:
        raise InvalidInput(
            "projects.coefficients.not_applicable",
            "评标办法“{method}”不设开标时随机抽取的系数",
            field="coefficients",
            method=method_label,
        )
    if draws == Draws.REQUIRED and not items:
        raise InvalidInput(
            "projects.coefficients.required",
            "评标办法“{method}”须在招标文件中列明开标时抽取的系数及其候选值",
            field="coefficients",
            method=method_label,
        )
    result: list[tuple[str, list[str]]] = []
    names: set[str] = set()
    for item in items:
        name = item.name.strip()
        if not name or name in names:
            raise InvalidInput(
                "projects.coefficients.name",
                "系数名称不能为空或重复：“{name}”",
                field="coefficients",
                name=name,
            )
        names.add(name)
        values = item.candidates
        if not 2 <= len(values) <= 50:
            raise InvalidInput(
                "projects.coefficients.count",
                "系数“{name}”须有2至50个候选值，当前为{n}个",
                field="coefficients",
                name=name,
                n=len(values),
            )
        normal: list[Decimal] = []
        for v in values:
            if not v.is_finite() or abs(v) >= 1000 or -v.normalize().as_tuple().exponent > 6:  # type: ignore[operator]
                raise InvalidInput(
                    "projects.coefficients.value",
                    "系数“{name}”的候选值{value}无效（须为有限小数，最多6位小数）",
                    field="coefficients",
                    name=name,
                    value=v,
                )
            normal.append(v.normalize())
        if len(set(normal)) != len(normal):
            raise InvalidInput(
                "projects.coefficients.duplicate",
                "系数“{name}”的候选值有重复",
                field="coefficients",
                name=name,
            )
        result.append((name, [format(v, "f") for v in normal]))
    return result


def _apply_section(db: Session, tender: TenderProject, section: Section, data: SectionIn) -> None:
    """Validate ``data`` against the tender project's category and method; fill ``section``."""
    category, method = Category(tender.category), Method(tender.method)
    estimated = _money(data.estimated_price, "estimated_price", "合同估算价（预算金额）")
    control = (
        _money(data.control_price, "control_price", "最高投标限价")
        if data.control_price is not None
        else None
    )
    security = _money(data.bid_security, "bid_security", "投标保证金", allow_zero=True)
    if category == Category.GOVERNMENT_PROCUREMENT and control is not None and control > estimated:
        raise InvalidInput(
            "projects.section.control_over_budget",
            "最高限价{control}元不得超过采购预算金额{budget}元",
            field="control_price",
            control=control,
            budget=estimated,
        )
    if category in (Category.ENGINEERING, Category.GOVERNMENT_PROCUREMENT):
        limit = (estimated * SECURITY_RATE).quantize(CENT)
        if security > limit:
            basis = (
                "《招标投标法实施条例》第二十六条"
                if category == Category.ENGINEERING
                else "《政府采购法实施条例》第三十三条"
            )
            raise InvalidInput(
                "projects.section.security_over_limit",
                "投标保证金{security}元超过估算价（预算金额）的2%，上限为{limit}元（{basis}）",
                field="bid_security",
                security=security,
                limit=limit,
                basis=basis,
            )
    allowed = evaluation_methods_for(category, method)
    ev = EVALUATION_METHODS.get(data.evaluation_method)
    if ev is None or ev not in allowed:
        raise InvalidInput(
            "projects.section.evaluation_method",
            "{method}项目可选的评标办法为：{allowed}",
            field="evaluation_method",
            method=method.label,
            allowed="、".join(m.label for m in allowed),
        )
    coefficients = _coefficients(data.coefficients, ev.draws, ev.label)
    if not 1 <= data.bid_validity_days <= 365:
        raise InvalidInput(
            "projects.section.validity", "投标有效期须为1至365天", field="bid_validity_days"
        )
    if data.duration_days is not None and not 1 <= data.duration_days <= 36500:
        raise InvalidInput(
            "projects.section.duration", "工期（服务期）天数无效", field="duration_days"
        )
    least = minimum_bidders(method)
    bidders = data.min_bidders if data.min_bidders is not None else least
    if bidders < least:
        raise InvalidInput(
            "projects.section.min_bidders",
            "{method}的投标人（供应商）不得少于{least}家",
            field="min_bidders",
            method=method.label,
            least=least,
        )
    classify = data.classify_code.strip().upper()
    if classify and not _CLASSIFY.match(classify):
        raise InvalidInput(
            "projects.section.classify_code",
            "标段（包）分类代码“{code}”无效：首位应为A工程、B货物、C服务、D产权或E土地",
            field="classify_code",
            code=classify,
        )
    deadline = as_china(data.bid_deadline) if data.bid_deadline is not None else None
    if data.opening_time is not None and (
        deadline is None or as_china(data.opening_time) != deadline
    ):
        raise InvalidInput(
            "projects.section.opening_not_at_deadline",
            "开标时间须与投标截止时间为同一时间（招标投标法第三十四条）",
            field="opening_time",
        )
    if deadline is not None and deadline <= clock.now():
        raise InvalidInput(
            "projects.section.deadline_past",
            "投标截止时间{deadline}已过，请设置将来的时间",
            field="bid_deadline",
            deadline=fmt(deadline),
        )
    section.name = data.name.strip()
    section.content = data.content
    section.classify_code = classify
    section.qualification = data.qualification
    section.estimated_price = estimated
    section.control_price = control
    section.bid_security = security
    section.duration_days = data.duration_days
    section.bid_validity_days = data.bid_validity_days
    section.evaluation_method = ev.key
    section.bid_deadline = deadline
    section.min_bidders = bidders
    section.allow_consortium = data.allow_consortium
    if section.coefficients:
        section.coefficients.clear()
        db.flush()  # delete the old candidates before inserting ones with the same names
    section.coefficients = [
        SectionCoefficient(id=new_id(), position=i, name=name, candidates=values)
        for i, (name, values) in enumerate(coefficients)
    ]
    section.updated_at = clock.now()


@use_case
def add_section(db: Session, actor: Actor, tender_id: str, data: SectionIn) -> Section:
    tender = _load_tender(db, actor, tender_id)
    _transition(tender, TenderAction.EDIT, actor)
    sequence = max((int(s.code[-3:]) for s in tender.sections), default=0) + 1
    now = clock.now()
    section = Section(
        id=new_id(),
        tender_project_id=tender.id,
        code=codes.child_code(tender.code, sequence),
        status=SectionStatus.DRAFT,
        created_at=now,
        updated_at=now,
    )
    _apply_section(db, tender, section, data)
    tender.sections.append(section)
    db.flush()
    audit.record(
        db,
        actor,
        "projects.section.added",
        "section",
        section.id,
        {"code": section.code, "name": section.name, "tender_project_id": tender.id},
    )
    return section


@use_case
def update_section(db: Session, actor: Actor, section_id: str, data: SectionIn) -> Section:
    section = db.get(Section, section_id)
    if section is None:
        raise not_found("标段")
    tender = _load_tender(db, actor, section.tender_project_id)
    if section.status != SectionStatus.DRAFT:
        raise Conflict(
            "projects.section.frozen",
            "标段“{name}”已随公告发布，不能直接修改（含抽取系数候选值）；如需变更请发布澄清或修改",
            name=section.name,
        )
    _transition(tender, TenderAction.EDIT, actor)
    _section_transition(section, SectionAction.EDIT, actor, tender)
    _apply_section(db, tender, section, data)
    audit.record(
        db, actor, "projects.section.updated", "section", section.id, {"code": section.code}
    )
    return section


# --- acceptance (受理) ----------------------------------------------------------------------


def _check_complete(tender: TenderProject) -> None:
    if not tender.sections:
        raise InvalidInput(
            "projects.tender.no_sections", "招标项目至少须有一个标段（包）才能提交受理"
        )
    now = clock.now()
    for s in tender.sections:
        if s.bid_deadline is None:
            raise InvalidInput(
                "projects.section.deadline_missing",
                "标段“{name}”尚未设置投标截止时间",
                field="bid_deadline",
                name=s.name,
            )
        if s.bid_deadline <= now:
            raise InvalidInput(
                "projects.section.deadline_past",
                "投标截止时间{deadline}已过，请设置将来的时间",
                field="bid_deadline",
                deadline=fmt(s.bid_deadline),
            )
    if tender.agency_org_id and tender.entrustment is None:
        raise InvalidInput(
            "projects.entrustment.required",
            "委托招标代理的，须登记委托代理合同编号（招标投标法第十五条）",
            field="entrustment",
        )


@use_case
def submit(db: Session, actor: Actor, tender_id: str) -> TenderProject:
    """提交受理: the tenderer or its agency hands the tender project to the trading center."""
    tender = _load_tender(db, actor, tender_id)
    before = tender.status
    _transition(tender, TenderAction.SUBMIT, actor)
    _check_complete(tender)
    tender.submitted_at = clock.now()
    tender.updated_at = clock.now()
    audit.record(
        db,
        actor,
        "projects.tender.submitted",
        "tender_project",
        tender.id,
        {"from": before, "code": tender.code},
    )
    return tender


@use_case
def accept(db: Session, actor: Actor, tender_id: str, note: str = "") -> TenderProject:
    """受理登记 by center staff."""
    tender = _load_tender(db, actor, tender_id)
    _transition(tender, TenderAction.ACCEPT, actor)
    _check_complete(tender)
    tender.review_note = note.strip()
    tender.accepted_at = clock.now()
    tender.updated_at = clock.now()
    audit.record(
        db,
        actor,
        "projects.tender.accepted",
        "tender_project",
        tender.id,
        {"code": tender.code, "note": tender.review_note},
    )
    return tender


@use_case
def return_tender(db: Session, actor: Actor, tender_id: str, reason: str) -> TenderProject:
    """退回 with reasons; the tenderer (agency) edits and submits again."""
    tender = _load_tender(db, actor, tender_id)
    if not reason.strip():
        raise InvalidInput("projects.tender.reason_required", "退回须填写原因", field="note")
    _transition(tender, TenderAction.RETURN, actor)
    tender.review_note = reason.strip()
    tender.updated_at = clock.now()
    audit.record(
        db,
        actor,
        "projects.tender.returned",
        "tender_project",
        tender.id,
        {"code": tender.code, "reason": tender.review_note},
    )
    return tender


@use_case
def withdraw(db: Session, actor: Actor, tender_id: str) -> TenderProject:
    """撤回 a submitted or accepted tender project to draft; its venue bookings are released."""
    tender = _load_tender(db, actor, tender_id)
    before = tender.status
    _transition(tender, TenderAction.WITHDRAW, actor)
    released = _cancel_bookings(
        db,
        select(Booking.id).where(
            Booking.tender_project_id == tender.id, Booking.status == "active"
        ),
    )
    tender.accepted_at = None
    tender.updated_at = clock.now()
    audit.record(
        db,
        actor,
        "projects.tender.withdrawn",
        "tender_project",
        tender.id,
        {"from": before, "released_bookings": released},
    )
    return tender


# --- steps run inside the notices domain's use cases ----------------------------------------


def publish_sections(
    db: Session, actor: Actor, tender: TenderProject, sections: Iterable[Section]
) -> None:
    """Mark sections published with their notice (their terms and coefficients freeze)."""
    _transition(tender, TenderAction.PUBLISH, actor)
    for section in sections:
        _section_transition(section, SectionAction.PUBLISH, actor, tender)
        section.updated_at = clock.now()
    tender.updated_at = clock.now()


def extend_deadlines(
    db: Session,
    actor: Actor,
    tender: TenderProject,
    sections: Iterable[Section],
    new_deadline: dt.datetime | None,
) -> None:
    """A clarification (澄清/修改) of published sections, optionally moving their deadline."""
    _transition(tender, TenderAction.CLARIFY, actor)
    for section in sections:
        _section_transition(section, SectionAction.CLARIFY, actor, tender)
        if new_deadline is not None:
            section.bid_deadline = new_deadline
        section.updated_at = clock.now()


def terminate_sections(
    db: Session, actor: Actor, tender: TenderProject, sections: Iterable[Section]
) -> bool:
    """招标终止 of ``sections``; returns True when the whole tender project is terminated."""
    chosen = {s.id for s in sections}
    remaining = [
        s for s in tender.sections if s.id not in chosen and s.status != SectionStatus.TERMINATED
    ]
    _transition(
        tender, TenderAction.TERMINATE if not remaining else TenderAction.TERMINATE_PART, actor
    )
    for section in tender.sections:
        if section.id in chosen:
            _section_transition(section, SectionAction.TERMINATE, actor, tender)
            section.updated_at = clock.now()
    scope = Booking.section_id.in_(chosen) if remaining else Booking.tender_project_id == tender.id
    _cancel_bookings(
        db,
        select(Booking.id).where(
            scope, Booking.status == "active", Booking.starts_at > clock.now()
        ),
    )
    tender.updated_at = clock.now()
    return not remaining


# --- venues (场地) -------------------------------------------------------------------------


@use_case
def create_room(db: Session, actor: Actor, data: RoomIn) -> Room:
    POLICY.require(actor, "venue.manage")
    name, center = data.name.strip(), data.center_name.strip()
    if db.scalar(select(Room.id).where(Room.center_name == center, Room.name == name)):
        raise Conflict(
            "projects.room.duplicate", "{center}已有名为“{name}”的场地", center=center, name=name
        )
    room = Room(
        id=new_id(),
        name=name,
        kind=data.kind.value,
        center_name=center,
        address=data.address,
        seats=data.seats,
        remote=data.remote,
        active=True,
        created_at=clock.now(),
    )
    db.add(room)
    audit.record(
        db,
        actor,
        "projects.room.created",
        "venue_room",
        room.id,
        {"name": name, "kind": room.kind, "center": center, "remote": room.remote},
    )
    return room


@use_case
def set_room_active(db: Session, actor: Actor, room_id: str, active: bool) -> Room:
    POLICY.require(actor, "venue.manage")
    room = db.get(Room, room_id)
    if room is None:
        raise not_found("场地")
    room.active = active
    audit.record(db, actor, "projects.room.updated", "venue_room", room.id, {"active": active})
    return room


def _describe(b: Booking) -> str:
    purpose = BOOKING_PURPOSE_LABELS.get(RoomKind(b.purpose), b.purpose)
    return f"{b.tender_project.code} {b.tender_project.name}（{purpose}）"


def _room_for_booking(db: Session, room_id: str, kind: RoomKind) -> Room:
    room = db.get(Room, room_id, with_for_update=True)  # serializes bookings of this room
    if room is None or not room.active:
        raise InvalidInput(
            "projects.booking.room_unavailable", "所选场地不存在或已停用", field="room_id"
        )
    if room.kind != kind.value:
        raise InvalidInput(
            "projects.booking.room_kind",
            "“{room}”是{kind}，不能预约用于{purpose}",
            field="room_id",
            room=room.name,
            kind=RoomKind(room.kind).label,
            purpose=BOOKING_PURPOSE_LABELS[kind],
        )
    return room


def _check_free(db: Session, room: Room, starts: dt.datetime, ends: dt.datetime) -> None:
    clash = db.scalar(
        select(Booking)
        .where(
            Booking.room_id == room.id,
            Booking.status == "active",
            Booking.starts_at < ends,
            Booking.ends_at > starts,
        )
        .order_by(Booking.starts_at)
        .limit(1)
    )
    if clash is not None:
        raise Conflict(
            "projects.booking.conflict",
            "{room}在{start}至{end}已被“{other}”预约，与本次预约时间重叠，请另选场地或时间",
            room=f"{room.center_name}{room.name}",
            start=fmt(clash.starts_at),
            end=clock.ensure_aware(clash.ends_at).strftime("%H:%M"),
            other=_describe(clash),
        )


@use_case
def book_venue(db: Session, actor: Actor, tender_id: str, data: BookingIn) -> Booking:
    """场地预约: an opening or evaluation room, with optional remote sub-venues (远程分会场)."""
    tender = _load_tender(db, actor, tender_id)
    _transition(tender, TenderAction.BOOK_VENUE, actor)
    starts, ends = as_china(data.starts_at), as_china(data.ends_at)
    if ends <= starts:
        raise InvalidInput("projects.booking.times", "结束时间须晚于开始时间", field="ends_at")
    if starts <= clock.now():
        raise InvalidInput(
            "projects.booking.past", "预约开始时间{start}已过", field="starts_at", start=fmt(starts)
        )
    if ends - starts > dt.timedelta(days=7):
        raise InvalidInput("projects.booking.too_long", "单次预约不得超过7天", field="ends_at")
    section = None
    if data.section_id:
        section = db.get(Section, data.section_id)
        if section is None or section.tender_project_id != tender.id:
            raise InvalidInput(
                "projects.booking.section", "所选标段不属于该招标项目", field="section_id"
            )
        opening = section.bid_deadline
        if (
            opening is not None
            and data.purpose == RoomKind.OPENING
            and not (starts <= opening < ends)
        ):
            raise InvalidInput(
                "projects.booking.opening_not_covered",
                "开标场地的预约时段须包含开标时间{opening}",
                field="starts_at",
                opening=fmt(opening),
            )
        if opening is not None and data.purpose == RoomKind.EVALUATION and starts < opening:
            raise InvalidInput(
                "projects.booking.evaluation_before_opening",
                "评标场地须预约在开标时间{opening}之后",
                field="starts_at",
                opening=fmt(opening),
            )
    if data.room_id in data.branch_room_ids or len(set(data.branch_room_ids)) != len(
        data.branch_room_ids
    ):
        raise InvalidInput(
            "projects.booking.branch_duplicate",
            "分会场不能与主会场或彼此重复",
            field="branch_room_ids",
        )
    rooms = [_room_for_booking(db, data.room_id, data.purpose)]
    rooms += [_room_for_booking(db, r, data.purpose) for r in data.branch_room_ids]
    for room in rooms:
        _check_free(db, room, starts, ends)
    now = clock.now()
    main: Booking | None = None
    for room in rooms:
        booking = Booking(
            id=new_id(),
            room=room,
            tender_project=tender,
            section=section,
            purpose=data.purpose.value,
            starts_at=starts,
            ends_at=ends,
            main_booking_id=main.id if main else None,
            status="active",
            note=data.note,
            booked_by=actor.user_id,
            created_at=now,
        )
        db.add(booking)
        main = main or booking
    assert main is not None
    db.flush()
    audit.record(
        db,
        actor,
        "projects.venue.booked",
        "venue_booking",
        main.id,
        {
            "tender_project_id": tender.id,
            "purpose": main.purpose,
            "rooms": [r.id for r in rooms],
            "starts_at": starts.isoformat(),
            "ends_at": ends.isoformat(),
        },
    )
    return main


def _cancel_bookings(db: Session, ids_query: Select[str]) -> int:
    ids = list(db.scalars(ids_query))
    if not ids:
        return 0
    branches = list(
        db.scalars(
            select(Booking.id).where(Booking.main_booking_id.in_(ids), Booking.status == "active")
        )
    )
    every = set(ids) | set(branches)
    db.execute(
        update(Booking)
        .where(Booking.id.in_(every))
        .values(status="cancelled", cancelled_at=clock.now())
    )
    return len(every)


@use_case
def cancel_booking(db: Session, actor: Actor, booking_id: str, reason: str = "") -> Booking:
    POLICY.require(actor, "venue.book")
    booking = db.get(Booking, booking_id)
    if booking is None:
        raise not_found("场地预约")
    if booking.status != "active":
        raise Conflict("projects.booking.not_active", "该预约已取消")
    main_id = booking.main_booking_id or booking.id
    count = _cancel_bookings(db, select(Booking.id).where(Booking.id == main_id))
    db.refresh(booking)
    audit.record(
        db,
        actor,
        "projects.venue.cancelled",
        "venue_booking",
        main_id,
        {"reason": reason, "cancelled": count},
    )
    return booking


# --- restrictions (信用限制) --------------------------------------------------------------


@use_case
def add_restriction(db: Session, actor: Actor, data: RestrictionIn) -> Restriction:
    """列入黑名单 / 限制投标: the organization may not obtain documents or bid meanwhile."""
    POLICY.require(actor, "restriction.manage")
    org = identity_queries.organization_by_credit_code(db, data.credit_code)
    if org is None:
        raise InvalidInput(
            "projects.org.unknown",
            "统一社会信用代码为{code}的单位未在本平台注册或未通过审核",
            field="credit_code",
            code=data.credit_code.strip().upper(),
        )
    starts = as_china(data.starts_at) if data.starts_at else clock.now()
    ends = as_china(data.ends_at) if data.ends_at else None
    if ends is not None and ends <= starts:
        raise InvalidInput(
            "projects.restriction.period", "限制结束时间须晚于开始时间", field="ends_at"
        )
    row = Restriction(
        id=new_id(),
        org_id=org.id,
        reason=data.reason.strip(),
        authority=data.authority.strip(),
        document_no=data.document_no.strip(),
        starts_at=starts,
        ends_at=ends,
        created_by=actor.user_id,
        created_at=clock.now(),
    )
    db.add(row)
    audit.record(
        db,
        actor,
        "projects.restriction.added",
        "restriction",
        row.id,
        {"org_id": org.id, "authority": row.authority, "document_no": row.document_no},
    )
    return row


@use_case
def revoke_restriction(db: Session, actor: Actor, restriction_id: str, note: str) -> Restriction:
    """撤销黑名单."""
    POLICY.require(actor, "restriction.manage")
    row = db.get(Restriction, restriction_id)
    if row is None:
        raise not_found("限制记录")
    if row.revoked_at is not None:
        raise Conflict("projects.restriction.revoked", "该限制已撤销")
    if not note.strip():
        raise InvalidInput("projects.restriction.note", "撤销须填写依据", field="note")
    row.revoked_at = clock.now()
    row.revoke_note = note.strip()
    audit.record(db, actor, "projects.restriction.revoked", "restriction", row.id, {"note": note})
    return row
