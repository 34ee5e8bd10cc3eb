"""Opening use cases (开标). Only this module writes opening tables.

The two collective decryptions: each holder (the tenderer or its agency, then the center)
submits its passphrase once. The server unlocks the holder's passphrase-encrypted opening key
in memory only, only from the opening time on, through the custody interface
(``bidding.opening_keys.TimeLockedCustody``), computes that holder's share of every bid's
summary and files, and drops the key when the use case returns. When both shares of every bid
are in, the platform combines them, opens each 唱标 summary and announces it.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.bidding import queries as bidding_queries
from sunlit.bidding.errors import BidError, Inconsistent, WrongShare
from sunlit.bidding.opening_keys import TimeLockedCustody, unlock_opening_key
from sunlit.bidding.sealed import (
    PARTS,
    ROLES,
    OpenedSummary,
    SealedHeader,
    Share,
    check_part_key,
    combine,
    inspect,
    open_summary,
)
from sunlit.draws import (
    BidderContribution,
    CenterSecret,
    Parameter,
    SupervisorContribution,
    coefficient_definition,
    run_draw,
)
from sunlit.draws.records import timestamp
from sunlit.identity import queries as identity_queries
from sunlit.kernel import audit, clock, realtime
from sunlit.kernel.authz import Actor, system_actor
from sunlit.kernel.crypto import PrivateKey, get_suite, load_public_key_any
from sunlit.kernel.db import after_commit, new_id, use_case
from sunlit.kernel.errors import Conflict, InvalidInput, PermissionDenied, not_found
from sunlit.kernel.storage import BlobStore
from sunlit.projects import queries as project_queries
from sunlit.projects.models import Section
from sunlit.transparency import keys as platform_keys
from sunlit.transparency import service as transparency_service

from . import securities as bid_securities
from .models import (
    OpenedBid,
    OpeningConfirmation,
    OpeningObjection,
    OpeningSession,
    OpeningSignIn,
)
from .policies import POLICY
from .record import build_record, sign_record
from .states import LIFECYCLE, OpeningAction, OpeningStatus

REMEDY_WINDOW: Final = dt.timedelta(minutes=30)
# Bidders confirm the announced results (确认无误) or object within this window after 唱标;
# silence until it closes counts as confirmation (视为认可).
CONFIRM_WINDOW: Final = dt.timedelta(minutes=30)
# A remedied bid announces its price late: bidders get at least this long to react to it.
REMEDY_CONFIRM_GRACE: Final = dt.timedelta(minutes=10)
MIN_BIDDERS: Final = 3
OBJECTION_MAX: Final = 2000


def _section(db: Session, section_id: str) -> Section:
    section = project_queries.section_by_id(db, section_id)
    if section is None or section.status != "published":
        raise not_found("标段")
    return section


def _opening_time(section: Section) -> dt.datetime:
    if section.opening_time is None:
        raise Conflict("opening.no_time", "该标段尚未确定开标时间")
    return clock.ensure_aware(section.opening_time)


def _session(db: Session, section_id: str) -> OpeningSession | None:
    return db.scalar(select(OpeningSession).where(OpeningSession.section_id == section_id))


def _load(db: Session, section_id: str) -> tuple[OpeningSession, Section]:
    section = _section(db, section_id)
    row = _session(db, section.id)
    if row is None:
        raise Conflict("opening.not_started", "该标段尚未开标")
    return row, section


def _apply(row: OpeningSession, action: OpeningAction, actor: Actor, section: Section) -> None:
    row.status = LIFECYCLE.apply(
        OpeningStatus(row.status),
        action,
        has_permission=lambda p: POLICY.allows(actor, p, section.tender_project),
    )


def _checkpoint(reason: str) -> Callable[[Session], None]:
    def issue(db: Session) -> None:
        # Conflict: the log did not grow since the last checkpoint, which covers it then.
        with contextlib.suppress(Conflict):
            transparency_service.issue_checkpoint(db, system_actor("opening"), reason)

    return issue


def topic(section_id: str) -> str:
    """The live-update topic of a section's opening hall."""
    return f"opening:{section_id}"


