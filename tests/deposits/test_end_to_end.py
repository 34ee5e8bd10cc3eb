"""Deposit path end to end: the platform on loopback and the bank simulator in its own process,
exchanging only the signed messages of docs/spec/deposit-bank-api.md.

Sub-accounts → payments (good, from a non-basic account, from another bidder's basic account,
after the deadline, duplicated, out of order, lost and recovered by reconciliation) → payer list
sealed until the deadline → same-payer alert → release after the contract while the bank is
down → retried → refunds with interest confirmed by the bank → reconciliation balanced.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openpyxl
from sqlalchemy import select

from sunlit.deposits.interest import compute
from sunlit.kernel import clock as kclock
from sunlit.kernel.audit import AuditEvent
from sunlit.kernel.clock import ManualClock
from sunlit.kernel.db import Database
from tests.browser.conftest import ServerThread, _free_port
from tests.deposits.helpers import bidder, sim_bank, wait_for
from tests.projects.helpers import AUDIENCE, Party, accepted_tender, build_world, publish

RATE = Decimal("0.0035")
SECURITY = "800000.00"
NAMES = ("江苏恒远建设工程有限公司", "苏州金鼎建筑集团有限公司", "中建华东建设有限公司")
NAMES += ("江苏润城市政工程有限公司",)


def _settings(tmp_path: Path, database: Database, url: str) -> Any:
    from sunlit.settings import Settings

    return Settings(
        data_dir=tmp_path / "var",
        database_url=database.url,
        base_url=AUDIENCE,  # the origin the helpers' signed documents name
        secret_key="deposits-e2e",
        partner_outbox_seconds=0.2,
        partner_backoff_base_seconds=60,
        partner_backoff_cap_seconds=600,
        checkpoint_minutes=0,
    )


def test_deposit_path_with_refund_interest_and_failures(
    database: Database, tmp_path: Path, clock: ManualClock
) -> None:
    from sunlit.app import create_app

    port, sim_port = _free_port(), _free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(_settings(tmp_path, database, url), database)
    with database.session_scope() as db:
        world = build_world(db, tmp_path, bidders=0)
        bidders = [
            bidder(db, 120 + i, name, f"62220000100000000{i:02d}") for i, name in enumerate(NAMES)
        ]
    b0, b1, b2, b3 = bidders
    with (
        ServerThread(app, port),
        httpx.Client(base_url=url, timeout=20) as api,
        sim_bank(url, sim_port, tmp_path) as sim,
    ):
        sim.sync_clock()
        tender = accepted_tender(api, world)
        publish(api, world, tender)
        section = tender["sections"][0]
        sid = section["id"]
        deadline = dt.datetime.fromisoformat(section["bid_deadline"])

        # --- the center admits the bank (its key from the bank, out of band) ---
        info = sim.http.get(f"{sim.url}/sim/public-key").json()
        r = api.post(
            "/api/v1/deposit-banks",
            json={
                "code": "simbank",
                "name": "模拟保证金银行",
                "base_url": sim.url,
                "public_key_pem": info["public_key_pem"],
                "master_account_no": info["master_account_no"],
                "master_account_name": "苏州市公共资源交易中心投标保证金专户",
                "annual_rate": str(RATE),
                "rate_from": kclock.today().isoformat(),
            },
            headers=world.staff.headers,
        )
        assert r.status_code == 201, r.text
        bank_id = r.json()["id"]

        # --- sub-accounts: requested, opened by the bank through the outbox ---
        subs: dict[str, str] = {}
        for party in bidders:
            r = api.post(f"/api/v1/sections/{sid}/deposit-account", headers=party.headers)
            assert r.status_code == 201, r.text
            assert r.json()["status"] in ("requested", "opened")
            again = api.post(f"/api/v1/sections/{sid}/deposit-account", headers=party.headers)
            assert again.json()["id"] == r.json()["id"]  # asking twice: the same account

        def opened(party: Party) -> str | None:
            view = api.get(f"/api/v1/sections/{sid}/deposit-account", headers=party.headers)
            return view.json()["sub_account_no"] if view.json()["status"] == "opened" else None

        for party in bidders:
            subs[party.org_id] = wait_for(lambda p=party: opened(p), what="sub-account")
        assert len(set(subs.values())) == 4

        def account(party: Party) -> dict[str, Any]:
            r = api.get(f"/api/v1/sections/{sid}/deposit-account", headers=party.headers)
            assert r.status_code == 200, r.text
            out: dict[str, Any] = r.json()
            return out

        basic = {p.org_id: f"62220000100000000{i:02d}" for i, p in enumerate(bidders)}

        # b0: pays from its basic account → accepted
        sim.pay(subs[b0.org_id], SECURITY, basic[b0.org_id], payer_account_name=b0.name)
        wait_for(lambda: account(b0)["status"] == "paid", what="b0 paid")

        # b1: from another account (not its basic account) → refused and returned
        sim.pay(subs[b1.org_id], SECURITY, "6222000099990000001", payer_account_name=b1.name)
        wait_for(lambda: account(b1)["notices"], what="b1 notice")
        view = account(b1)
        assert view["status"] == "opened" and Decimal(view["paid"]) == 0
        assert view["notices"][0]["outcome"] == "not_basic_account"
        # ... then correctly, while the bank delivers every notice twice: counted once
        sim.control("/sim/config", {"duplicate": True})
        sim.pay(subs[b1.org_id], SECURITY, basic[b1.org_id], payer_account_name=b1.name)
        wait_for(lambda: sim.outbox()["queued"] == 0, what="duplicates delivered")
        sim.control("/sim/config", {"duplicate": False})
        view = account(b1)
        assert view["status"] == "paid" and Decimal(view["paid"]) == Decimal(SECURITY)
        dup = [d for d in sim.outbox()["delivered"] if d["key"].endswith("-again")]
        assert dup and dup[-1]["status"] == 200 and dup[-1]["answer"]["duplicate"] is True

        # b3: two partial payments whose notices arrive in reverse order
        sim.control("/sim/config", {"reorder": 2})
        first = sim.pay(subs[b3.org_id], "300000.00", basic[b3.org_id], payer_account_name=b3.name)
        second = sim.pay(subs[b3.org_id], "500000.00", basic[b3.org_id], payer_account_name=b3.name)
        wait_for(lambda: account(b3)["status"] == "paid", what="b3 paid")
        sim.control("/sim/config", {"reorder": 0})
        order = [d["key"] for d in sim.outbox()["delivered"]]
        ids = (f"N-{first['notice_id']}", f"N-{second['notice_id']}")
        assert order.index(ids[1]) < order.index(ids[0])  # delivered newest first
        assert {n["notice_id"] for n in account(b3)["notices"]} == {
            first["notice_id"],
            second["notice_id"],
        }
        assert Decimal(account(b3)["paid"]) == Decimal(SECURITY)

        # b2: pays from b3's basic account (refused, and the same-payer evidence) ...
        sim.pay(subs[b2.org_id], SECURITY, basic[b3.org_id], payer_account_name=b3.name)
        wait_for(lambda: account(b2)["notices"], what="b2 notice")
        assert account(b2)["notices"][0]["outcome"] == "not_basic_account"
        # ... then correctly, but the bank loses the notice: the platform does not know yet
        sim.control("/sim/config", {"lose_notices": True})
        lost = sim.pay(subs[b2.org_id], SECURITY, basic[b2.org_id], payer_account_name=b2.name)
        sim.control("/sim/config", {"lose_notices": False})
        assert account(b2)["status"] == "opened"

        # an unsigned notice is refused and changes nothing
        forged = {
            "notice_id": "FORGED-1",
            "sub_account_no": subs[b2.org_id],
            "amount": SECURITY,
            "payer_account_no": basic[b2.org_id],
            "payer_account_name": b2.name,
            "booked_at": kclock.now().isoformat(),
        }
        assert api.post("/api/v1/deposit-bank/notices", json=forged).status_code == 401
        assert account(b2)["status"] == "opened"

        # --- before the deadline the payer list is sealed ---
        r = api.get(f"/api/v1/sections/{sid}/deposits", headers=world.staff.headers)
        assert r.status_code == 200 and r.json()["sealed"] is True
        assert r.json()["bidders"] is None and r.json()["accounts"] == 4
        for party in (world.supervisor, world.agency, world.tenderer):
            assert api.get(
                f"/api/v1/sections/{sid}/deposits", headers=party.headers
            ).status_code == (404)
        assert api.get("/api/v1/deposit-alerts", headers=world.supervisor.headers).json() == []
        with database.session_scope() as db:
            events = db.scalars(
                select(AuditEvent).where(AuditEvent.action == "deposits.payment.received")
            ).all()
            assert events and all(e.actor_org_id is None and e.sealed_commitment for e in events)
            assert all(set(e.data) == {"bank"} for e in events)

        # --- the returns of refused payments reach the bank and come back confirmed ---
        def returns_done() -> bool:
            views = [account(p) for p in bidders]
            rs = [r for v in views for r in v["refunds"] if r["kind"] == "return"]
            return len(rs) == 2 and all(r["status"] == "done" for r in rs)

        wait_for(returns_done, what="returns confirmed")

        # --- reconciliation of the day recovers the lost notice ---
        today = kclock.today().isoformat()
        r = api.post(
            f"/api/v1/deposit-banks/{bank_id}/reconcile",
            params={"day": today},
            headers=world.staff.headers,
        )
        assert r.status_code == 200, r.text
        rec = r.json()
        assert rec["recovered"] == 1 and rec["balanced"] is True, rec
        view = account(b2)
        assert view["status"] == "paid"
        assert [n["source"] for n in view["notices"] if n["notice_id"] == lost["notice_id"]] == [
            "statement"
        ]
        again = api.post(
            f"/api/v1/deposit-banks/{bank_id}/reconcile",
            params={"day": today},
            headers=world.staff.headers,
        )
        assert again.json()["recovered"] == 0 and again.json()["balanced"] is True
        assert Decimal(account(b2)["paid"]) == Decimal(SECURITY)  # not counted twice
        xlsx = api.get(
            f"/api/v1/deposit-reconciliations/{rec['id']}.xlsx", headers=world.staff.headers
        )
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content))["对账汇总"]
        assert sheet["A1"].value == "投标保证金日对账报告"
        assert "账实相符" in [c.value for c in sheet["B"]]
        pdf = api.get(
            f"/api/v1/deposit-reconciliations/{rec['id']}.pdf", headers=world.staff.headers
        )
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert (
            api.get(
                f"/api/v1/deposit-reconciliations/{rec['id']}.pdf", headers=b0.headers
            ).status_code
            == 403
        )

        # --- after the deadline: the list is open, and the supervisor sees the alert ---
        clock.set(deadline + dt.timedelta(minutes=1))
        sim.sync_clock()
        # a payment booked after the deadline (even from the right account) → returned
        sim.pay(subs[b0.org_id], "1000.00", basic[b0.org_id], payer_account_name=b0.name)
        wait_for(lambda: len(account(b0)["notices"]) == 2, what="late notice")
        assert [n["outcome"] for n in account(b0)["notices"]][-1] == "late"
        wait_for(
            lambda: (
                [r["status"] for r in account(b0)["refunds"] if r["kind"] == "return"] == ["done"]
            ),
            what="late payment returned",
        )
        assert Decimal(account(b0)["paid"]) == Decimal(SECURITY)
        r = api.get(f"/api/v1/sections/{sid}/deposits", headers=world.agency.headers)
        assert r.status_code == 200 and r.json()["sealed"] is False
        assert {b["bidder_name"] for b in r.json()["bidders"]} == {p.name for p in bidders}
        alerts = api.get("/api/v1/deposit-alerts", headers=world.supervisor.headers).json()
        assert len(alerts) == 1
        assert alerts[0]["payer_account_no"] == basic[b3.org_id]
        assert {b["org_id"] for b in alerts[0]["bidders"]} == {b2.org_id, b3.org_id}

        # --- contract signed; release while the bank is down ---
        clock.set(deadline + dt.timedelta(days=20))
        sim.sync_clock()
        signed_on = kclock.today() - dt.timedelta(days=1)
        sim.control("/sim/config", {"down": True})
        r = api.post(
            f"/api/v1/sections/{sid}/deposits/release",
            json={"contract_signed_on": signed_on.isoformat()},
            headers=world.staff.headers,
        )
        assert r.status_code == 200, r.text
        refunds = r.json()["refunds"]
        assert len(refunds) == 4
        start = dt.datetime.fromisoformat(section["bid_deadline"]).date() - dt.timedelta(days=25)
        expected = compute(Decimal(SECURITY), start, kclock.today(), [(start, RATE)]).amount
        assert expected > 0
        assert {Decimal(x["interest"]) for x in refunds} == {expected}
        reconcile_down = api.post(
            f"/api/v1/deposit-banks/{bank_id}/reconcile",
            params={"day": today},
            headers=world.staff.headers,
        )
        assert reconcile_down.status_code == 503
        wait_for(
            lambda: (
                all(
                    r["status"] == "pending"
                    for r in account(b0)["refunds"]
                    if r["kind"] == "refund"
                )
                and _outbox_attempted(database)
            ),
            what="a failed delivery attempt",
        )
        assert account(b0)["status"] == "refunding"

        # the bank is back an hour later: the outbox retries, the bank confirms each refund
        sim.control("/sim/config", {"down": False})
        clock.set(kclock.now() + dt.timedelta(hours=1))
        sim.sync_clock()
        for party in bidders:
            wait_for(lambda p=party: account(p)["status"] == "refunded", what="refunded")
            refund = next(r for r in account(party)["refunds"] if r["kind"] == "refund")
            assert refund["status"] == "done"
            assert Decimal(refund["interest"]) == expected
            assert refund["payee_account_no"] == basic[party.org_id]
            assert refund["interest_detail"]["basis"] == "actual/360"
        r = api.post(
            f"/api/v1/deposit-banks/{bank_id}/reconcile",
            params={"day": kclock.today().isoformat()},
            headers=world.staff.headers,
        )
        assert r.status_code == 200 and r.json()["balanced"] is True, r.text
        total = Decimal(r.json()["bank_debits"])
        assert total == 4 * (Decimal(SECURITY) + expected)
        page = api.get("/bidder/deposits", headers=b0.headers)
        assert page.status_code == 200 and "已退还" in page.text


def _outbox_attempted(database: Database) -> bool:
    from sunlit.kernel.partner import OutboxMessage

    with database.session_scope() as db:
        rows = db.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == "deposits.refund")
        ).all()
        return any(r.attempts > 0 and r.status == "pending" for r in rows)
