"""Deposit pages (Chinese): the bidder's sub-accounts, center staff monitoring and
reconciliation, the supervisor's alerts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from sunlit.kernel import clock
from sunlit.kernel.authz import Actor
from sunlit.kernel.errors import DomainError
from sunlit.kernel.web import add_template_dir, get_db, render, require_actor

from . import queries, service
from .api import statement_fetcher
from .export import DIFF_LABELS, money

add_template_dir(Path(__file__).resolve().parent / "templates")
router = APIRouter(include_in_schema=False)

Db = Annotated[Session, Depends(get_db)]
LoggedIn = Annotated[Actor, Depends(require_actor)]

DONE = {
    "requested": "已向保证金开户行申请虚拟子账号",
    "reconciled": "对账完成",
    "released": "退还指令已发送银行",
}


def _ctx(request: Request, **values: Any) -> dict[str, Any]:
    done = request.query_params.get("done", "")
    return {"done": DONE.get(done, ""), "money": money, **values}


@router.get("/bidder/deposits", response_class=HTMLResponse)
def bidder_deposits(request: Request, db: Db, actor: LoggedIn, error: str = "") -> HTMLResponse:
    rows = queries.my_accounts(db, actor)
    return render(request, "deposits/bidder.html", _ctx(request, rows=rows, error=error))


@router.post("/bidder/deposits", response_class=HTMLResponse)
def bidder_request(
    request: Request, db: Db, actor: LoggedIn, section_id: Annotated[str, Form()]
) -> Response:
    try:
        service.request_account(db, actor, section_id.strip())
    except DomainError as exc:
        rows = queries.my_accounts(db, actor)
        return render(
            request,
            "deposits/bidder.html",
            _ctx(request, rows=rows, error=exc.detail),
            status_code=exc.status,
        )
    return RedirectResponse("/bidder/deposits?done=requested", status_code=303)


@router.get("/staff/deposits", response_class=HTMLResponse)
def staff_deposits(request: Request, db: Db, actor: LoggedIn) -> HTMLResponse:
    return render(
        request,
        "deposits/staff.html",
        _ctx(
            request,
            banks=queries.banks(db, actor),
            sections=queries.monitoring(db, actor),
            recs=queries.reconciliations(db, actor),
            overdue=queries.overdue_refunds(db, actor),
            diff_labels=DIFF_LABELS,
            yesterday=(clock.today() - dt.timedelta(days=1)).isoformat(),
            error=request.query_params.get("error", ""),
        ),
    )


@router.get("/staff/deposits/sections/{section_id}", response_class=HTMLResponse)
def staff_section(request: Request, section_id: str, db: Db, actor: LoggedIn) -> HTMLResponse:
    view = queries.section_overview(db, actor, section_id)
    return render(request, "deposits/section.html", _ctx(request, v=view))


@router.post("/staff/deposits/reconcile", response_class=HTMLResponse)
def staff_reconcile(
    request: Request,
    db: Db,
    actor: LoggedIn,
    bank_id: Annotated[str, Form()],
    day: Annotated[str, Form()],
) -> Response:
    try:
        service.reconcile(
            db, actor, bank_id, dt.date.fromisoformat(day), statement_fetcher(request)
        )
    except (DomainError, ValueError) as exc:
        message = exc.detail if isinstance(exc, DomainError) else "日期格式不正确"
        from urllib.parse import quote

        return RedirectResponse(f"/staff/deposits?error={quote(message)}", status_code=303)
    return RedirectResponse("/staff/deposits?done=reconciled", status_code=303)


@router.get("/supervisor/deposit-alerts", response_class=HTMLResponse)
def supervisor_alerts(request: Request, db: Db, actor: LoggedIn) -> HTMLResponse:
    return render(request, "deposits/alerts.html", _ctx(request, alerts=queries.alerts(db, actor)))
