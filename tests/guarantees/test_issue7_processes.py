"""Issue 7, done when: the platform (`sunlit serve`) and BOTH simulators (`sunlit sim fi`,
`sunlit sim bank`) as separate processes on loopback, driven only through the specs' signed
messages and the simulators' /sim controls.

A: electronic guarantee (apply → premium from the basic account → issued → bound);
B: deposit (virtual sub-account → paid from the basic account); C: no security.
Deadline → opening → the signed record shows A's and B's securities verified and flags C →
解密还原 reaches the FI → release of the guarantees (as the contract would) reaches the FI.
SQLite only: the test process and the platform share one database file and data directory."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from sunlit.bidding import sealed
from sunlit.bidding.opening_keys import generate_opening_key, generate_passphrase
from sunlit.draws import CenterSecret
from sunlit.guarantees import service as gservice
from sunlit.kernel.authz import Role
from sunlit.kernel.clock import ManualClock
from sunlit.kernel.crypto import load_public_key_any
from sunlit.kernel.db import Database
from sunlit.opening.record import verify_record_signature
from tests.browser.conftest import _free_port
from tests.deposits.helpers import sim_bank
from tests.guarantees.helpers import (
    FI_CREDIT_CODE,
    basic_account,
    process,
    set_basic_accounts,
    sim_args,
    wait_for,
)
from tests.opening.test_end_to_end import _seal
from tests.projects.helpers import (
    _party,
    build_world,
    publish,
    register_payload,
    section_payload,
    upload,
)

SQLITE_ONLY = pytest.mark.parametrize("database", ["sqlite"], indirect=True)
LEAD = 150  # seconds between set-up and the bid deadline, in real time
SECURITY = "800000.00"


@SQLITE_ONLY
def test_guarantee_deposit_and_none_through_the_opening_with_both_simulators(
    client: Any,
    db: Session,
    database: Database,
    settings: Any,
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    real_now = dt.datetime.now(dt.UTC)
    deadline = (real_now + dt.timedelta(seconds=LEAD)).replace(microsecond=0)
    clock.set(real_now - dt.timedelta(days=21))  # set up the statutory period before
    world = build_world(db, tmp_path, bidders=0)
    a, b, c = bidders = [
        _party(db, world.ca, 720 + i, f"联调测试建设有限公司{i:02d}", [Role.BIDDER], f"经办{i}")
        for i in range(3)
    ]
    set_basic_accounts(db, bidders)
    supervisor = _party(db, None, 729, "监督科", [Role.SUPERVISOR], "孙红")
    r = client.post(
        "/api/v1/tender-projects", json=register_payload(world), headers=world.agency.headers
    )
    assert r.status_code == 201, r.text
    tender = r.json()
    r = client.post(
        f"/api/v1/tender-projects/{tender['id']}/sections",
        json=section_payload(bid_deadline=deadline.isoformat()),
        headers=world.agency.headers,
    )
    assert r.status_code == 201, r.text
    assert upload(client, world.agency, tender).status_code == 201
    r = client.post(f"/api/v1/tender-projects/{tender['id']}/submit", headers=world.agency.headers)
    assert r.status_code == 200, r.text
    r = client.post(
        f"/api/v1/tender-projects/{tender['id']}/accept", json={}, headers=world.staff.headers
    )
    assert r.status_code == 200, r.text
    sid, code = r.json()["sections"][0]["id"], r.json()["sections"][0]["code"]
    passes = {"tenderer": generate_passphrase(), "center": generate_passphrase()}
    for role, party in (("tenderer", world.agency), ("center", world.staff)):
        key = generate_opening_key(code, role, "gm", passes[role])  # type: ignore[arg-type]
        r = client.post(
            f"/api/v1/sections/{sid}/opening-keys",
            json={
                "role": role,
                "public_key": key.public_pem.decode(),
                "encrypted_private_key": key.encrypted_private_pem.decode(),
            },
            headers=party.headers,
        )
        assert r.status_code == 201, r.text
    publish(client, world, tender)
    center = CenterSecret.new("gm", committed_at=clock.now())
    r = client.post(
        f"/api/v1/sections/{sid}/draw-commitment",
        json={"commitment": center.commitment.hex()},
        headers=world.staff.headers,
    )
    assert r.status_code == 201, r.text
    keys = sealed.SectionKeys.from_json(
        client.get(f"/api/v1/sections/{sid}/section-keys.json").content
    )

    # From here on, real time: the servers run on the system clock.
    clock.set(dt.datetime.now(dt.UTC))
    world.refresh_crl(db)
    port, fi_port, bank_port = _free_port(), _free_port(), _free_port()
    url, fi_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{fi_port}"
    env = {
        "SUNLIT_DATA_DIR": str(settings.data_dir),
        "SUNLIT_DATABASE_URL": settings.database_url,
        "SUNLIT_SECRET_KEY": settings.secret_key,
        "SUNLIT_BASE_URL": url,
        "SUNLIT_CHECKPOINT_MINUTES": "0",
        "SUNLIT_PARTNER_OUTBOX_SECONDS": "0.3",
        "SUNLIT_PARTNER_BACKOFF_BASE_SECONDS": "0.5",
        "SUNLIT_PARTNER_BACKOFF_CAP_SECONDS": "2",
    }
    log = tmp_path / "servers.log"
    staff = world.staff.headers
    with (
        process(["serve", "--port", str(port)], env, log, f"{url}/healthz"),
        process(sim_args(url, tmp_path / "fi", fi_port), {}, log, f"{fi_url}/sim/info"),
        sim_bank(url, bank_port, tmp_path) as bank,
        httpx.Client(base_url=url, timeout=30) as api,
    ):
        # --- the center admits the FI and the deposit bank (their keys out of band) ---
        info = httpx.get(f"{fi_url}/sim/info").json()
        r = api.post(
            "/api/v1/guarantee/institutions",
            json={
                "name": info["name"],
                "credit_code": FI_CREDIT_CODE,
                "kind": "bank",
                "partner_code": "sim-bank",
                "public_key_pem": info["public_key_pem"],
                "base_url": fi_url,
                "instant": True,
            },
            headers=staff,
        )
        assert r.status_code == 201, r.text
        inst_id = r.json()["id"]
        r = api.post(
            f"/api/v1/guarantee/institutions/{inst_id}/products",
            json={
                "code": "EBG",
                "name": "电子投标保函",
                "form": "bank_guarantee",
                "rate": "0.0015",
                "max_amount": "5000000.00",
            },
            headers=staff,
        )
        assert r.status_code == 201, r.text
        product = r.json()["id"]
        r = api.post(
            "/api/v1/guarantee/center-choices",
            json={"region_code": "320500", "institution_id": inst_id},
            headers=staff,
        )
        assert r.status_code == 200, r.text
        bank_info = bank.http.get(f"{bank.url}/sim/public-key").json()
        r = api.post(
            "/api/v1/deposit-banks",
            json={
                "code": "simbank",
                "name": "模拟保证金银行",
                "base_url": bank.url,
                "public_key_pem": bank_info["public_key_pem"],
                "master_account_no": bank_info["master_account_no"],
                "master_account_name": "苏州市公共资源交易中心投标保证金专户",
                "annual_rate": "0.0035",
                "rate_from": dt.date.today().isoformat(),
            },
            headers=staff,
        )
        assert r.status_code == 201, r.text

        # --- A: a guarantee, issued by the FI's signed callbacks ---
        r = api.post(
            "/api/v1/guarantee/applications",
            json={"section_id": sid, "product_id": product},
            headers=a.headers,
        )
        assert r.status_code == 201, r.text
        app_a = r.json()["id"]

        def guarantee() -> dict[str, Any]:
            out: dict[str, Any] = api.get(
                f"/api/v1/guarantee/applications/{app_a}", headers=a.headers
            ).json()
            return out

        wait_for(lambda: guarantee()["status"] == "issued", 60, log=log)
        got_a = guarantee()

        # --- B: a deposit into its virtual sub-account, from its basic account ---
        r = api.post(f"/api/v1/sections/{sid}/deposit-account", headers=b.headers)
        assert r.status_code == 201, r.text

        def account() -> dict[str, Any]:
            out: dict[str, Any] = api.get(
                f"/api/v1/sections/{sid}/deposit-account", headers=b.headers
            ).json()
            return out

        sub = wait_for(lambda: account()["sub_account_no"], 60, log=log)
        bank.pay(sub, SECURITY, basic_account(b.org_id), payer_account_name=b.name)
        wait_for(lambda: account()["status"] == "paid", 60, log=log)

        # --- bids from all three; C has no security ---
        for i, p in enumerate(bidders):
            data = _seal(world, p, keys, f"{12_000_000 + i}.00", tmp_path / f"bid{i}")
            r = api.put(f"/api/v1/sections/{sid}/bid", content=data, headers=p.headers)
            assert r.status_code == 201, r.text
        wait_for(lambda: dt.datetime.now(dt.UTC) > deadline + dt.timedelta(seconds=1), LEAD + 30)

        # --- the opening: start, both decryptions, the draw, confirmations, the record ---
        def opening(tail: str, who: Any, body: dict[str, Any] | None = None) -> dict[str, Any]:
            r = api.post(f"/api/v1/sections/{sid}/opening{tail}", json=body, headers=who.headers)
            assert r.status_code == 200, r.text
            out: dict[str, Any] = r.json()
            return out

        opening("/start", world.staff)
        for role, party in (("tenderer", world.agency), ("center", world.staff)):
            view = opening("/decrypt", party, {"role": role, "passphrase": passes[role]})
        assert view["status"] == "announced"
        opening("/supervisor-value", supervisor, {"value": "5"})
        opening(
            "/draw",
            world.staff,
            {"center_value": center.value.hex(), "center_salt": center.salt.hex()},
        )
        hall = api.get(f"/opening/{sid}/parts", headers=c.headers).text
        assert hall.count("验真通过") == 2 and hall.count('data-testid="security-flag"') == 1
        for p in bidders:
            opening("/confirm-results", p)
        opening("/record", world.staff)
        view = api.get(f"/api/v1/sections/{sid}/opening", headers=c.headers).json()
        record = view["record"]
        platform_key = load_public_key_any(api.get("/api/v1/transparency/key.pem").content)
        verify_record_signature(record, base64.b64decode(view["record_signature"]), platform_key)
        assert record["version"] == 3 and record["bid_security"] == SECURITY
        sec = {bid["credit_code"]: bid["security"] for bid in record["bids"]}
        assert sec[a.credit_code]["kind"] == "guarantee" and sec[a.credit_code]["verified"]
        assert sec[a.credit_code]["guarantee_no"] == got_a["guarantee_no"]
        assert sec[a.credit_code]["institution"] == info["name"]
        assert sec[a.credit_code]["amount"] == SECURITY and not sec[a.credit_code]["flagged"]
        assert sec[b.credit_code]["kind"] == "deposit" and sec[b.credit_code]["verified"]
        assert sec[b.credit_code]["sub_account_no"] == sub
        assert sec[b.credit_code]["amount"] == SECURITY and not sec[b.credit_code]["flagged"]
        assert sec[c.credit_code]["kind"] == "none" and sec[c.credit_code]["flagged"]
        assert sec[c.credit_code]["problems"] == ["未提交投标保证金或保函"]

        # --- 解密还原 reached the FI: it checked the section details against its commitment ---
        def fi_order() -> dict[str, Any]:
            orders = httpx.get(f"{fi_url}/sim/state").json()["orders"]
            assert len(orders) == 1
            out: dict[str, Any] = next(iter(orders.values()))
            return out

        wait_for(lambda: "revealed" in fi_order(), 30, log=log)
        assert fi_order()["revealed"]["section_code"] == code
        assert guarantee()["status"] == "revealed"

        # --- release, as the contract would: the FI hears of it through the outbox ---
        clock.set(dt.datetime.now(dt.UTC))
        with database.session_scope() as s:
            assert gservice.release_section(s, world.staff.actor, sid, "contract_signed") == 1
        wait_for(lambda: fi_order()["status"] == "released", 30, log=log)
        assert fi_order()["released"]["order_no"] == got_a["order_no"]
        assert guarantee()["status"] == "released"
