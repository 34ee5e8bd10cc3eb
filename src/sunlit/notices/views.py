"""Shapes shared by the notices API, its pages and the portal: output models, file responses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from sunlit.kernel import clock
from sunlit.kernel.authz import Actor
from sunlit.kernel.errors import NotFound, not_found
from sunlit.kernel.storage import BlobNotFound, BlobStore, iter_file
from sunlit.notices import queries, service
from sunlit.notices.models import Document, Notice
from sunlit.notices.schemas import (
    CoefficientView,
    DocumentOut,
    NoticeDetailOut,
    NoticeOut,
    OpeningOut,
    SectionView,
)
from sunlit.notices.states import kind_label
from sunlit.projects.catalog import evaluation_label

SAFE_INLINE = {"application/pdf"}


def base_url(request: Request) -> str:
    return str(request.app.state.settings.base_url).rstrip("/")


def notice_out(n: Notice, base: str, now: dt.datetime | None = None) -> NoticeOut:
    return NoticeOut(
        id=n.id,
        kind=n.kind,
        kind_label=kind_label(n.kind),
        title=n.title,
        status=n.status,
        public_status=queries.public_status(n, now).value,
        public=n.public,
        tender_project_id=n.tender_project_id,
        tender_project_code=n.tender_project_code,
        tender_project_name=n.tender_project_name,
        category=n.category,
        method=n.method,
        region_code=n.region_code,
        tenderer_name=n.tenderer_name,
        agency_name=n.agency_name,
        section_codes=n.section_codes,
        deadline=n.deadline,
        previous_deadline=n.previous_deadline,
        new_deadline=n.new_deadline,
        published_at=n.published_at,
        modified_at=n.modified_at,
        parent_id=n.parent_id,
        url=f"{base}/notices/{n.id}",
    )


def detail_out(d: queries.NoticeDetail, base: str) -> NoticeDetailOut:
    now = clock.now()
    head = notice_out(d.notice, base, now)
    return NoticeDetailOut(
        **head.model_dump(),
        content=d.notice.content,
        sections=[
            SectionView(
                id=i.section.id,
                code=i.section.code,
                name=i.section.name,
                content=i.section.content,
                qualification=i.section.qualification,
                estimated_price=i.section.estimated_price,
                control_price=i.section.control_price,
                bid_security=i.section.bid_security,
                duration_days=i.section.duration_days,
                bid_validity_days=i.section.bid_validity_days,
                evaluation_method=i.section.evaluation_method,
                evaluation_label=evaluation_label(i.section.evaluation_method),
                bid_deadline=i.section.bid_deadline,
                opening_time=i.section.opening_time,
                opening_places=[queries.place_text(b) for b in i.places],
                min_bidders=i.section.min_bidders,
                allow_consortium=i.section.allow_consortium,
                status=i.section.status,
                coefficients=[
                    CoefficientView(name=c.name, values=c.values) for c in i.section.coefficients
                ],
            )
            for i in d.sections
        ],
        documents=[DocumentOut.model_validate(doc) for doc in d.documents],
        related=[notice_out(n, base, now) for n in d.related],
    )


def opening_out(o: queries.Opening) -> OpeningOut:
    s = o.section
    assert s.bid_deadline is not None
    return OpeningOut(
        section_id=s.id,
        section_code=s.code,
        section_name=s.name,
        tender_project_code=s.tender_project.code,
        tender_project_name=s.tender_project.name,
        category=s.tender_project.category,
        opening_time=s.bid_deadline,
        places=[queries.place_text(b) for b in o.places] or ["网上开标（不见面开标）"],
        notice_id=o.notice_id,
    )


def file_response(blobs: BlobStore, doc: Document) -> StreamingResponse:
    try:
        fh = blobs.open(doc.blob_key)
    except BlobNotFound:
        raise NotFound("notices.document.missing", "文件内容缺失，请联系交易中心") from None
    media = doc.content_type if doc.content_type in SAFE_INLINE else "application/octet-stream"
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(doc.file_name)}",
        "Content-Length": str(doc.size),
        "X-Content-Type-Options": "nosniff",
        "Digest": f"sha-256={doc.sha256}",
        "Cache-Control": "private, no-store",
    }

    def body() -> Iterator[bytes]:
        with fh:
            yield from iter_file(fh)

    return StreamingResponse(body(), media_type=media, headers=headers)


def fetch_document(
    db: Session, actor: Actor, blobs: BlobStore, document_id: str, request: Request
) -> StreamingResponse:
    """Serve a document: issuers, staff and supervisors read it; a public attachment is free;
    anyone else obtains it as a potential bidder (recorded, see service.download_document)."""
    doc = queries.document_for_issuer(db, actor, document_id) or queries.public_attachment(
        db, document_id
    )
    if doc is None:
        doc = service.download_document(
            db,
            actor,
            document_id,
            request.client.host if request.client else None,
            request.headers.get("user-agent", ""),
        )
    if doc is None:
        raise not_found("文件")
    return file_response(blobs, doc)
