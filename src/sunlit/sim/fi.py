"""`sunlit sim fi`: a financial institution's side of the guarantee interface, as a separate
HTTP service, for the demo and the tests (docs/spec/guarantee-api.md).

It talks to the platform only through the spec's signed messages. Its behaviour is set at
start-up (command-line options) or at run time through ``POST /sim/config`` (loopback only):

* ``decision``: approve | decline;   ``delay``: seconds before the decision is sent;
* ``duplicate``: send every callback twice;   ``reorder``: send issuance before payment;
* ``wrong_account``: the premium is paid from an account that is not the basic account;
* ``down``: answer 503 to everything and send nothing (an outage);
* ``callbacks``: false = do everything but never call the platform back (only
  reconciliation can recover the results);   ``claims``: pay | refuse.

State (orders, callbacks still to send) is kept in ``<dir>/state.json`` so a restarted
simulator carries on where it stopped. Its signing key is ``<dir>/fi.key.pem``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import os
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sunlit.kernel import clock, partner
from sunlit.kernel.crypto import PublicKey, get_suite, load_private_key_any, load_public_key_any

CENT = Decimal("0.01")


@dataclass
class Behaviour:
    decision: str = "approve"
    delay: float = 0.0
    duplicate: bool = False
    reorder: bool = False
    wrong_account: bool = False
    down: bool = False
    callbacks: bool = True
    claims: str = "pay"
    rate: str = "0.0015"
    min_premium: str = "200.00"


@dataclass
class Callback:
    path: str
    body: dict[str, Any]
    key: str
    order_no: str
    kind: str
    not_before: float = 0.0
    attempts: int = 0
    done: bool = False
    answer: dict[str, Any] | None = None
    status: int | None = None


@dataclass
class SimState:
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    outbox: list[Callback] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)  # every platform message


class FiSimulator:
    def __init__(
        self,
        folder: Path,
        *,
        code: str,
        name: str,
        credit_code: str,
        platform_url: str,
        suite: str = "gm",
        behaviour: Behaviour | None = None,
        platform_key: PublicKey | None = None,
    ) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        key_file = folder / "fi.key.pem"
        if not key_file.exists():
            key_file.write_bytes(get_suite(suite).generate_keypair().to_pem())
            key_file.chmod(0o600)
        self.key = load_private_key_any(key_file.read_bytes())
        self.code, self.name, self.credit_code = code, name, credit_code
        self.platform_url = platform_url.rstrip("/")
        self.behaviour = behaviour or Behaviour()
        self._platform_key = platform_key
        self.lock = threading.RLock()
        self.state = self._load()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- persistence --------------------------------------------------------------------

    def _load(self) -> SimState:
        path = self.folder / "state.json"
        if not path.exists():
            return SimState()
        raw = json.loads(path.read_text())
        return SimState(
            orders=raw["orders"],
            outbox=[Callback(**c) for c in raw["outbox"]],
            received=raw.get("received", []),
        )

    def save(self) -> None:
        path = self.folder / "state.json"
        tmp = path.with_suffix(".tmp")
        data = {
            "orders": self.state.orders,
            "outbox": [asdict(c) for c in self.state.outbox],
            "received": self.state.received,
        }
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1))
        os.replace(tmp, path)

    # --- the platform's key -----------------------------------------------------------------

    def platform_key(self) -> PublicKey:
        if self._platform_key is None:
            r = httpx.get(f"{self.platform_url}/api/v1/partner/platform-key", timeout=10)
            r.raise_for_status()
            self._platform_key = load_public_key_any(r.json()["public_key_pem"])
        return self._platform_key

    @property
    def public_pem(self) -> str:
        return self.key.public_key().to_pem().decode()

    # --- building the FI's answers --------------------------------------------------------

    def premium(self, amount: Decimal) -> Decimal:
        p = (amount * Decimal(self.behaviour.rate)).quantize(CENT, rounding=ROUND_HALF_UP)
        return max(p, Decimal(self.behaviour.min_premium))

    def _pdf(self, doc: dict[str, Any]) -> bytes:
        from reportlab.lib.pagesizes import A4
        from reportlab.pdfgen import canvas

        buf = io.BytesIO()
        c = canvas.Canvas(buf, pagesize=A4, invariant=True)
        c.setTitle(f"Bid guarantee {doc['guarantee_no']}")
        y = 800
        for k in ("guarantee_no", "order_no", "applicant_credit_code", "amount", "valid_to"):
            c.drawString(72, y, f"{k}: {doc[k]}")
            y -= 20
        c.drawString(72, y, f"commitment: {doc['commitment']}")
        c.showPage()
        c.save()
        return buf.getvalue()

    def _issuance(self, order: dict[str, Any]) -> dict[str, Any]:
        app = order["application"]
        doc_base = {
            "version": "SUNLIT-GUARANTEE-1",
            "guarantee_no": order["guarantee_no"],
            "order_no": app["order_no"],
            "form": app["form"],
            "institution_name": self.name,
            "institution_credit_code": self.credit_code,
            "applicant_name": app["applicant"]["name"],
            "applicant_credit_code": app["applicant"]["credit_code"],
            "beneficiary": "密文受益人（开标后解密还原）：" + app["sealed"]["commitment"][:16],
            "commitment": app["sealed"]["commitment"],
            "amount": app["amount"],
            "currency": "CNY",
            "valid_from": app["valid_from"],
            "valid_to": app["valid_to"],
            "issued_at": order["issued_at"],
        }
        pdf = self._pdf(doc_base)
        doc = {**doc_base, "pdf_sha256": hashlib.sha256(pdf).hexdigest()}
        signature = get_suite(self.key.suite_name).sign(self.key, partner.canonical_json(doc))
        return {
            "guarantee": doc,
            "document_signature": base64.b64encode(signature).decode(),
            "pdf_base64": base64.b64encode(pdf).decode(),
        }

    def _queue(self, kind: str, path: str, body: dict[str, Any], order_no: str, at: float) -> None:
        key = (
            f"{kind}-{order_no}"
            if kind != "claim-result"
            else f"{kind}-{body['claim_no']}-{body['decision']}"
        )
        copies = 2 if self.behaviour.duplicate else 1
        for _ in range(copies):
            self.state.outbox.append(Callback(path, body, key, order_no, kind, not_before=at))

    # --- handling the platform's messages ---------------------------------------------------

    def on_application(self, app: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            order_no = app["order_no"]
            order = self.state.orders.get(order_no)
            if order is not None:
                return {"accepted": True, "fi_order_no": order["fi_order_no"], "duplicate": True}
            b = self.behaviour
            now = time.time()
            fi_no = "FI" + secrets.token_hex(5).upper()
            order = {
                "application": app,
                "fi_order_no": fi_no,
                "status": "received",
                "guarantee_no": None,
                "claims": {},
            }
            self.state.orders[order_no] = order
            at = now + b.delay
            if b.decision != "approve":
                order["status"] = "declined"
                order["decision"] = {
                    "order_no": order_no,
                    "decision": "declined",
                    "reason": "不符合承保条件（模拟）",
                    "fi_order_no": fi_no,
                }
                self._queue(
                    "decision", "/api/v1/guarantee/fi/decisions", order["decision"], order_no, at
                )
                self.save()
                return {"accepted": True, "fi_order_no": fi_no}
            premium = self.premium(Decimal(app["amount"]))
            order["decision"] = {
                "order_no": order_no,
                "decision": "approved",
                "premium": str(premium),
                "rate": b.rate,
                "fi_order_no": fi_no,
            }
            account = (
                "6222" + secrets.token_hex(6)
                if b.wrong_account
                else app["applicant"]["basic_account_no"]
            )
            order["payment"] = {
                "order_no": order_no,
                "amount": str(premium),
                "payer_account_no": account,
                "payer_account_name": app["applicant"]["name"],
                "payer_bank": app["applicant"].get("basic_account_bank", ""),
                "paid_at": clock.now().isoformat(),
            }
            order["guarantee_no"] = "BH-" + self.code.upper() + "-" + secrets.token_hex(5).upper()
            order["issued_at"] = clock.now().isoformat()
            order["issuance"] = self._issuance(order)
            order["status"] = "issued" if not b.wrong_account else "paid"
            steps = [
                ("decision", "/api/v1/guarantee/fi/decisions", order["decision"]),
                ("payment", "/api/v1/guarantee/fi/payments", order["payment"]),
                ("issuance", "/api/v1/guarantee/fi/issuances", order["issuance"]),
            ]
            if b.reorder:
                steps = [steps[0], steps[2], steps[1]]
            for i, (kind, path, body) in enumerate(steps):
                self._queue(kind, path, body, order_no, at + i * 0.01)
            self.save()
            return {"accepted": True, "fi_order_no": fi_no}

    def on_reveal(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            order = self.state.orders.get(body.get("order_no", ""))
            if order is None:
                return 404, {"code": "fi.order.unknown", "detail": "未知订单"}
            suite = get_suite(self.key.suite_name)
            expected = order["application"]["sealed"]["commitment"]
            got = suite.hash(
                bytes.fromhex(body["salt"]) + partner.canonical_json(body["details"])
            ).hex()
            if got != expected:
                return 422, {
                    "code": "fi.reveal.mismatch",
                    "detail": "解密还原信息与申请时的承诺不符",
                }
            order["revealed"] = body["details"]
            self.save()
            return 200, {"verified": True, "order_no": body["order_no"]}

    def on_release(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            order = self.state.orders.get(body.get("order_no", ""))
            if order is None:
                return 404, {"code": "fi.order.unknown", "detail": "未知订单"}
            order["status"] = "released"
            order["released"] = body
            self.save()
            return 200, {"released": True, "order_no": body["order_no"]}

    def on_cancel(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            order = self.state.orders.get(body.get("order_no", ""))
            if order is not None:
                order["status"] = "cancelled"
                self.save()
            return 200, {"cancelled": True}

    def on_claim(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            order = self.state.orders.get(body.get("order_no", ""))
            if order is None:
                return 404, {"code": "fi.order.unknown", "detail": "未知订单"}
            for e in body.get("evidence", []):
                if hashlib.sha256(base64.b64decode(e["content_base64"])).hexdigest() != e["sha256"]:
                    return 422, {"code": "fi.claim.evidence", "detail": "证明材料哈希不符"}
            claim_no = body["claim_no"]
            if claim_no in order["claims"]:
                return 200, {"accepted": True, "duplicate": True}
            pay = self.behaviour.claims == "pay"
            result = {
                "claim_no": claim_no,
                "decision": "paid" if pay else "refused",
                "paid_amount": body["amount"] if pay else None,
                "paid_at": clock.now().isoformat() if pay else None,
                "remark": "经审核，符合理赔条件，已赔付至受益人账户"
                if pay
                else "索赔理由不成立（模拟）",
            }
            order["claims"][claim_no] = {"claim": body, "result": result}
            self._queue(
                "claim-result",
                "/api/v1/guarantee/fi/claim-results",
                result,
                order["application"]["order_no"],
                time.time(),
            )
            self.save()
            return 200, {"accepted": True}

    def reconcile(self, since: str | None) -> dict[str, Any]:
        with self.lock:
            orders = []
            for order in self.state.orders.values():
                orders.append(
                    {
                        "order_no": order["application"]["order_no"],
                        "fi_order_no": order["fi_order_no"],
                        "status": order["status"],
                        "decision": order.get("decision"),
                        "payment": order.get("payment") if order.get("payment") else None,
                        "issuance": order.get("issuance")
                        if order["status"] in ("issued", "released")
                        else None,
                        "claim_results": [c["result"] for c in order["claims"].values()],
                    }
                )
            return {"orders": orders}

    # --- sending callbacks -----------------------------------------------------------------

    def pump(self, transport: httpx.BaseTransport | None = None) -> int:
        """Send every due callback once; returns how many were acknowledged."""
        if self.behaviour.down or not self.behaviour.callbacks:
            return 0
        with self.lock:
            due = [c for c in self.state.outbox if not c.done and c.not_before <= time.time()]
        sent = 0
        identity = partner.Identity(self.code, self.key)
        with partner.PartnerClient(self.platform_url, identity, transport=transport) as client:
            for cb in due:
                try:
                    r = client.post(cb.path, cb.body, idempotency_key=cb.key)
                    status, answer = r.status_code, (r.json() if r.content else {})
                except (httpx.HTTPError, ValueError) as exc:
                    status, answer = 0, {"error": str(exc)}
                with self.lock:
                    cb.attempts += 1
                    cb.status = status
                    cb.answer = answer
                    final = 200 <= status < 300 or (
                        400 <= status < 500 and status not in partner.RETRYABLE_4XX
                    )
                    if final:
                        cb.done = True
                        sent += 1
                        self._after(cb)
                    else:
                        cb.not_before = time.time() + min(0.2 * 2 ** (cb.attempts - 1), 5.0)
                    self.save()
        return sent

    def _after(self, cb: Callback) -> None:
        """An acknowledged payment that the platform refused: the FI refunds, does not issue."""
        if cb.kind == "payment" and cb.answer and cb.answer.get("result") == "refused":
            order = self.state.orders[cb.order_no]
            order["status"] = "payment_refused"
            order["refusal"] = cb.answer
            for other in self.state.outbox:
                if other.order_no == cb.order_no and other.kind == "issuance":
                    other.done = True

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.wait(0.1):
                try:
                    self.pump()
                except Exception:  # keep the simulator alive
                    time.sleep(0.5)

        self._thread = threading.Thread(target=loop, name="sim-fi", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)


def create_app(sim: FiSimulator, *, run_worker: bool = True) -> FastAPI:
    """The FI's HTTP interface (paths relative to the FI's registered base URL)."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        if run_worker:
            sim.start()
        yield
        sim.stop()

    app = FastAPI(title="Sunlit FI simulator", lifespan=lifespan)
    app.state.sim = sim

    async def verified(request: Request) -> tuple[dict[str, Any] | None, JSONResponse | None]:
        if sim.behaviour.down:
            return None, JSONResponse({"detail": "service unavailable"}, status_code=503)
        body = await request.body()
        try:
            partner.verify_signature(
                sim.platform_key(),
                headers=request.headers,
                method=request.method,
                path=partner.request_path(request),
                body=body,
            )
        except Exception:
            return None, JSONResponse(
                {"code": "fi.signature", "detail": "平台签名验证失败"}, status_code=401
            )
        if request.headers.get(partner.H_SENDER) != partner_code(sim):
            return None, JSONResponse(
                {"code": "fi.sender", "detail": "未知发送方"}, status_code=401
            )
        with sim.lock:
            sim.state.received.append(
                {"path": request.url.path, "key": request.headers.get(partner.H_IDEMPOTENCY)}
            )
        return (json.loads(body) if body else {}), None

    @app.post("/applications")
    async def applications(request: Request) -> JSONResponse:
        body, error = await verified(request)
        if error:
            return error
        assert body is not None
        return JSONResponse(sim.on_application(body))

    def _route(path: str, handler: Any) -> None:
        async def endpoint(request: Request) -> JSONResponse:
            body, error = await verified(request)
            if error:
                return error
            status, answer = handler(body)
            return JSONResponse(answer, status_code=status)

        app.post(path)(endpoint)

    _route("/reveals", sim.on_reveal)
    _route("/releases", sim.on_release)
    _route("/claims", sim.on_claim)
    _route("/cancellations", sim.on_cancel)

    @app.get("/reconcile")
    async def reconcile(request: Request, since: str | None = None) -> JSONResponse:
        _, error = await verified(request)
        if error:
            return error
        return JSONResponse(sim.reconcile(since))

    @app.get("/sim/info")
    def info() -> dict[str, Any]:
        return {
            "code": sim.code,
            "name": sim.name,
            "credit_code": sim.credit_code,
            "public_key_pem": sim.public_pem,
            "behaviour": asdict(sim.behaviour),
        }

    @app.get("/sim/state")
    def state() -> dict[str, Any]:
        with sim.lock:
            return {
                "orders": sim.state.orders,
                "outbox": [asdict(c) for c in sim.state.outbox],
                "received": sim.state.received,
            }

    @app.post("/sim/config")
    async def config(request: Request) -> dict[str, Any]:
        if request.client is None or request.client.host not in ("127.0.0.1", "::1", "testclient"):
            return JSONResponse({"detail": "loopback only"}, status_code=403)  # type: ignore[return-value]
        changes = await request.json()
        with sim.lock:
            for k, v in changes.items():
                if hasattr(sim.behaviour, k):
                    setattr(sim.behaviour, k, v)
        return asdict(sim.behaviour)

    return app


def partner_code(sim: FiSimulator) -> str:
    """The platform's sender code (from its published key document)."""
    code = getattr(sim, "_platform_code", None)
    if code is None:
        try:
            r = httpx.get(f"{sim.platform_url}/api/v1/partner/platform-key", timeout=10)
            code = r.json()["code"]
        except (httpx.HTTPError, ValueError, KeyError):
            code = "sunlit"
        sim._platform_code = code  # type: ignore[attr-defined]
    return str(code)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
