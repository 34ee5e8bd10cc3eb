"""Pages of the notices domain (Chinese): the tender project's workspace page (sections,
acceptance, venues, documents, notices, clarifications, termination, downloads after the
deadline), the bidder's workspace and document download.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from sunlit.kernel import clock
from sunlit.kernel.authz import Actor, Role
from sunlit.kernel.errors import Conflict, DomainError
from sunlit.kernel.web import add_template_dir, current_actor, get_db, render, require_actor
from sunlit.notices import queries, service, views
from sunlit.notices.api import Blobs
from sunlit.notices.schemas import ClarificationIn, NoticeIn, TerminationIn
from sunlit.notices.states import (
    DOCUMENT_KIND_LABELS,
    NOTICE_LIFECYCLE,
    ORIGINAL_KINDS,
    NoticeStatus,
    kind_label,
)
from sunlit.projects import forms
from sunlit.projects import queries as project_queries
from sunlit.projects import service as project_service
from sunlit.projects.api import Calendar
from sunlit.projects.catalog import (
    CATEGORY_LABELS,
    METHOD_LABELS,
    Category,
    Method,
    RoomKind,
    evaluation_label,
    evaluation_methods_for,
)
from sunlit.projects.schemas import BookingIn
from sunlit.projects.states import (
    SECTION_LIFECYCLE,
    TENDER_LIFECYCLE,
    SectionStatus,
    TenderAction,
    TenderStatus,
)

add_template_dir(Path(__file__).resolve().parent / "templates")
router = APIRouter(include_in_schema=False)

Db = Annotated[Session, Depends(get_db)]
AnyActor = Annotated[Actor, Depends(current_actor)]
LoggedIn = Annotated[Actor, Depends(require_actor)]

DONE = {
    "registered": "项目已登记，请添加标段并上传招标文件后提交受理",
    "section": "标段已保存",
    "submitted": "已提交交易中心受理",
    "withdrawn": "已撤回为草稿",
    "accepted": "已受理",
    "returned": "已退回",
    "booked": "场地已预约",
    "drafted": "公告草稿已保存",
    "published": "公告已发布",
    "clarified": "澄清或修改已发布",
    "terminated": "已终止招标并发布终止公告",
    "uploaded": "文件已上传并验证签名",
}


def _local(value: dt.datetime | None) -> str:
    return clock.ensure_aware(value).strftime("%Y-%m-%dT%H:%M") if value else ""


def tender_page(
    request: Request,
    db: Session,
    actor: Actor,
    tender_id: str,
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    tender = project_queries.get_tender_project(db, actor, tender_id)
    party = project_queries.is_tender_party(actor, tender)
    staff = actor.has(Role.CENTER_STAFF)
    status = TenderStatus(tender.status)
    names = project_queries.org_names(db, [tender.tenderer_org_id, tender.agency_org_id])
    notices = queries.notices_of_tender(db, actor, tender.id)
    sealed_until = queries.downloads_sealed_until(db, tender)
    downloads: list[queries.DownloadRow] | None = None
    if sealed_until is not None and clock.now() >= sealed_until:
        downloads = queries.downloads_of_tender(db, actor, tender.id)
    done = request.query_params.get("done", "")
    category, method = Category(tender.category), Method(tender.method)
    return render(
        request,
        "notices/tender.html",
        {
            "t": tender,
            "p": tender.project,
            "names": names,
            "party": party,
            "staff": staff,
            "can": {a.value for a in TENDER_LIFECYCLE.allowed_actions(status)},
            "editable": party and status in (TenderStatus.DRAFT, TenderStatus.RETURNED),
            "sections": tender.sections,
            "documents": queries.documents_of_tender(db, actor, tender.id),
            "notices": notices,
            "drafts": [n for n in notices if n.status == NoticeStatus.DRAFT],
            "originals": [
                n
                for n in notices
                if n.kind in ORIGINAL_KINDS and n.status == NoticeStatus.PUBLISHED
            ],
            "draft_sections": [s for s in tender.sections if s.status == SectionStatus.DRAFT],
            "bookings": project_queries.bookings_of(db, actor, tender.id),
            "rooms": project_queries.rooms(db, actor) if staff else [],
            "downloads": downloads,
            "sealed_until": sealed_until,
            "evaluation_methods": evaluation_methods_for(category, method),
            "categories": {k.value: v for k, v in CATEGORY_LABELS.items()},
            "methods": {k.value: v for k, v in METHOD_LABELS.items()},
            "lifecycle": TENDER_LIFECYCLE,
            "section_lifecycle": SECTION_LIFECYCLE,
            "notice_lifecycle": NOTICE_LIFECYCLE,
            "kind_label": kind_label,
            "evaluation_label": evaluation_label,
            "document_kinds": {k.value: v for k, v in DOCUMENT_KIND_LABELS.items()},
            "coefficients_text": forms.coefficients_text,
            "local": _local,
            "error": error,
            "flash": DONE.get(done, "") if not error else "",
            "signer_url": request.app.state.settings.signer_url,
            "audience": views.base_url(request),
            "has_originals": any(n.kind in ORIGINAL_KINDS for n in notices),
            "room_kinds": list(RoomKind),
        },
        status_code=status_code,
    )


def _back(tender_id: str, done: str) -> Response:
    return RedirectResponse(f"/workspace/tenders/{tender_id}?done={done}", status_code=303)


@router.get("/workspace/tenders/{tender_id}", response_class=HTMLResponse)
def tender_detail(request: Request, tender_id: str, db: Db, actor: LoggedIn) -> HTMLResponse:
    return tender_page(request, db, actor, tender_id)


async def _form(request: Request) -> dict[str, str]:
    raw = await request.form()
    return {k: v for k, v in raw.items() if isinstance(v, str)}


@router.post("/workspace/tenders/{tender_id}/sections", response_class=HTMLResponse)
async def add_section(request: Request, tender_id: str, db: Db, actor: LoggedIn) -> Response:
    values = await _form(request)
    try:
        project_service.add_section(db, actor, tender_id, forms.section_in(values))
    except DomainError as exc:
        return tender_page(request, db, actor, tender_id, exc.detail, exc.status)
    return _back(tender_id, "section")


@router.post("/workspace/sections/{section_id}", response_class=HTMLResponse)
async def update_section(request: Request, section_id: str, db: Db, actor: LoggedIn) -> Response:
    values = await _form(request)
    section = project_queries.get_section(db, actor, section_id)
    tender_id = section.tender_project_id
    try:
        project_service.update_section(db, actor, section_id, forms.section_in(values))
    except DomainError as exc:
        return tender_page(request, db, actor, tender_id, exc.detail, exc.status)
    return _back(tender_id, "section")


def _simple(
    request: Request, db: Session, actor: Actor, tender_id: str, fn: Any, done: str
) -> Response:
    try:
        fn()
    except DomainError as exc:
        return tender_page(request, db, actor, tender_id, exc.detail, exc.status)
    return _back(tender_id, done)


@router.post("/workspace/tenders/{tender_id}/submit", response_class=HTMLResponse)
def submit(request: Request, tender_id: str, db: Db, actor: LoggedIn) -> Response:
    return _simple(
        request,
        db,
        actor,
        tender_id,
        lambda: project_service.submit(db, actor, tender_id),
        "submitted",
    )


@router.post("/workspace/tenders/{tender_id}/withdraw", response_class=HTMLResponse)
def withdraw(request: Request, tender_id: str, db: Db, actor: LoggedIn) -> Response:
    return _simple(
        request,
        db,
        actor,
        tender_id,
        lambda: project_service.withdraw(db, actor, tender_id),
        "withdrawn",
    )


@router.post("/staff/tenders/{tender_id}/review", response_class=HTMLResponse)
def review(
    request: Request,
    tender_id: str,
    db: Db,
    actor: LoggedIn,
    action: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
) -> Response:
    if action == TenderAction.ACCEPT:
        return _simple(
            request,
            db,
            actor,
            tender_id,
            lambda: project_service.accept(db, actor, tender_id, note),
            "accepted",
        )
    return _simple(
        request,
        db,
        actor,
        tender_id,
        lambda: project_service.return_tender(db, actor, tender_id, note),
        "returned",
    )


@router.post("/staff/tenders/{tender_id}/bookings", response_class=HTMLResponse)
async def book(request: Request, tender_id: str, db: Db, actor: LoggedIn) -> Response:
    raw = await request.form()
    values = {k: v for k, v in raw.items() if isinstance(v, str)}
    branches = [str(b) for b in raw.getlist("branch_room_ids") if str(b)]

    def run() -> None:
        try:
            data = BookingIn(
                purpose=RoomKind(values.get("purpose", "opening")),
                room_id=values.get("room_id", ""),
                starts_at=dt.datetime.fromisoformat(values.get("starts_at", "")),
                ends_at=dt.datetime.fromisoformat(values.get("ends_at", "")),
                section_id=values.get("section_id") or None,
                branch_room_ids=branches,
                note=values.get("note", ""),
            )
        except ValueError:
            raise Conflict("forms.booking", "请选择场地并填写完整的开始、结束时间") from None
        project_service.book_venue(db, actor, tender_id, data)

    return _simple(request, db, actor, tender_id, run, "booked")


# --- notices -------------------------------------------------------------------------------


def _notice_in(values: dict[str, str], raw: Any) -> NoticeIn:
    text = values.get("invitees", "").replace("，", ",").replace("\n", ",")
    codes = [c.strip() for c in text.split(",") if c.strip()]
    return NoticeIn(
        title=values.get("title", ""),
        content=values.get("content", "").strip() or "（无正文）",
        section_ids=[str(s) for s in raw.getlist("section_ids")],
        invitee_credit_codes=codes,
    )


@router.post("/workspace/tenders/{tender_id}/notices", response_class=HTMLResponse)
async def create_notice(request: Request, tender_id: str, db: Db, actor: LoggedIn) -> Response:
    raw = await request.form()
    values = {k: v for k, v in raw.items() if isinstance(v, str)}
    return _simple(
        request,
        db,
        actor,
        tender_id,
        lambda: service.create_notice(db, actor, tender_id, _notice_in(values, raw)),
        "drafted",
    )


def _tender_of_notice(db: Session, actor: Actor, notice_id: str) -> str:
    return queries.get_notice(db, actor, notice_id).tender_project_id


@router.post("/workspace/notices/{notice_id}", response_class=HTMLResponse)
async def update_notice(request: Request, notice_id: str, db: Db, actor: LoggedIn) -> Response:
    raw = await request.form()
    values = {k: v for k, v in raw.items() if isinstance(v, str)}
    tender_id = _tender_of_notice(db, actor, notice_id)
    return _simple(
        request,
        db,
        actor,
        tender_id,
        lambda: service.update_notice(db, actor, notice_id, _notice_in(values, raw)),
        "drafted",
    )


@router.post("/workspace/notices/{notice_id}/publish", response_class=HTMLResponse)
def publish_notice(
    request: Request, notice_id: str, db: Db, actor: LoggedIn, calendar: Calendar
) -> Response:
    tender_id = _tender_of_notice(db, actor, notice_id)
    return _simple(
        request,
        db,
        actor,
        tender_id,
        lambda: service.publish_notice(db, actor, notice_id, calendar),
        "published",
    )


@router.post("/workspace/notices/{notice_id}/clarify", response_class=HTMLResponse)
def clarify(
    request: Request,
    notice_id: str,
    db: Db,
    actor: LoggedIn,
    calendar: Calendar,
    content: Annotated[str, Form()] = "",
    title: Annotated[str, Form()] = "",
    new_deadline: Annotated[str, Form()] = "",
) -> Response:
    tender_id = _tender_of_notice(db, actor, notice_id)

    def run() -> None:
        try:
            when = dt.datetime.fromisoformat(new_deadline) if new_deadline else None
        except ValueError:
            raise Conflict("forms.datetime", "顺延后的投标截止时间格式不正确") from None
        data = ClarificationIn(
            title=title, content=content.strip() or "（无正文）", new_deadline=when
        )
        service.clarify(db, actor, notice_id, data, calendar)

    return _simple(request, db, actor, tender_id, run, "clarified")


@router.post("/workspace/tenders/{tender_id}/terminate", response_class=HTMLResponse)
def terminate(
    request: Request,
    tender_id: str,
    db: Db,
    actor: LoggedIn,
    reason: Annotated[str, Form()] = "",
) -> Response:
    def run() -> None:
        if len(reason.strip()) < 2:
            raise Conflict("notices.terminate.reason", "请填写终止招标的原因")
        service.terminate(db, actor, tender_id, TerminationIn(reason=reason.strip()))

    return _simple(request, db, actor, tender_id, run, "terminated")


# --- bidders and downloads -----------------------------------------------------------------


@router.get("/bidder/notices", response_class=HTMLResponse)
def bidder_notices(request: Request, db: Db, actor: LoggedIn) -> HTMLResponse:
    rows = queries.bidder_notices(db, actor)
    return render(
        request,
        "notices/bidder_notices.html",
        {
            "rows": rows,
            "kind_label": kind_label,
            "categories": {k.value: v for k, v in CATEGORY_LABELS.items()},
            "methods": {k.value: v for k, v in METHOD_LABELS.items()},
        },
    )


@router.get("/bidder/downloads", response_class=HTMLResponse)
def bidder_downloads(request: Request, db: Db, actor: LoggedIn) -> HTMLResponse:
    return render(
        request,
        "notices/bidder_downloads.html",
        {"rows": queries.my_downloads(db, actor), "document_kinds": DOCUMENT_KIND_LABELS},
    )


@router.get("/documents/{document_id}/download")
def download(
    document_id: str, request: Request, db: Db, actor: AnyActor, blobs: Blobs
) -> StreamingResponse:
    return views.fetch_document(db, actor, blobs, document_id, request)