def _notify(db: Session, row: OpeningSession, kind: str, **extra: Any) -> None:
    """Publish a small public event once the use case has committed (never secrets)."""
    event = {"type": kind, "section": row.section_id, "state": str(row.status), **extra}
    name = topic(row.section_id)
    bind = db.get_bind()

    def send() -> None:
        realtime.publish(name, event, bind=bind)

    after_commit(db, send)


# --- deadline and start --------------------------------------------------------------------


@use_case
def _schedule(db: Session, actor: Actor, section_id: str) -> OpeningSession:
    section = _section(db, section_id)
    if clock.now() < _opening_time(section):
        raise Conflict("opening.too_early", "未到投标截止时间")
    row = _session(db, section.id)
    if row is not None:
        raise Conflict("opening.exists", "该标段的开标已安排")
    row = OpeningSession(
        id=new_id(),
        section_id=section.id,
        status=OpeningStatus.SCHEDULED,
        scheduled_at=clock.now(),
        min_bidders=section.min_bidders or MIN_BIDDERS,
    )
    db.add(row)
    audit.record(
        db,
        actor,
        "opening.bidding_closed",
        "opening_session",
        row.id,
        {"section_code": section.code, "deadline": _opening_time(section).isoformat()},
    )
    _notify(db, row, "scheduled")
    return row


def close_bidding(db: Session, section_id: str) -> OpeningSession:
    """At the deadline: schedule the opening and issue the deadline checkpoint (T2), which
    covers every submission event committed before it."""
    row = _schedule(db, system_actor("opening"), section_id)
    section = _section(db, section_id)
    _checkpoint(f"投标截止 标段 {section.code}")(db)
    return row


def close_due_sections(db: Session, section_ids: list[str]) -> int:
    """Scheduler helper: close bidding of each given section whose deadline has passed."""
    done = 0
    for section_id in section_ids:
        db.rollback()
        if _session(db, section_id) is None:
            close_bidding(db, section_id)
            done += 1
    return done


@use_case
def start(db: Session, actor: Actor, section_id: str) -> OpeningSession:
    """开始开标 (host, at or after the opening time). Bids counted; fewer than the minimum is
    flagged and the host decides (:func:`continue_opening` or :func:`terminate`)."""
    section = _section(db, section_id)
    POLICY.require(actor, "opening.host", section.tender_project)
    now = clock.now()
    if now < _opening_time(section):
        raise Conflict(
            "opening.too_early",
            "未到开标时间（{time}），不能开始开标",
            time=_opening_time(section).strftime("%Y-%m-%d %H:%M"),
        )
    row = _session(db, section.id)
    if row is None:
        row = OpeningSession(
            id=new_id(),
            section_id=section.id,
            status=OpeningStatus.SCHEDULED,
            scheduled_at=now,
            min_bidders=section.min_bidders or MIN_BIDDERS,
        )
        db.add(row)
    _apply(row, OpeningAction.START, actor, section)
    bids = bidding_queries.valid_bids(db, section.id)
    for bid in bids:
        org = identity_queries.organization_summary(db, bid.org_id)
        assert org is not None
        db.add(
            OpenedBid(
                id=new_id(),
                session_id=row.id,
                bid_id=bid.id,
                org_id=bid.org_id,
                credit_code=org.credit_code,
                bidder_name=org.name,
                shares={},
                status="pending",
                items={},
                machine={},
            )
        )
    row.host_user_id = actor.user_id
    row.started_at = now
    row.bid_count = len(bids)
    row.insufficient = len(bids) < row.min_bidders
    audit.record(
        db,
        actor,
        "opening.started",
        "opening_session",
        row.id,
        {"section_code": section.code, "bids": len(bids), "insufficient": row.insufficient},
    )
    _notify(db, row, "started", bids=len(bids), insufficient=row.insufficient)
    after_commit(db, lambda: _checkpoint(f"开标 标段 {section.code}")(db))
    return row


@use_case
def continue_opening(db: Session, actor: Actor, section_id: str) -> OpeningSession:
    """投标人少于规定数量时，主持人决定继续开标 (recorded in the opening record)."""
    row, section = _load(db, section_id)
    _apply(row, OpeningAction.CONTINUE, actor, section)
    if not row.insufficient:
        raise Conflict("opening.sufficient", "投标人数量已满足要求，无需决定")
    row.decision = "continue"
    audit.record(db, actor, "opening.continued", "opening_session", row.id, {"bids": row.bid_count})
    _notify(db, row, "continued")
    return row


