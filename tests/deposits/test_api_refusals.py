"""Refusals over the real HTTP API: bank messages (unknown instruction, conflicting notice,
future booking time, replay) and bidder requests (no basic account, after the deadline); pages
in Chinese for each role."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from sunlit.deposits.models import PaymentNotice, Refund
from sunlit.kernel import clock as kclock
from sunlit.kernel import partner
from sunlit.kernel.clock import ManualClock
from sunlit.kernel.crypto import PrivateKey, get_suite
from tests.deposits.helpers import bidder
from tests.projects.helpers import World, accepted_tender, build_world, publish


def _admit(client: Any, world: World) -> tuple[PrivateKey, str]:
    key = get_suite("gm").generate_keypair()
    r = client.post(
        "/api/v1/deposit-banks",
        json={
            "code": "bank1",
            "name": "测试银行",
            "base_url": "http://127.0.0.1:9",
            "public_key_pem": key.public_key().to_pem().decode(),
            "annual_rate": "0.0035",
            "rate_from": kclock.today().isoformat(),
        },
        headers=world.staff.headers,
    )
    assert r.status_code == 201, r.text
    return key, r.json()["id"]


def _send(client: Any, key: PrivateKey, path: str, payload: dict[str, Any], idem: str) -> Any:
    body = json.dumps(payload).encode()
    headers = partner.sign_request(key, "bank1", "POST", path, body, idempotency_key=idem)
    headers["Content-Type"] = "application/json"
    return client.post(path, content=body, headers=headers)


def _notice(**over: Any) -> dict[str, Any]:
    body = {
        "notice_id": "C-1",
        "sub_account_no": "9999 0000 1111",
        "amount": "800000.00",
        "payer_account_no": "6222000000000001",
        "payer_account_name": "某公司",
        "booked_at": kclock.now().isoformat(),
    }
    body.update(over)
    return body


def test_bank_message_refusals(client: Any, db: Any, tmp_path: Path) -> None:
    world = build_world(db, tmp_path, bidders=0)
    key, _ = _admit(client, world)
    path = "/api/v1/deposit-bank/notices"

    r = _send(client, key, path, _notice(), "k1")
    assert r.status_code == 200 and r.json()["result"] == "unknown_account"
    assert r.json()["return_instruction_id"]
    # same notice, another key: same answer, counted once
    r2 = _send(client, key, path, _notice(), "k2")
    assert r2.json()["duplicate"] is True and r2.json()["result"] == "unknown_account"
    # same notice id, other content: refused
    r3 = _send(client, key, path, _notice(amount="1.00"), "k3")
    assert r3.status_code == 409 and r3.json()["code"] == "deposits.notice.conflict"
    # a booking time ahead of the platform clock
    future = (kclock.now() + dt.timedelta(hours=1)).isoformat()
    r4 = _send(client, key, path, _notice(notice_id="C-2", booked_at=future), "k4")
    assert r4.status_code == 422 and r4.json()["code"] == "deposits.notice.future"
    # malformed
    r5 = _send(client, key, path, {"notice_id": "C-3"}, "k5")
    assert r5.status_code == 422 and r5.json()["code"] == "deposits.message.invalid"
    db.rollback()
    assert db.scalar(select(func.count()).select_from(PaymentNotice)) == 1
    assert db.scalar(select(func.count()).select_from(Refund)) == 1

    # refund result for an instruction the platform never gave
    result = {
        "instruction_id": "nope",
        "status": "done",
        "bank_ref": "X",
        "done_at": kclock.now().isoformat(),
    }
    r6 = _send(client, key, "/api/v1/deposit-bank/refund-results", result, "k6")
    assert r6.status_code == 404 and r6.json()["code"] == "deposits.refund.unknown"
    # a real one: done, then repeated (duplicate), then contradicted (refused)
    instruction = r.json()["return_instruction_id"]
    result["instruction_id"] = instruction
    ok = _send(client, key, "/api/v1/deposit-bank/refund-results", result, "k7")
    assert ok.status_code == 200 and ok.json()["status"] == "done"
    again = _send(client, key, "/api/v1/deposit-bank/refund-results", result, "k8")
    assert again.json()["duplicate"] is True
    failed = {**result, "status": "failed", "reason": "销户"}
    r9 = _send(client, key, "/api/v1/deposit-bank/refund-results", failed, "k9")
    assert r9.status_code == 409 and r9.json()["code"] == "deposits.refund.contradiction"

    # an unregistered sender and a replayed nonce
    other = get_suite("gm").generate_keypair()
    body = json.dumps(_notice(notice_id="C-9")).encode()
    headers = partner.sign_request(other, "bank1", "POST", path, body)
    assert client.post(path, content=body, headers=headers).status_code == 401
    headers = partner.sign_request(key, "bank1", "POST", path, body)
    assert client.post(path, content=body, headers=headers).status_code == 200
    assert client.post(path, content=body, headers=headers).status_code == 401


def test_bidder_request_refusals_and_pages(
    client: Any, db: Any, tmp_path: Path, clock: ManualClock
) -> None:
    world = build_world(db, tmp_path, bidders=1)
    no_basic = world.bidders[0]
    good = bidder(db, 150, "苏州测试建设有限公司", "6222000011112222")
    tender = accepted_tender(client, world)
    publish(client, world, tender)
    sid = tender["sections"][0]["id"]
    r = client.post(f"/api/v1/sections/{sid}/deposit-account", headers=good.headers)
    assert r.status_code == 409 and r.json()["code"] == "deposits.no_bank"
    _admit(client, world)
    r = client.post(f"/api/v1/sections/{sid}/deposit-account", headers=no_basic.headers)
    assert r.status_code == 409 and r.json()["code"] == "deposits.no_basic_account"
    r = client.post(f"/api/v1/sections/{sid}/deposit-account", headers=world.staff.headers)
    assert r.status_code == 403
    r = client.post(f"/api/v1/sections/{sid}/deposit-account", headers=good.headers)
    assert r.status_code == 201 and r.json()["status"] == "requested"
    # the bidder sees its own account; other bidders get 404
    assert client.get(f"/api/v1/sections/{sid}/deposit-account", headers=good.headers).json()[
        "status"
    ] == ("requested")
    assert (
        client.get(f"/api/v1/sections/{sid}/deposit-account", headers=no_basic.headers).status_code
        == 404
    )

    page = client.get("/bidder/deposits", headers=good.headers)
    assert page.status_code == 200 and "我的投标保证金" in page.text and "开户中" in page.text
    staff = client.get("/staff/deposits", headers=world.staff.headers)
    assert staff.status_code == 200 and "截止前保密" in staff.text and "测试银行" in staff.text
    assert good.name not in staff.text
    alerts = client.get("/supervisor/deposit-alerts", headers=world.supervisor.headers)
    assert alerts.status_code == 200 and "暂无预警" in alerts.text

    deadline = dt.datetime.fromisoformat(tender["sections"][0]["bid_deadline"])
    clock.set(deadline)
    other = bidder(db, 151, "常熟测试建设有限公司", "6222000011113333")
    r = client.post(f"/api/v1/sections/{sid}/deposit-account", headers=other.headers)
    assert r.status_code == 409 and r.json()["code"] == "deposits.after_deadline"
