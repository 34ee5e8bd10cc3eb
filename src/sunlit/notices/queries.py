"""Notice reads: the public portal, the change feed, role workspaces.

Visibility rules enforced here:

* public notices (status published or terminated) are visible to everyone; invitations and
  their clarifications only to the invitees and to the tender's parties, center staff and
  supervisors; drafts only to the parties, staff and supervisors;
* downloads (招标文件获取): before the latest bid deadline of a tender project nobody learns
  who or how many obtained its documents, except each bidder its own downloads.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import Session, aliased, defer, lazyload, raiseload, selectinload

from sunlit.kernel import clock
from sunlit.kernel.authz import Actor
from sunlit.kernel.errors import Conflict, InvalidInput, not_found
from sunlit.notices.models import Document, Download, Notice, NoticeInvitee, NoticeSection
from sunlit.notices.policies import POLICY
from sunlit.notices.states import (
    ORIGINAL_KINDS,
    DocumentKind,
    NoticeKind,
    NoticeStatus,
    PublicStatus,
)
from sunlit.projects import queries as project_queries
from sunlit.projects.models import Booking, Section, TenderProject
from sunlit.projects.states import SectionStatus

DEFAULT_SETTLE_SECONDS = 10.0
VISIBLE_STATUSES = (NoticeStatus.PUBLISHED.value, NoticeStatus.TERMINATED.value)
COUNT_CAP = 2_000
"""Listings count at most this many matches: counting 100,000 rows exactly on every page view
costs far more than the page itself, so beyond the cap the portal says "more than 2,000" and
asks for a narrower search (100 pages of 20; docs/performance.md, portal listing)."""


def public_status(notice: Notice, now: dt.datetime | None = None) -> PublicStatus:
    when = now or clock.now()
    if notice.status == NoticeStatus.TERMINATED or notice.kind == NoticeKind.TERMINATION:
        return PublicStatus.TERMINATED
    if notice.deadline is not None and clock.ensure_aware(notice.deadline) <= when:
        return PublicStatus.CLOSED
    return PublicStatus.OPEN


def _public_status_clause(status: PublicStatus, now: dt.datetime, n: Any = Notice):  # type: ignore[no-untyped-def]
    live = and_(n.status == NoticeStatus.PUBLISHED, n.kind != NoticeKind.TERMINATION)
    if status == PublicStatus.OPEN:
        return and_(live, n.deadline > now)
    if status == PublicStatus.CLOSED:
        return and_(live, or_(n.deadline <= now, n.deadline.is_(None)))
    return or_(n.status == NoticeStatus.TERMINATED, n.kind == NoticeKind.TERMINATION)


def _may_see(db: Session, actor: Actor, notice: Notice) -> bool:
    if notice.public and notice.status in VISIBLE_STATUSES:
        return True
    tender = project_queries.tender_by_id(db, notice.tender_project_id)
    if tender is not None and POLICY.allows(actor, "notice.view_draft", tender):
        return True
    if notice.status == NoticeStatus.DRAFT or actor.org_id is None:
        return False
    return any(i.org_id == actor.org_id for i in notice.invitees)


def get_notice(db: Session, actor: Actor, notice_id: str) -> Notice:
    notice = db.get(Notice, notice_id)
    if notice is None or not _may_see(db, actor, notice):
        raise not_found("公告")
    return notice


# --- the public portal ----------------------------------------------------------------------


@dataclass
class NoticeFilter:
    q: str = ""
    category: str = ""
    region: str = ""
    method: str = ""
    kind: str = ""
    status: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def _region_clause(region: str, n: Any = Notice):  # type: ignore[no-untyped-def]
    code = region.strip()
    if not code.isdigit() or len(code) != 6:
        raise InvalidInput(
            "code.region.invalid",
            "行政区划代码“{code}”无效，应为6位数字",
            field="region",
            code=code,
        )
    if code.endswith("0000"):
        return n.region_code.like(code[:2] + "%")
    if code.endswith("00"):
        return n.region_code.like(code[:4] + "%")
    return n.region_code == code


SEARCH_INDEX_MIN = 3
"""The substring index works on trigrams: shorter keywords (and patterns with ``LIKE``
wildcards) are answered by the plain ``LIKE`` scan."""


def like_match(q: str, n: Any = Notice):  # type: ignore[no-untyped-def]
    """The portal's keyword semantics: ``q`` as a ``LIKE '%q%'`` substring of the title, the
    tender project code or the tenderer's name (on SQLite ASCII letters match either case,
    on PostgreSQL case counts, as ``LIKE`` does on each)."""
    like = f"%{q}%"
    return or_(
        n.title.like(like),
        n.tender_project_code.like(like),
        n.tenderer_name.like(like),
    )


def _fts_phrase(q: str) -> str:
    return '"' + q.replace('"', '""') + '"'


def text_candidates(db: Session, q: str) -> list[str] | None:
    """The notices that may contain ``q`` according to the substring index, or None when the
    index cannot answer (fewer than :data:`SEARCH_INDEX_MIN` characters, ``LIKE`` wildcards)
    or when more than :data:`COUNT_CAP` notices match (then the keyword is common, and the
    listing-order scan with ``LIKE`` fills a page at once).

    SQLite: the FTS5 trigram table ``notices_fts`` (migration 71aea57d5cfc). Its match folds
    case at least as widely as ``LIKE`` does, so the candidates are a superset of the ``LIKE``
    matches; callers re-check them with :func:`like_match`. PostgreSQL: :func:`like_match`
    itself, which the GIN trigram indexes serve; asked without an order, the planner picks
    the index for a rare keyword and a scan that stops early for a common one, where an
    ordered, limited page query can misjudge a rare keyword and walk the listing index to the
    end (120 ms seen at 100,000 notices, against 0.1 ms through the index).
    """
    if len(q) < SEARCH_INDEX_MIN or "%" in q or "_" in q:
        return None
    if db.get_bind().dialect.name == "sqlite":
        found = list(
            db.scalars(
                text(
                    "SELECT notice_id FROM notices_fts WHERE notices_fts MATCH :phrase LIMIT :cap"
                ).bindparams(phrase=_fts_phrase(q), cap=COUNT_CAP + 1)
            )
        )
    else:
        found = list(db.scalars(select(Notice.id).where(like_match(q)).limit(COUNT_CAP + 1)))
    return found if len(found) <= COUNT_CAP else None


def _searched(db: Session, q: str) -> Any:
    """What the listing reads from: the notices table, or only the index's candidates for
    ``q``. The candidates sit in a subquery with a LIMIT, which neither database flattens or
    pushes the outer filters into, so they are looked up by primary key instead of walking
    the listing index in date order until it happens upon them."""
    candidates = text_candidates(db, q) if q else None
    if candidates is None:
        return Notice
    subquery = (
        select(Notice).where(Notice.id.in_(candidates)).limit(COUNT_CAP + 1).subquery("found")
    )
    return aliased(Notice, subquery)


def search_public(
    db: Session,
    f: NoticeFilter,
    limit: int = 20,
    offset: int = 0,
    *,
    with_sections: bool = True,
) -> tuple[list[Notice], int]:
    """公告查询: public notices with search, filters and pagination, newest first.

    ``total`` is exact up to :data:`COUNT_CAP` and ``COUNT_CAP + 1`` beyond it. The keyword
    ``q`` matches as :func:`like_match` says, served by the substring index (SQLite FTS5
    trigram, PostgreSQL pg_trgm) where it can.

    A listing shows neither a notice's body nor its invitees: those are not read (they load on
    access). ``with_sections=False`` leaves out the section codes too (the portal's table has
    no column for them); touching them then raises instead of querying row by row.
    """
    now = clock.now()
    q = f.q.strip()
    n = _searched(db, q)
    stmt = select(n).where(n.public.is_(True), n.status.in_(VISIBLE_STATUSES))
    if q:
        stmt = stmt.where(like_match(q, n))
    if f.category:
        stmt = stmt.where(n.category == f.category)
    if f.region:
        stmt = stmt.where(_region_clause(f.region, n))
    if f.method:
        stmt = stmt.where(n.method == f.method)
    if f.kind:
        stmt = stmt.where(n.kind == f.kind)
    if f.status:
        try:
            status = PublicStatus(f.status)
        except ValueError:
            raise InvalidInput("notices.filter.status", "未知的公告状态", field="status") from None
        stmt = stmt.where(_public_status_clause(status, now, n))
    if f.date_from:
        start = dt.datetime.combine(f.date_from, dt.time(), clock.CHINA_TZ)
        stmt = stmt.where(n.published_at >= start)
    if f.date_to:
        end = dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time(), clock.CHINA_TZ)
        stmt = stmt.where(n.published_at < end)
    if offset >= COUNT_CAP:
        raise InvalidInput(
            "notices.filter.too_deep",
            "查询结果超过{cap}条，请增加筛选条件后再查看更后面的页",
            field="page",
            cap=COUNT_CAP,
        )
    capped = stmt.with_only_columns(n.id).limit(COUNT_CAP + 1).subquery()
    total = db.scalar(select(func.count()).select_from(capped)) or 0
    # Both keys descending, so the (public, published_at, id) index is read backwards in order
    # and the page stops after ``limit`` rows instead of sorting every match.
    options = [
        defer(n.content),
        lazyload(n.invitees),
        selectinload(n.sections) if with_sections else raiseload(n.sections),
    ]
    rows = db.scalars(
        stmt.options(*options)
        .order_by(n.published_at.desc(), n.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


@dataclass
class SectionInfo:
    section: Section
    places: list[Booking] = field(default_factory=list)


@dataclass
class NoticeDetail:
    notice: Notice
    sections: list[SectionInfo]
    documents: list[Document]
    related: list[Notice]
    parent: Notice | None


def notice_detail(db: Session, actor: Actor, notice_id: str) -> NoticeDetail:
    notice = get_notice(db, actor, notice_id)
    sections = project_queries.sections_by_ids(db, notice.section_ids)
    places = project_queries.opening_places(db, [s.id for s in sections])
    documents = list(
        db.scalars(
            select(Document).where(Document.notice_id == notice.id).order_by(Document.uploaded_at)
        )
    )
    root_id = notice.parent_id or notice.id
    related = [
        n
        for n in db.scalars(
            select(Notice)
            .where(
                or_(Notice.parent_id == root_id, Notice.id == root_id),
                Notice.id != notice.id,
                Notice.status != NoticeStatus.DRAFT,
            )
            .order_by(Notice.published_at)
        )
        if _may_see(db, actor, n)
    ]
    parent = db.get(Notice, notice.parent_id) if notice.parent_id else None
    return NoticeDetail(
        notice,
        [SectionInfo(s, places.get(s.id, [])) for s in sections],
        documents,
        related,
        parent if parent is not None and _may_see(db, actor, parent) else None,
    )


def place_text(booking: Booking) -> str:
    text = f"{booking.room.center_name}{booking.room.name}"
    return f"{text}（远程分会场）" if booking.is_branch else text


@dataclass
class Opening:
    section: Section
    notice_id: str
    places: list[Booking]


def upcoming_openings(db: Session, days: int = 30) -> list[Opening]:
    """开标日程: sections of public notices whose opening falls in the next ``days`` days."""
    now = clock.now()
    end = now + dt.timedelta(days=days)
    stmt = (
        select(Section, Notice.id)
        .join(NoticeSection, NoticeSection.section_id == Section.id)
        .join(Notice, Notice.id == NoticeSection.notice_id)
        .where(
            Notice.public.is_(True),
            Notice.status == NoticeStatus.PUBLISHED,
            Notice.kind.in_([k.value for k in ORIGINAL_KINDS]),
            Section.status == SectionStatus.PUBLISHED,
            Section.bid_deadline > now,
            Section.bid_deadline <= end,
        )
        .order_by(Section.bid_deadline, Section.code)
    )
    rows = list(db.execute(stmt))
    places = project_queries.opening_places(db, [s.id for s, _ in rows])
    return [Opening(s, nid, places.get(s.id, [])) for s, nid in rows]


# --- the change feed -----------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    modified_at: dt.datetime
    id: str

    def encode(self) -> str:
        stamp = clock.ensure_aware(self.modified_at).astimezone(dt.UTC)
        raw = f"{stamp.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}|{self.id}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            stamp, ident = raw.split("|", 1)
            when = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise InvalidInput(
                "notices.feed.cursor", "游标（after/before 参数）无效", field="after"
            ) from None
        if not ident.isalnum() or len(ident) > 32:
            raise InvalidInput(
                "notices.feed.cursor", "游标（after/before 参数）无效", field="after"
            )
        return cls(when, ident)


@dataclass
class FeedSlice:
    items: list[Notice]
    next_cursor: str | None
    has_more: bool


def _feed_base(settle_seconds: float):  # type: ignore[no-untyped-def]
    horizon = clock.now() - dt.timedelta(seconds=settle_seconds)
    return select(Notice).where(
        Notice.public.is_(True),
        Notice.status.in_(VISIBLE_STATUSES),
        Notice.modified_at <= horizon,
    )


def change_feed(
    db: Session,
    after: str | None = None,
    limit: int = 100,
    settle_seconds: float = DEFAULT_SETTLE_SECONDS,
) -> FeedSlice:
    """Public notices in (modified_at, id) order after ``after``; see docs/spec/change-feed.md.

    Only rows modified at least ``settle_seconds`` ago are served. A transaction takes its
    ``modified_at`` from the clock before it commits, so rows may become visible out of order;
    every transaction commits well within the settling delay, so once a time is older than the
    delay no row with that time can still appear, and the cursor never skips one.
    """
    stmt = _feed_base(settle_seconds)
    if after:
        c = Cursor.decode(after)
        stmt = stmt.where(
            or_(
                Notice.modified_at > c.modified_at,
                and_(Notice.modified_at == c.modified_at, Notice.id > c.id),
            )
        )
    rows = list(db.scalars(stmt.order_by(Notice.modified_at, Notice.id).limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    cursor = Cursor(rows[-1].modified_at, rows[-1].id).encode() if rows else after
    return FeedSlice(rows, cursor, has_more)


def recent_changes(
    db: Session,
    before: str | None = None,
    limit: int = 50,
    settle_seconds: float = DEFAULT_SETTLE_SECONDS,
) -> FeedSlice:
    """The same rows newest first (the Atom feed); ``next_cursor`` pages to older entries."""
    stmt = _feed_base(settle_seconds)
    if before:
        c = Cursor.decode(before)
        stmt = stmt.where(
            or_(
                Notice.modified_at < c.modified_at,
                and_(Notice.modified_at == c.modified_at, Notice.id < c.id),
            )
        )
    rows = list(
        db.scalars(stmt.order_by(Notice.modified_at.desc(), Notice.id.desc()).limit(limit + 1))
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    cursor = Cursor(rows[-1].modified_at, rows[-1].id).encode() if rows and has_more else None
    return FeedSlice(rows, cursor, has_more)


# --- workspaces ----------------------------------------------------------------------------


def notices_of_tender(db: Session, actor: Actor, tender_id: str) -> list[Notice]:
    tender = project_queries.get_tender_project(db, actor, tender_id)
    stmt = select(Notice).where(Notice.tender_project_id == tender.id)
    return list(db.scalars(stmt.order_by(Notice.created_at, Notice.id)))


def documents_of_tender(db: Session, actor: Actor, tender_id: str) -> list[Document]:
    """The issuer's view of its documents (never with download counts)."""
    tender = project_queries.get_tender_project(db, actor, tender_id)
    POLICY.require(actor, "document.read", tender)
    stmt = select(Document).where(Document.tender_project_id == tender.id)
    return list(db.scalars(stmt.order_by(Document.uploaded_at, Document.id)))


