"""Bidding use cases: opening keys and draw commitments of a section, sealed-bid submission,
withdrawal. Only this module writes bidding tables (house rule 1).

Submission (:func:`receive_bid`) streams the upload into the blob store *outside* any
transaction, verifies the container there (``sealed.verify_structure`` against the section's
published keys), then commits the bid in one short use case (:func:`_commit_bid`) that checks
the deadline against the clock at commit. Any refusal or interruption deletes the blob: no
row, no blob, no bid.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sunlit.identity import queries as identity_queries
from sunlit.kernel import audit, clock
from sunlit.kernel.authz import Actor, Role
from sunlit.kernel.crypto import CryptoError, load_public_key_any
from sunlit.kernel.db import new_id, use_case
from sunlit.kernel.errors import Conflict, InvalidInput, PermissionDenied, not_found
from sunlit.kernel.storage import BlobStore, LocalBlobStore
from sunlit.projects import queries as project_queries
from sunlit.projects.models import Section

from . import queries
from .errors import InvalidBidInput
from .models import Bid, DrawCommitment, OpeningKeyRecord
from .policies import POLICY
from .sealed import ROLES, SectionKeys, verify_structure

ROLE_LABELS = {"tenderer": "招标人（代理）", "center": "交易中心"}


class BidStatus:
    VALID = "valid"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


class DeadlinePassed(Conflict):
    def __init__(self, deadline: dt.datetime) -> None:
        super().__init__(
            "bid.deadline_passed",
            "投标截止时间（{deadline}）已过，不再接收投标文件",
            deadline=clock.ensure_aware(deadline).strftime("%Y-%m-%d %H:%M:%S"),
        )


def _section(db: Session, section_id: str) -> Section:
    section = project_queries.section_by_id(db, section_id)
    if section is None:
        raise not_found("标段")
    return section


def _deadline(section: Section) -> dt.datetime:
    if section.bid_deadline is None:
        raise Conflict("bid.no_deadline", "该标段尚未确定投标截止时间")
    return clock.ensure_aware(section.bid_deadline)


def _masked(actor: Actor) -> Actor:
    """The actor as the public log shows it before the opening: a bidder, nobody in particular."""
    return Actor(auth_method=actor.auth_method, roles=frozenset({Role.BIDDER}))


# --- opening keys and the draw commitment ----------------------------------------------------


@use_case
def register_opening_key(
    db: Session,
    actor: Actor,
    section_id: str,
    role: str,
    public_pem: str,
    encrypted_private_pem: str | None = None,
) -> OpeningKeyRecord:
    """登记开标密钥: the holder's public key and, optionally, its passphrase-encrypted private
    key (generated on the holder's machine by ``sunlit bid keygen``). Only before the notice is
    published (the key ids go into the tender documents) and before the deadline."""
    if role not in ROLES:
        raise InvalidInput(
            "bid.key.role", "角色必须是 tenderer（招标人/代理）或 center（交易中心）"
        )
    section = _section(db, section_id)
    tender = section.tender_project
    if not POLICY.allows(
        actor, "key.register.tenderer" if role == "tenderer" else "key.register.center", tender
    ):
        if not (actor.has(Role.CENTER_STAFF) or project_queries.is_tender_party(actor, tender)):
            raise not_found("标段")
        raise PermissionDenied(
            "bid.key.forbidden", "只有{holder}可以登记本角色的开标密钥", holder=ROLE_LABELS[role]
        )
    if section.status != "draft":
        raise Conflict(
            "bid.key.published",
            "标段公告已发布，不能再登记或更换开标密钥（密钥标识已载明于招标文件，更换须先澄清修改）",
        )
    if section.bid_deadline is not None and clock.now() >= _deadline(section):
        raise Conflict("bid.key.after_deadline", "投标截止时间已过，不能再登记开标密钥")
    try:
        public = load_public_key_any(public_pem)
    except (CryptoError, ValueError):
        raise InvalidBidInput("bad public key", what="开标公钥不是有效的 PEM 公钥") from None
    if encrypted_private_pem is not None:
        text = encrypted_private_pem.strip()
        if not text:
            encrypted_private_pem = None
        elif not text.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----"):
            # Never store a private key in clear, not even for a moment.
            raise InvalidBidInput(
                "unencrypted key", what="开标私钥必须以口令加密保存（ENCRYPTED PRIVATE KEY）"
            )
    others = [k for k in queries.opening_key_records(db, section.id) if k.role != role]
    for other in others:
        if other.suite != public.suite_name:
            raise InvalidBidInput(
                "suite mismatch", what=f"两把开标密钥的密码套件必须相同（已登记 {other.suite}）"
            )
        if other.public_pem.strip() == public.to_pem().decode("ascii").strip():
            raise InvalidBidInput("same key", what="招标人与交易中心的开标公钥不能相同")
    row = db.scalar(
        select(OpeningKeyRecord).where(
            OpeningKeyRecord.section_id == section.id, OpeningKeyRecord.role == role
        )
    )
    if row is None:
        row = OpeningKeyRecord(id=new_id(), section_id=section.id, role=role)
        db.add(row)
    row.suite = public.suite_name
    row.key_id = public.key_id().hex()
    row.public_pem = public.to_pem().decode("ascii")
    row.encrypted_private_pem = encrypted_private_pem
    row.registered_by_org_id = actor.org_id
    row.registered_by = actor.user_id
    row.registered_at = clock.now()
    audit.record(
        db,
        actor,
        "bidding.opening_key.registered",
        "section",
        section.id,
        {
            "section_code": section.code,
            "role": role,
            "suite": row.suite,
            "key_id": row.key_id,
            "custody": encrypted_private_pem is not None,
        },
    )
    return row


@use_case
def register_draw_commitment(
    db: Session, actor: Actor, section_id: str, commitment_hex: str
) -> DrawCommitment:
    """登记系数抽取承诺值: the center's commitment (``draws.CenterSecret.commitment``), after the
    notice fixed the candidate values and before the deadline; it can never be replaced."""
    section = _section(db, section_id)
    POLICY.require(actor, "draw.commit", section)
    if section.status != "published":
        raise Conflict(
            "bid.draw.not_published", "标段公告发布（系数候选值固定）后方可登记抽取承诺值"
        )
    if clock.now() >= _deadline(section):
        raise Conflict("bid.draw.after_deadline", "投标截止时间已过，不能再登记抽取承诺值")
    keys = queries.section_keys(db, section.id)
    if keys is None:
        raise Conflict("bid.keys.missing", "该标段尚未登记两把开标密钥")
    value = commitment_hex.strip().lower()
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise InvalidInput(
            "bid.draw.commitment", "承诺值必须是 32 字节的十六进制串", field="commitment"
        )
    if db.get(DrawCommitment, section.id) is not None:
        raise Conflict("bid.draw.exists", "该标段的抽取承诺值已登记，不能更换")
    row = DrawCommitment(
        section_id=section.id,
        suite=keys.suite,
        commitment=value,
        committed_at=clock.now(),
        registered_by=actor.user_id,
    )
    db.add(row)
    audit.record(
        db,
        actor,
        "bidding.draw.committed",
        "section",
        section.id,
        {"section_code": section.code, "commitment": value, "suite": keys.suite},
    )
    return row


# --- submission ----------------------------------------------------------------------------


def _check_bidder(db: Session, actor: Actor) -> identity_queries.OrgSummary:
    POLICY.require(actor, "bid.submit")
    org = identity_queries.organization_summary(db, actor.org_id) if actor.org_id else None
    if org is None or not org.active:
        raise PermissionDenied("bid.org_inactive", "本单位不是正常状态的市场主体，不能投标")
    return org


def _open_section_for_bids(
    db: Session, section_id: str
) -> tuple[project_queries.SectionGate, SectionKeys]:
    section = project_queries.section_gate(db, section_id)
    if section is None or section.status != "published" or section.tender_status != "tendering":
        raise not_found("标段")
    deadline = _gate_deadline(section)
    if clock.now() >= deadline:
        raise DeadlinePassed(deadline)
    keys = queries.section_keys_of(db, section)
    if keys is None:
        raise Conflict("bid.keys.missing", "该标段尚未登记两把开标密钥，暂不能投标")
    return section, keys


def _gate_deadline(section: project_queries.SectionGate) -> dt.datetime:
    if section.bid_deadline is None:
        raise Conflict("bid.no_deadline", "该标段尚未确定投标截止时间")
    return clock.ensure_aware(section.bid_deadline)


def receive_bid(
    db: Session, actor: Actor, blobs: BlobStore, section_id: str, chunks: Iterable[bytes]
) -> Bid:
    """投标文件上传: stream ``chunks`` into a new blob, verify it, commit the bid.

    Refusals (``bid.*`` from the format, ``bid.deadline_passed``, ``bid.not_own_bid``,
    ``bid.certificate_not_bound``…) and interruptions delete the blob; nothing is stored.

    The reads before and after the body are plain values (no ORM objects that a rollback
    would expire and reload); the commit re-reads the deadline in its own transaction.
    """
    db.rollback()  # start from a fresh read: the checks below see the committed state
    org = _check_bidder(db, actor)
    section, keys = _open_section_for_bids(db, section_id)
    db.rollback()  # hold no transaction (no lock) while the body streams in
    blob_key = f"bids/{section.id}/{new_id()}"
    try:
        blobs.put_stream(blob_key, chunks)
        with blobs.open(blob_key) as fh:
            verified = verify_structure(fh, keys)
        header = verified.header
        if header.bidder_credit_code != org.credit_code:
            raise PermissionDenied(
                "bid.not_own_bid",
                "投标文件中的投标人（{code}）不是本单位，不能代替其他单位投标",
                code=header.bidder_credit_code,
            )
        fingerprint = header.bidder_certificate.fingerprint.hex()
        assert actor.user_id is not None
        bound = identity_queries.active_certificate(db, actor.user_id, fingerprint, clock.now())
        db.rollback()
        if bound is None:
            raise PermissionDenied(
                "bid.certificate_not_bound",
                "投标文件的签名证书不是当前账号已绑定的有效证书（可能已过期、吊销或未绑定）",
            )
        return _commit_bid(
            db,
            actor,
            section_id=section.id,
            org_id=org.id,
            credit_code=org.credit_code,
            header_bid_id=header.bid_id.hex(),
            digest=verified.bid_digest.hex(),
            size=verified.size,
            blob_key=blob_key,
            fingerprint=fingerprint,
        )
    except BaseException:
        blobs.delete(blob_key)
        raise


@use_case
def _commit_bid(
    db: Session,
    actor: Actor,
    *,
    section_id: str,
    org_id: str,
    credit_code: str,
    header_bid_id: str,
    digest: str,
    size: int,
    blob_key: str,
    fingerprint: str,
) -> Bid:
    section = project_queries.section_gate(db, section_id)
    if section is None:
        raise not_found("标段")
    now = clock.now()
    deadline = _gate_deadline(section)
    if now >= deadline:  # house rule 5: checked at commit, to the microsecond
        raise DeadlinePassed(deadline)
    db.execute(
        update(Bid)
        .where(Bid.section_id == section_id, Bid.org_id == org_id, Bid.status == BidStatus.VALID)
        .values(status=BidStatus.SUPERSEDED)
    )
    row = Bid(
        id=new_id(),
        section_id=section_id,
        org_id=org_id,
        user_id=actor.user_id,
        status=BidStatus.VALID,
        header_bid_id=header_bid_id,
        bid_digest=digest,
        size=size,
        blob_key=blob_key,
        certificate_fingerprint=fingerprint,
        submitted_at=now,
        withdrawn_at=None,
        audit_event_id="",
    )
    db.add(row)
    event = audit.record(
        db,
        _masked(actor),
        "bidding.bid.submitted",
        "bid",
        row.id,
        {},
        sealed={
            "section_id": section_id,
            "section_code": section.code,
            "org_id": org_id,
            "credit_code": credit_code,
            "user_id": actor.user_id,
            "bid_digest": digest,
            "size": size,
            "at": now.isoformat(),
        },
        reveal_after=deadline,
    )
    row.audit_event_id = event.id
    try:
        db.flush()
    except IntegrityError:
        raise Conflict("bid.concurrent", "本单位另一份投标文件正在提交，请稍后重试") from None
    return row


@use_case
def withdraw_bid(db: Session, actor: Actor, bid_id: str) -> Bid:
    """撤回投标文件 before the deadline (招标投标法第29条)."""
    row = db.get(Bid, bid_id)
    POLICY.require_visible(actor, "bid.withdraw", row, "投标文件")
    assert row is not None
    section = _section(db, row.section_id)
    deadline = _deadline(section)
    now = clock.now()
    if now >= deadline:
        raise Conflict("bid.withdraw.after_deadline", "投标截止时间已过，不能撤回投标文件")
    if row.status != BidStatus.VALID:
        raise Conflict("bid.withdraw.not_valid", "该投标文件已被替换或撤回")
    row.status = BidStatus.WITHDRAWN
    row.withdrawn_at = now
    audit.record(
        db,
        _masked(actor),
        "bidding.bid.withdrawn",
        "bid",
        row.id,
        {},
        sealed={"section_id": row.section_id, "org_id": row.org_id, "at": now.isoformat()},
        reveal_after=deadline,
    )
    return row


def body_chunks(read: Iterator[bytes]) -> Iterator[bytes]:
    """Pass-through helper that drops empty chunks (ASGI sends a final empty one)."""
    for chunk in read:
        if chunk:
            yield chunk


STALE_UPLOAD_SECONDS = 3600.0


def remove_stale_uploads(blobs: BlobStore, max_age: float = STALE_UPLOAD_SECONDS) -> int:
    """Delete temp files of uploads that never finished (a process killed mid-body leaves its
    ``.tmp-*`` file of :class:`LocalBlobStore` behind); return how many were removed.

    A temp file is never a bid: a bid row is committed only after its blob was renamed into
    place. An upload still streaming touches its temp file continuously, so only files not
    written to for ``max_age`` seconds are removed. S3 spools to an anonymous temp file, which
    the OS removes with the process: nothing to do there.
    """
    if not isinstance(blobs, LocalBlobStore):
        return 0
    bids = blobs.root / "bids"
    if not bids.is_dir():
        return 0
    # File modification times are the operating system's clock, so the cutoff must be too
    # (the trusted clock governs deadlines, not file housekeeping).
    cutoff = time.time() - max_age
    removed = 0
    for path in bids.glob("*/.tmp-*"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # finished or removed by another process meanwhile
            continue
    return removed