@use_case
def terminate(db: Session, actor: Actor, section_id: str, reason: str) -> OpeningSession:
    row, section = _load(db, section_id)
    if not reason.strip():
        raise InvalidInput("opening.reason", "请填写终止原因", field="reason")
    _apply(row, OpeningAction.TERMINATE, actor, section)
    row.terminated_reason = reason.strip()
    row.closed_at = clock.now()
    audit.record(db, actor, "opening.terminated", "opening_session", row.id, {"reason": reason})
    _notify(db, row, "terminated")
    return row


# --- the collective decryptions ------------------------------------------------------------


def _opened_bids(db: Session, row: OpeningSession) -> list[OpenedBid]:
    return list(
        db.scalars(
            select(OpenedBid).where(OpenedBid.session_id == row.id).order_by(OpenedBid.credit_code)
        )
    )


def _header(blobs: BlobStore, blob_key: str) -> SealedHeader:
    with blobs.open(blob_key) as fh:
        return inspect(fh)


def _fail(ob: OpenedBid, exc: BidError, now: dt.datetime) -> None:
    if ob.status == "failed":
        return
    ob.status = "failed"
    ob.failure_code = exc.code
    ob.failure_reason = exc.detail
    # 第31条: a bid that is internally inconsistent failed because of the bidder's tool.
    ob.bidder_fault = isinstance(exc, Inconsistent)
    ob.remedy_until = now + REMEDY_WINDOW


def _store_summary(ob: OpenedBid, summary: OpenedSummary, now: dt.datetime) -> None:
    ob.price = summary.price
    ob.duration_days = summary.duration_days
    ob.quality = summary.quality
    ob.items = dict(summary.items)
    ob.random = summary.random.hex()
    ob.machine = {
        "machine_code": summary.machine.machine_code,
        "mac": summary.machine.mac,
        "tool": summary.machine.tool,
    }
    ob.opened_at = now