def document_for_issuer(db: Session, actor: Actor, document_id: str) -> Document | None:
    """The document if the actor is its issuer, center staff or a supervisor, else None."""
    doc = db.get(Document, document_id)
    if doc is None:
        return None
    tender = project_queries.tender_by_id(db, doc.tender_project_id)
    if tender is None or not POLICY.allows(actor, "document.read", tender):
        return None
    return doc


def public_attachment(db: Session, document_id: str) -> Document | None:
    """A published attachment of a public notice: anyone may read it."""
    doc = db.get(Document, document_id)
    if doc is None or doc.kind != DocumentKind.ATTACHMENT or doc.notice_id is None:
        return None
    notice = db.get(Notice, doc.notice_id)
    if notice is None or not notice.public or notice.status not in VISIBLE_STATUSES:
        return None
    return doc


@dataclass
class BidderNotice:
    notice: Notice
    obtained: bool


def bidder_notices(db: Session, actor: Actor) -> list[BidderNotice]:
    """Notices the actor's organization can respond to: open public notices and invitations."""
    POLICY.require(actor, "downloads.view_own")
    now = clock.now()
    invited = select(NoticeInvitee.notice_id).where(NoticeInvitee.org_id == actor.org_id)
    stmt = select(Notice).where(
        Notice.kind.in_([k.value for k in ORIGINAL_KINDS]),
        Notice.status == NoticeStatus.PUBLISHED,
        Notice.deadline > now,
        or_(Notice.public.is_(True), Notice.id.in_(invited)),
    )
    rows = list(db.scalars(stmt.order_by(Notice.deadline, Notice.id)))
    mine = set(
        db.scalars(select(Download.tender_project_id).where(Download.org_id == actor.org_id))
    )
    return [
        BidderNotice(n, n.tender_project_id in mine)
        for n in rows
        if n.tender_project_id and not _is_party_org(db, actor.org_id, n.tender_project_id)
    ]


