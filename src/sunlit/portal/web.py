"""Public portal pages (公共服务): home, notices, notice detail, openings calendar, Atom feed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from sunlit.identity import queries as identity_queries
from sunlit.kernel import clock
from sunlit.kernel.authz import Actor
from sunlit.kernel.errors import InvalidInput
from sunlit.kernel.web import add_template_dir, current_actor, get_db, render
from sunlit.notices import queries as notice_queries
from sunlit.notices import views as notice_views
from sunlit.notices.states import (
    DOCUMENT_KIND_LABELS,
    KIND_LABELS,
    PUBLIC_STATUS_LABELS,
    NoticeKind,
    PublicStatus,
    kind_label,
)
from sunlit.portal import atom
from sunlit.projects.catalog import CATEGORY_LABELS, METHOD_LABELS, evaluation_label
from sunlit.transparency import queries as transparency_queries

add_template_dir(Path(__file__).resolve().parent / "templates")
router = APIRouter(include_in_schema=False)
Db = Annotated[Session, Depends(get_db)]
AnyActor = Annotated[Actor, Depends(current_actor)]
PAGE_SIZE = 20


def labels() -> dict[str, Any]:
    """Chinese labels of the notice vocabulary, for templates."""
    return {
        "categories": {k.value: v for k, v in CATEGORY_LABELS.items()},
        "methods": {k.value: v for k, v in METHOD_LABELS.items()},
        "kinds": {k.value: v for k, v in KIND_LABELS.items()},
        "statuses": {k.value: v for k, v in PUBLIC_STATUS_LABELS.items()},
        "document_kinds": {k.value: v for k, v in DOCUMENT_KIND_LABELS.items()},
        "kind_label": kind_label,
        "evaluation_label": evaluation_label,
        "public_status": notice_queries.public_status,
    }


@router.get("/", response_class=HTMLResponse)
def home(request: Request, db: Db) -> HTMLResponse:
    latest, _ = notice_queries.search_public(
        db, notice_queries.NoticeFilter(), limit=8, with_sections=False
    )
    return render(
        request,
        "portal/home.html",
        {
            "cas": identity_queries.trusted_cas(db),
            "checkpoint": transparency_queries.latest_checkpoint(db),
            "latest": latest,
            "openings": notice_queries.upcoming_openings(db, days=14)[:8],
            **labels(),
        },
    )


def _date(value: str, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("portal.date", "日期格式应为 YYYY-MM-DD", field=field) from None


@router.get("/notices", response_class=HTMLResponse)
def notices(
    request: Request,
    db: Db,
    q: str = "",
    category: str = "",
    region: str = "",
    method: str = "",
    kind: str = "",
    status: str = "",
    date_from: str = "",
    date_to: str = "",
    page: int = 1,
) -> HTMLResponse:
    page = max(page, 1)
    params = {
        "q": q,
        "category": category,
        "region": region,
        "method": method,
        "kind": kind,
        "status": status,
        "date_from": date_from,
        "date_to": date_to,
    }
    error = ""
    rows: list[Any] = []
    total = 0
    try:
        f = notice_queries.NoticeFilter(
            q,
            category,
            region,
            method,
            kind,
            status,
            _date(date_from, "date_from"),
            _date(date_to, "date_to"),
        )
        rows, total = notice_queries.search_public(
            db, f, PAGE_SIZE, (page - 1) * PAGE_SIZE, with_sections=False
        )
    except InvalidInput as exc:
        error = exc.detail
    query = urlencode({k: v for k, v in params.items() if v})
    return render(
        request,
        "portal/notices.html",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-min(total, notice_queries.COUNT_CAP) // PAGE_SIZE)),
            "count_cap": notice_queries.COUNT_CAP,
            "params": params,
            "query": query,
            "error": error,
            "at": clock.now(),
            "kind_choices": [k for k in NoticeKind],
            "status_choices": list(PublicStatus),
            **labels(),
        },
        status_code=422 if error else 200,
    )


@router.get("/notices/{notice_id}", response_class=HTMLResponse)
def notice(request: Request, notice_id: str, db: Db, actor: AnyActor) -> HTMLResponse:
    detail = notice_queries.notice_detail(db, actor, notice_id)
    return render(
        request,
        "portal/notice.html",
        {
            "d": detail,
            "n": detail.notice,
            "place_text": notice_queries.place_text,
            **labels(),
        },
    )


@router.get("/openings", response_class=HTMLResponse)
def openings(request: Request, db: Db, days: int = 30) -> HTMLResponse:
    days = min(max(days, 1), 366)
    rows = notice_queries.upcoming_openings(db, days)
    by_day: dict[dt.date, list[Any]] = {}
    for o in rows:
        assert o.section.bid_deadline is not None
        by_day.setdefault(clock.ensure_aware(o.section.bid_deadline).date(), []).append(o)
    return render(
        request,
        "portal/openings.html",
        {
            "by_day": sorted(by_day.items()),
            "days": days,
            "place_text": notice_queries.place_text,
            **labels(),
        },
    )


@router.get("/feeds/notices.atom")
def atom_feed(request: Request, db: Db, before: str | None = None) -> Response:
    settle = float(request.app.state.settings.feed_settle_seconds)
    page = notice_queries.recent_changes(db, before, 50, settle)
    base = notice_views.base_url(request)
    self_url = f"{base}/feeds/notices.atom" + (f"?before={before}" if before else "")
    return Response(
        atom.render_feed(page, base, self_url), media_type="application/atom+xml; charset=utf-8"
    )