@use_case
def decrypt(
    db: Session, actor: Actor, blobs: BlobStore, section_id: str, role: str, passphrase: str
) -> OpeningSession:
    """One holder's collective decryption (招标人解密 / 交易中心解密), in one action."""
    if role not in ROLES:
        raise InvalidInput("opening.role", "角色必须是 tenderer 或 center", field="role")
    row, section = _load(db, section_id)
    tender = section.tender_project
    allowed = (
        POLICY.allows(actor, "opening.host", tender)
        if role == "center"
        else (project_queries.is_tender_party(actor, tender))
    )
    if not allowed:
        raise PermissionDenied("opening.decrypt.forbidden", "当前账号不是该开标密钥的持有方")
    if row.insufficient and row.decision != "continue":
        raise Conflict(
            "opening.undecided", "投标人少于{n}家，须由主持人决定继续或终止开标", n=row.min_bidders
        )
    if (row.tenderer_decrypted_at if role == "tenderer" else row.center_decrypted_at) is not None:
        raise Conflict("opening.decrypt.done", "该方已完成解密")
    _apply(row, OpeningAction.DECRYPT, actor, section)
    record = bidding_queries.encrypted_opening_key(db, section.id, role)
    if record is None or not record.encrypted_private_pem:
        raise Conflict(
            "opening.decrypt.no_custody",
            "平台未保存该方的加密开标私钥，请使用本地工具（sunlit bid）计算解密份额后提交",
        )
    now = clock.now()
    encrypted = record.encrypted_private_pem.encode("ascii")
    unlocked: list[PrivateKey] = []

    def load_key() -> PrivateKey:  # unlocked once per decryption, kept only in this frame
        if not unlocked:
            unlocked.append(unlock_opening_key(encrypted, passphrase))
        return unlocked[0]

    custody = TimeLockedCustody(
        section_code=section.code,
        role=role,
        public_key=load_public_key_any(record.public_pem),
        opening_time=_opening_time(section),
        load_key=load_key,
    )
    obs = _opened_bids(db, row)
    if obs:
        # Check the time lock and the passphrase before touching any bid (nothing is stored
        # on a wrong passphrase: the exception rolls the use case back).
        first = bidding_queries.bid_by_id(db, obs[0].bid_id)
        assert first is not None
        # That bid's own problem is recorded below; here only the key and the time count.
        with contextlib.suppress(Inconsistent, WrongShare):
            custody.partial_decrypt(
                _header(blobs, first.blob_key).wrapped_share("summary", role),
                now=now,
            )
    failures = 0
    for ob in obs:
        bid = bidding_queries.bid_by_id(db, ob.bid_id)
        assert bid is not None
        shares = dict(ob.shares)
        try:
            header = _header(blobs, bid.blob_key)
            for part in PARTS:
                share = custody.partial_decrypt(header.wrapped_share(part, role), now=now)
                shares[f"{part}/{role}"] = share.value.hex()
        except BidError as exc:
            _fail(ob, exc, now)
            failures += 1
        ob.shares = shares
    unlocked.clear()
    if role == "tenderer":
        row.tenderer_decrypted_at = now
    else:
        row.center_decrypted_at = now
    announced: list[dict[str, Any]] = []
    if row.tenderer_decrypted_at is not None and row.center_decrypted_at is not None:
        _apply(row, OpeningAction.ANNOUNCE, actor, section)
        for ob in obs:
            if ob.status != "pending":
                continue
            bid = bidding_queries.bid_by_id(db, ob.bid_id)
            assert bid is not None
            try:
                header = _header(blobs, bid.blob_key)
                key = combine(header, "summary", _shares(header, ob, "summary"))
                with blobs.open(bid.blob_key) as fh:
                    summary = open_summary(fh, key)
                _store_summary(ob, summary, now)
                ob.status = "opened"
                announced.append({"bidder": ob.credit_code, "price": ob.price})
            except BidError as exc:
                _fail(ob, exc, now)
                failures += 1
        row.announced_at = now
        row.confirm_until = now + CONFIRM_WINDOW
    audit.record(
        db,
        actor,
        "opening.decrypted",
        "opening_session",
        row.id,
        {
            "section_code": section.code,
            "role": role,
            "failures": failures,
            "announced": announced,
        },
    )
    _notify(db, row, "announced" if row.announced_at else "decrypted", role=role)
    return row


def _shares(header: SealedHeader, ob: OpenedBid, part: str) -> list[Share]:
    out = []
    for role in ROLES:
        value = ob.shares.get(f"{part}/{role}")
        if value is not None:
            out.append(Share(header.section_code, header.bid_id, part, role, bytes.fromhex(value)))  # type: ignore[arg-type]
    return out


# --- the bidder's remedy and 第31条 ----------------------------------------------------------


def _hex_key(value: str, field: str) -> bytes:
    try:
        return bytes.fromhex(value.strip())
    except ValueError:
        raise InvalidInput("opening.remedy.key", "密钥必须是十六进制串", field=field) from None


@use_case
def remedy(
    db: Session,
    actor: Actor,
    blobs: BlobStore,
    section_id: str,
    opened_bid_id: str,
    summary_key: str,
    files_key: str,
) -> OpenedBid:
    """解密补救: the bidder sends the keys it recovered with its own certificate key
    (``sunlit bid remedy``); the platform checks them against the header's commitments."""
    row, section = _load(db, section_id)
    ob = db.get(OpenedBid, opened_bid_id)
    if ob is None or ob.session_id != row.id or ob.org_id != actor.org_id:
        raise not_found("投标文件")
    _apply(row, OpeningAction.REMEDY, actor, section)
    now = clock.now()
    if ob.status != "failed":
        raise Conflict("opening.remedy.not_failed", "该投标文件已解密，无需补救")
    if ob.remedy_until is None or now > clock.ensure_aware(ob.remedy_until):
        raise Conflict("opening.remedy.expired", "解密补救时间已过")
    bid = bidding_queries.bid_by_id(db, ob.bid_id)
    assert bid is not None
    k_summary, k_files = _hex_key(summary_key, "summary_key"), _hex_key(files_key, "files_key")
    header = _header(blobs, bid.blob_key)
    check_part_key(header, "summary", k_summary)
    check_part_key(header, "files", k_files)
    with blobs.open(bid.blob_key) as fh:
        summary = open_summary(fh, k_summary)
    _store_summary(ob, summary, now)
    ob.status = "remedied"
    ob.files_key = k_files.hex()
    # The price is announced now: every bidder gets time to confirm or object to it.
    grace = now + REMEDY_CONFIRM_GRACE
    if row.confirm_until is None or clock.ensure_aware(row.confirm_until) < grace:
        row.confirm_until = grace
    audit.record(
        db,
        actor,
        "opening.remedied",
        "opening_session",
        row.id,
        {"bidder": ob.credit_code, "price": ob.price, "failure": ob.failure_code},
    )
    _notify(db, row, "remedied")
    return ob


