"""Notice use cases: tender documents, notices, clarifications, termination, downloads.

Every public function is one transaction with one audit event (``kernel.db.use_case``). Section
and tender-project state changes go through ``projects.service`` steps inside the same
transaction, so a refusal anywhere changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import os
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.identity import queries as identity_queries
from sunlit.kernel import audit, clock
from sunlit.kernel.authz import Actor, Role
from sunlit.kernel.clock import WorkingCalendar
from sunlit.kernel.crypto import CryptoError, InvalidSignature, get_suite, verify_any
from sunlit.kernel.db import new_id, use_case
from sunlit.kernel.errors import (
    Conflict,
    InvalidInput,
    PermissionDenied,
    Unauthenticated,
    not_found,
)
from sunlit.kernel.storage import CHUNK, BlobStore
from sunlit.notices import periods
from sunlit.notices.models import Document, Download, Notice, NoticeInvitee, NoticeSection
from sunlit.notices.policies import POLICY
from sunlit.notices.schemas import ClarificationIn, NoticeIn, TerminationIn
from sunlit.notices.states import (
    AWARD_KINDS,
    KIND_LABELS,
    NOTICE_LIFECYCLE,
    ORIGINAL_KINDS,
    DocumentKind,
    NoticeAction,
    NoticeKind,
    NoticeStatus,
)
from sunlit.projects import queries as project_queries
from sunlit.projects import service as project_service
from sunlit.projects.catalog import Category, Method, minimum_bidders
from sunlit.projects.models import Section, TenderProject
from sunlit.projects.states import TENDER_LIFECYCLE, SectionStatus, TenderStatus

MAX_DOCUMENT_BYTES = 512 * 1024 * 1024
DOCUMENT_MESSAGE_PREFIX = "sunlit-document:v1"
DIGEST_ALGORITHMS = ("sha256", "sm3")
DOWNLOAD_REVEAL_DELAY = dt.timedelta(days=365)


def fmt(value: dt.datetime) -> str:
    return clock.ensure_aware(value).strftime("%Y-%m-%d %H:%M")


def document_message(audience: str, tender_code: str, digest: str) -> bytes:
    """The exact bytes an issuer signs for a document (ADR 0007)::

    sunlit-document:v1\\n<platform origin>\\n<tender project code>\\n<alg>:<hex digest>
    """
    return f"{DOCUMENT_MESSAGE_PREFIX}\n{audience.rstrip('/')}\n{tender_code}\n{digest}".encode()


def _tender_for(db: Session, actor: Actor, tender_id: str, permission: str) -> TenderProject:
    tender = project_queries.get_tender_project(db, actor, tender_id)
    POLICY.require(actor, permission, tender)
    return tender


def _lock(db: Session, tender: TenderProject) -> TenderProject:
    """Take the tender project's row lock (PostgreSQL) for the rest of the transaction."""
    locked = db.get(TenderProject, tender.id, with_for_update=True, populate_existing=True)
    assert locked is not None
    return locked


def _notice(db: Session, actor: Actor, notice_id: str) -> tuple[Notice, TenderProject]:
    """The notice and its tender project, locked in that order: tender project, then notice."""
    notice = db.get(Notice, notice_id)
    if notice is None:
        raise not_found("公告")
    tender = project_queries.tender_by_id(db, notice.tender_project_id)
    if tender is None or not project_queries.can_view_tender(actor, tender):
        raise not_found("公告")
    POLICY.require(actor, "notice.manage", tender)
    tender = _lock(db, tender)
    locked = db.get(Notice, notice_id, with_for_update=True, populate_existing=True)
    assert locked is not None
    return locked, tender


def _notice_transition(
    notice: Notice, action: NoticeAction, actor: Actor, tender: TenderProject
) -> None:
    notice.status = NOTICE_LIFECYCLE.apply(
        NoticeStatus(notice.status),
        action,
        has_permission=lambda p: POLICY.allows(actor, p, tender),
    )


def _touch(notice: Notice) -> None:
    """Move ``modified_at`` strictly forward (the change feed pages on it)."""
    now = clock.now()
    previous = notice.modified_at
    if previous is not None and clock.ensure_aware(previous) >= now:
        now = clock.ensure_aware(previous) + dt.timedelta(microseconds=1)
    notice.modified_at = now


# --- documents -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    file_name: str
    content_type: str
    stream: BinaryIO


