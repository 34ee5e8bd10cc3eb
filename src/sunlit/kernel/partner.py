"""Signed partner messaging: how the platform and outside systems (banks, insurers,
guarantee companies, other platforms) talk to each other over HTTP.

Every request in either direction is signed by its sender (SM2-with-SM3 in ``gm``, ECDSA
P-256/SHA-256 in ``intl``, through :mod:`sunlit.kernel.crypto`) over a canonical string::

    SUNLIT-PARTNER-1 \\n sender \\n METHOD \\n path?query \\n timestamp \\n nonce \\n
    idempotency-key \\n hex(suite-hash(body))

(joined by ``\\n``, no spaces). The receiver checks the signature with the sender's
registered public key, the timestamp against its clock (``window_seconds`` either way) and
the nonce against the ``partner_nonces`` table (a nonce is accepted once per sender). A
request carrying ``Idempotency-Key`` is answered once: the same key with the same body gets
the stored answer again, the same key with another body is refused. Outgoing messages are
written to the ``partner_outbox`` in the transaction of the change that caused them and
delivered by a scheduler job, retried with capped exponential backoff until the partner
acknowledges them with a 2xx answer (a 4xx answer other than 408/425/429 is final).

The byte-level protocol is published in ``docs/spec/partner-messaging.md``.

This module knows no domain. Domains register partners and enqueue messages inside their
own use cases; topic handlers (``register_handler``) receive the partner's answer to a
delivered message inside the use case that records the delivery.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import ForeignKey, Index, Integer, String, Text, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column
from starlette.concurrency import run_in_threadpool

from sunlit.kernel import audit, clock
from sunlit.kernel.authz import Actor, system_actor
from sunlit.kernel.crypto import (
    CryptoError,
    PrivateKey,
    PublicKey,
    get_suite,
    load_public_key_any,
    suite_for_key,
)
from sunlit.kernel.db import Base, Database, _write_lock, begin_write, new_id, use_case
from sunlit.kernel.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)

PROTOCOL = "SUNLIT-PARTNER-1"
H_SENDER = "X-Sunlit-Partner"
H_TIMESTAMP = "X-Sunlit-Timestamp"
H_NONCE = "X-Sunlit-Nonce"
H_SIGNATURE = "X-Sunlit-Signature"
H_IDEMPOTENCY = "Idempotency-Key"
H_REPLAYED = "Idempotent-Replayed"

DEFAULT_WINDOW_SECONDS = 300
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
IDEMPOTENCY_RE = re.compile(r"^[\x21-\x7e]{1,100}$")
RETRYABLE_4XX = frozenset({408, 425, 429})


# --- tables --------------------------------------------------------------------------------


class Partner(Base):
    """An outside system allowed to exchange signed messages with the platform."""

    __tablename__ = "partners"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))  # e.g. bank | insurer | guarantor
    suite: Mapped[str] = mapped_column(String(10))
    public_key_pem: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(64))
    base_url: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | suspended
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    @property
    def public_key(self) -> PublicKey:
        return load_public_key_any(self.public_key_pem)


class PartnerNonce(Base):
    """Nonces seen per sender inside the timestamp window (replay protection)."""

    __tablename__ = "partner_nonces"
    __table_args__ = (Index("ix_partner_nonces_seen_at", "seen_at"),)

    partner_id: Mapped[str] = mapped_column(String(32), ForeignKey("partners.id"), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[dt.datetime]


class PartnerIdempotency(Base):
    """The stored answer to an idempotent request (same key + same body -> same answer)."""

    __tablename__ = "partner_idempotency"

    partner_id: Mapped[str] = mapped_column(String(32), ForeignKey("partners.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime]


class OutboxMessage(Base):
    """A signed request to a partner, delivered (and retried) after its transaction commits."""

    __tablename__ = "partner_outbox"
    __table_args__ = (
        Index("ix_partner_outbox_due", "status", "next_attempt_at"),
        Index("ix_partner_outbox_ref", "ref_type", "ref_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    partner_id: Mapped[str] = mapped_column(String(32), ForeignKey("partners.id"), index=True)
    topic: Mapped[str] = mapped_column(String(60))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    ref_type: Mapped[str | None] = mapped_column(String(60))
    ref_id: Mapped[str | None] = mapped_column(String(64))
    # pending -> delivered (2xx) | rejected (final 4xx); pending while retrying
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime]
    claimed_until: Mapped[dt.datetime | None]
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    response: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime]
    delivered_at: Mapped[dt.datetime | None]


@contextmanager
def _bookkeeping(database: Database) -> Iterator[Session]:
    """A short write transaction for protocol bookkeeping (nonces, leases, retry counters).

    These rows are not domain changes and carry no audit event, like the failed-login
    counter; everything a partner message changes in a domain goes through a use case.
    """
    with database.session_scope() as s:
        lock = _write_lock(s)
        if lock is not None:
            lock.acquire()
        try:
            begin_write(s)
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            if lock is not None:
                lock.release()


# --- errors --------------------------------------------------------------------------------


def _unauth(suffix: str, message: str, /, **params: Any) -> Unauthenticated:
    return Unauthenticated(f"partner.{suffix}", message, **params)


# --- canonical form and signing -----------------------------------------------------------


def canonical_json(payload: Any) -> bytes:
    """The body encoding Sunlit sends (any byte string is accepted: the hash is over bytes)."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def body_hash(suite_name: str, body: bytes) -> str:
    return get_suite(suite_name).hash(body).hex()