def _classify(obs: list[OpenedBid], now: dt.datetime) -> None:
    """After the remedy window: 第31条 — bidder's fault 视为撤销, otherwise 视为撤回."""
    for ob in obs:
        if ob.status != "failed":
            continue
        if ob.remedy_until is not None and now <= clock.ensure_aware(ob.remedy_until):
            raise Conflict(
                "opening.remedy.open",
                "尚有投标文件处于解密补救期（至{time}），请待补救期结束",
                time=clock.ensure_aware(ob.remedy_until).strftime("%H:%M:%S"),
            )
        ob.status = "revoked" if ob.bidder_fault else "withdrawn"


# --- the coefficient draw --------------------------------------------------------------------


@use_case
def enter_supervisor_value(
    db: Session, actor: Actor, section_id: str, value: str
) -> OpeningSession:
    """监督人录入随机数: closes the bidders' contributions (remedy windows must be over)."""
    row, section = _load(db, section_id)
    _apply(row, OpeningAction.SUPERVISOR_VALUE, actor, section)
    if row.supervisor_value is not None:
        raise Conflict("opening.supervisor.done", "监督随机数已录入")
    text = value.strip()
    if not text or len(text) > 200:
        raise InvalidInput("opening.supervisor.value", "请录入1至200个字符的随机数", field="value")
    now = clock.now()
    _classify(_opened_bids(db, row), now)
    row.supervisor_value = text
    row.supervisor_name = f"{actor.org_name} {actor.name}".strip() or "监督人"
    row.supervisor_entered_at = now
    audit.record(db, actor, "opening.supervisor_value", "opening_session", row.id, {"value": text})
    _notify(db, row, "supervisor_value")
    return row


@use_case
def draw_coefficients(
    db: Session, actor: Actor, section_id: str, center_value: str, center_salt: str
) -> dict[str, Any]:
    """系数抽取: the center reveals its committed value; the record verifies offline."""
    row, section = _load(db, section_id)
    _apply(row, OpeningAction.DRAW, actor, section)
    if row.draw_record is not None:
        raise Conflict("opening.draw.done", "系数已抽取")
    if not section.coefficients:
        raise Conflict("opening.draw.none", "该标段无需抽取系数")
    if row.supervisor_value is None or row.supervisor_entered_at is None:
        raise Conflict("opening.draw.no_supervisor", "请先由监督人录入随机数")
    commitment = bidding_queries.draw_commitment(db, section.id)
    if commitment is None:
        raise Conflict("opening.draw.no_commitment", "交易中心未在投标截止前登记抽取承诺值")
    now = clock.now()
    definition = coefficient_definition(
        [Parameter.of(c.name, c.candidates) for c in section.coefficients],
        fixed_at=clock.ensure_aware(commitment.committed_at),
        context={"section_code": section.code},
    )
    secret = CenterSecret(
        _hex_key(center_value, "center_value"),
        _hex_key(center_salt, "center_salt"),
        bytes.fromhex(commitment.commitment),
        timestamp(clock.ensure_aware(commitment.committed_at)),
    )
    bidders = []
    for ob in _opened_bids(db, row):
        if ob.random and ob.status in ("opened", "remedied"):
            bidders.append(BidderContribution(ob.credit_code, bytes.fromhex(ob.random)))
        else:
            bidders.append(BidderContribution.missing(ob.credit_code, "投标文件未解密"))
    record = run_draw(
        suite=commitment.suite,
        draw_id=f"opening-{section.code}",
        definition=definition,
        center=secret.reveal(now),
        bidders=bidders,
        bidders_closed_at=clock.ensure_aware(row.supervisor_entered_at),
        supervisor=SupervisorContribution.of(
            row.supervisor_value,
            row.supervisor_name or "监督人",
            clock.ensure_aware(row.supervisor_entered_at),
        ),
        drawn_at=now,
        deadline=_opening_time(section),
    )
    doc = record.to_json()
    row.draw_record = doc
    audit.record(
        db,
        actor,
        "opening.draw",
        "opening_session",
        row.id,
        {"outputs": [o.to_json() for o in record.outputs]},
    )
    _notify(db, row, "draw")
    return doc