def _clean_name(name: str) -> str:
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    base = "".join(c for c in unicodedata.normalize("NFC", base) if c.isprintable())
    if not base or base in (".", ".."):
        raise InvalidInput("notices.document.name", "文件名无效", field="file")
    return base[-200:]


def _hash(stream: BinaryIO) -> tuple[int, str, str]:
    sha, sm3, size = get_suite("intl").hasher(), get_suite("gm").hasher(), 0
    while block := stream.read(CHUNK):
        size += len(block)
        if size > MAX_DOCUMENT_BYTES:
            raise InvalidInput(
                "notices.document.too_large",
                "文件超过{limit}MB，不能上传",
                field="file",
                limit=MAX_DOCUMENT_BYTES // (1024 * 1024),
            )
        sha.update(block)
        sm3.update(block)
    if size == 0:
        raise InvalidInput("notices.document.empty", "文件为空", field="file")
    return size, sha.digest().hex(), sm3.digest().hex()


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    while block := stream.read(CHUNK):
        yield block


@use_case
def upload_document(
    db: Session,
    actor: Actor,
    blobs: BlobStore,
    tender_id: str,
    kind: str,
    upload: Upload,
    signature: str,
    digest_algorithm: str,
    audience: str,
) -> Document:
    """Upload a tender document signed by the issuer with a bound certificate key.

    The issuer signs :func:`document_message` over the file's SHA-256 or SM3 digest; the
    signature must verify with one of the acting user's bound, currently valid certificates.
    """
    tender = _lock(db, _tender_for(db, actor, tender_id, "document.upload"))
    try:
        doc_kind = DocumentKind(kind)
    except ValueError:
        raise InvalidInput(
            "notices.document.kind", "未知的文件类别“{k}”", field="kind", k=kind
        ) from None
    if tender.status == TenderStatus.TERMINATED:
        raise Conflict("notices.tender.terminated", "该招标项目已终止")
    if doc_kind == DocumentKind.CLARIFICATION:
        if not _published_originals(db, tender.id):
            raise Conflict(
                "notices.document.nothing_to_clarify",
                "本项目尚未发布公告，无需上传澄清/修改文件；请上传招标文件",
            )
    elif not tender.sections:
        raise Conflict("notices.document.no_sections", "请先登记标段（包），再上传对应的招标文件")
    elif not any(s.status == SectionStatus.DRAFT for s in tender.sections):
        raise Conflict(
            "notices.document.sections_published",
            "本项目的标段均已随公告发布，招标文件不能再更换；如需修改，请上传澄清/修改文件并发布澄清",
        )
    if digest_algorithm not in DIGEST_ALGORITHMS:
        raise InvalidInput(
            "notices.document.digest_algorithm",
            "摘要算法须为 sha256 或 sm3",
            field="digest_algorithm",
        )
    name = _clean_name(upload.file_name)
    size, sha256, sm3 = _hash(upload.stream)
    try:
        sig = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            "notices.document.signature_encoding", "签名值不是有效的 Base64 编码", field="signature"
        ) from None
    digest = f"{digest_algorithm}:{sha256 if digest_algorithm == 'sha256' else sm3}"
    message = document_message(audience, tender.code, digest)
    assert actor.user_id is not None or actor.auth_method == "system"
    now = clock.now()
    candidates = identity_queries.active_certificate_public_keys(db, actor.user_id or "", now)
    if not candidates:
        raise PermissionDenied(
            "notices.document.no_certificate",
            "您尚未绑定有效的数字证书，不能上传须电子签章的招标文件",
        )
    signer = None
    for cert in candidates:
        try:
            verify_any(cert.public_key, message, sig)
        except (InvalidSignature, CryptoError):
            continue
        signer = cert
        break
    if signer is None:
        raise InvalidInput(
            "notices.document.bad_signature",
            "文件签名验证失败：签名须由您本人已绑定的有效证书对该文件的摘要作出（文件可能已被改动）",
            field="signature",
        )
    doc_id = new_id()
    key = f"notices/{tender.id}/{doc_id}"
    upload.stream.seek(0)
    stored_size, stored_sha = blobs.put_stream(key, _chunks(upload.stream))
    if stored_size != size or stored_sha != sha256:
        blobs.delete(key)
        raise Conflict("notices.document.changed", "文件在上传过程中发生变化，请重新上传")
    doc = Document(
        id=doc_id,
        tender_project_id=tender.id,
        kind=doc_kind.value,
        file_name=name,
        content_type=(upload.content_type or "application/octet-stream")[:100],
        size=size,
        sha256=sha256,
        sm3=sm3,
        blob_key=key,
        signed_digest=digest,
        signed_message=message.decode(),
        signature=sig,
        signer_user_id=actor.user_id,
        signer_name=actor.name,
        signer_org_id=actor.org_id,
        certificate_fingerprint=signer.fingerprint,
        certificate_subject=signer.subject,
        uploaded_at=now,
    )
    db.add(doc)
    audit.record(
        db,
        actor,
        "notices.document.uploaded",
        "tender_document",
        doc.id,
        {
            "tender_project_id": tender.id,
            "kind": doc.kind,
            "file_name": name,
            "size": size,
            "sha256": sha256,
            "sm3": sm3,
            "certificate": signer.fingerprint,
        },
    )
    return doc