def canonical_string(
    *,
    sender: str,
    method: str,
    path: str,
    timestamp: str,
    nonce: str,
    idempotency_key: str,
    body_digest_hex: str,
) -> bytes:
    """The bytes a partner message's signature covers (docs/spec/partner-messaging.md)."""
    return "\n".join(
        [PROTOCOL, sender, method.upper(), path, timestamp, nonce, idempotency_key, body_digest_hex]
    ).encode("utf-8")


def sign_request(
    private_key: PrivateKey,
    sender: str,
    method: str,
    path: str,
    body: bytes,
    *,
    idempotency_key: str | None = None,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers that make ``method path body`` a signed message from ``sender``."""
    suite = suite_for_key(private_key)
    ts = str(int(clock.now().timestamp()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_urlsafe(24)
    message = canonical_string(
        sender=sender,
        method=method,
        path=path,
        timestamp=ts,
        nonce=nonce,
        idempotency_key=idempotency_key or "",
        body_digest_hex=suite.hash(body).hex(),
    )
    headers = {
        H_SENDER: sender,
        H_TIMESTAMP: ts,
        H_NONCE: nonce,
        H_SIGNATURE: base64.b64encode(suite.sign(private_key, message)).decode("ascii"),
    }
    if idempotency_key:
        headers[H_IDEMPOTENCY] = idempotency_key
    return headers


def verify_signature(
    public_key: PublicKey,
    *,
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: bytes,
) -> None:
    """Check the signature headers of a message against ``public_key`` (raises on failure).

    Used by partners (and the simulators) to check the platform's messages; the platform's own
    receiving side is :func:`verify_request`, which adds the clock, nonce and partner checks.
    """
    suite = suite_for_key(public_key)
    try:
        signature = base64.b64decode(headers[H_SIGNATURE], validate=True)
        message = canonical_string(
            sender=headers[H_SENDER],
            method=method,
            path=path,
            timestamp=headers[H_TIMESTAMP],
            nonce=headers[H_NONCE],
            idempotency_key=headers.get(H_IDEMPOTENCY, ""),
            body_digest_hex=suite.hash(body).hex(),
        )
        suite.verify(public_key, message, signature)
    except (KeyError, ValueError, CryptoError) as exc:
        raise _unauth("signature.invalid", "报文签名验证失败") from exc


# --- receiving: verification, replay, idempotency ------------------------------------------


@dataclass(frozen=True)
class SignedRequest:
    """A verified message from a partner, handed to the route that serves it."""

    partner_id: str
    partner_code: str
    partner_name: str
    method: str
    path: str
    body: bytes
    idempotency_key: str | None
    body_digest: str
    received_at: dt.datetime

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8")) if self.body else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInput("partner.body.json", "报文内容不是合法的 JSON") from exc

    @property
    def actor(self) -> Actor:
        """The partner as the actor of the use case it triggers."""
        return Actor(
            name=self.partner_name,
            org_name=self.partner_name,
            auth_method="partner",
        )


def request_path(request: Request) -> str:
    """Path and query string exactly as they appear in the request line."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if raw else request.url.path
    query = request.scope.get("query_string", b"")
    return path + ("?" + query.decode("latin-1") if query else "")


def verify_request(
    database: Database,
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    window_seconds: int = DEFAULT_WINDOW_SECONDS,
) -> SignedRequest:
    """Authenticate a partner message: headers, sender, signature, timestamp, nonce.

    The nonce is recorded in its own short transaction (like the failed-login counter), so a
    replayed message is refused even when the first one was refused for another reason.
    """
    missing = [h for h in (H_SENDER, H_TIMESTAMP, H_NONCE, H_SIGNATURE) if not headers.get(h)]
    if missing:
        raise _unauth("signature.missing", "报文缺少签名头：{headers}", headers=", ".join(missing))
    sender = headers[H_SENDER]
    nonce = headers[H_NONCE]
    if not NONCE_RE.match(nonce):
        raise _unauth("nonce.format", "随机数格式不正确（16-64 位字母、数字、-、_）")
    key = headers.get(H_IDEMPOTENCY)
    if key is not None and not IDEMPOTENCY_RE.match(key):
        raise InvalidInput(
            "partner.idempotency.format", "幂等键格式不正确（1-100 个可见 ASCII 字符）"
        )
    try:
        ts = int(headers[H_TIMESTAMP])
    except ValueError:
        raise _unauth("timestamp.format", "时间戳必须是 Unix 秒数") from None
    now = clock.now()
    skew = abs(now.timestamp() - ts)
    if skew > window_seconds:
        raise _unauth(
            "timestamp.window",
            "报文时间戳与平台时间相差 {skew} 秒，超出允许的 {window} 秒",
            skew=int(skew),
            window=window_seconds,
        )
    with database.session_scope() as s:
        partner = s.scalar(select(Partner).where(Partner.code == sender))
        if partner is None:
            raise _unauth("unknown", "未登记的接入方：{code}", code=sender)
        if partner.status != "active":
            raise PermissionDenied("partner.suspended", "接入方 {code} 已暂停", code=sender)
        verify_signature(partner.public_key, headers=headers, method=method, path=path, body=body)
        signed = SignedRequest(
            partner_id=partner.id,
            partner_code=partner.code,
            partner_name=partner.name,
            method=method.upper(),
            path=path,
            body=body,
            idempotency_key=key,
            body_digest=body_hash(partner.suite, body),
            received_at=now,
        )
    _consume_nonce(database, signed.partner_id, nonce, now)
    return signed


def _consume_nonce(database: Database, partner_id: str, nonce: str, now: dt.datetime) -> None:
    try:
        with _bookkeeping(database) as s:
            s.add(PartnerNonce(partner_id=partner_id, nonce=nonce, seen_at=now))
            s.flush()
    except IntegrityError:
        raise _unauth("replay", "重复的报文（随机数 {nonce} 已使用过）", nonce=nonce) from None


async def signed_request(request: Request) -> SignedRequest:
    """FastAPI dependency: the verified partner message of this request."""
    body = await request.body()
    window = getattr(request.app.state, "partner_window_seconds", DEFAULT_WINDOW_SECONDS)
    return await run_in_threadpool(
        lambda: verify_request(
            request.app.state.db,
            method=request.method,
            path=request_path(request),
            headers=request.headers,
            body=body,
            window_seconds=window,
        )
    )


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    response: dict[str, Any]
    replayed: bool

    def to_response(self) -> JSONResponse:
        headers = {H_REPLAYED: "true"} if self.replayed else {}
        return JSONResponse(self.response, status_code=self.status_code, headers=headers)


def recall(session: Session, signed: SignedRequest) -> StoredAnswer | None:
    """The stored answer to a repeated idempotent request, or None for a first request.

    The same key with a different method, path or body is refused (409).
    """
    if not signed.idempotency_key:
        return None
    row = session.get(PartnerIdempotency, (signed.partner_id, signed.idempotency_key))
    if row is None:
        return None
    if (row.request_hash, row.method, row.path) != (
        signed.body_digest,
        signed.method,
        signed.path,
    ):
        raise Conflict(
            "partner.idempotency.mismatch",
            "幂等键 {key} 已用于内容不同的请求",
            key=signed.idempotency_key,
        )
    return StoredAnswer(row.status_code, dict(row.response), replayed=True)


def remember(
    session: Session, signed: SignedRequest, response: dict[str, Any], status_code: int = 200
) -> StoredAnswer:
    """Store the answer inside the use case that produced it (same transaction)."""
    if signed.idempotency_key:
        session.add(
            PartnerIdempotency(
                partner_id=signed.partner_id,
                key=signed.idempotency_key,
                request_hash=signed.body_digest,
                method=signed.method,
                path=signed.path,
                status_code=status_code,
                response=response,
                created_at=signed.received_at,
            )
        )
    return StoredAnswer(status_code, response, replayed=False)


def answer_once(
    database: Database, signed: SignedRequest, run: Callable[[Session], StoredAnswer]
) -> JSONResponse:
    """Serve an idempotent partner request.

    ``run`` calls the domain use case, which ends with :func:`remember`. A repeated key gets
    the stored answer; a concurrent duplicate that loses the race gets the winner's answer.
    """
    with database.session_scope() as s:
        stored = recall(s, signed)
        if stored is not None:
            return stored.to_response()
        try:
            return run(s).to_response()
        except IntegrityError:
            s.rollback()
            stored = recall(s, signed)
            if stored is None:
                raise
            return stored.to_response()


# --- registry ------------------------------------------------------------------------------


def _check_key(public_key_pem: str, suite: str | None) -> PublicKey:
    try:
        key = load_public_key_any(public_key_pem)
    except CryptoError as exc:
        raise InvalidInput(
            "partner.key.invalid", "公钥无法解析（需要 PEM 格式的 SM2 或 P-256 公钥）"
        ) from exc
    if suite is not None and key.suite_name != suite:
        raise InvalidInput(
            "partner.key.suite",
            "公钥算法与平台密码套件不符（平台使用 {suite}）",
            suite=suite,
        )
    return key


def register_partner(
    session: Session,
    *,
    code: str,
    name: str,
    kind: str,
    public_key_pem: str,
    base_url: str = "",
    suite: str | None = None,
) -> Partner:
    """Add a partner (call inside the caller's use case, which records the audit event)."""
    if not CODE_RE.match(code):
        raise InvalidInput(
            "partner.code.format", "接入方代码格式不正确（小写字母、数字、.、_、-，2-63 位）"
        )
    if session.scalar(select(Partner.id).where(Partner.code == code)) is not None:
        raise Conflict("partner.code.taken", "接入方代码 {code} 已登记", code=code)
    if base_url and not re.match(r"^https?://", base_url):
        raise InvalidInput("partner.url.format", "回调地址必须以 http:// 或 https:// 开头")
    key = _check_key(public_key_pem, suite)
    now = clock.now()
    partner = Partner(
        id=new_id(),
        code=code,
        name=name,
        kind=kind,
        suite=key.suite_name,
        public_key_pem=key.to_pem().decode("ascii"),
        key_id=key.key_id().hex(),
        base_url=base_url.rstrip("/"),
        status="active",
        created_at=now,
        updated_at=now,
    )
    session.add(partner)
    session.flush()
    return partner


def replace_key(session: Session, partner: Partner, public_key_pem: str) -> None:
    """Rotate a partner's key (inside the caller's use case)."""
    key = _check_key(public_key_pem, partner.suite)
    partner.public_key_pem = key.to_pem().decode("ascii")
    partner.key_id = key.key_id().hex()
    partner.updated_at = clock.now()


def set_status(session: Session, partner: Partner, status: str) -> None:
    if status not in ("active", "suspended"):
        raise ValueError(status)
    partner.status = status
    partner.updated_at = clock.now()


def get_partner(session: Session, partner_id: str) -> Partner:
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound("partner.not_found", "接入方不存在")
    return partner


# --- sending: the signing client and the outbox ------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Who we are when we send: our code at the partner and our private key."""

    code: str
    private_key: PrivateKey


class PartnerClient:
    """An httpx client that signs every request as ``identity``."""

    def __init__(
        self,
        base_url: str,
        identity: Identity,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.identity = identity
        self._http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PartnerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        if content is None:
            content = b"" if json_body is None else canonical_json(json_body)
        signed = sign_request(
            self.identity.private_key,
            self.identity.code,
            method,
            path,
            content,
            idempotency_key=idempotency_key,
        )
        all_headers = {"Content-Type": "application/json; charset=utf-8", **signed}
        all_headers.update(headers or {})
        return self._http.request(method, path, content=content, headers=all_headers)

    def post(
        self, path: str, payload: Any, *, idempotency_key: str | None = None
    ) -> httpx.Response:
        return self.request("POST", path, json_body=payload, idempotency_key=idempotency_key)

    def get(self, path: str) -> httpx.Response:
        return self.request("GET", path)


def enqueue(
    session: Session,
    partner_id: str,
    topic: str,
    path: str,
    payload: dict[str, Any],
    *,
    method: str = "POST",
    ref_type: str | None = None,
    ref_id: str | None = None,
    idempotency_key: str | None = None,
) -> OutboxMessage:
    """Queue a signed message to a partner inside the caller's use case (same transaction)."""
    now = clock.now()
    message_id = new_id()
    message = OutboxMessage(
        id=message_id,
        partner_id=partner_id,
        topic=topic,
        method=method,
        path=path,
        body=canonical_json(payload).decode("utf-8"),
        idempotency_key=idempotency_key or message_id,
        ref_type=ref_type,
        ref_id=ref_id,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    return message


Handler = Callable[[Session, OutboxMessage, int, dict[str, Any]], None]


@dataclass
class _Handlers:
    delivered: dict[str, Handler] = field(default_factory=dict)
    rejected: dict[str, Handler] = field(default_factory=dict)


_HANDLERS = _Handlers()


def register_handler(
    topic: str, *, delivered: Handler | None = None, rejected: Handler | None = None
) -> None:
    """Domain code that receives a partner's answer to a ``topic`` message.

    The handler runs inside the use case that records the delivery (it may write, and it
    must not record its own audit event). Registering again replaces the handler.
    """
    if delivered is not None:
        _HANDLERS.delivered[topic] = delivered
    if rejected is not None:
        _HANDLERS.rejected[topic] = rejected


@dataclass(frozen=True)
class Backoff:
    """Delay before attempt n+1 = min(base * 2^(n-1), cap), plus up to 10 % random jitter."""

    base_seconds: float = 10.0
    cap_seconds: float = 3600.0

    def delay(self, attempts: int) -> dt.timedelta:
        seconds = min(self.base_seconds * (2 ** max(attempts - 1, 0)), self.cap_seconds)
        jitter = seconds * secrets.randbelow(1001) / 10000
        return dt.timedelta(seconds=seconds + jitter)


@dataclass
class DeliveryReport:
    delivered: int = 0
    rejected: int = 0
    failed: int = 0


def _claim(database: Database, limit: int, lease: dt.timedelta) -> list[str]:
    """Lease due messages to this process (several app processes may run the job)."""
    now = clock.now()
    with _bookkeeping(database) as s:
        ids = list(
            s.scalars(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.status == "pending",
                    OutboxMessage.next_attempt_at <= now,
                    (OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until < now),
                )
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.created_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(claimed_until=now + lease)
            )
    return ids


@use_case
def _record_answer(
    session: Session, message_id: str, status_code: int, response: dict[str, Any]
) -> str:
    """The partner answered: delivered (2xx) or final refusal (4xx). One audit event."""
    message = session.get(OutboxMessage, message_id)
    if message is None or message.status != "pending":
        raise Conflict("partner.outbox.state", "消息已处理")
    now = clock.now()
    message.attempts += 1
    message.last_status = status_code
    message.response = response
    message.claimed_until = None
    ok = 200 <= status_code < 300
    message.status = "delivered" if ok else "rejected"
    message.delivered_at = now
    handler = (_HANDLERS.delivered if ok else _HANDLERS.rejected).get(message.topic)
    if handler is not None:
        handler(session, message, status_code, response)
    audit.record(
        session,
        system_actor("partner-outbox"),
        "partner.outbox." + message.status,
        "partner_message",
        message.id,
        {
            "topic": message.topic,
            "partner_id": message.partner_id,
            "ref_type": message.ref_type,
            "ref_id": message.ref_id,
            "status_code": status_code,
            "attempts": message.attempts,
        },
    )
    return message.status


def _record_failure(
    database: Database, message_id: str, error: str, status_code: int | None, backoff: Backoff
) -> None:
    """A failed attempt: bookkeeping only (no audit event; the message stays pending)."""
    with _bookkeeping(database) as s:
        message = s.get(OutboxMessage, message_id)
        if message is not None and message.status == "pending":
            message.attempts += 1
            message.last_status = status_code
            message.last_error = error[:2000]
            message.claimed_until = None
            message.next_attempt_at = clock.now() + backoff.delay(message.attempts)


def deliver_due(
    database: Database,
    identity: Identity,
    *,
    backoff: Backoff | None = None,
    limit: int = 50,
    timeout: float = 10.0,
    transport: httpx.BaseTransport | None = None,
) -> DeliveryReport:
    """Send every due outbox message once (the scheduler job). Safe in several processes."""
    backoff = backoff or Backoff()
    report = DeliveryReport()
    ids = _claim(database, limit, dt.timedelta(seconds=timeout * 3))
    clients: dict[str, PartnerClient] = {}
    try:
        for message_id in ids:
            with database.session_scope() as s:
                message = s.get(OutboxMessage, message_id)
                if message is None or message.status != "pending":
                    continue
                partner = s.get(Partner, message.partner_id)
                assert partner is not None
                base_url, status = partner.base_url, partner.status
                method, path, body, key = (
                    message.method,
                    message.path,
                    message.body.encode("utf-8"),
                    message.idempotency_key,
                )
            if status != "active" or not base_url:
                _record_failure(database, message_id, "partner suspended or no URL", None, backoff)
                report.failed += 1
                continue
            client = clients.get(base_url)
            if client is None:
                client = clients[base_url] = PartnerClient(
                    base_url, identity, timeout=timeout, transport=transport
                )
            try:
                r = client.request(method, path, content=body, idempotency_key=key)
            except httpx.HTTPError as exc:
                _record_failure(database, message_id, f"{type(exc).__name__}: {exc}", None, backoff)
                report.failed += 1
                continue
            final = 200 <= r.status_code < 300 or (
                400 <= r.status_code < 500 and r.status_code not in RETRYABLE_4XX
            )
            if not final:
                _record_failure(database, message_id, r.text[:500], r.status_code, backoff)
                report.failed += 1
                continue
            try:
                answer = r.json()
            except ValueError:
                answer = {"text": r.text[:2000]}
            if not isinstance(answer, dict):
                answer = {"value": answer}
            with database.session_scope() as s:
                try:
                    outcome = _record_answer(s, message_id, r.status_code, answer)
                except Conflict:
                    continue
                except Exception as exc:  # a handler failed: keep the message, retry later
                    _record_failure(
                        database, message_id, f"handler: {exc!r}", r.status_code, backoff
                    )
                    report.failed += 1
                    continue
            if outcome == "delivered":
                report.delivered += 1
            else:
                report.rejected += 1
    finally:
        for client in clients.values():
            client.close()
    return report


def retry_now(database: Database, *, partner_id: str | None = None) -> int:
    """Make every pending message due now (after a partner reports it is back)."""
    with _bookkeeping(database) as s:
        stmt = update(OutboxMessage).where(OutboxMessage.status == "pending")
        if partner_id is not None:
            stmt = stmt.where(OutboxMessage.partner_id == partner_id)
        n = getattr(s.execute(stmt.values(next_attempt_at=clock.now())), "rowcount", 0)
    return int(n or 0)


def purge_nonces(database: Database, window_seconds: int = DEFAULT_WINDOW_SECONDS) -> int:
    """Forget nonces older than twice the window (their timestamps are refused anyway)."""
    cutoff = clock.now() - dt.timedelta(seconds=2 * window_seconds)
    with _bookkeeping(database) as s:
        n = getattr(
            s.execute(delete(PartnerNonce).where(PartnerNonce.seen_at < cutoff)), "rowcount", 0
        )
    return int(n or 0)


def pending_messages(session: Session, *, partner_id: str | None = None) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).where(OutboxMessage.status == "pending")
    if partner_id is not None:
        stmt = stmt.where(OutboxMessage.partner_id == partner_id)
    return list(session.scalars(stmt.order_by(OutboxMessage.created_at)))


# --- published routes ----------------------------------------------------------------------

router = APIRouter(prefix="/api/v1/partner", tags=["partner"])


@router.get("/platform-key")
def platform_key(request: Request) -> dict[str, str]:
    """The platform's partner code and public key, to verify the platform's messages."""
    identity: Identity = request.app.state.partner_identity
    public = identity.private_key.public_key()
    return {
        "code": identity.code,
        "suite": public.suite_name,
        "key_id": public.key_id().hex(),
        "public_key_pem": public.to_pem().decode("ascii"),
    }


@router.post("/ping")
async def ping(request: Request) -> JSONResponse:
    """A signed no-op, for partners to test their signing (idempotent with a key)."""
    signed = await signed_request(request)
    database: Database = request.app.state.db
    return await run_in_threadpool(answer_once, database, signed, lambda s: _ping(s, signed))


@use_case
def _ping(session: Session, signed: SignedRequest) -> StoredAnswer:
    answer = {
        "partner": signed.partner_code,
        "received_at": signed.received_at.isoformat(),
        "body_hash": signed.body_digest,
        "echo": signed.json(),
    }
    audit.record(session, signed.actor, "partner.ping", "partner", signed.partner_id, {})
    return remember(session, signed, answer)