# --- the opening record --------------------------------------------------------------------


@use_case
def seal_record(db: Session, actor: Actor, section_id: str) -> OpeningSession:
    """生成开标记录: structured JSON signed by the platform key."""
    row, section = _load(db, section_id)
    _apply(row, OpeningAction.SEAL_RECORD, actor, section)
    now = clock.now()
    obs = _opened_bids(db, row)
    _classify(obs, now)
    if section.coefficients and row.draw_record is None:
        raise Conflict("opening.record.no_draw", "请先完成系数抽取")
    confirmations = _confirmations(db, row)
    if _confirm_window_open(row, now) and len(confirmations) < len(obs):
        raise Conflict(
            "opening.record.confirm_window",
            "投标人确认期至{time}，期间仍可确认或提出异议；全部投标人确认或确认期结束后方可生成开标记录",
            time=_confirm_until(row).strftime("%H:%M:%S"),
        )
    unanswered = _open_objections(db, row)
    if unanswered:
        raise Conflict(
            "opening.objection.unanswered",
            "尚有{n}条开标异议未答复，请招标人先当场答复",
            n=unanswered,
        )
    key = platform_keys.platform_key()
    doc = build_record(
        section,
        row,
        obs,
        now,
        key.key_id,
        objections=_objection_rows(db, row),
        confirmations=confirmations,
        securities=_securities(db, section, obs),
        bid_security=section.bid_security,
    )
    row.record = doc
    row.record_signature = base64.b64encode(sign_record(doc, key.private_key)).decode()
    audit.record(
        db, actor, "opening.record", "opening_session", row.id, {"digest": _digest(doc, key.suite)}
    )
    _notify(db, row, "record")
    return row


def _securities(db: Session, section: Section, obs: list[OpenedBid]) -> dict[str, dict[str, Any]]:
    """验真 of each bid's security at record time (guarantees and deposits re-checked now)."""
    found = bid_securities.section_securities(db, section)
    required = Decimal(section.bid_security or 0)
    return {ob.org_id: bid_securities.for_bid(found, ob.org_id, required) for ob in obs}


def _digest(doc: dict[str, Any], suite: str) -> str:
    from .record import record_bytes

    return get_suite(suite).hash(record_bytes(doc)).hex()


@use_case
def confirm(db: Session, actor: Actor, section_id: str) -> OpeningSession:
    """招标人确认开标记录: closes the opening; a checkpoint follows."""
    row, section = _load(db, section_id)
    if row.record is None:
        raise Conflict("opening.record.missing", "开标记录尚未生成")
    _apply(row, OpeningAction.CONFIRM, actor, section)
    open_objections = _open_objections(db, row)
    if open_objections:
        raise Conflict(
            "opening.objection.unanswered",
            "尚有{n}条开标异议未答复，请先当场答复后再确认开标记录",
            n=open_objections,
        )
    row.confirmed_at = row.closed_at = clock.now()
    audit.record(db, actor, "opening.confirmed", "opening_session", row.id, {})
    _notify(db, row, "confirmed")
    after_commit(db, lambda: _checkpoint(f"开标记录 标段 {section.code}")(db))
    return row


# --- bidders' confirmation of the announced results (确认无误 / 视为认可) ---------------------


def _confirm_until(row: OpeningSession) -> dt.datetime:
    assert row.confirm_until is not None
    return clock.ensure_aware(row.confirm_until)


def _confirm_window_open(row: OpeningSession, now: dt.datetime) -> bool:
    return row.confirm_until is not None and now <= _confirm_until(row)