# --- notices -------------------------------------------------------------------------------


def _published_originals(db: Session, tender_id: str) -> list[Notice]:
    stmt = select(Notice).where(
        Notice.tender_project_id == tender_id,
        Notice.kind.in_([k.value for k in ORIGINAL_KINDS]),
        Notice.status == NoticeStatus.PUBLISHED,
    )
    return list(db.scalars(stmt))


def original_kind(tender: TenderProject) -> NoticeKind:
    method = Method(tender.method)
    if method == Method.INVITED:
        return NoticeKind.INVITATION
    if method == Method.SINGLE_SOURCE:
        return NoticeKind.SINGLE_SOURCE
    if method == Method.OPEN:
        return NoticeKind.TENDER
    return NoticeKind.PROCUREMENT


def notice_kind_title(kind: NoticeKind, method: str) -> str:
    if kind == NoticeKind.PROCUREMENT:
        return f"{Method(method).label}公告"
    if kind == NoticeKind.TENDER and method == Method.OPEN:
        return "招标公告"
    return KIND_LABELS[kind]


def _party_names(db: Session, tender: TenderProject) -> tuple[str, str]:
    names = project_queries.org_names(db, [tender.tenderer_org_id, tender.agency_org_id])
    return names.get(tender.tenderer_org_id, ""), names.get(tender.agency_org_id or "", "")


def _new_notice(
    db: Session,
    actor: Actor,
    tender: TenderProject,
    kind: NoticeKind,
    title: str,
    content: str,
    sections: list[Section],
    public: bool,
    status: NoticeStatus,
    parent: Notice | None = None,
) -> Notice:
    tenderer, agency = _party_names(db, tender)
    now = clock.now()
    notice = Notice(
        id=new_id(),
        tender_project_id=tender.id,
        parent_id=parent.id if parent else None,
        kind=kind.value,
        title=title.strip() or f"{tender.name}{notice_kind_title(kind, tender.method)}",
        content=content,
        status=status.value,
        public=public,
        tender_project_code=tender.code,
        tender_project_name=tender.name,
        category=tender.category,
        method=tender.method,
        region_code=tender.region_code,
        tenderer_name=tenderer,
        agency_name=agency,
        deadline=max((s.bid_deadline for s in sections if s.bid_deadline), default=None),
        published_at=now if status == NoticeStatus.PUBLISHED else None,
        modified_at=now,
        created_by=actor.user_id,
        created_at=now,
        sections=[NoticeSection(section_id=s.id, section_code=s.code) for s in sections],
    )
    db.add(notice)
    return notice


def _pick_sections(
    tender: TenderProject, ids: list[str], status: SectionStatus, what: str
) -> list[Section]:
    candidates = [s for s in tender.sections if s.status == status]
    if not ids:
        if not candidates:
            raise Conflict("notices.notice.no_sections", "没有可{what}的标段", what=what)
        return candidates
    by_id = {s.id: s for s in tender.sections}
    chosen = []
    for sid in dict.fromkeys(ids):
        s = by_id.get(sid)
        if s is None:
            raise InvalidInput(
                "notices.notice.section_unknown", "所选标段不属于该招标项目", field="section_ids"
            )
        if s.status != status:
            raise Conflict(
                "notices.notice.section_state",
                "标段“{name}”当前状态不能{what}",
                name=s.name,
                what=what,
            )
        chosen.append(s)
    return chosen


