"""The opening hall page (开标大厅, Chinese): one page for bidders, the tenderer/agency, center
staff and the supervisor, each seeing what it may and the actions of its role; live updates
via Server-Sent Events on ``/opening/{section_id}/events``; opening record downloads."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from sunlit.bidding.sealed import load_remedy_keys
from sunlit.kernel import clock, realtime
from sunlit.kernel.authz import Actor, Role
from sunlit.kernel.errors import Conflict, DomainError, InvalidInput
from sunlit.kernel.web import act_or_rerender, add_template_dir, get_db, render, require_actor
from sunlit.projects import queries as project_queries

from . import export, queries, service
from .api import Blobs, draw_record_response
from .record import STATUS_LABELS
from .states import LIFECYCLE, OpeningStatus

add_template_dir(Path(__file__).resolve().parent / "templates")
router = APIRouter(include_in_schema=False)

Db = Annotated[Session, Depends(get_db)]
LoggedIn = Annotated[Actor, Depends(require_actor)]

DONE = {
    "start": "已开始开标",
    "continue": "已决定继续开标",
    "terminate": "已终止开标",
    "decrypt": "解密完成",
    "sign-in": "签到成功",
    "supervisor-value": "监督随机数已录入",
    "record": "开标记录已生成",
    "confirm": "开标记录已确认",
    "objection": "异议已提出，请等待招标人当场答复",
    "answer": "异议已答复",
    "confirm-results": "已确认唱标结果无误",
    "draw": "系数抽取完成",
    "remedy": "解密补救成功，报价已公布",
}
REMEDY_FILE_MAX = 64 * 1024


def _context(db: Session, actor: Actor, section_id: str) -> dict[str, Any]:
    section = queries.section_of(db, actor, section_id)
    tender = section.tender_project
    party = project_queries.is_tender_party(actor, tender)
    staff = actor.has(Role.CENTER_STAFF)
    try:
        view: dict[str, Any] | None = queries.session_view(db, actor, section_id)
    except DomainError:
        view = None
    status = view["status"] if view else None
    own = [b for b in view["bids"] if b["own"]] if view else []
    signed = {s["bidder_name"] for s in view["sign_ins"]} if view else set()
    running = status in ("started", "decrypting", "announced")
    now = clock.now()
    remedy = [
        b
        for b in own
        if b["status"] == "failed"
        and b["remedy_until"]
        and now <= clock.ensure_aware(dt.datetime.fromisoformat(b["remedy_until"]))
    ]
    confirmed_orgs = {
        c["credit_code"]
        for c in (view["confirmations"] if view else [])
        if c["response"] == "confirmed"
    }
    for b in view["bids"] if view else []:
        b["amount"] = export.format_amount(b["price"])
        b["words"] = export.amount_in_words(b["price"])
        b["status_label"] = STATUS_LABELS.get(b["status"], b["status"])
    return {
        "section": section,
        "tender": tender,
        "v": view,
        "status_label": LIFECYCLE.label(OpeningStatus(status)) if status else "待开标",
        "is_staff": staff,
        "is_party": party,
        "is_bidder": bool(own),
        "is_supervisor": actor.has(Role.SUPERVISOR),
        "can_sign_in": bool(own) and running and own[0]["bidder_name"] not in signed,
        "awaiting_decision": bool(view and view["insufficient"] and view["decision"] != "continue"),
        "objections": queries.objections(db, actor, section_id) if view else [],
        "can_object": bool(own and view and view["confirm_open"])
        and own[0]["credit_code"] not in confirmed_orgs,
        "can_answer": party and status == "announced" and not (view and view["record"]),
        "can_confirm_results": bool(
            own and view and view["confirm_open"] and own[0]["credit_code"] not in confirmed_orgs
        ),
        "remedy_bid": remedy[0] if remedy else None,
        "can_draw": bool(
            staff
            and status == "announced"
            and view
            and view["supervisor_entered"]
            and not view["draw_record"]
            and section.coefficients
        ),
        "needs_draw": bool(section.coefficients),
        "can_seal": bool(
            staff
            and status == "announced"
            and view
            and not view["record"]
            and not (
                view["confirm_open"]
                and any(c["response"] != "confirmed" for c in view["confirmations"])
            )
        ),
    }


@router.get("/opening/{section_id}", response_class=HTMLResponse)
def hall(request: Request, section_id: str, db: Db, actor: LoggedIn) -> HTMLResponse:
    ctx = _context(db, actor, section_id)
    ctx["flash"] = DONE.get(request.query_params.get("done", ""), "")
    return render(request, "opening/hall.html", ctx)


@router.get("/opening/{section_id}/parts", response_class=HTMLResponse)
def parts(request: Request, section_id: str, db: Db, actor: LoggedIn) -> HTMLResponse:
    """The live parts of the hall (state, sign-ins, 唱标, draw, record, actions)."""
    return render(request, "opening/_live.html", _context(db, actor, section_id))


@router.get("/opening/{section_id}/events")
async def events(request: Request, section_id: str, actor: LoggedIn) -> StreamingResponse:
    database = request.app.state.db
    with database.session_scope() as db:
        queries.section_of(db, actor, section_id)  # 404 unless the actor may look
    return StreamingResponse(
        realtime.sse_stream(
            service.topic(section_id),
            request.is_disconnected,
            target=realtime.hub_for(database.engine),
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _record(db: Session, actor: Actor, section_id: str) -> dict[str, Any]:
    view = queries.session_view(db, actor, section_id)
    if not view["record"]:
        raise Conflict("opening.record.missing", "开标记录尚未生成")
    record: dict[str, Any] = view["record"]
    return record


@router.get("/opening/{section_id}/record.pdf")
def record_pdf(section_id: str, db: Db, actor: LoggedIn) -> Response:
    doc = _record(db, actor, section_id)
    name = f"opening-record-{doc['section_code']}.pdf"
    return Response(
        export.record_pdf(doc),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/opening/{section_id}/record.xlsx")
def record_xlsx(section_id: str, db: Db, actor: LoggedIn) -> Response:
    doc = _record(db, actor, section_id)
    name = f"opening-record-{doc['section_code']}.xlsx"
    return Response(
        export.record_xlsx(doc),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/opening/{section_id}/draw.json")
def draw_json(section_id: str, db: Db, actor: LoggedIn) -> Response:
    """The draw record as stored: ``sunlit draw verify draw.json`` recomputes it offline."""
    return draw_record_response(queries.draw_record(db, actor, section_id))


def _act(
    request: Request, db: Session, actor: Actor, section_id: str, done: str, fn: Any
) -> Response:
    return act_or_rerender(
        request,
        db,
        fn,
        redirect=f"/opening/{section_id}?done={done}",
        page=lambda: ("opening/hall.html", _context(db, actor, section_id)),
    )


@router.post("/opening/{section_id}/start")
def start(request: Request, section_id: str, db: Db, actor: LoggedIn) -> Response:
    return _act(
        request, db, actor, section_id, "start", lambda: service.start(db, actor, section_id)
    )


@router.post("/opening/{section_id}/continue")
def continue_opening(request: Request, section_id: str, db: Db, actor: LoggedIn) -> Response:
    return _act(
        request,
        db,
        actor,
        section_id,
        "continue",
        lambda: service.continue_opening(db, actor, section_id),
    )


@router.post("/opening/{section_id}/terminate")
def terminate(
    request: Request, section_id: str, db: Db, actor: LoggedIn, reason: Annotated[str, Form()] = ""
) -> Response:
    return _act(
        request,
        db,
        actor,
        section_id,
        "terminate",
        lambda: service.terminate(db, actor, section_id, reason),
    )


@router.post("/opening/{section_id}/decrypt")
def decrypt(
    request: Request,
    section_id: str,
    db: Db,
    actor: LoggedIn,
    blobs: Blobs,
    role: Annotated[str, Form()],
    passphrase: Annotated[str, Form()],
) -> Response:
    return _act(
        request,
        db,
        actor,
        section_id,
        "decrypt",
        lambda: service.decrypt(db, actor, blobs, section_id, role, passphrase),
    )


@router.post("/opening/{section_id}/sign-in")
def sign_in(request: Request, section_id: str, db: Db, actor: LoggedIn) -> Response:
    return _act(
        request, db, actor, section_id, "sign-in", lambda: service.sign_in(db, actor, section_id)
    )


@router.post("/opening/{section_id}/supervisor-value")
def supervisor_value(
    request: Request, section_id: str, db: Db, actor: LoggedIn, value: Annotated[str, Form()] = ""
) -> Response:
    return _act(
        request,
        db,
        actor,
        section_id,
        "supervisor-value",
        lambda: service.enter_supervisor_value(db, actor, section_id, value),
    )


@router.post("/opening/{section_id}/record")
def seal_record(request: Request, section_id: str, db: Db, actor: LoggedIn) -> Response:
    return _act(
        request, db, actor, section_id, "record", lambda: service.seal_record(db, actor, section_id)
    )


@router.post("/opening/{section_id}/confirm")
def confirm(request: Request, section_id: str, db: Db, actor: LoggedIn) -> Response:
    return _act(
        request, db, actor, section_id, "confirm", lambda: service.confirm(db, actor, section_id)
    )


@router.post("/opening/{section_id}/objections")
def raise_objection(
    request: Request,
    section_id: str,
    db: Db,
    actor: LoggedIn,
    content: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        db,
        actor,
        section_id,
        "objection",
        lambda: service.raise_objection(db, actor, section_id, content),
    )


@router.post("/opening/{section_id}/objections/{objection_id}/answer")
def answer_objection(
    request: Request,
    section_id: str,
    objection_id: str,
    db: Db,
    actor: LoggedIn,
    answer: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        db,
        actor,
        section_id,
        "answer",
        lambda: service.answer_objection(db, actor, section_id, objection_id, answer),
    )


@router.post("/opening/{section_id}/confirm-results")
def confirm_results(request: Request, section_id: str, db: Db, actor: LoggedIn) -> Response:
    return _act(
        request,
        db,
        actor,
        section_id,
        "confirm-results",
        lambda: service.confirm_results(db, actor, section_id),
    )


@router.post("/opening/{section_id}/draw")
def draw(
    request: Request,
    section_id: str,
    db: Db,
    actor: LoggedIn,
    center_value: Annotated[str, Form()] = "",
    center_salt: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        db,
        actor,
        section_id,
        "draw",
        lambda: service.draw_coefficients(db, actor, section_id, center_value, center_salt),
    )


@router.post("/opening/{section_id}/remedy")
async def remedy(
    request: Request,
    section_id: str,
    db: Db,
    actor: LoggedIn,
    blobs: Blobs,
    keys_file: Annotated[UploadFile, File()],
) -> Response:
    """解密补救 from the page: the file ``sunlit bid remedy --keys-out`` wrote."""
    data = await keys_file.read(REMEDY_FILE_MAX + 1)

    def submit() -> None:
        try:
            if len(data) > REMEDY_FILE_MAX:
                raise ValueError("too large")
            keys = load_remedy_keys(data)
        except ValueError:
            raise InvalidInput(
                "opening.remedy.file",
                "不是有效的补救密钥文件，请上传 sunlit bid remedy --keys-out 生成的文件",
                field="keys_file",
            ) from None
        view = queries.session_view(db, actor, section_id)
        mine = [b for b in view["bids"] if b["own"]]
        if not mine or mine[0]["credit_code"] != keys["credit_code"]:
            raise InvalidInput(
                "opening.remedy.other_bidder",
                "该补救密钥文件不属于本单位的投标文件",
                field="keys_file",
            )
        if keys["section_code"] != view["section_code"]:
            raise InvalidInput(
                "opening.remedy.other_section",
                "该补救密钥文件属于其他标段（{code}）",
                field="keys_file",
                code=keys["section_code"],
            )
        service.remedy(
            db, actor, blobs, section_id, mine[0]["id"], keys["summary_key"], keys["files_key"]
        )

    return await run_in_threadpool(_act, request, db, actor, section_id, "remedy", submit)
