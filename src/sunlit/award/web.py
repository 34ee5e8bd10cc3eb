"""Award pages (Chinese): one page per section for the tenderer/agency, bidders, center staff
and the supervisor (each sees what it may and the actions of its role), a monitoring list for
staff and supervisors, and a bidder's letters."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from sunlit.evaluation import queries as evaluation_queries
from sunlit.kernel import clock
from sunlit.kernel.authz import Actor
from sunlit.kernel.errors import DomainError, InvalidInput
from sunlit.kernel.web import act_or_rerender, add_template_dir, get_db, render, require_actor
from sunlit.projects.api import Calendar
from sunlit.projects.queries import is_tender_party

from . import queries, rules, service
from .policies import POLICY
from .rules import PassOver

add_template_dir(Path(__file__).resolve().parent / "templates")
router = APIRouter(include_in_schema=False)

Db = Annotated[Session, Depends(get_db)]
LoggedIn = Annotated[Actor, Depends(require_actor)]

DONE = {
    "open": "已依评标报告登记中标候选人，进入定标",
    "publicity": "中标候选人公示已发布",
    "objection": "异议已提出，招标人应当自收到之日起3日内答复",
    "answer": "异议已答复",
    "decision": "已确定中标人",
    "notify": "中标通知书和中标结果通知已发出，中标结果公告已发布",
    "contract": "合同已登记并公示",
    "cancel": "定标已终止",
}


def _context(db: Session, actor: Actor, section_id: str) -> dict[str, Any]:
    section = queries.section_of(db, actor, section_id)
    v = queries.process_view(db, actor, section_id)
    party = is_tender_party(actor, section.tender_project)
    own = any(c["own"] for c in v["candidates"])
    return {
        "section": section,
        "tender": section.tender_project,
        "v": v,
        "is_party": party,
        "is_bidder": not POLICY.allows(actor, "award.view_all", section.tender_project),
        "own_candidate": own,
        "can_object": (not party and v["status"] == "publicizing" and bool(v["publicity"]["open"])),
        "reasons": rules.PASS_OVER_REASONS,
        "other_reason": None if v["rule_bound"] else rules.OTHER_REASON,
    }


@router.get("/award/{section_id}", response_class=HTMLResponse)
def page(request: Request, section_id: str, db: Db, actor: LoggedIn) -> HTMLResponse:
    waiting = queries.awaiting_report(db, actor, section_id)
    if waiting is not None:
        return render(request, "award/waiting.html", _waiting(db, actor, waiting))
    ctx = _context(db, actor, section_id)
    ctx["flash"] = DONE.get(request.query_params.get("done", ""), "")
    return render(request, "award/process.html", ctx)


def _waiting(db: Session, actor: Actor, section: Any) -> dict[str, Any]:
    return {
        "section": section,
        "can_open": POLICY.allows(actor, "award.open", section.tender_project),
        "report": evaluation_queries.signed_report(db, section.id),
    }


@router.post("/award/{section_id}/open")
def open_award(request: Request, section_id: str, db: Db, actor: LoggedIn) -> Response:
    """进入定标: from the section's signed evaluation report."""
    try:
        service.open_award(db, actor, section_id)
    except DomainError as exc:
        db.rollback()
        waiting = queries.awaiting_report(db, actor, section_id)
        if waiting is None:
            raise
        ctx = _waiting(db, actor, waiting) | {"flash": exc.detail, "flash_kind": "error"}
        return render(request, "award/waiting.html", ctx, status_code=exc.status)
    return RedirectResponse(f"/award/{section_id}?done=open", status_code=303)


def _act(
    request: Request, db: Session, actor: Actor, section_id: str, done: str, fn: Any
) -> Response:
    return act_or_rerender(
        request,
        db,
        fn,
        redirect=f"/award/{section_id}?done={done}",
        page=lambda: ("award/process.html", _context(db, actor, section_id)),
    )


@router.post("/award/{section_id}/publicity")
async def publicity(request: Request, section_id: str, db: Db, actor: LoggedIn) -> Response:
    form = await request.form()

    def run() -> None:
        try:
            days = int(str(form.get("days") or "3"))
        except ValueError:
            raise InvalidInput("award.publicity.days", "公示天数应为整数", field="days") from None
        service.publish_publicity(db, actor, section_id, days, str(form.get("channel") or ""))

    return _act(request, db, actor, section_id, "publicity", run)