def _invitees(db: Session, tender: TenderProject, codes: list[str]) -> list[NoticeInvitee]:
    seen: dict[str, NoticeInvitee] = {}
    for raw in codes:
        org = identity_queries.organization_by_credit_code(db, raw)
        if org is None or not org.active or Role.BIDDER.value not in org.roles:
            raise InvalidInput(
                "notices.invitation.unknown_bidder",
                "统一社会信用代码{code}不是本平台已注册的投标人",
                field="invitee_credit_codes",
                code=(raw or "").strip().upper(),
            )
        if org.id in (tender.tenderer_org_id, tender.agency_org_id):
            raise InvalidInput(
                "notices.invitation.party",
                "不能邀请本项目的招标人或招标代理机构投标",
                field="invitee_credit_codes",
            )
        restriction = project_queries.active_restriction(db, org.id)
        if restriction is not None:
            raise InvalidInput(
                "notices.invitation.restricted",
                "{name}已被{authority}限制参与投标，不能邀请",
                field="invitee_credit_codes",
                name=org.name,
                authority=restriction.authority,
            )
        seen[org.id] = NoticeInvitee(org_id=org.id, org_name=org.name)
    return list(seen.values())


@use_case
def create_notice(db: Session, actor: Actor, tender_id: str, data: NoticeIn) -> Notice:
    """Draft the tender notice (or invitation) of accepted sections."""
    tender = _lock(db, _tender_for(db, actor, tender_id, "notice.manage"))
    if tender.status not in (TenderStatus.ACCEPTED, TenderStatus.TENDERING):
        raise Conflict(
            "notices.notice.not_accepted",
            "招标项目须经交易中心受理后才能编制公告（当前状态：{status}）",
            status=_tender_label(tender),
        )
    kind = original_kind(tender)
    sections = _pick_sections(tender, data.section_ids, SectionStatus.DRAFT, "发布")
    _no_other_draft(db, tender, sections)
    notice = _new_notice(
        db,
        actor,
        tender,
        kind,
        data.title,
        data.content,
        sections,
        public=kind != NoticeKind.INVITATION,
        status=NoticeStatus.DRAFT,
    )
    if kind == NoticeKind.INVITATION:
        notice.invitees = _invitees(db, tender, data.invitee_credit_codes)
    elif data.invitee_credit_codes:
        raise InvalidInput(
            "notices.invitation.not_invited_method",
            "只有邀请招标才能指定受邀投标人",
            field="invitee_credit_codes",
        )
    db.flush()
    audit.record(
        db,
        actor,
        "notices.notice.drafted",
        "notice",
        notice.id,
        {"tender_project_id": tender.id, "kind": notice.kind, "sections": notice.section_codes},
    )
    return notice


def _tender_label(tender: TenderProject) -> str:
    return TENDER_LIFECYCLE.label(TenderStatus(tender.status))


def _no_other_draft(
    db: Session, tender: TenderProject, sections: list[Section], except_id: str | None = None
) -> None:
    ids = {s.id for s in sections}
    for other in db.scalars(
        select(Notice).where(
            Notice.tender_project_id == tender.id, Notice.status == NoticeStatus.DRAFT
        )
    ):
        if other.id != except_id and ids & set(other.section_ids):
            raise Conflict(
                "notices.notice.draft_exists",
                "所选标段已有待发布的公告草稿“{title}”，请直接修改该草稿",
                title=other.title,
            )


@use_case
def update_notice(db: Session, actor: Actor, notice_id: str, data: NoticeIn) -> Notice:
    """Edit a draft notice. A published notice changes only through clarification."""
    notice, tender = _notice(db, actor, notice_id)
    if notice.status == NoticeStatus.PUBLISHED:
        raise Conflict(
            "notices.notice.published_readonly",
            "公告已发布，不能直接修改；如需变更，请发布澄清或修改公告（招标投标法第二十三条）",
        )
    _notice_transition(notice, NoticeAction.EDIT, actor, tender)
    sections = _pick_sections(tender, data.section_ids, SectionStatus.DRAFT, "发布")
    _no_other_draft(db, tender, sections, except_id=notice.id)
    notice.title = data.title.strip() or notice.title
    notice.content = data.content
    notice.sections = [NoticeSection(section_id=s.id, section_code=s.code) for s in sections]
    notice.deadline = max((s.bid_deadline for s in sections if s.bid_deadline), default=None)
    if notice.kind == NoticeKind.INVITATION:
        notice.invitees = _invitees(db, tender, data.invitee_credit_codes)
    _touch(notice)
    audit.record(db, actor, "notices.notice.updated", "notice", notice.id)
    return notice


