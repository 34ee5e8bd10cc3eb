"""Pages of the expert domain (Chinese): the expert's workbench (profile, leave, invitations),
the staff's pool (search, Excel import with its row errors, export) and draws, and the draw page
every party of a draw uses (tenderer's 回避 list, staff steps, supervisor's value)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from sunlit.kernel.authz import Actor, Role
from sunlit.kernel.errors import DomainError
from sunlit.kernel.web import add_template_dir, get_db, render, require_actor

from . import excel, queries, service
from .catalog import RULE_LABELS, full_name, specialties
from .notify import Notifier
from .policies import POLICY
from .schemas import AvoidanceIn, DrawRequestIn, LeaveIn, ProfileIn, StratumIn

add_template_dir(Path(__file__).resolve().parent / "templates")
router = APIRouter(include_in_schema=False)

Db = Annotated[Session, Depends(get_db)]
LoggedIn = Annotated[Actor, Depends(require_actor)]

DONE = {
    "profile": "专家信息已保存",
    "leave": "请假已登记",
    "leave_cancelled": "请假已取消",
    "answered": "答复已提交",
    "imported": "导入完成",
    "requested": "抽取申请已登记",
    "done": "操作完成",
}


def _notifier(request: Request) -> Notifier:
    n: Notifier = request.app.state.expert_notifier
    return n


async def _form(request: Request) -> dict[str, str]:
    raw = await request.form()
    return {k: v for k, v in raw.items() if isinstance(v, str)}


def _flash(request: Request) -> dict[str, str]:
    done = request.query_params.get("done", "")
    return {"flash": DONE[done]} if done in DONE else {}


def _when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


# --- the expert's workbench ----------------------------------------------------------------


def _workbench(
    request: Request, db: Session, actor: Actor, error: str = "", status_code: int = 200
) -> HTMLResponse:
    me = queries.my_expert(db, actor)
    return render(
        request,
        "experts/workbench.html",
        {
            "me": queries.expert_view(me) if me else None,
            "leaves": queries.leaves_of(db, actor, me.id) if me else [],
            "invitations": queries.my_invitations(db, actor),
            "specialties": list(specialties().values()),
            "error": error,
            **_flash(request),
        },
        status_code=status_code,
    )


@router.get("/expert", response_class=HTMLResponse)
def workbench(request: Request, db: Db, actor: LoggedIn) -> HTMLResponse:
    return _workbench(request, db, actor)


@router.post("/expert/profile", response_class=HTMLResponse)
async def save_profile(request: Request, db: Db, actor: LoggedIn) -> Response:
    v = await _form(request)
    me = queries.my_expert(db, actor)
    if me is None:
        return _workbench(request, db, actor, "您尚未入库为评标专家", 404)
    try:
        data = ProfileIn(
            mobile=v.get("mobile", ""),
            employer_name=v.get("employer_name", ""),
            employer_credit_code=v.get("employer_credit_code", ""),
            title=v.get("title", ""),
            region_code=v.get("region_code", ""),
            main_specialty=v.get("main_specialty", ""),
            other_specialties=[
                x for x in v.get("other_specialties", "").replace("，", ",").split(",") if x.strip()
            ],
        )
        service.update_profile(db, actor, me.id, data)
    except DomainError as exc:
        return _workbench(request, db, actor, exc.detail, exc.status)
    return RedirectResponse("/expert?done=profile", status_code=303)


@router.post("/expert/leaves", response_class=HTMLResponse)
async def add_leave(request: Request, db: Db, actor: LoggedIn) -> Response:
    v = await _form(request)
    me = queries.my_expert(db, actor)
    if me is None:
        return _workbench(request, db, actor, "您尚未入库为评标专家", 404)
    try:
        data = LeaveIn(
            starts_at=_when(v["starts_at"]), ends_at=_when(v["ends_at"]), reason=v.get("reason", "")
        )
        service.add_leave(db, actor, me.id, data)
    except DomainError as exc:
        return _workbench(request, db, actor, exc.detail, exc.status)
    except (KeyError, ValueError):
        return _workbench(request, db, actor, "请填写请假开始和结束时间", 422)
    return RedirectResponse("/expert?done=leave", status_code=303)


@router.post("/expert/leaves/{leave_id}/cancel")
def cancel_leave(leave_id: str, db: Db, actor: LoggedIn) -> Response:
    service.cancel_leave(db, actor, leave_id)
    return RedirectResponse("/expert?done=leave_cancelled", status_code=303)


@router.post("/expert/invitations/{assignment_id}", response_class=HTMLResponse)
async def answer(request: Request, assignment_id: str, db: Db, actor: LoggedIn) -> Response:
    v = await _form(request)
    try:
        service.answer(
            db,
            actor,
            assignment_id,
            v.get("answer") == "confirm",
            v.get("reason", ""),
            _notifier(request),
        )
    except DomainError as exc:
        return _workbench(request, db, actor, exc.detail, exc.status)
    return RedirectResponse("/expert?done=answered", status_code=303)


# --- staff: the pool and the draws ---------------------------------------------------------


def _pool(
    request: Request,
    db: Session,
    actor: Actor,
    error: str = "",
    errors: list[dict[str, Any]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    q = request.query_params.get("q", "")
    specialty = request.query_params.get("specialty", "")
    rows, total = queries.search_experts(db, actor, q, specialty, "", 200)
    return render(
        request,
        "experts/pool.html",
        {
            "rows": [queries.expert_view(e) for e in rows],
            "total": total,
            "q": q,
            "specialty": specialty,
            "draws": queries.recent_draws(db, actor, 50),
            "can_manage": POLICY.allows(actor, "experts.pool.manage"),
            "error": error,
            "errors": errors or [],
            "full_name": full_name,
            **_flash(request),
        },
        status_code=status_code,
    )


@router.get("/staff/experts", response_class=HTMLResponse)
def pool(request: Request, db: Db, actor: LoggedIn) -> HTMLResponse:
    return _pool(request, db, actor)


@router.post("/staff/experts/import", response_class=HTMLResponse)
async def import_xlsx(request: Request, db: Db, actor: LoggedIn) -> Response:
    form = await request.form()
    upload = form.get("file")
    POLICY.require(actor, "experts.pool.manage")
    if not isinstance(upload, UploadFile):
        return _pool(request, db, actor, "请选择 Excel 文件", status_code=422)
    try:
        rows = excel.parse(await upload.read(10 * 1024 * 1024))
        service.import_experts(db, actor, rows)
    except DomainError as exc:
        return _pool(request, db, actor, exc.detail, exc.errors, exc.status)
    return RedirectResponse("/staff/experts?done=imported", status_code=303)


@router.get("/staff/experts/export.xlsx")
def export_xlsx(db: Db, actor: LoggedIn) -> Response:
    return Response(
        excel.export(queries.all_experts(db, actor)),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": "attachment; filename*=UTF-8''experts.xlsx"},
    )


@router.post("/staff/expert-draws", response_class=HTMLResponse)
async def request_draw(request: Request, db: Db, actor: LoggedIn) -> Response:
    v = await _form(request)
    try:
        strata = []
        for line in v.get("strata", "").splitlines():
            parts = [p.strip() for p in line.replace("，", ",").split(",")]
            if parts and parts[0]:
                strata.append(
                    StratumIn(
                        specialty=parts[0],
                        count=int(parts[1]),
                        alternates=int(parts[2]) if len(parts) > 2 else 0,
                    )
                )
        data = DrawRequestIn(
            evaluation_starts_at=_when(v["evaluation_starts_at"]),
            evaluation_ends_at=_when(v["evaluation_ends_at"]),
            venue=v.get("venue", ""),
            strata=strata,
            regions=[r.strip() for r in v.get("regions", "").split(",") if r.strip()],
            region_reason=v.get("region_reason", ""),
            cooldown_days=int(v.get("cooldown_days") or 0),
            response_minutes=int(v.get("response_minutes") or 30),
            commitment=v.get("commitment", ""),
        )
        d = service.request_draw(db, actor, v.get("section_id", "").strip(), data)
    except DomainError as exc:
        return _pool(request, db, actor, exc.detail, status_code=exc.status)
    except (KeyError, ValueError, IndexError):
        return _pool(
            request,
            db,
            actor,
            "请完整填写标段、评标时间、抽取专业（每行：专业代码,人数,替补）和承诺值",
            status_code=422,
        )
    return RedirectResponse(f"/expert-draws/{d.id}?done=requested", status_code=303)


# --- the draw page (staff, supervisor, the tenderer / agency) ------------------------------


def _draw_page(
    request: Request,
    db: Session,
    actor: Actor,
    draw_id: str,
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    view = queries.draw_view(db, actor, draw_id)
    return render(
        request,
        "experts/draw.html",
        {
            "d": view,
            "is_staff": actor.has(Role.CENTER_STAFF),
            "is_supervisor": actor.has(Role.SUPERVISOR),
            "is_party": actor.has(Role.TENDERER, Role.AGENCY),
            "rules": RULE_LABELS,
            "error": error,
            **_flash(request),
        },
        status_code=status_code,
    )


@router.get("/expert-draws/{draw_id}", response_class=HTMLResponse)
def draw_page(request: Request, draw_id: str, db: Db, actor: LoggedIn) -> HTMLResponse:
    return _draw_page(request, db, actor, draw_id)


@router.post("/expert-draws/{draw_id}/{step}", response_class=HTMLResponse)
async def draw_step(request: Request, draw_id: str, step: str, db: Db, actor: LoggedIn) -> Response:
    v = await _form(request)
    target = draw_id
    try:
        if step == "avoid":
            entry = AvoidanceIn(
                name=v.get("name", ""), id_number=v.get("id_number", ""), reason=v.get("reason", "")
            )
            service.add_avoidances(db, actor, draw_id, [entry])
        elif step == "fix":
            service.fix_candidates(db, actor, draw_id)
        elif step == "supervise":
            service.enter_supervisor_value(db, actor, draw_id, v.get("value", ""))
        elif step == "draw":
            service.draw(
                db,
                actor,
                draw_id,
                v.get("center_value", ""),
                v.get("center_salt", ""),
                _notifier(request),
            )
        elif step == "supplement":
            target = service.request_supplementary(db, actor, draw_id, v.get("commitment", "")).id
        elif step == "disclose":
            service.disclose(db, actor, queries.draw_view(db, actor, draw_id)["section_id"])
        elif step == "cancel":
            service.cancel_draw(db, actor, draw_id, v.get("reason", ""))
        else:
            return _draw_page(request, db, actor, draw_id, "未知操作", 404)
    except DomainError as exc:
        return _draw_page(request, db, actor, draw_id, exc.detail, exc.status)
    return RedirectResponse(f"/expert-draws/{target}?done=done", status_code=303)