def _is_party_org(db: Session, org_id: str | None, tender_id: str) -> bool:
    tender = project_queries.tender_by_id(db, tender_id)
    return tender is not None and org_id in (tender.tenderer_org_id, tender.agency_org_id)


@dataclass
class DownloadRow:
    download: Download
    document: Document
    tender: TenderProject
    org_name: str


def my_downloads(db: Session, actor: Actor) -> list[DownloadRow]:
    """A bidder's own downloads (always visible to that bidder)."""
    POLICY.require(actor, "downloads.view_own")
    stmt = (
        select(Download, Document, TenderProject)
        .join(Document, Document.id == Download.document_id)
        .join(TenderProject, TenderProject.id == Download.tender_project_id)
        .where(Download.org_id == actor.org_id)
        .order_by(Download.downloaded_at.desc(), Download.id)
    )
    return [DownloadRow(d, doc, t, actor.org_name) for d, doc, t in db.execute(stmt)]


def downloads_sealed_until(db: Session, tender: TenderProject) -> dt.datetime | None:
    """Until when the downloads of ``tender`` stay secret: its latest published deadline."""
    deadlines = [
        clock.ensure_aware(s.bid_deadline)
        for s in tender.sections
        if s.bid_deadline is not None and s.status != SectionStatus.DRAFT
    ]
    return max(deadlines) if deadlines else None