def _check_period(
    tender: TenderProject, sections: list[Section], calendar: WorkingCalendar
) -> None:
    now = clock.now()
    rule = periods.issuing_period(
        Category(tender.category), Method(tender.method), tender.must_tender
    )
    for s in sections:
        if s.bid_deadline is None:
            raise InvalidInput(
                "projects.section.deadline_missing",
                "标段“{name}”尚未设置投标截止时间",
                name=s.name,
            )
        if s.bid_deadline <= now:
            raise Conflict(
                "notices.publish.deadline_past",
                "标段“{name}”的投标截止时间{deadline}已过，不能发布；请撤回项目修改截止时间后重新提交受理",
                name=s.name,
                deadline=fmt(s.bid_deadline),
            )
        if rule is None:
            continue
        earliest = rule.earliest(now.date(), calendar)
        if clock.ensure_aware(s.bid_deadline).date() < earliest:
            raise Conflict(
                "notices.publish.period_too_short",
                "标段“{name}”：自文件发出之日起至投标截止之日止不得少于{period}（{basis}），"
                "今日发布则投标截止时间最早为{earliest}，当前为{deadline}",
                name=s.name,
                period=rule.text,
                basis=rule.basis,
                earliest=earliest.isoformat(),
                deadline=fmt(s.bid_deadline),
            )


@use_case
def publish_notice(db: Session, actor: Actor, notice_id: str, calendar: WorkingCalendar) -> Notice:
    """发布公告 (or send the invitations): documents are issued and the sections freeze."""
    notice, tender = _notice(db, actor, notice_id)
    if notice.kind not in ORIGINAL_KINDS:
        raise Conflict("notices.notice.not_original", "该公告不能单独发布")
    _notice_transition(notice, NoticeAction.PUBLISH, actor, tender)
    sections = project_queries.sections_by_ids(db, notice.section_ids)
    _check_period(tender, sections, calendar)
    documents = list(
        db.scalars(
            select(Document).where(
                Document.tender_project_id == tender.id,
                Document.notice_id.is_(None),
                Document.kind.in_([DocumentKind.TENDER.value, DocumentKind.ATTACHMENT.value]),
            )
        )
    )
    if notice.kind != NoticeKind.SINGLE_SOURCE and not any(
        d.kind == DocumentKind.TENDER for d in documents
    ):
        raise Conflict(
            "notices.publish.no_documents",
            "发布公告前须上传经电子签章的招标文件（采购文件）",
        )
    if notice.kind == NoticeKind.INVITATION:
        least = minimum_bidders(Method(tender.method))
        if len(notice.invitees) < least:
            raise Conflict(
                "notices.invitation.too_few",
                "邀请招标应当向{least}个以上的潜在投标人发出投标邀请书（招标投标法第十七条），当前为{n}个",
                least=least,
                n=len(notice.invitees),
            )
        for invitee in notice.invitees:  # a restriction may have started since the draft
            if project_queries.active_restriction(db, invitee.org_id) is not None:
                raise Conflict(
                    "notices.invitation.restricted",
                    "{name}已被限制参与投标，不能邀请",
                    name=invitee.org_name,
                )
    project_service.publish_sections(db, actor, tender, sections)
    now = clock.now()
    notice.published_at = now
    notice.deadline = max(s.bid_deadline for s in sections if s.bid_deadline)
    _touch(notice)
    for d in documents:
        d.notice_id = notice.id
    audit.record(
        db,
        actor,
        "notices.notice.published",
        "notice",
        notice.id,
        {
            "tender_project_id": tender.id,
            "kind": notice.kind,
            "public": notice.public,
            "sections": notice.section_codes,
            "deadline": notice.deadline.isoformat() if notice.deadline else None,
            "documents": {d.id: d.sha256 for d in documents},
            "invitees": [i.org_id for i in notice.invitees],
        },
    )
    return notice


