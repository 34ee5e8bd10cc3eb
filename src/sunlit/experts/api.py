"""Expert JSON API: the pool under /api/v1/experts, draws under /api/v1/expert-draws."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from sunlit.kernel.authz import Actor
from sunlit.kernel.errors import InvalidInput, not_found
from sunlit.kernel.web import get_db, require_actor

from . import excel, queries, service
from .catalog import full_name, specialties
from .notify import Notifier
from .policies import POLICY
from .schemas import (
    AnswerIn,
    AvoidanceListIn,
    DrawRequestIn,
    ExpertIn,
    LeaveIn,
    ProfileIn,
    RevealIn,
    SmsReplyIn,
    StatusIn,
    SupplementIn,
    ValueIn,
    ViolationIn,
)

router = APIRouter(tags=["experts 专家"])

Db = Annotated[Session, Depends(get_db)]
LoggedIn = Annotated[Actor, Depends(require_actor)]
View = dict[str, Any]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD = 10 * 1024 * 1024


def notifier(request: Request) -> Notifier:
    n: Notifier = request.app.state.expert_notifier
    return n


Notify = Annotated[Notifier, Depends(notifier)]


# --- the pool ------------------------------------------------------------------------------


@router.get("/api/v1/experts/specialties", summary="评标专家专业分类（代码表）")
def specialty_table() -> list[View]:
    return [
        {"code": s.code, "name": s.name, "level": s.level, "full_name": full_name(s.code)}
        for s in specialties().values()
    ]


@router.get("/api/v1/experts", summary="专家库查询（交易中心、监督）")
def search(
    db: Db,
    actor: LoggedIn,
    q: str = "",
    specialty: str = "",
    status: str = "",
    limit: int = 50,
    offset: int = 0,
) -> View:
    rows, total = queries.search_experts(
        db, actor, q, specialty, status, max(1, min(limit, 500)), max(0, offset)
    )
    return {"total": total, "items": [queries.expert_view(e) for e in rows]}


@router.post("/api/v1/experts", status_code=201, summary="专家入库（交易中心）")
def register(body: ExpertIn, db: Db, actor: LoggedIn) -> View:
    return queries.expert_view(service.register_expert(db, actor, body))


@router.post("/api/v1/experts/import", summary="从Excel导入专家（任一行有误则不导入）")
async def import_xlsx(db: Db, actor: LoggedIn, file: UploadFile = File(...)) -> View:
    content = await file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise InvalidInput("experts.excel.size", "文件不能超过10MB")
    POLICY.require(actor, "experts.pool.manage")
    rows = excel.parse(content)
    return service.import_experts(db, actor, rows)


@router.get("/api/v1/experts/export.xlsx", summary="导出专家库（Excel）")
def export_xlsx(db: Db, actor: LoggedIn) -> Response:
    data = excel.export(queries.all_experts(db, actor))
    return Response(
        data,
        media_type=XLSX,
        headers={"Content-Disposition": "attachment; filename*=UTF-8''experts.xlsx"},
    )


@router.post("/api/v1/experts/sms-replies", summary="短信网关回传专家答复（1 确认，2 拒绝）")
def sms_reply(body: SmsReplyIn, db: Db, n: Notify) -> View:
    a = service.sms_reply(db, body.reference, body.reply, n)
    return {"status": a.status}


def _me(db: Session, actor: Actor) -> Any:
    e = queries.my_expert(db, actor)
    if e is None:
        raise not_found("专家信息")
    return e


@router.get("/api/v1/experts/me", summary="我的专家信息")
def me(db: Db, actor: LoggedIn) -> View:
    return queries.expert_view(_me(db, actor))


@router.put("/api/v1/experts/me", summary="维护我的专家信息")
def update_me(body: ProfileIn, db: Db, actor: LoggedIn) -> View:
    return queries.expert_view(service.update_profile(db, actor, _me(db, actor).id, body))


@router.get("/api/v1/experts/me/leaves", summary="我的请假")
def my_leaves(db: Db, actor: LoggedIn) -> list[View]:
    return [_leave(x) for x in queries.leaves_of(db, actor, _me(db, actor).id)]


@router.post("/api/v1/experts/me/leaves", status_code=201, summary="请假")
def add_my_leave(body: LeaveIn, db: Db, actor: LoggedIn) -> View:
    return _leave(service.add_leave(db, actor, _me(db, actor).id, body))


@router.get("/api/v1/experts/me/invitations", summary="我的抽取通知（仅时间地点）")
def my_invitations(db: Db, actor: LoggedIn) -> list[View]:
    return queries.my_invitations(db, actor)


@router.post("/api/v1/experts/me/invitations/{assignment_id}/answer", summary="确认或拒绝参加评标")
def answer(assignment_id: str, body: AnswerIn, db: Db, actor: LoggedIn, n: Notify) -> View:
    a = service.answer(db, actor, assignment_id, body.accept, body.reason, n)
    return {"id": a.id, "status": a.status}


def _leave(x: Any) -> View:
    return {
        "id": x.id,
        "starts_at": x.starts_at.isoformat(),
        "ends_at": x.ends_at.isoformat(),
        "reason": x.reason,
    }


@router.delete("/api/v1/experts/leaves/{leave_id}", summary="取消请假")
def cancel_leave(leave_id: str, db: Db, actor: LoggedIn) -> View:
    return _leave(service.cancel_leave(db, actor, leave_id))


@router.get("/api/v1/experts/{expert_id}", summary="专家详情")
def detail(expert_id: str, db: Db, actor: LoggedIn) -> View:
    e = queries.get_expert(db, actor, expert_id)
    return {
        **queries.expert_view(e),
        "leaves": [_leave(x) for x in queries.leaves_of(db, actor, e.id)],
        "credit_records": [
            {
                "violation": c.violation,
                "decided_by": c.decided_by,
                "restricted_until": c.restricted_until.isoformat() if c.restricted_until else None,
                "recorded_at": c.recorded_at.isoformat(),
            }
            for c in queries.credit_records_of(db, actor, e.id)
        ],
    }


@router.put("/api/v1/experts/{expert_id}", summary="修改专家信息")
def update(expert_id: str, body: ProfileIn, db: Db, actor: LoggedIn) -> View:
    return queries.expert_view(service.update_profile(db, actor, expert_id, body))


@router.post("/api/v1/experts/{expert_id}/status", summary="暂停或恢复专家（交易中心）")
def set_status(expert_id: str, body: StatusIn, db: Db, actor: LoggedIn) -> View:
    return queries.expert_view(service.set_status(db, actor, expert_id, body.status, body.reason))


@router.post("/api/v1/experts/{expert_id}/leaves", status_code=201, summary="登记请假")
def add_leave(expert_id: str, body: LeaveIn, db: Db, actor: LoggedIn) -> View:
    return _leave(service.add_leave(db, actor, expert_id, body))


@router.post("/api/v1/experts/{expert_id}/violations", status_code=201, summary="记录专家违规")
def add_violation(expert_id: str, body: ViolationIn, db: Db, actor: LoggedIn) -> View:
    row = service.record_violation(db, actor, expert_id, body)
    return {
        "id": row.id,
        "restricted_until": row.restricted_until.isoformat() if row.restricted_until else None,
    }


# --- draws ---------------------------------------------------------------------------------


@router.post(
    "/api/v1/sections/{section_id}/expert-draws",
    status_code=201,
    summary="专家抽取申请（交易中心）",
)
def request_draw(section_id: str, body: DrawRequestIn, db: Db, actor: LoggedIn) -> View:
    d = service.request_draw(db, actor, section_id, body)
    return queries.draw_view(db, actor, d.id)


@router.get("/api/v1/sections/{section_id}/expert-draws", summary="标段的专家抽取")
def section_draws(section_id: str, db: Db, actor: LoggedIn) -> list[View]:
    return queries.draws_of_section(db, actor, section_id)


@router.post(
    "/api/v1/sections/{section_id}/expert-draws/disclose", summary="评标开始：公开抽取名单"
)
def disclose(section_id: str, db: Db, actor: LoggedIn) -> list[View]:
    service.disclose(db, actor, section_id)
    return queries.draws_of_section(db, actor, section_id)


@router.get("/api/v1/expert-draws/{draw_id}", summary="专家抽取详情（评标开始前不显示姓名）")
def draw_detail(draw_id: str, db: Db, actor: LoggedIn) -> View:
    return queries.draw_view(db, actor, draw_id)


@router.post(
    "/api/v1/expert-draws/{draw_id}/avoidances", status_code=201, summary="招标人提交回避名单"
)
def avoid(draw_id: str, body: AvoidanceListIn, db: Db, actor: LoggedIn) -> View:
    service.add_avoidances(db, actor, draw_id, body.entries)
    return queries.draw_view(db, actor, draw_id)


@router.post("/api/v1/expert-draws/{draw_id}/fix", summary="执行回避规则并固定候选名单")
def fix(draw_id: str, db: Db, actor: LoggedIn) -> View:
    service.fix_candidates(db, actor, draw_id)
    return queries.draw_view(db, actor, draw_id)


@router.post("/api/v1/expert-draws/{draw_id}/supervisor-value", summary="监督人录入随机数")
def supervisor_value(draw_id: str, body: ValueIn, db: Db, actor: LoggedIn) -> View:
    service.enter_supervisor_value(db, actor, draw_id, body.value)
    return queries.draw_view(db, actor, draw_id)


@router.post("/api/v1/expert-draws/{draw_id}/draw", summary="中心揭示承诺值并抽取，通知专家")
def run(draw_id: str, body: RevealIn, db: Db, actor: LoggedIn, n: Notify) -> View:
    service.draw(db, actor, draw_id, body.center_value, body.center_salt, n)
    return queries.draw_view(db, actor, draw_id)


@router.post("/api/v1/expert-draws/{draw_id}/supplementary", status_code=201, summary="补抽")
def supplementary(draw_id: str, body: SupplementIn, db: Db, actor: LoggedIn) -> View:
    d = service.request_supplementary(db, actor, draw_id, body.commitment, body.alternates)
    return queries.draw_view(db, actor, d.id)


@router.post("/api/v1/expert-draws/{draw_id}/cancel", summary="取消抽取")
def cancel(draw_id: str, body: ValueIn, db: Db, actor: LoggedIn) -> View:
    service.cancel_draw(db, actor, draw_id, body.value)
    return queries.draw_view(db, actor, draw_id)


@router.get("/api/v1/expert-draws/{draw_id}/record.json", summary="抽取记录（公开，可离线验证）")
def record(draw_id: str, db: Db) -> JSONResponse:
    return JSONResponse(queries.record_document(db, draw_id))


@router.get(
    "/api/v1/expert-draws/{draw_id}/disclosure.json", summary="匿名编号披露（评标开始后公开）"
)
def disclosure(draw_id: str, db: Db) -> JSONResponse:
    return JSONResponse(queries.disclosure_document(db, draw_id))
