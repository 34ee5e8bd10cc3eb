"""``sunlit sim bank``: a deposit bank that implements the bank side of
``docs/spec/deposit-bank-api.md`` in its own process, for the demo and the tests.

It talks to the platform only through the spec's signed messages. Its ``/sim/*`` routes are the
simulator's own controls (what a bidder does at the counter, and the failure modes), not part
of the interface: pay into a sub-account (from any account, at any booking time), deliver
notices twice or in reverse order, lose them, go down (answer 503 and hold every message),
fail the refunds to given accounts.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sunlit.kernel import clock, partner
from sunlit.kernel.crypto import PrivateKey, get_suite, load_private_key_any, load_public_key_any

CN = clock.CHINA_TZ


@dataclass
class Modes:
    down: bool = False
    duplicate: bool = False  # every notice is delivered twice (second time a new key)
    reorder: int = 0  # hold notices until this many are queued, then send newest first
    lose_notices: bool = False  # book the credit, never send the notice (found by statement)
    fail_refund_accounts: list[str] = field(default_factory=list)


@dataclass
class Outgoing:
    path: str
    payload: dict[str, Any]
    key: str
    attempts: int = 0


class SimBank:
    def __init__(
        self,
        code: str,
        name: str,
        key: PrivateKey,
        platform_url: str,
        master_account_no: str = "32050188000000000001",
    ) -> None:
        self.code = code
        self.name = name
        self.key = key
        self.platform_url = platform_url.rstrip("/")
        self.master_account_no = master_account_no
        self.platform_key_pem: str | None = None
        self.modes = Modes()
        self.offset = dt.timedelta(0)
        self.lock = threading.RLock()
        self.requests: dict[str, dict[str, Any]] = {}  # request_id -> sub-account
        self.accounts: dict[str, dict[str, Any]] = {}  # sub_account_no -> record
        self.refunds: dict[str, dict[str, Any]] = {}  # instruction_id -> answer
        self.lines: list[dict[str, Any]] = []
        self.queue: deque[Outgoing] = deque()
        self.held: list[Outgoing] = []
        self.seq = 0
        self.nonces: dict[str, float] = {}
        self.delivered: list[dict[str, Any]] = []  # (path, status, answer) log
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._deliver_loop, daemon=True)

    # -- time ---------------------------------------------------------------------------

    def now(self) -> dt.datetime:
        return dt.datetime.now(CN) + self.offset

    # -- platform -> bank ---------------------------------------------------------------

    def platform_key(self) -> Any:
        if self.platform_key_pem is None:
            r = httpx.get(f"{self.platform_url}/api/v1/partner/platform-key", timeout=10)
            r.raise_for_status()
            self.platform_key_pem = r.json()["public_key_pem"]
        return load_public_key_any(self.platform_key_pem)

    def verify(self, request: Request, body: bytes) -> JSONResponse | None:
        """Check the platform's signature, timestamp (300 s) and nonce; None when good."""
        headers = {k: v for k, v in request.headers.items()}
        canon = {
            h: headers.get(h.lower(), "")
            for h in (
                partner.H_SENDER,
                partner.H_TIMESTAMP,
                partner.H_NONCE,
                partner.H_SIGNATURE,
                partner.H_IDEMPOTENCY,
            )
            if headers.get(h.lower()) is not None
        }
        path = partner.request_path(request)
        try:
            partner.verify_signature(
                self.platform_key(), headers=canon, method=request.method, path=path, body=body
            )
            ts = int(canon[partner.H_TIMESTAMP])
        except Exception:
            return _problem(401, "bank.signature", "签名验证失败")
        if abs(self.now().timestamp() - ts) > partner.DEFAULT_WINDOW_SECONDS:
            return _problem(401, "bank.timestamp", "时间戳超出允许范围")
        nonce = canon[partner.H_NONCE]
        with self.lock:
            cutoff = time.time() - 2 * partner.DEFAULT_WINDOW_SECONDS
            self.nonces = {n: t for n, t in self.nonces.items() if t > cutoff}
            if nonce in self.nonces:
                return _problem(401, "bank.replay", "重放的报文")
            self.nonces[nonce] = time.time()
        return None

    def open_sub_account(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        request_id = str(body.get("request_id") or "")
        if not request_id or not body.get("bidder_credit_code"):
            return 422, {"code": "bank.invalid", "message": "缺少 request_id 或 bidder_credit_code"}
        with self.lock:
            if request_id in self.requests:
                return 200, self.requests[request_id]
            number = self.master_account_no[:12] + "".join(
                str(secrets.randbelow(10)) for _ in range(8)
            )
            answer = {
                "request_id": request_id,
                "sub_account_no": number,
                "sub_account_name": f"{self.name}投标保证金-{body.get('bidder_name', '')}"[:200],
            }
            self.requests[request_id] = answer
            self.accounts[number] = {
                "balance": Decimal("0"),
                "bidder_credit_code": body["bidder_credit_code"],
                "basic_account_no": body.get("basic_account_no", ""),
            }
            return 200, answer

    def refund(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        iid = str(body.get("instruction_id") or "")
        with self.lock:
            if iid in self.refunds:
                return 202, self.refunds[iid]
            account = self.accounts.get(str(body.get("sub_account_no")))
            if account is None:
                return 404, {"code": "bank.sub_account", "message": "子账号不存在"}
            try:
                principal = Decimal(str(body["principal"]))
                interest = Decimal(str(body["interest"]))
            except Exception:
                return 422, {"code": "bank.invalid", "message": "金额格式错误"}
            if principal > account["balance"]:
                return 409, {"code": "bank.balance", "message": "子账号余额不足"}
            answer = {"instruction_id": iid, "accepted": True}
            self.refunds[iid] = answer
            payee = str(body.get("payee_account_no"))
            booked = self.now()
            if payee in self.modes.fail_refund_accounts:
                result = {
                    "instruction_id": iid,
                    "status": "failed",
                    "bank_ref": "",
                    "done_at": booked.isoformat(),
                    "reason": "收款账户已销户或冻结",
                }
            else:
                account["balance"] -= principal
                ref = "D" + secrets.token_hex(8)
                self.lines.append(
                    {
                        "line_id": ref,
                        "direction": "debit",
                        "sub_account_no": body["sub_account_no"],
                        "amount": str(principal + interest),
                        "counterparty_account_no": payee,
                        "counterparty_name": body.get("payee_account_name", ""),
                        "ref": iid,
                        "booked_at": booked.isoformat(),
                    }
                )
                result = {
                    "instruction_id": iid,
                    "status": "done",
                    "bank_ref": ref,
                    "done_at": booked.isoformat(),
                    "reason": "",
                }
            self.queue.append(
                Outgoing(
                    "/api/v1/deposit-bank/refund-results", result, f"R-{iid}-{result['status']}"
                )
            )
            return 202, answer

    def statement(self, day: dt.date) -> dict[str, Any]:
        with self.lock:
            lines = [
                ln
                for ln in self.lines
                if dt.datetime.fromisoformat(ln["booked_at"]).astimezone(CN).date() == day
            ]
        return {"day": day.isoformat(), "master_account_no": self.master_account_no, "lines": lines}

    # -- the counter ----------------------------------------------------------------------

    def pay(self, body: dict[str, Any]) -> dict[str, Any]:
        number = str(body["sub_account_no"])
        amount = Decimal(str(body["amount"]))
        booked = (
            dt.datetime.fromisoformat(body["booked_at"]) if body.get("booked_at") else self.now()
        )
        with self.lock:
            self.seq += 1
            notice_id = "C" + secrets.token_hex(8)
            account = self.accounts.get(number)
            if account is not None:
                account["balance"] += amount
            notice = {
                "notice_id": notice_id,
                "seq": self.seq,
                "sub_account_no": number,
                "amount": str(amount),
                "payer_account_no": body["payer_account_no"],
                "payer_account_name": body.get("payer_account_name", "付款人"),
                "payer_bank": body.get("payer_bank", ""),
                "booked_at": booked.isoformat(),
            }
            self.lines.append(
                {
                    "line_id": "L" + notice_id,
                    "direction": "credit",
                    "sub_account_no": number,
                    "amount": str(amount),
                    "counterparty_account_no": body["payer_account_no"],
                    "counterparty_name": notice["payer_account_name"],
                    "counterparty_bank": notice["payer_bank"],
                    "ref": notice_id,
                    "seq": self.seq,
                    "booked_at": booked.isoformat(),
                }
            )
            if not self.modes.lose_notices:
                out = Outgoing("/api/v1/deposit-bank/notices", notice, f"N-{notice_id}")
                if self.modes.reorder:
                    self.held.append(out)
                    if len(self.held) >= self.modes.reorder:
                        self.queue.extend(reversed(self.held))
                        self.held = []
                else:
                    self.queue.append(out)
                if self.modes.duplicate:
                    self.queue.append(Outgoing(out.path, dict(notice), f"N-{notice_id}-again"))
        return notice

    # -- bank -> platform -----------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _deliver_loop(self) -> None:
        identity = partner.Identity(code=self.code, private_key=self.key)
        while not self._stop.is_set():
            with self.lock:
                item = self.queue[0] if self.queue and not self.modes.down else None
            if item is None:
                time.sleep(0.05)
                continue
            status, answer = self._send(identity, item)
            with self.lock:
                final = status is not None and (
                    200 <= status < 300 or (400 <= status < 500 and status not in (408, 425, 429))
                )
                if final:
                    if self.queue and self.queue[0] is item:
                        self.queue.popleft()
                    self.delivered.append(
                        {"path": item.path, "key": item.key, "status": status, "answer": answer}
                    )
                else:
                    item.attempts += 1
            if not final:
                time.sleep(min(0.1 * 2 ** min(item.attempts, 5), 2.0))

    def _send(self, identity: partner.Identity, item: Outgoing) -> tuple[int | None, Any]:
        body = partner.canonical_json(item.payload)
        headers = partner.sign_request(
            self.key,
            self.code,
            "POST",
            item.path,
            body,
            idempotency_key=item.key,
            timestamp=int(self.now().timestamp()),
        )
        headers["Content-Type"] = "application/json; charset=utf-8"
        try:
            r = httpx.post(self.platform_url + item.path, content=body, headers=headers, timeout=10)
        except httpx.HTTPError:
            return None, None
        try:
            return r.status_code, r.json()
        except ValueError:
            return r.status_code, r.text


def _problem(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status)


def create_sim_app(bank: SimBank) -> FastAPI:
    app = FastAPI(title=f"{bank.name}（模拟）", docs_url=None, redoc_url=None)
    app.state.bank = bank

    def down() -> JSONResponse | None:
        return _problem(503, "bank.down", "银行系统维护中") if bank.modes.down else None

    @app.post("/v1/sub-accounts")
    async def open_sub_account(request: Request) -> JSONResponse:
        body = await request.body()
        refusal = down() or bank.verify(request, body)
        if refusal is not None:
            return refusal
        status, answer = bank.open_sub_account(_json(body))
        return JSONResponse(answer, status_code=status)

    @app.post("/v1/refunds")
    async def refund(request: Request) -> JSONResponse:
        body = await request.body()
        refusal = down() or bank.verify(request, body)
        if refusal is not None:
            return refusal
        status, answer = bank.refund(_json(body))
        return JSONResponse(answer, status_code=status)

    @app.get("/v1/statements")
    async def statement(request: Request, day: str) -> JSONResponse:
        refusal = down() or bank.verify(request, b"")
        if refusal is not None:
            return refusal
        return JSONResponse(bank.statement(dt.date.fromisoformat(day)))

    # --- simulator controls (not part of the interface) ---

    @app.get("/sim/public-key")
    def public_key() -> dict[str, str]:
        return {
            "code": bank.code,
            "name": bank.name,
            "master_account_no": bank.master_account_no,
            "public_key_pem": bank.key.public_key().to_pem().decode("ascii"),
        }

    @app.post("/sim/clock")
    async def set_clock(request: Request) -> dict[str, str]:
        body = await request.json()
        target = dt.datetime.fromisoformat(body["now"])
        bank.offset = target - dt.datetime.now(CN)
        return {"now": bank.now().isoformat()}

    @app.post("/sim/config")
    async def config(request: Request) -> dict[str, Any]:
        body = await request.json()
        with bank.lock:
            for name, value in body.items():
                if not hasattr(bank.modes, name):
                    return {"error": f"unknown mode {name}"}
                setattr(bank.modes, name, value)
            if not bank.modes.reorder and bank.held:
                bank.queue.extend(reversed(bank.held))
                bank.held = []
            return dict(bank.modes.__dict__)

    @app.post("/sim/pay")
    async def pay(request: Request) -> dict[str, Any]:
        return bank.pay(await request.json())

    @app.get("/sim/outbox")
    def outbox() -> dict[str, Any]:
        with bank.lock:
            return {
                "queued": len(bank.queue),
                "held": len(bank.held),
                "delivered": list(bank.delivered),
            }

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "down" if bank.modes.down else "ok"}

    return app


def _json(body: bytes) -> dict[str, Any]:
    import json

    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def load_or_create_key(path: Path | None, suite: str) -> PrivateKey:
    if path is not None and path.exists():
        return load_private_key_any(path.read_bytes())
    key = get_suite(suite).generate_keypair()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(key.to_pem())
        path.chmod(0o600)
    return key