def _refresh_deadlines(db: Session, tender: TenderProject) -> None:
    """Recompute the deadline shown on every live notice of the tender project."""
    deadlines = {s.id: s.bid_deadline for s in tender.sections}
    for n in db.scalars(
        select(Notice).where(
            Notice.tender_project_id == tender.id,
            Notice.status == NoticeStatus.PUBLISHED,
            Notice.kind != NoticeKind.TERMINATION,
        )
    ):
        latest = max((d for sid in n.section_ids if (d := deadlines.get(sid))), default=None)
        if latest != n.deadline:
            n.deadline = latest
            _touch(n)


@use_case
def clarify(
    db: Session, actor: Actor, notice_id: str, data: ClarificationIn, calendar: WorkingCalendar
) -> Notice:
    """澄清或修改: published as its own notice; extends the deadline where the law requires."""
    parent, tender = _notice(db, actor, notice_id)
    if parent.kind not in ORIGINAL_KINDS:
        raise Conflict("notices.clarification.parent", "只能对招标公告或投标邀请书发出澄清或修改")
    _notice_transition(parent, NoticeAction.CLARIFY, actor, tender)
    live = {s.id for s in tender.sections if s.status == SectionStatus.PUBLISHED}
    ids = data.section_ids or [i for i in parent.section_ids if i in live]
    if not set(ids) <= set(parent.section_ids):
        raise InvalidInput(
            "notices.notice.section_unknown", "所选标段不属于该公告", field="section_ids"
        )
    sections = _pick_sections(tender, ids, SectionStatus.PUBLISHED, "澄清或修改")
    now = clock.now()
    current = min(clock.ensure_aware(s.bid_deadline) for s in sections if s.bid_deadline)
    if current <= now:
        raise Conflict(
            "notices.clarification.after_deadline",
            "投标截止时间{deadline}已过，不能再发出澄清或修改",
            deadline=fmt(current),
        )
    rule = periods.clarification_lead(Category(tender.category), Method(tender.method))
    earliest = rule.earliest(now.date(), calendar)
    new_deadline = project_service.as_china(data.new_deadline) if data.new_deadline else None
    latest = max(clock.ensure_aware(s.bid_deadline) for s in sections if s.bid_deadline)
    if new_deadline is not None and new_deadline < latest:
        raise InvalidInput(
            "notices.clarification.shorten",
            "澄清或修改只能顺延投标截止时间，不能提前（当前为{deadline}）",
            field="new_deadline",
            deadline=fmt(latest),
        )
    effective = new_deadline or current
    if effective.date() < earliest:
        if new_deadline is None:
            raise Conflict(
                "notices.clarification.extension_required",
                "澄清或修改须在投标截止时间至少{period}前发出（{basis}）；现距截止时间{deadline}不足，"
                "须同时顺延投标截止时间，最早可顺延至{earliest}",
                period=rule.text,
                basis=rule.basis,
                deadline=fmt(current),
                earliest=earliest.isoformat(),
            )
        raise InvalidInput(
            "notices.clarification.extension_too_short",
            "顺延后的投标截止时间{new}仍不满足澄清或修改须在截止前至少{period}发出的规定（{basis}），"
            "最早可顺延至{earliest}",
            field="new_deadline",
            new=fmt(new_deadline),
            period=rule.text,
            basis=rule.basis,
            earliest=earliest.isoformat(),
        )
    if new_deadline is not None and new_deadline == latest:
        new_deadline = None
    project_service.extend_deadlines(db, actor, tender, sections, new_deadline)
    documents = list(
        db.scalars(
            select(Document).where(
                Document.tender_project_id == tender.id,
                Document.notice_id.is_(None),
                Document.kind == DocumentKind.CLARIFICATION,
            )
        )
    )
    notice = _new_notice(
        db,
        actor,
        tender,
        NoticeKind.CLARIFICATION,
        data.title or f"{tender.name}澄清/修改公告",
        data.content,
        sections,
        public=parent.public,
        status=NoticeStatus.PUBLISHED,
        parent=parent,
    )
    if new_deadline is not None:
        notice.previous_deadline = latest
        notice.new_deadline = new_deadline
    notice.invitees = [NoticeInvitee(org_id=i.org_id, org_name=i.org_name) for i in parent.invitees]
    db.flush()  # the notice row first: documents point to it
    for d in documents:
        d.notice_id = notice.id
    _refresh_deadlines(db, tender)
    notice.deadline = max(s.bid_deadline for s in sections if s.bid_deadline)
    _touch(parent)
    audit.record(
        db,
        actor,
        "notices.clarification.published",
        "notice",
        notice.id,
        {
            "parent_id": parent.id,
            "sections": notice.section_codes,
            "previous_deadline": latest.isoformat() if new_deadline else None,
            "new_deadline": new_deadline.isoformat() if new_deadline else None,
            "documents": {d.id: d.sha256 for d in documents},
        },
    )
    return notice


