"""Signed partner messaging over real HTTP: signatures, replay, idempotency, the outbox."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sunlit.kernel import audit, partner
from sunlit.kernel.authz import system_actor
from sunlit.kernel.clock import ManualClock
from sunlit.kernel.crypto import PrivateKey, get_suite
from sunlit.kernel.db import Database, use_case
from tests.browser.conftest import ServerThread, _free_port


@use_case
def _register(session: Session, code: str, key: PrivateKey, base_url: str = "") -> str:
    p = partner.register_partner(
        session,
        code=code,
        name=f"测试机构 {code}",
        kind="bank",
        public_key_pem=key.public_key().to_pem().decode(),
        base_url=base_url,
    )
    audit.record(session, system_actor(), "test.partner.register", "partner", p.id, {})
    return p.id


@use_case
def _suspend(session: Session, partner_id: str) -> None:
    partner.set_status(session, partner.get_partner(session, partner_id), "suspended")
    audit.record(session, system_actor(), "test.partner.suspend", "partner", partner_id, {})


@use_case
def _enqueue(session: Session, partner_id: str, topic: str, payload: dict[str, Any]) -> str:
    m = partner.enqueue(session, partner_id, topic, "/inbox", payload, ref_type="t", ref_id="1")
    audit.record(session, system_actor(), "test.partner.enqueue", "t", "1", {})
    return m.id


# --- canonical string and signatures --------------------------------------------------------


@pytest.mark.parametrize("suite", ["gm", "intl"])
def test_signature_covers_every_part(suite: str) -> None:
    key = get_suite(suite).generate_keypair()
    body = partner.canonical_json({"金额": "100.00", "n": 1})
    headers = partner.sign_request(key, "fi-a", "POST", "/x?y=1", body, idempotency_key="k1")
    partner.verify_signature(
        key.public_key(), headers=headers, method="POST", path="/x?y=1", body=body
    )
    variants: list[dict[str, Any]] = [
        {"body": body + b" "},
        {"path": "/x?y=2"},
        {"method": "PUT"},
        {"headers": {**headers, partner.H_TIMESTAMP: str(int(headers[partner.H_TIMESTAMP]) + 1)}},
        {"headers": {**headers, partner.H_NONCE: "A" * 32}},
        {"headers": {**headers, partner.H_IDEMPOTENCY: "k2"}},
        {"headers": {**headers, partner.H_SENDER: "fi-b"}},
    ]
    for change in variants:
        args: dict[str, Any] = {
            "headers": headers,
            "method": "POST",
            "path": "/x?y=1",
            "body": body,
        }
        args.update(change)
        with pytest.raises(Exception) as err:
            partner.verify_signature(key.public_key(), **args)
        assert getattr(err.value, "code", "") == "partner.signature.invalid"


def test_canonical_string_is_the_published_one() -> None:
    text = partner.canonical_string(
        sender="fi-a",
        method="post",
        path="/api/v1/x",
        timestamp="1795397400",
        nonce="n" * 16,
        idempotency_key="",
        body_digest_hex="ab",
    )
    assert text == b"SUNLIT-PARTNER-1\nfi-a\nPOST\n/api/v1/x\n1795397400\nnnnnnnnnnnnnnnnn\n\nab"


# --- receiving over real HTTP ---------------------------------------------------------------


@dataclass
class Live:
    url: str
    database: Database


@pytest.fixture
def live(app: FastAPI, database: Database) -> Iterator[Live]:
    port = _free_port()
    with ServerThread(app, port):
        yield Live(f"http://127.0.0.1:{port}", database)


def _client(live: Live, code: str, key: PrivateKey) -> partner.PartnerClient:
    return partner.PartnerClient(live.url, partner.Identity(code, key))


def test_signed_ping_replay_and_refusals(live: Live, clock: ManualClock) -> None:
    key = get_suite("gm").generate_keypair()
    pid = _register(live.database.session(), "fi-alpha", key)
    with _client(live, "fi-alpha", key) as c:
        r = c.post("/api/v1/partner/ping", {"hello": "你好"})
        assert r.status_code == 200, r.text
        assert r.json()["partner"] == "fi-alpha"
        assert r.json()["echo"] == {"hello": "你好"}

    # The very same bytes again: a replay.
    body = partner.canonical_json({"a": 1})
    headers = partner.sign_request(key, "fi-alpha", "POST", "/api/v1/partner/ping", body)
    first = httpx.post(f"{live.url}/api/v1/partner/ping", content=body, headers=headers)
    assert first.status_code == 200
    again = httpx.post(f"{live.url}/api/v1/partner/ping", content=body, headers=headers)
    assert again.status_code == 401
    assert again.json()["code"] == "partner.replay"

    # Unsigned.
    r = httpx.post(f"{live.url}/api/v1/partner/ping", json={"a": 1})
    assert r.status_code == 401 and r.json()["code"] == "partner.signature.missing"

    # Signed by another key.
    other = get_suite("gm").generate_keypair()
    h = partner.sign_request(other, "fi-alpha", "POST", "/api/v1/partner/ping", body)
    r = httpx.post(f"{live.url}/api/v1/partner/ping", content=body, headers=h)
    assert r.status_code == 401 and r.json()["code"] == "partner.signature.invalid"

    # Body changed after signing.
    h = partner.sign_request(key, "fi-alpha", "POST", "/api/v1/partner/ping", body)
    r = httpx.post(f"{live.url}/api/v1/partner/ping", content=b'{"a":2}', headers=h)
    assert r.status_code == 401 and r.json()["code"] == "partner.signature.invalid"

    # Outside the timestamp window (the platform clock moved on 6 minutes).
    h = partner.sign_request(key, "fi-alpha", "POST", "/api/v1/partner/ping", body)
    clock.advance(dt.timedelta(minutes=6))
    r = httpx.post(f"{live.url}/api/v1/partner/ping", content=body, headers=h)
    assert r.status_code == 401 and r.json()["code"] == "partner.timestamp.window"

    # Unknown sender.
    h = partner.sign_request(key, "fi-nobody", "POST", "/api/v1/partner/ping", body)
    r = httpx.post(f"{live.url}/api/v1/partner/ping", content=body, headers=h)
    assert r.status_code == 401 and r.json()["code"] == "partner.unknown"

    # Suspended sender.
    _suspend(live.database.session(), pid)
    with _client(live, "fi-alpha", key) as c:
        r = c.post("/api/v1/partner/ping", {"a": 3})
    assert r.status_code == 403 and r.json()["code"] == "partner.suspended"


@pytest.mark.parametrize("suite", ["gm", "intl"])
def test_idempotency_same_key_same_answer_other_body_refused(live: Live, suite: str) -> None:
    key = get_suite(suite).generate_keypair()
    _register(live.database.session(), "fi-idem", key)
    with _client(live, "fi-idem", key) as c:
        first = c.post("/api/v1/partner/ping", {"n": 1}, idempotency_key="order-1")
        second = c.post("/api/v1/partner/ping", {"n": 1}, idempotency_key="order-1")
        other = c.post("/api/v1/partner/ping", {"n": 2}, idempotency_key="order-1")
        fresh = c.post("/api/v1/partner/ping", {"n": 2}, idempotency_key="order-2")
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()  # the stored answer, not a new one
    assert second.headers.get(partner.H_REPLAYED) == "true"
    assert first.headers.get(partner.H_REPLAYED) is None
    assert other.status_code == 409 and other.json()["code"] == "partner.idempotency.mismatch"
    assert fresh.status_code == 200
    with live.database.session_scope() as s:
        pings = s.scalar(
            select(func.count())
            .select_from(audit.AuditEvent)
            .where(audit.AuditEvent.action == "partner.ping")
        )
    assert pings == 2  # order-1 ran once, order-2 once


def test_platform_key_is_published(live: Live, settings: Any) -> None:
    r = httpx.get(f"{live.url}/api/v1/partner/platform-key")
    assert r.status_code == 200
    body = r.json()
    assert body["code"] == settings.partner_code
    assert body["suite"] == settings.crypto_suite
    assert "BEGIN PUBLIC KEY" in body["public_key_pem"]


# --- the outbox -----------------------------------------------------------------------------


@dataclass
class Receiver:
    """A partner's inbox on its own uvicorn server: verifies the platform's signatures."""

    platform_key: Any
    mode: str = "ok"  # ok | fail | refuse
    received: list[dict[str, Any]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/inbox")
        async def inbox(request: Request) -> JSONResponse:
            body = await request.body()
            try:
                partner.verify_signature(
                    self.platform_key,
                    headers=request.headers,
                    method="POST",
                    path=partner.request_path(request),
                    body=body,
                )
            except Exception:
                return JSONResponse({"error": "bad signature"}, status_code=401)
            if self.mode == "fail":
                return JSONResponse({"error": "down"}, status_code=503)
            if self.mode == "refuse":
                return JSONResponse({"error": "no"}, status_code=422)
            with self.lock:
                key = request.headers[partner.H_IDEMPOTENCY]
                if key not in self.keys:  # the partner's own idempotency
                    self.keys.append(key)
                    self.received.append(json.loads(body))
            return JSONResponse({"accepted": True, "order_no": "ORD-" + key[:6]})

        return app


@pytest.fixture
def receiver_url() -> str:
    return f"http://127.0.0.1:{_free_port()}"


def test_outbox_retries_with_backoff_until_acknowledged(
    database: Database, clock: ManualClock, receiver_url: str
) -> None:
    platform = partner.Identity("sunlit", get_suite("gm").generate_keypair())
    fi_key = get_suite("gm").generate_keypair()
    pid = _register(database.session(), "fi-out", fi_key, receiver_url)
    seen: list[tuple[str, dict[str, Any]]] = []
    partner.register_handler(
        "test.order", delivered=lambda s, m, status, answer: seen.append((m.id, answer))
    )
    mid = _enqueue(database.session(), pid, "test.order", {"amount": "10.00"})
    backoff = partner.Backoff(base_seconds=10, cap_seconds=60)

    # The partner is down: connection refused; the message stays pending with a backoff.
    report = partner.deliver_due(database, platform, backoff=backoff, timeout=2)
    assert (report.delivered, report.failed) == (0, 1)
    with database.session_scope() as s:
        m = s.get(partner.OutboxMessage, mid)
        assert m is not None and m.status == "pending" and m.attempts == 1
        delay = (m.next_attempt_at - clock.now()).total_seconds()
        assert 10 <= delay <= 11
    # Not due yet: nothing is sent.
    assert partner.deliver_due(database, platform, backoff=backoff).failed == 0

    receiver = Receiver(platform.private_key.public_key(), mode="fail")
    port = int(receiver_url.rsplit(":", 1)[1])
    with ServerThread(receiver.app(), port):
        clock.advance(dt.timedelta(seconds=11))
        assert partner.deliver_due(database, platform, backoff=backoff).failed == 1  # 503
        with database.session_scope() as s:
            m = s.get(partner.OutboxMessage, mid)
            assert m is not None and m.attempts == 2 and m.last_status == 503
            assert 20 <= (m.next_attempt_at - clock.now()).total_seconds() <= 22
        receiver.mode = "ok"
        clock.advance(dt.timedelta(seconds=23))
        # A restarted process (a new Database object) finds the message in the table.
        fresh = Database(database.url)
        try:
            report = partner.deliver_due(fresh, platform, backoff=backoff)
        finally:
            fresh.dispose()
        assert report.delivered == 1
        # Delivered once; nothing left to send.
        assert partner.deliver_due(database, platform, backoff=backoff).delivered == 0
    assert receiver.received == [{"amount": "10.00"}]
    assert [x[0] for x in seen] == [mid]
    assert seen[0][1]["accepted"] is True
    with database.session_scope() as s:
        m = s.get(partner.OutboxMessage, mid)
        assert m is not None and m.status == "delivered" and m.attempts == 3
        assert m.response == seen[0][1]
        events = audit.events_for(s, "partner_message", mid)
        assert [e.action for e in events] == ["partner.outbox.delivered"]


def test_outbox_final_refusal_and_capped_backoff(
    database: Database, clock: ManualClock, receiver_url: str
) -> None:
    platform = partner.Identity("sunlit", get_suite("gm").generate_keypair())
    pid = _register(database.session(), "fi-ref", get_suite("gm").generate_keypair(), receiver_url)
    refused: list[int] = []
    partner.register_handler("test.ref", rejected=lambda s, m, status, a: refused.append(status))
    mid = _enqueue(database.session(), pid, "test.ref", {"x": 1})
    backoff = partner.Backoff(base_seconds=10, cap_seconds=60)
    for _ in range(6):  # down: 10, 20, 40, 60, 60, 60 s
        partner.deliver_due(database, platform, backoff=backoff, timeout=2)
        clock.advance(dt.timedelta(seconds=70))
    with database.session_scope() as s:
        m = s.get(partner.OutboxMessage, mid)
        assert m is not None and m.attempts == 6 and m.status == "pending"
    # An operator learns the partner is back: everything pending becomes due at once.
    assert partner.retry_now(database, partner_id=pid) == 1
    receiver = Receiver(platform.private_key.public_key(), mode="refuse")
    with ServerThread(receiver.app(), int(receiver_url.rsplit(":", 1)[1])):
        report = partner.deliver_due(database, platform, backoff=backoff)
    assert report.rejected == 1 and refused == [422]
    with database.session_scope() as s:
        m = s.get(partner.OutboxMessage, mid)
        assert m is not None and m.status == "rejected"


def test_backoff_is_capped_and_jittered() -> None:
    b = partner.Backoff(base_seconds=5, cap_seconds=100)
    for attempts, expected in [(1, 5), (2, 10), (3, 20), (5, 80), (6, 100), (30, 100)]:
        d = b.delay(attempts).total_seconds()
        assert expected <= d <= expected * 1.1


def test_nonces_are_purged_after_twice_the_window(live: Live, clock: ManualClock) -> None:
    key = get_suite("gm").generate_keypair()
    _register(live.database.session(), "fi-purge", key)
    with _client(live, "fi-purge", key) as c:
        assert c.post("/api/v1/partner/ping", {}).status_code == 200
    assert partner.purge_nonces(live.database, 300) == 0
    clock.advance(dt.timedelta(seconds=601))
    assert partner.purge_nonces(live.database, 300) == 1
