"""End to end with separate processes on loopback: the platform (`sunlit serve`) and the FI
simulator (`sunlit sim fi`), talking only through the spec's signed messages.

apply → FI approves → premium from the basic account → signed issuance bound → bids →
deadline → opening shows verified securities → 解密还原 → claim paid → release; an FI that
is down (killed) while a third bidder applies, back without callbacks, recovered by
reconciliation with nothing lost or duplicated. SQLite only: the test process and the two
servers share one database file and one data directory (the platform key)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sunlit.bidding import sealed
from sunlit.bidding.opening_keys import generate_opening_key, generate_passphrase
from sunlit.draws import CenterSecret
from sunlit.kernel.audit import AuditEvent
from sunlit.kernel.authz import Role
from sunlit.kernel.clock import ManualClock
from tests.browser.conftest import _free_port
from tests.guarantees.helpers import FI_CREDIT_CODE, process, set_basic_accounts, sim_args, wait_for
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


@SQLITE_ONLY
def test_platform_and_fi_simulator_as_processes(
    client: Any, db: Session, settings: Any, clock: ManualClock, tmp_path: Path
) -> None:
    real_now = dt.datetime.now(dt.UTC)
    deadline = (real_now + dt.timedelta(seconds=LEAD)).replace(microsecond=0)
    # The world is set up 21 days ago (the statutory period before a bid deadline).
    clock.set(real_now - dt.timedelta(days=21))
    world = build_world(db, tmp_path, bidders=0)
    bidders = [
        _party(db, world.ca, 700 + i, f"进程测试建设有限公司{i:02d}", [Role.BIDDER], f"经办{i}")
        for i in range(3)
    ]
    set_basic_accounts(db, bidders)
    a, b, c = bidders
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
    assert (
        client.post(
            f"/api/v1/tender-projects/{tender['id']}/submit", headers=world.agency.headers
        ).status_code
        == 200
    )
    r = client.post(
        f"/api/v1/tender-projects/{tender['id']}/accept", json={}, headers=world.staff.headers
    )
    assert r.status_code == 200, r.text
    sid, code = r.json()["sections"][0]["id"], r.json()["sections"][0]["code"]
    for role, party in (("tenderer", world.agency), ("center", world.staff)):
        key = generate_opening_key(code, role, "gm", generate_passphrase())  # type: ignore[arg-type]
        r = client.post(
            f"/api/v1/sections/{sid}/opening-keys",
            json={"role": role, "public_key": key.public_pem.decode()},
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
    port, sim_port = _free_port(), _free_port()
    url, sim_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sim_port}"
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
    sim_dir = tmp_path / "sim"
    log = tmp_path / "servers.log"
    sim = process(sim_args(url, sim_dir, sim_port), {}, log, f"{sim_url}/sim/info")
    sim_proc = sim.__enter__()
    try:
        info = httpx.get(f"{sim_url}/sim/info").json()
        with process(["serve", "--port", str(port)], env, log, f"{url}/healthz"):
            staff = world.staff.headers
            r = httpx.post(
                f"{url}/api/v1/guarantee/institutions",
                json={
                    "name": info["name"],
                    "credit_code": FI_CREDIT_CODE,
                    "kind": "bank",
                    "partner_code": "sim-bank",
                    "public_key_pem": info["public_key_pem"],
                    "base_url": sim_url,
                    "instant": True,
                },
                headers=staff,
            )
            assert r.status_code == 201, r.text
            inst_id = r.json()["id"]
            r = httpx.post(
                f"{url}/api/v1/guarantee/institutions/{inst_id}/products",
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
            r = httpx.post(
                f"{url}/api/v1/guarantee/center-choices",
                json={"region_code": "320500", "institution_id": inst_id},
                headers=staff,
            )
            assert r.status_code == 200

            def apply(p: Any) -> str:
                r = httpx.post(
                    f"{url}/api/v1/guarantee/applications",
                    json={"section_id": sid, "product_id": product},
                    headers=p.headers,
                )
                assert r.status_code == 201, r.text
                return str(r.json()["id"])

            def status(p: Any, app_id: str) -> dict[str, Any]:
                out: dict[str, Any] = httpx.get(
                    f"{url}/api/v1/guarantee/applications/{app_id}", headers=p.headers
                ).json()
                return out

            # Two bidders: apply → approve → pay from the basic account → issued, by callbacks.
            ids = {a.org_id: apply(a), b.org_id: apply(b)}
            for p in (a, b):
                wait_for(lambda p=p: status(p, ids[p.org_id])["status"] == "issued", 30)
            got_a = status(a, ids[a.org_id])
            assert got_a["premium"] == "1200.00" and got_a["verification_code"]

            # The FI goes down (process killed) while the third bidder applies.
            sim_proc.terminate()
            sim_proc.wait(10)
            ids[c.org_id] = apply(c)
            time.sleep(3)  # several delivery attempts fail; the message waits in the outbox
            assert status(c, ids[c.org_id])["status"] == "submitted"
            # Back (same state folder), but its callbacks do not get through.
            with process(
                sim_args(url, sim_dir, sim_port, "--no-callbacks"), {}, log, f"{sim_url}/sim/info"
            ):
                wait_for(lambda: status(c, ids[c.org_id])["status"] == "underwriting", 20)
                time.sleep(1)
                assert status(c, ids[c.org_id])["status"] == "underwriting"
                r = httpx.post(
                    f"{url}/api/v1/guarantee/institutions/{inst_id}/reconcile",
                    headers=staff,
                    timeout=30,
                )
                assert r.status_code == 200, r.text
                assert r.json()["applied"] == 1 and r.json()["refused"] == []
                assert status(c, ids[c.org_id])["status"] == "issued"
                r = httpx.post(
                    f"{url}/api/v1/guarantee/institutions/{inst_id}/reconcile",
                    headers=staff,
                    timeout=30,
                )
                assert r.json()["applied"] == 0 and r.json()["unchanged"] == 3

                # Bids, then the deadline.
                for i, p in enumerate((a, b, c)):
                    data = _seal(world, p, keys, f"{12_000_000 + i}.00", tmp_path / f"bid{i}")
                    r = httpx.put(
                        f"{url}/api/v1/sections/{sid}/bid",
                        content=data,
                        headers=p.headers,
                        timeout=30,
                    )
                    assert r.status_code == 201, r.text
                wait_for(
                    lambda: dt.datetime.now(dt.UTC) > deadline + dt.timedelta(seconds=1), LEAD + 30
                )
                r = httpx.get(
                    f"{url}/api/v1/guarantee/sections/{sid}/securities",
                    headers=world.agency.headers,
                )
                assert r.status_code == 200, r.text
                secs = r.json()
                assert len(secs) == 3 and all(s["verified"] for s in secs), secs

                # The opening starts: the platform's job sends 解密还原 to the FI.
                r = httpx.post(f"{url}/api/v1/sections/{sid}/opening/start", headers=staff)
                assert r.status_code == 200, r.text
                for p in (a, b, c):
                    wait_for(lambda p=p: status(p, ids[p.org_id])["status"] == "revealed", 20)
                # Revealed on the platform when queued; delivered to the FI by the outbox job.
                wait_for(
                    lambda: all(
                        "revealed" in o
                        for o in httpx.get(f"{sim_url}/sim/state").json()["orders"].values()
                    ),
                    20,
                )
                state = httpx.get(f"{sim_url}/sim/state").json()
                revealed = [o["revealed"]["section_code"] for o in state["orders"].values()]
                assert revealed == [code] * 3

                # A claim on B (refused to sign the contract), then release for everyone else.
                r = httpx.post(
                    f"{url}/api/v1/guarantee/applications/{ids[b.org_id]}/claims",
                    data={
                        "amount": "800000.00",
                        "ground": "refuse_contract",
                        "statement": "中标后拒签合同",
                        "payee_account_no": "320500001",
                        "payee_account_name": world.tenderer.name,
                        "payee_bank": "建设银行",
                    },
                    files=[("evidence", ("函.pdf", b"%PDF-1.7 x", "application/pdf"))],
                    headers=world.agency.headers,
                )
                assert r.status_code == 201, r.text
                wait_for(
                    lambda: any(
                        o["claims"]
                        for o in httpx.get(f"{sim_url}/sim/state").json()["orders"].values()
                    ),
                    20,
                )
                # Callbacks are off: the claim result comes back by reconciliation too.
                r = httpx.post(
                    f"{url}/api/v1/guarantee/institutions/{inst_id}/reconcile",
                    headers=staff,
                    timeout=30,
                )
                assert r.json()["applied"] == 1
                assert status(b, ids[b.org_id])["status"] == "compensated"
                r = httpx.post(
                    f"{url}/api/v1/guarantee/sections/{sid}/release",
                    json={"reason": "contract_signed"},
                    headers=staff,
                )
                assert r.json() == {"released": 2}
                for p in (a, c):
                    assert status(p, ids[p.org_id])["status"] == "released"

                def fi_statuses() -> list[str]:
                    orders = httpx.get(f"{sim_url}/sim/state").json()["orders"].values()
                    return sorted(o["status"] for o in orders)

                wait_for(lambda: fi_statuses().count("released") == 2, 20)
                state = httpx.get(f"{sim_url}/sim/state").json()
                assert sorted(o["status"] for o in state["orders"].values()) == [
                    "issued",
                    "released",
                    "released",
                ]
                page = httpx.get(
                    f"{url}/guarantees/verify",
                    params={"no": got_a["guarantee_no"], "code": got_a["verification_code"]},
                )
                assert "验真通过" in page.text and "已退保" in page.text
    finally:
        sim.__exit__(None, None, None)
    db.rollback()
    issued = db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "guarantee.issued")
    )
    assert issued == 3  # one each: nothing lost, nothing counted twice