@use_case
def terminate(db: Session, actor: Actor, tender_id: str, data: TerminationIn) -> Notice:
    """招标终止 (招标投标法实施条例第三十一条): sections stop and a termination notice is issued."""
    tender = _lock(db, _tender_for(db, actor, tender_id, "notice.manage"))
    live = [s.id for s in tender.sections if s.status != SectionStatus.TERMINATED]
    ids = data.section_ids or live
    chosen = [s for s in tender.sections if s.id in set(ids)]
    if len(chosen) != len(set(ids)):
        raise InvalidInput(
            "notices.notice.section_unknown", "所选标段不属于该招标项目", field="section_ids"
        )
    if not chosen:
        raise Conflict("notices.notice.no_sections", "没有可{what}的标段", what="终止")
    now = clock.now()
    for s in chosen:
        if s.status == SectionStatus.PUBLISHED and s.bid_deadline and s.bid_deadline <= now:
            raise Conflict(
                "notices.terminate.after_deadline",
                "标段“{name}”已过投标截止时间，须按开标、评标程序处理或依法重新招标，不能在此终止",
                name=s.name,
            )
    whole = project_service.terminate_sections(db, actor, tender, chosen)
    chosen_ids = {s.id for s in chosen}
    affected = [
        n
        for n in db.scalars(
            select(Notice).where(
                Notice.tender_project_id == tender.id,
                Notice.status.in_([NoticeStatus.DRAFT, NoticeStatus.PUBLISHED]),
                Notice.kind != NoticeKind.TERMINATION,
            )
        )
        if set(n.section_ids) & chosen_ids
    ]
    public = any(n.public and n.status == NoticeStatus.PUBLISHED for n in affected)
    parent = next(
        (n for n in affected if n.kind in ORIGINAL_KINDS and n.status == NoticeStatus.PUBLISHED),
        None,
    )
    notice = _new_notice(
        db,
        actor,
        tender,
        NoticeKind.TERMINATION,
        f"{tender.name}终止公告",
        data.reason.strip(),
        chosen,
        public=public,
        status=NoticeStatus.PUBLISHED,
        parent=parent,
    )
    if parent is not None:
        notice.invitees = [
            NoticeInvitee(org_id=i.org_id, org_name=i.org_name) for i in parent.invitees
        ]
    for n in affected:
        if set(n.section_ids) <= chosen_ids | {
            s.id for s in tender.sections if s.status == SectionStatus.TERMINATED
        }:
            _notice_transition(n, NoticeAction.TERMINATE, actor, tender)
            _touch(n)
    db.flush()
    audit.record(
        db,
        actor,
        "notices.tender.terminated",
        "notice",
        notice.id,
        {
            "tender_project_id": tender.id,
            "sections": [s.code for s in chosen],
            "whole": whole,
            "reason": data.reason.strip(),
        },
    )
    return notice


# --- downloads (招标文件获取) ----------------------------------------------------------------


def readable_by_issuer(db: Session, actor: Actor, doc: Document) -> bool:
    tender = project_queries.tender_by_id(db, doc.tender_project_id)
    return tender is not None and POLICY.allows(actor, "document.read", tender)


def _restriction_text(period_end: dt.datetime | None) -> str:
    return f"至{fmt(period_end)}" if period_end else "长期"