def downloads_of_tender(db: Session, actor: Actor, tender_id: str) -> list[DownloadRow]:
    """Who obtained the documents: for the parties, staff and supervisors, after the deadline."""
    tender = project_queries.get_tender_project(db, actor, tender_id)
    POLICY.require(actor, "downloads.view", tender)
    until = downloads_sealed_until(db, tender)
    if until is None or clock.now() < until:
        raise Conflict(
            "notices.downloads.sealed",
            "投标截止时间{deadline}前，任何人不得知悉获取招标文件的潜在投标人名称和数量",
            deadline=until.strftime("%Y-%m-%d %H:%M") if until else "（未发布）",
        )
    stmt = (
        select(Download, Document, TenderProject)
        .join(Document, Document.id == Download.document_id)
        .join(TenderProject, TenderProject.id == Download.tender_project_id)
        .where(Download.tender_project_id == tender.id)
        .order_by(Download.downloaded_at, Download.id)
    )
    rows = list(db.execute(stmt))
    names = project_queries.org_names(db, [d.org_id for d, _, _ in rows])
    return [DownloadRow(d, doc, t, names.get(d.org_id, "")) for d, doc, t in rows]


def has_obtained_documents(db: Session, org_id: str, section_id: str) -> bool:
    """Whether ``org_id`` obtained the tender documents of the notice covering ``section_id``
    (for the bidding domain; answers only about the asking organization)."""
    stmt = (
        select(Download.id)
        .join(Document, Document.id == Download.document_id)
        .join(NoticeSection, NoticeSection.notice_id == Document.notice_id)
        .where(Download.org_id == org_id, NoticeSection.section_id == section_id)
        .limit(1)
    )
    return db.scalar(stmt) is not None