def _confirmations(db: Session, row: OpeningSession) -> list[OpeningConfirmation]:
    return list(
        db.scalars(
            select(OpeningConfirmation)
            .where(OpeningConfirmation.session_id == row.id)
            .order_by(OpeningConfirmation.confirmed_at, OpeningConfirmation.id)
        )
    )


def _objection_rows(db: Session, row: OpeningSession) -> list[OpeningObjection]:
    return list(
        db.scalars(
            select(OpeningObjection)
            .where(OpeningObjection.session_id == row.id)
            .order_by(OpeningObjection.raised_at, OpeningObjection.id)
        )
    )


def _own_bid(db: Session, row: OpeningSession, actor: Actor) -> OpenedBid | None:
    if actor.org_id is None:
        return None
    return db.scalar(
        select(OpenedBid).where(OpenedBid.session_id == row.id, OpenedBid.org_id == actor.org_id)
    )


@use_case
def confirm_results(db: Session, actor: Actor, section_id: str) -> OpeningConfirmation:
    """投标人确认唱标结果无误 (once, within the window after 唱标)."""
    row, section = _load(db, section_id)
    _apply(row, OpeningAction.BIDDER_CONFIRM, actor, section)
    ob = _own_bid(db, row, actor)
    if ob is None:
        raise PermissionDenied(
            "opening.confirmation.no_bid", "本单位未在该标段递交投标文件，无需确认"
        )
    if row.record is not None:
        raise Conflict("opening.confirmation.closed", "开标记录已生成，确认期已结束")
    now = clock.now()
    if not _confirm_window_open(row, now):
        raise Conflict(
            "opening.confirmation.closed",
            "确认期已结束，未确认的投标人视为认可唱标结果",
        )
    existing = db.scalar(
        select(OpeningConfirmation).where(
            OpeningConfirmation.session_id == row.id, OpeningConfirmation.org_id == ob.org_id
        )
    )
    if existing is not None:
        raise Conflict("opening.confirmation.done", "本单位已确认唱标结果")
    confirmation = OpeningConfirmation(
        id=new_id(),
        session_id=row.id,
        org_id=ob.org_id,
        bidder_name=ob.bidder_name,
        credit_code=ob.credit_code,
        user_id=actor.user_id,
        user_name=actor.name,
        confirmed_at=now,
    )
    db.add(confirmation)
    audit.record(
        db,
        actor,
        "opening.bidder_confirmed",
        "opening_session",
        row.id,
        {"bidder": ob.credit_code},
    )
    _notify(db, row, "bidder_confirmed")
    return confirmation


# --- bidders' sign-in (签到) ------------------------------------------------------------------


@use_case
def sign_in(db: Session, actor: Actor, section_id: str) -> OpeningSignIn:
    """投标人签到: a bidder with a bid in this opening signs in once the opening has started."""
    row, section = _load(db, section_id)
    POLICY.require(actor, "opening.remedy", section.tender_project)
    if row.status in (OpeningStatus.SCHEDULED, OpeningStatus.CLOSED, OpeningStatus.TERMINATED):
        raise Conflict("opening.sign_in.closed", "开标未在进行中，不能签到")
    ob = db.scalar(
        select(OpenedBid).where(OpenedBid.session_id == row.id, OpenedBid.org_id == actor.org_id)
    )
    if ob is None:
        raise PermissionDenied("opening.sign_in.no_bid", "本单位未在该标段递交有效投标文件")
    existing = db.scalar(
        select(OpeningSignIn).where(
            OpeningSignIn.session_id == row.id, OpeningSignIn.org_id == actor.org_id
        )
    )
    if existing is not None:
        raise Conflict("opening.sign_in.done", "本单位已签到")
    signed = OpeningSignIn(
        id=new_id(),
        session_id=row.id,
        org_id=ob.org_id,
        bidder_name=ob.bidder_name,
        user_name=actor.name,
        signed_in_at=clock.now(),
    )
    db.add(signed)
    audit.record(
        db, actor, "opening.signed_in", "opening_session", row.id, {"bidder": ob.credit_code}
    )
    _notify(db, row, "signed_in")
    return signed


# --- objections at the opening (开标异议, 实施条例第44条) -----------------------------------------


