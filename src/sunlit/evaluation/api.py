"""Evaluation JSON API under /api/v1/sections/{section_id}/evaluation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from sunlit.kernel.authz import Actor
from sunlit.kernel.errors import not_found
from sunlit.kernel.web import get_db, require_actor

from . import export, queries, service

router = APIRouter(prefix="/api/v1/sections/{section_id}/evaluation", tags=["evaluation 评标"])

Db = Annotated[Session, Depends(get_db)]
LoggedIn = Annotated[Actor, Depends(require_actor)]
View = dict[str, Any]


def audience(request: Request) -> str:
    return str(request.app.state.settings.base_url).rstrip("/")


class CriterionIn(BaseModel):
    key: str = Field(max_length=20)
    group: str = Field(description="technical 技术 | commercial 商务")
    name: str = Field(max_length=100)
    max_points: str


class PlanIn(BaseModel):
    criteria: list[CriterionIn] = Field(default_factory=list)
    price_points: str = "0"
    e1: str = Field("0", description="高于基准价每1%扣分")
    e2: str = Field("0", description="低于基准价每1%扣分")
    floor: str = "0"
    trim_from: int = 5
    committee_rule: str = Field("mean", description="mean 算术平均 | trimmed_mean 去掉最高最低")
    coefficient_name: str = ""
    coefficient_kind: str = Field("multiplier", description="multiplier | discount_percent")


class MemberIn(BaseModel):
    user_id: str = Field(
        "",
        description="替换的成员账号：招标人代表必填；抽取专家可选（须为本标段确认参加且未列入的专家）",
    )


class CommitteeIn(BaseModel):
    tenderer_reps: list[str] = Field(
        default_factory=list, description="招标人代表的账号（抽取的专家由专家抽取结果确定）"
    )


class VenueIn(BaseModel):
    main_booking_id: str


class SeatIn(BaseModel):
    venue_id: str
    seat: str


class DeclareIn(BaseModel):
    avoid_credit_codes: list[str] = Field(default_factory=list)
    recuse: bool = False
    reason: str = ""
    commitment: bool = False


class VoteIn(BaseModel):
    member_id: str


class SheetIn(BaseModel):
    scores: dict[str, str] = Field(default_factory=dict)
    conforms: bool = True
    reason: str = ""
    adjustment: str = "0"


class AskIn(BaseModel):
    credit_code: str
    question: str


class AnswerIn(BaseModel):
    answer: str


class SignIn(BaseModel):
    signature: str = Field(description="Base64 签名值（对 signing-message 返回的报文）")
    dissent: str = ""


class ReasonIn(BaseModel):
    reason: str


@router.get("", summary="评标情况（按角色可见）")
def overview(section_id: str, db: Db, actor: LoggedIn) -> View:
    return queries.overview(db, actor, section_id)


@router.get("/plan", summary="评标办法与评分标准")
def plan(section_id: str, db: Db, actor: LoggedIn) -> View:
    return queries.plan_view(db, actor, section_id)


@router.put("/plan", summary="招标人设定评分标准（评标开始前）")
def set_plan(section_id: str, body: PlanIn, db: Db, actor: LoggedIn) -> View:
    data = body.model_dump()
    service.set_plan(db, actor, section_id, service.PlanInput(**data))
    return queries.plan_view(db, actor, section_id)


@router.post("", status_code=201, summary="组建评标委员会（交易中心，依专家抽取结果）")
def form(section_id: str, body: CommitteeIn, db: Db, actor: LoggedIn) -> View:
    service.form_committee(db, actor, section_id, body.tenderer_reps)
    return queries.overview(db, actor, section_id)


@router.post("/members/{member_id}/replace", summary="更换回避或未到场的成员")
def replace(section_id: str, member_id: str, body: MemberIn, db: Db, actor: LoggedIn) -> View:
    service.replace_member(db, actor, section_id, member_id, body.user_id)
    return queries.overview(db, actor, section_id)


@router.post("/venues", summary="评标场地（主会场及远程分会场）")
def venues(section_id: str, body: VenueIn, db: Db, actor: LoggedIn) -> View:
    service.set_venues(db, actor, section_id, body.main_booking_id)
    return queries.overview(db, actor, section_id)


@router.post("/members/{member_id}/seat", summary="分配席位")
def seat(section_id: str, member_id: str, body: SeatIn, db: Db, actor: LoggedIn) -> View:
    service.assign_seat(db, actor, section_id, member_id, body.venue_id, body.seat)
    return queries.overview(db, actor, section_id)


@router.post("/sign-in", summary="专家签到")
def sign_in(section_id: str, db: Db, actor: LoggedIn) -> View:
    service.sign_in(db, actor, section_id)
    return queries.overview(db, actor, section_id)


@router.post("/declare", summary="回避声明与专家承诺书")
def declare(section_id: str, body: DeclareIn, db: Db, actor: LoggedIn) -> View:
    service.declare(
        db,
        actor,
        section_id,
        avoid_credit_codes=body.avoid_credit_codes,
        recuse=body.recuse,
        reason=body.reason,
        commitment=body.commitment,
    )
    return queries.overview(db, actor, section_id)


@router.post("/vote", summary="推选评标组长")
def vote(section_id: str, body: VoteIn, db: Db, actor: LoggedIn) -> View:
    service.vote(db, actor, section_id, body.member_id)
    return queries.overview(db, actor, section_id)


@router.post("/start", summary="开始评标（开标记录确认后）")
def start(section_id: str, db: Db, actor: LoggedIn) -> View:
    service.start(db, actor, section_id)
    return queries.overview(db, actor, section_id)


@router.get("/sheets", summary="本人评分表")
def sheets(section_id: str, db: Db, actor: LoggedIn) -> View:
    return queries.my_sheets(db, actor, section_id)


@router.put("/sheets/{credit_code}", summary="保存对一家投标人的评分")
def save_sheet(section_id: str, credit_code: str, body: SheetIn, db: Db, actor: LoggedIn) -> View:
    service.save_sheet(
        db,
        actor,
        section_id,
        credit_code,
        scores=dict(body.scores),
        conforms=body.conforms,
        reason=body.reason,
        adjustment=body.adjustment,
    )
    return queries.my_sheets(db, actor, section_id)


@router.post("/submit", summary="提交评分")
def submit(section_id: str, db: Db, actor: LoggedIn) -> View:
    service.submit_scores(db, actor, section_id)
    return queries.overview(db, actor, section_id)


@router.post("/clarifications", status_code=201, summary="向投标人发出澄清")
def ask(section_id: str, body: AskIn, db: Db, actor: LoggedIn) -> View:
    c = service.ask(db, actor, section_id, body.credit_code, body.question)
    return {**queries.overview(db, actor, section_id), "clarification_id": c.id}


@router.post("/clarifications/{clarification_id}/answer", summary="投标人答复澄清")
def answer(section_id: str, clarification_id: str, body: AnswerIn, db: Db, actor: LoggedIn) -> View:
    service.answer(db, actor, section_id, clarification_id, body.answer)
    return queries.overview(db, actor, section_id)


@router.post("/report", summary="生成评标报告（评标组长，全部评分提交后）")
def report(section_id: str, db: Db, actor: LoggedIn) -> View:
    service.generate_report(db, actor, section_id)
    return queries.overview(db, actor, section_id)


@router.get("/report/signing-message", summary="待签名报文（交本人证书助手签名）")
def signing_message(
    section_id: str,
    request: Request,
    db: Db,
    actor: LoggedIn,
    dissent: Annotated[str, Query(max_length=2000)] = "",
) -> View:
    message = queries.signing_message(db, actor, section_id, dissent, audience(request))
    return {"message": message}


@router.post("/report/sign", summary="签署评标报告（可附不同意见）")
def sign(section_id: str, body: SignIn, request: Request, db: Db, actor: LoggedIn) -> View:
    service.sign_report(db, actor, section_id, body.signature, body.dissent, audience(request))
    return queries.overview(db, actor, section_id)


@router.get("/report.pdf", summary="评标报告 PDF")
def report_pdf(section_id: str, db: Db, actor: LoggedIn) -> Response:
    view = queries.overview(db, actor, section_id)
    if view["report"] is None:
        raise not_found("评标报告")
    name = f"evaluation-report-{view['section_code']}.pdf"
    return Response(
        export.report_pdf(view["report"]),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/terminate", summary="终止评标")
def terminate(section_id: str, body: ReasonIn, db: Db, actor: LoggedIn) -> View:
    service.terminate(db, actor, section_id, body.reason)
    return queries.overview(db, actor, section_id)
