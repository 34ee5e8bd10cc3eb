"""Notices JSON API under /api/v1: documents, notices, clarifications, downloads, change feed."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from sunlit.kernel import clock
from sunlit.kernel.authz import Actor
from sunlit.kernel.storage import BlobStore
from sunlit.kernel.web import current_actor, get_db, require_actor
from sunlit.notices import queries, service, views
from sunlit.notices.schemas import (
    ClarificationIn,
    DocumentOut,
    DownloadOut,
    FeedPage,
    NoticeDetailOut,
    NoticeIn,
    NoticeOut,
    OpeningOut,
    TerminationIn,
)
from sunlit.projects.api import Calendar

router = APIRouter(prefix="/api/v1", tags=["notices 公告与招标文件"])

Db = Annotated[Session, Depends(get_db)]
AnyActor = Annotated[Actor, Depends(current_actor)]
LoggedIn = Annotated[Actor, Depends(require_actor)]


def blob_store(request: Request) -> BlobStore:
    store: BlobStore = request.app.state.blobs
    return store


Blobs = Annotated[BlobStore, Depends(blob_store)]


def settle_seconds(request: Request) -> float:
    return float(request.app.state.settings.feed_settle_seconds)


# --- documents -----------------------------------------------------------------------------


@router.post(
    "/tender-projects/{tender_id}/documents",
    response_model=DocumentOut,
    status_code=201,
    summary="上传招标文件（须附发布方证书签名）",
    description=(
        "multipart/form-data：file 文件；signature 为对以下原文的签名（Base64 DER）："
        "`sunlit-document:v1\\n<平台地址>\\n<招标项目编号>\\n<sha256|sm3>:<文件摘要hex>`，"
        "须由上传人已绑定的有效证书作出；digest_algorithm 为 sha256（默认）或 sm3；"
        "kind 为 tender_document、clarification_document 或 attachment。"
    ),
)
def upload_document(
    tender_id: str,
    request: Request,
    db: Db,
    actor: LoggedIn,
    blobs: Blobs,
    file: Annotated[UploadFile, File(description="文件")],
    signature: Annotated[str, Form(description="Base64 DER 签名")],
    kind: Annotated[str, Form()] = "tender_document",
    digest_algorithm: Annotated[str, Form()] = "sha256",
) -> DocumentOut:
    doc = service.upload_document(
        db,
        actor,
        blobs,
        tender_id,
        kind,
        service.Upload(file.filename or "", file.content_type or "", file.file),
        signature,
        digest_algorithm,
        views.base_url(request),
    )
    return DocumentOut.model_validate(doc)


@router.get("/tender-projects/{tender_id}/documents", response_model=list[DocumentOut])
def list_documents(tender_id: str, db: Db, actor: LoggedIn) -> list[DocumentOut]:
    return [
        DocumentOut.model_validate(d) for d in queries.documents_of_tender(db, actor, tender_id)
    ]


@router.get(
    "/documents/{document_id}/download",
    summary="获取招标文件（投标人获取时留痕；截止前不向任何人公开获取情况）",
    response_class=StreamingResponse,
)
def download(
    document_id: str, request: Request, db: Db, actor: AnyActor, blobs: Blobs
) -> StreamingResponse:
    return views.fetch_document(db, actor, blobs, document_id, request)


@router.get("/me/downloads", response_model=list[DownloadOut], summary="我获取的招标文件")
def my_downloads(db: Db, actor: LoggedIn) -> list[DownloadOut]:
    return [_download_out(r) for r in queries.my_downloads(db, actor)]


@router.get(
    "/tender-projects/{tender_id}/downloads",
    response_model=list[DownloadOut],
    summary="招标文件获取记录（投标截止后方可查看）",
)
def tender_downloads(tender_id: str, db: Db, actor: LoggedIn) -> list[DownloadOut]:
    return [_download_out(r) for r in queries.downloads_of_tender(db, actor, tender_id)]


def _download_out(r: queries.DownloadRow) -> DownloadOut:
    return DownloadOut(
        id=r.download.id,
        document_id=r.document.id,
        file_name=r.document.file_name,
        tender_project_code=r.tender.code,
        tender_project_name=r.tender.name,
        org_id=r.download.org_id,
        org_name=r.org_name,
        downloaded_at=r.download.downloaded_at,
    )


# --- notices -------------------------------------------------------------------------------


@router.post(
    "/tender-projects/{tender_id}/notices",
    response_model=NoticeOut,
    status_code=201,
    summary="编制公告或投标邀请书（草稿）",
)
def create_notice(
    tender_id: str, data: NoticeIn, request: Request, db: Db, actor: LoggedIn
) -> NoticeOut:
    notice = service.create_notice(db, actor, tender_id, data)
    return views.notice_out(notice, views.base_url(request))


@router.get("/tender-projects/{tender_id}/notices", response_model=list[NoticeOut])
def tender_notices(tender_id: str, request: Request, db: Db, actor: LoggedIn) -> list[NoticeOut]:
    base = views.base_url(request)
    return [views.notice_out(n, base) for n in queries.notices_of_tender(db, actor, tender_id)]


@router.put("/notices/{notice_id}", response_model=NoticeOut, summary="修改公告草稿")
def update_notice(
    notice_id: str, data: NoticeIn, request: Request, db: Db, actor: LoggedIn
) -> NoticeOut:
    notice = service.update_notice(db, actor, notice_id, data)
    return views.notice_out(notice, views.base_url(request))


@router.post("/notices/{notice_id}/publish", response_model=NoticeOut, summary="发布公告")
def publish_notice(
    notice_id: str, request: Request, db: Db, actor: LoggedIn, calendar: Calendar
) -> NoticeOut:
    notice = service.publish_notice(db, actor, notice_id, calendar)
    return views.notice_out(notice, views.base_url(request))


@router.post(
    "/notices/{notice_id}/clarifications",
    response_model=NoticeOut,
    status_code=201,
    summary="发布澄清或修改（不足法定期限时须顺延投标截止时间）",
)
def clarify(
    notice_id: str,
    data: ClarificationIn,
    request: Request,
    db: Db,
    actor: LoggedIn,
    calendar: Calendar,
) -> NoticeOut:
    notice = service.clarify(db, actor, notice_id, data, calendar)
    return views.notice_out(notice, views.base_url(request))


@router.post(
    "/tender-projects/{tender_id}/terminate",
    response_model=NoticeOut,
    status_code=201,
    summary="终止招标并发布终止公告",
)
def terminate(
    tender_id: str, data: TerminationIn, request: Request, db: Db, actor: LoggedIn
) -> NoticeOut:
    notice = service.terminate(db, actor, tender_id, data)
    return views.notice_out(notice, views.base_url(request))


# --- public --------------------------------------------------------------------------------


@router.get("/notices", response_model=list[NoticeOut], summary="公告查询（公开）")
def search_notices(
    request: Request,
    db: Db,
    response: Response,
    q: str = "",
    category: str = "",
    region: str = "",
    method: str = "",
    kind: str = "",
    status: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[NoticeOut]:
    f = queries.NoticeFilter(q, category, region, method, kind, status, date_from, date_to)
    rows, total = queries.search_public(db, f, limit, offset)
    # Exact up to COUNT_CAP; beyond it the header says so instead of counting every row.
    response.headers["X-Total-Count"] = str(min(total, queries.COUNT_CAP))
    response.headers["X-Total-Count-Exact"] = "true" if total <= queries.COUNT_CAP else "false"
    base, now = views.base_url(request), clock.now()
    return [views.notice_out(n, base, now) for n in rows]


@router.get("/notices/{notice_id}", response_model=NoticeDetailOut, summary="公告详情")
def notice_detail(notice_id: str, request: Request, db: Db, actor: AnyActor) -> NoticeDetailOut:
    return views.detail_out(queries.notice_detail(db, actor, notice_id), views.base_url(request))


@router.get("/openings", response_model=list[OpeningOut], summary="开标日程（公开）")
def openings(db: Db, days: Annotated[int, Query(ge=1, le=366)] = 30) -> list[OpeningOut]:
    return [views.opening_out(o) for o in queries.upcoming_openings(db, days)]


@router.get(
    "/feed/notices",
    response_model=FeedPage,
    summary="公告变更订阅（供其他平台增量同步）",
    description="按 (modified_at, id) 升序分页；见 docs/spec/change-feed.md。",
)
def change_feed(
    request: Request,
    db: Db,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> FeedPage:
    settle = settle_seconds(request)
    page = queries.change_feed(db, after, limit, settle)
    base, now = views.base_url(request), clock.now()
    return FeedPage(
        items=[views.notice_out(n, base, now) for n in page.items],
        next_cursor=page.next_cursor,
        has_more=page.has_more,
        settle_seconds=settle,
    )