@router.post("/award/{section_id}/objections")
async def objection(request: Request, section_id: str, db: Db, actor: LoggedIn) -> Response:
    form = await request.form()
    return _act(
        request,
        db,
        actor,
        section_id,
        "objection",
        lambda: service.raise_objection(
            db, actor, section_id, str(form.get("content") or ""), str(form.get("contact") or "")
        ),
    )


@router.post("/award/{section_id}/objections/{objection_id}/answer")
async def answer(
    request: Request, section_id: str, objection_id: str, db: Db, actor: LoggedIn
) -> Response:
    form = await request.form()
    return _act(
        request,
        db,
        actor,
        section_id,
        "answer",
        lambda: service.answer_objection(
            db, actor, section_id, objection_id, str(form.get("answer") or "")
        ),
    )


@router.post("/award/{section_id}/decision")
async def decision(request: Request, section_id: str, db: Db, actor: LoggedIn) -> Response:
    """The decision form: the winner, and for each better-ranked candidate (fields suffixed
    with its id) the reason code, explanation and an evidence file."""
    form = await request.form()
    winner_id = str(form.get("winner_id") or "")
    pass_overs: dict[str, PassOver] = {}
    for key in form:
        if not key.startswith("reason_"):
            continue
        cid = key.removeprefix("reason_")
        code = str(form.get(key) or "")
        if not code:
            continue
        upload = form.get(f"evidence_{cid}")
        data, name = b"", ""
        if isinstance(upload, UploadFile) or hasattr(upload, "read"):
            data = await upload.read(service.EVIDENCE_MAX + 1)  # type: ignore[union-attr]
            name = getattr(upload, "filename", "") or ""
        pass_overs[cid] = PassOver(code, str(form.get(f"explanation_{cid}") or ""), name, data)
    return _act(
        request,
        db,
        actor,
        section_id,
        "decision",
        lambda: service.decide(
            db, actor, section_id, winner_id, pass_overs, str(form.get("note") or "")
        ),
    )


@router.post("/award/{section_id}/notify")
async def notify(request: Request, section_id: str, db: Db, actor: LoggedIn) -> Response:
    form = await request.form()
    return _act(
        request,
        db,
        actor,
        section_id,
        "notify",
        lambda: service.notify(
            db,
            actor,
            section_id,
            str(form.get("project_lead") or ""),
            str(form.get("project_lead_certificate") or ""),
        ),
    )


def _signed_at(value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            "award.contract.signed_at", "请填写合同签订时间", field="signed_at"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=clock.CHINA_TZ)


@router.post("/award/{section_id}/contract")
async def contract(
    request: Request, section_id: str, db: Db, actor: LoggedIn, calendar: Calendar
) -> Response:
    form = await request.form()

    def run() -> None:
        data = service.ContractIn(
            contract_code=str(form.get("contract_code") or ""),
            name=str(form.get("name") or ""),
            price=str(form.get("price") or ""),
            content=str(form.get("content") or ""),
            signed_at=_signed_at(str(form.get("signed_at") or "")),
            limit_time=str(form.get("limit_time") or ""),
            quality=str(form.get("quality") or ""),
            late_reason=str(form.get("late_reason") or ""),
        )
        service.record_contract(db, actor, section_id, data, calendar)

    return _act(request, db, actor, section_id, "contract", run)


@router.post("/award/{section_id}/cancel")
async def cancel(request: Request, section_id: str, db: Db, actor: LoggedIn) -> Response:
    form = await request.form()
    return _act(
        request,
        db,
        actor,
        section_id,
        "cancel",
        lambda: service.cancel(db, actor, section_id, str(form.get("reason") or "")),
    )


@router.get("/staff/awards", response_class=HTMLResponse)
def monitor(request: Request, db: Db, actor: LoggedIn) -> HTMLResponse:
    return render(request, "award/monitor.html", {"rows": queries.monitor(db, actor)})


@router.get("/bidder/award-letters", response_class=HTMLResponse)
def my_letters(request: Request, db: Db, actor: LoggedIn) -> HTMLResponse:
    return render(request, "award/letters.html", {"rows": queries.my_awards(db, actor)})