def _open_objections(db: Session, row: OpeningSession) -> int:
    return len(
        list(
            db.scalars(
                select(OpeningObjection.id).where(
                    OpeningObjection.session_id == row.id, OpeningObjection.answered_at.is_(None)
                )
            )
        )
    )


def _text(value: str, code: str, field: str, empty: str, too_long: str) -> str:
    text = value.strip()
    if not text:
        raise InvalidInput(f"{code}.empty", empty, field=field)
    if len(text) > OBJECTION_MAX:
        raise InvalidInput(f"{code}.too_long", too_long, field=field, n=OBJECTION_MAX)
    return text


def _objections_open(db: Session, row: OpeningSession, ob: OpenedBid) -> None:
    if row.status == OpeningStatus.CLOSED or row.confirmed_at is not None:
        raise Conflict("opening.objection.closed", "开标记录已确认，不能再提出开标异议")
    if row.status != OpeningStatus.ANNOUNCED or row.announced_at is None:
        raise Conflict("opening.objection.not_announced", "唱标后方可提出开标异议")
    if row.record is not None or not _confirm_window_open(row, clock.now()):
        raise Conflict(
            "opening.objection.closed", "确认期已结束，不能再提出开标异议（开标记录以此为准）"
        )
    confirmed = db.scalar(
        select(OpeningConfirmation.id).where(
            OpeningConfirmation.session_id == row.id, OpeningConfirmation.org_id == ob.org_id
        )
    )
    if confirmed is not None:
        raise Conflict("opening.objection.confirmed", "本单位已确认唱标结果无误，不能再提出异议")


@use_case
def raise_objection(db: Session, actor: Actor, section_id: str, content: str) -> OpeningObjection:
    """投标人对开标有异议的，应当在开标现场提出 (a bidder with a bid in this section)."""
    row, section = _load(db, section_id)
    POLICY.require(actor, "opening.objection.raise", section.tender_project)
    ob = _own_bid(db, row, actor)
    if ob is None:
        raise PermissionDenied(
            "opening.objection.no_bid", "本单位未在该标段递交投标文件，不能提出异议"
        )
    _objections_open(db, row, ob)
    text = _text(
        content,
        "opening.objection.content",
        "content",
        "请填写异议内容",
        "异议内容不得超过{n}个字符",
    )
    objection = OpeningObjection(
        id=new_id(),
        session_id=row.id,
        section_id=section.id,
        org_id=ob.org_id,
        bidder_name=ob.bidder_name,
        user_id=actor.user_id,
        user_name=actor.name,
        content=text,
        raised_at=clock.now(),
    )
    db.add(objection)
    audit.record(
        db,
        actor,
        "opening.objection_raised",
        "opening_session",
        row.id,
        {"objection": objection.id, "bidder": ob.credit_code, "content": text},
    )
    _notify(db, row, "objection_raised")
    return objection


@use_case
def answer_objection(
    db: Session, actor: Actor, section_id: str, objection_id: str, answer: str
) -> OpeningObjection:
    """招标人应当当场作出答复，并制作记录 (the tenderer or its agency, once)."""
    row, section = _load(db, section_id)
    objection = db.get(OpeningObjection, objection_id)
    if objection is None or objection.session_id != row.id:
        raise not_found("开标异议")
    if not POLICY.allows(actor, "opening.objection.answer", section.tender_project):
        raise PermissionDenied(
            "opening.objection.forbidden", "只有招标人或招标代理可以答复开标异议"
        )
    if objection.answered_at is not None:
        raise Conflict("opening.objection.answered", "该异议已答复")
    if row.status != OpeningStatus.ANNOUNCED or row.record is not None:
        raise Conflict("opening.objection.closed", "开标记录已生成，不能再答复异议")
    text = _text(
        answer,
        "opening.objection.reply",
        "answer",
        "请填写答复内容",
        "答复内容不得超过{n}个字符",
    )
    objection.answer = text
    objection.answered_by = actor.user_id
    objection.answered_by_name = f"{actor.org_name} {actor.name}".strip()
    objection.answered_at = clock.now()
    audit.record(
        db,
        actor,
        "opening.objection_answered",
        "opening_session",
        row.id,
        {"objection": objection.id, "answer": text},
    )
    _notify(db, row, "objection_answered")
    return objection