@use_case
def download_document(
    db: Session, actor: Actor, document_id: str, ip: str | None, user_agent: str
) -> Document:
    """A potential bidder obtains a tender document (获取招标文件); recorded, never revealed
    to anyone else before the bid deadline."""
    doc = db.get(Document, document_id)
    notice = db.get(Notice, doc.notice_id) if doc is not None and doc.notice_id else None
    if doc is None or notice is None or notice.status == NoticeStatus.DRAFT:
        raise not_found("文件")
    root = db.get(Notice, notice.parent_id) if notice.parent_id else notice
    assert root is not None
    invited = {i.org_id for i in root.invitees}
    if not root.public and actor.org_id not in invited:
        raise not_found("文件")
    if not actor.is_authenticated:
        raise Unauthenticated(
            "notices.download.login_required",
            "获取招标文件须先以已注册的投标人（供应商）身份登录",
        )
    org = identity_queries.organization_summary(db, actor.org_id) if actor.org_id else None
    if (
        org is None
        or not org.active
        or Role.BIDDER.value not in org.roles
        or not POLICY.allows(actor, "document.download", doc)
    ):
        raise PermissionDenied(
            "notices.download.not_registered",
            "仅在本平台注册并经审核的投标人（供应商）可以获取招标文件",
        )
    tender = project_queries.tender_by_id(db, doc.tender_project_id)
    assert tender is not None
    if org.id in (tender.tenderer_org_id, tender.agency_org_id):
        raise PermissionDenied(
            "notices.download.party",
            "本项目的招标人、招标代理机构不得作为投标人获取招标文件",
        )
    restriction = project_queries.active_restriction(db, org.id)
    if restriction is not None:
        raise PermissionDenied(
            "notices.download.restricted",
            "{org}已被{authority}列入限制投标名单{document}（限制期{period}），"
            "不能获取招标文件；如有异议请联系处罚部门",
            org=org.name,
            authority=restriction.authority,
            document=f"（{restriction.document_no}）" if restriction.document_no else "",
            period=_restriction_text(restriction.ends_at),
        )
    if notice.status == NoticeStatus.TERMINATED or tender.status == TenderStatus.TERMINATED:
        raise Conflict("notices.download.terminated", "该招标已终止，不能再获取招标文件")
    sections = project_queries.sections_by_ids(db, notice.section_ids)
    live = [s for s in sections if s.status == SectionStatus.PUBLISHED and s.bid_deadline]
    now = clock.now()
    if not live or max(clock.ensure_aware(s.bid_deadline) for s in live if s.bid_deadline) <= now:
        raise Conflict("notices.download.closed", "投标截止时间已过，不能再获取招标文件")
    if doc.kind == DocumentKind.ATTACHMENT:
        raise InvalidInput("notices.download.public_attachment", "公告附件可直接查看，无需获取")
    deadline = max(clock.ensure_aware(s.bid_deadline) for s in live if s.bid_deadline)
    row = Download(
        id=new_id(),
        document_id=doc.id,
        tender_project_id=tender.id,
        org_id=org.id,
        user_id=actor.user_id,
        downloaded_at=now,
        ip=ip,
        user_agent=(user_agent or "")[:300],
    )
    db.add(row)
    # The log must not tell who or how many downloaded before the deadline: the leaf names
    # neither the organization nor the document; both are sealed until well after it.
    audit.record(
        db,
        Actor(auth_method=actor.auth_method, roles=frozenset({Role.BIDDER})),
        "notices.document.obtained",
        "document_download",
        row.id,
        {},
        sealed={
            "document_id": doc.id,
            "tender_project_id": tender.id,
            "org_id": org.id,
            "user_id": actor.user_id,
            "ip": ip,
            "at": now.isoformat(),
        },
        reveal_after=deadline + DOWNLOAD_REVEAL_DELAY,
    )
    return doc


# --- award notices (a step of the award domain's use cases; no audit event of its own) -----


def publish_award_notice(
    db: Session,
    actor: Actor,
    tender: TenderProject,
    sections: list[Section],
    kind: NoticeKind,
    title: str,
    content: str,
) -> Notice:
    """Publish a 中标候选人公示, 中标结果公告 or 合同公示 on the portal at once.

    The award domain decides when and what; the notice joins the public listing, the Atom
    feed and the change feed like every other notice. Run inside the caller's use case, which
    records the audit event.
    """
    if kind not in AWARD_KINDS:
        raise ValueError(f"not an award notice kind: {kind}")
    parent = db.scalar(
        select(Notice)
        .join(NoticeSection, NoticeSection.notice_id == Notice.id)
        .where(
            NoticeSection.section_id.in_([s.id for s in sections]),
            Notice.kind.in_([k.value for k in ORIGINAL_KINDS]),
            Notice.status == NoticeStatus.PUBLISHED,
        )
        .order_by(Notice.published_at)
        .limit(1)
    )
    notice = _new_notice(
        db,
        actor,
        tender,
        kind,
        title,
        content,
        sections,
        # Public even after an invitation: 依法必须招标 results are published to everyone.
        public=True,
        status=NoticeStatus.PUBLISHED,
        parent=parent,
    )
    notice.deadline = None
    db.flush()
    return notice
