"""Pages of the projects domain (Chinese): the tenderer's/agency's project list and registration
form, the center's acceptance queue, venue calendar and restriction list.

The tender project's own page (sections, documents, notices) is in ``notices.web``, which
builds on this domain.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from sunlit.kernel import clock
from sunlit.kernel.authz import Actor, Role
from sunlit.kernel.errors import DomainError
from sunlit.kernel.web import add_template_dir, get_db, render, require_actor
from sunlit.projects import forms, queries, service
from sunlit.projects.catalog import (
    CATEGORY_LABELS,
    ENGINEERING_TYPES,
    METHOD_LABELS,
    RoomKind,
)
from sunlit.projects.schemas import RestrictionIn, RoomIn
from sunlit.projects.states import TENDER_LIFECYCLE, TenderStatus

add_template_dir(Path(__file__).resolve().parent / "templates")
router = APIRouter(include_in_schema=False)

Db = Annotated[Session, Depends(get_db)]
LoggedIn = Annotated[Actor, Depends(require_actor)]

DONE_MESSAGES = {
    "room": "场地已添加",
    "restricted": "已列入限制投标名单",
    "revoked": "限制已撤销",
    "cancelled": "预约已取消",
}


def vocabulary() -> dict[str, Any]:
    return {
        "categories": {k.value: v for k, v in CATEGORY_LABELS.items()},
        "methods": {k.value: v for k, v in METHOD_LABELS.items()},
        "engineering_types": ENGINEERING_TYPES,
        "lifecycle": TENDER_LIFECYCLE,
        "room_kinds": list(RoomKind),
    }


def _flash(request: Request) -> dict[str, str]:
    done = request.query_params.get("done", "")
    return {"flash": DONE_MESSAGES[done]} if done in DONE_MESSAGES else {}


@router.get("/workspace", response_class=HTMLResponse)
def workspace_home() -> Response:
    return RedirectResponse("/workspace/tenders", status_code=303)


@router.get("/workspace/tenders", response_class=HTMLResponse)
def my_tenders(request: Request, db: Db, actor: LoggedIn, status: str = "") -> HTMLResponse:
    rows = queries.my_tender_projects(db, actor, status or None)
    return render(
        request,
        "projects/my_tenders.html",
        {
            "rows": rows,
            "status": status,
            "statuses": list(TenderStatus),
            "can_create": actor.has(Role.TENDERER, Role.AGENCY),
            **vocabulary(),
        },
    )


@router.get("/workspace/tenders/new", response_class=HTMLResponse)
def new_tender_page(request: Request, actor: LoggedIn) -> HTMLResponse:
    return render(
        request,
        "projects/new_tender.html",
        {"form": {"region_code": "320500", "must_tender": "on"}, **vocabulary()},
    )


@router.post("/workspace/tenders/new", response_class=HTMLResponse)
async def new_tender(request: Request, db: Db, actor: LoggedIn) -> Response:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        tender = service.register_tender(db, actor, forms.register_in(values))
    except DomainError as exc:
        return render(
            request,
            "projects/new_tender.html",
            {"form": values, "error": exc.detail, "error_field": exc.field or "", **vocabulary()},
            status_code=exc.status,
        )
    return RedirectResponse(f"/workspace/tenders/{tender.id}?done=registered", status_code=303)


# --- center staff --------------------------------------------------------------------------


@router.get("/staff/acceptance", response_class=HTMLResponse)
def acceptance_queue(
    request: Request, db: Db, actor: LoggedIn, status: str = "submitted", q: str = ""
) -> HTMLResponse:
    rows, total = queries.search_tender_projects(
        db, actor, None if status == "all" else status, q, limit=100
    )
    names = queries.org_names(
        db, [t.tenderer_org_id for t in rows] + [t.agency_org_id for t in rows]
    )
    return render(
        request,
        "projects/acceptance.html",
        {
            "rows": rows,
            "total": total,
            "status": status,
            "q": q,
            "names": names,
            "tabs": [
                ("submitted", "待受理"),
                ("accepted", "已受理"),
                ("tendering", "招标中"),
                ("returned", "已退回"),
                ("terminated", "已终止"),
                ("all", "全部"),
            ],
            **vocabulary(),
        },
    )


def _week_start(value: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value) if value else clock.today()
    except ValueError:
        day = clock.today()
    return day - dt.timedelta(days=day.weekday())


@router.get("/staff/venues", response_class=HTMLResponse)
def venues(request: Request, db: Db, actor: LoggedIn, week: str = "") -> HTMLResponse:
    return _venues_page(request, db, actor, week)


def _venues_page(
    request: Request,
    db: Session,
    actor: Actor,
    week: str,
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    monday = _week_start(week)
    start = dt.datetime.combine(monday, dt.time(), clock.CHINA_TZ)
    end = start + dt.timedelta(days=7)
    rooms = queries.rooms(db, actor, include_inactive=True)
    bookings = queries.bookings_between(db, actor, start, end)
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    grid: dict[tuple[str, dt.date], list[Any]] = {}
    for b in bookings:
        first = clock.ensure_aware(b.starts_at).date()
        last = clock.ensure_aware(b.ends_at - dt.timedelta(microseconds=1)).date()
        for d in days:
            if first <= d <= last:
                grid.setdefault((b.room_id, d), []).append(b)
    return render(
        request,
        "projects/venues.html",
        {
            "rooms": rooms,
            "days": days,
            "grid": grid,
            "bookings": bookings,
            "prev_week": (monday - dt.timedelta(days=7)).isoformat(),
            "next_week": (monday + dt.timedelta(days=7)).isoformat(),
            "monday": monday,
            "error": error,
            **_flash(request),
            **vocabulary(),
        },
        status_code=status_code,
    )


@router.post("/staff/venues/rooms", response_class=HTMLResponse)
def add_room(
    request: Request,
    db: Db,
    actor: LoggedIn,
    name: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "opening",
    center_name: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
    seats: Annotated[int, Form()] = 0,
    remote: Annotated[str, Form()] = "",
) -> Response:
    try:
        data = RoomIn(
            name=name,
            kind=RoomKind(kind),
            center_name=center_name,
            address=address,
            seats=seats,
            remote=bool(remote),
        )
        service.create_room(db, actor, data)
    except DomainError as exc:
        return _venues_page(request, db, actor, "", exc.detail, exc.status)
    except ValueError:
        return _venues_page(request, db, actor, "", "请完整填写场地名称和所在交易中心", 422)
    return RedirectResponse("/staff/venues?done=room", status_code=303)


@router.post("/staff/bookings/{booking_id}/cancel")
def cancel_booking(
    booking_id: str,
    db: Db,
    actor: LoggedIn,
    reason: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "/staff/venues",
) -> Response:
    service.cancel_booking(db, actor, booking_id, reason)
    target = back if back.startswith("/") and not back.startswith("//") else "/staff/venues"
    sep = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{sep}done=cancelled", status_code=303)


@router.get("/staff/restrictions", response_class=HTMLResponse)
def restrictions(request: Request, db: Db, actor: LoggedIn) -> HTMLResponse:
    return _restrictions_page(request, db, actor)


def _restrictions_page(
    request: Request,
    db: Session,
    actor: Actor,
    error: str = "",
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rows = queries.restrictions(db, actor)
    names = queries.org_names(db, [r.org_id for r in rows])
    return render(
        request,
        "projects/restrictions.html",
        {
            "rows": rows,
            "names": names,
            "error": error,
            "form": form or {},
            "at": clock.now(),
            **_flash(request),
        },
        status_code=status_code,
    )


@router.post("/staff/restrictions", response_class=HTMLResponse)
async def add_restriction(request: Request, db: Db, actor: LoggedIn) -> Response:
    raw = await request.form()
    values = {k: v for k, v in raw.items() if isinstance(v, str)}
    try:
        ends = values.get("ends_at") or None
        data = RestrictionIn(
            credit_code=values.get("credit_code", ""),
            reason=values.get("reason", ""),
            authority=values.get("authority", ""),
            document_no=values.get("document_no", ""),
            ends_at=dt.datetime.fromisoformat(ends) if ends else None,
        )
        service.add_restriction(db, actor, data)
    except DomainError as exc:
        return _restrictions_page(request, db, actor, exc.detail, values, exc.status)
    except ValueError:
        return _restrictions_page(
            request, db, actor, "请完整填写统一社会信用代码、处罚原因和处罚部门", values, 422
        )
    return RedirectResponse("/staff/restrictions?done=restricted", status_code=303)


@router.post("/staff/restrictions/{restriction_id}/revoke")
def revoke_restriction(
    restriction_id: str, db: Db, actor: LoggedIn, note: Annotated[str, Form()] = ""
) -> Response:
    service.revoke_restriction(db, actor, restriction_id, note)
    return RedirectResponse("/staff/restrictions?done=revoked", status_code=303)
