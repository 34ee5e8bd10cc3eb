"""A section open for bids, an admitted FI simulator on its own server, bidders with basic
accounts; the platform served by uvicorn in this process (so the ManualClock holds)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.orm import Session

from sunlit.bidding import sealed
from sunlit.bidding.opening_keys import generate_opening_key, generate_passphrase
from sunlit.draws import CenterSecret
from sunlit.identity.models import Organization
from sunlit.kernel import partner
from sunlit.kernel.authz import Role
from sunlit.kernel.clock import ManualClock
from sunlit.kernel.db import Database
from sunlit.sim.fi import Behaviour, FiSimulator, create_app
from tests.browser.conftest import ServerThread, _free_port
from tests.opening.test_end_to_end import _seal
from tests.projects.helpers import Party, World, _party, accepted_tender, publish

FI_CREDIT_CODE = "9132050070000001X4"


@dataclass
class Market:
    world: World
    client: Any  # TestClient (same app as the live server)
    database: Database
    url: str  # the platform, live
    sim: FiSimulator
    sim_url: str
    sid: str
    code: str
    deadline: dt.datetime
    bidders: list[Party]
    keys: sealed.SectionKeys
    inst_id: str = ""
    product_id: str = ""
    identity: partner.Identity | None = None
    passes: dict[str, str] = field(default_factory=dict)  # opening-key passphrases by role
    center: CenterSecret | None = None  # the center's draw secret (committed at publication)
    servers: list[ServerThread] = field(default_factory=list)

    def deliver(self) -> partner.DeliveryReport:
        """The platform's outbox job, once (signed HTTP to the simulator)."""
        assert self.identity is not None
        return partner.deliver_due(
            self.database, self.identity, backoff=partner.Backoff(10, 600), timeout=30
        )

    def pump(self) -> int:
        """The simulator's callback worker, run as a real FI's would: until every callback in
        flight is acknowledged (for up to a minute). In flight: one tried but not acknowledged
        (a time-out on a loaded machine, or 425 because an earlier one had not landed yet) and
        one queued to go within a second (the FI spaces its callbacks by 10 ms). Callbacks held
        back on purpose (a configured delay, the FI down or its callbacks off) are left alone."""
        sent = self.sim.pump()
        give_up = time.monotonic() + 60
        while time.monotonic() < give_up:
            b = self.sim.behaviour
            if b.down or not b.callbacks:
                break
            now = time.time()
            with self.sim.lock:
                in_flight = [
                    c
                    for c in self.sim.state.outbox
                    if not c.done and (c.attempts or c.not_before <= now + 1.0)
                ]
            if not in_flight:
                break
            time.sleep(min(1.0, max(0.0, min(c.not_before for c in in_flight) - now)))
            sent += self.sim.pump()
        return sent

    def sim_config(self, **changes: Any) -> None:
        r = httpx.post(f"{self.sim_url}/sim/config", json=changes)
        assert r.status_code == 200, r.text

    def apply(self, bidder: Party, machine_id: str = "") -> dict[str, Any]:
        r = self.client.post(
            "/api/v1/guarantee/applications",
            json={"section_id": self.sid, "product_id": self.product_id, "machine_id": machine_id},
            headers=bidder.headers,
        )
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out

    def status(self, bidder: Party, application_id: str) -> dict[str, Any]:
        r = self.client.get(
            f"/api/v1/guarantee/applications/{application_id}", headers=bidder.headers
        )
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        return out

    def upload_bid(self, bidder: Party, tmp_path: Path, price: str) -> None:
        data = _seal(self.world, bidder, self.keys, price, tmp_path / f"bid-{bidder.org_id}")
        r = self.client.put(
            f"/api/v1/sections/{self.sid}/bid", content=data, headers=bidder.headers
        )
        assert r.status_code == 201, r.text

    def close(self) -> None:
        for s in reversed(self.servers):
            s.__exit__(None, None, None)


def basic_account(org_id: str) -> str:
    return "3205" + org_id[:12]


def set_basic_accounts(db: Session, parties: list[Party]) -> None:
    """Fixture data: the bidders' registered basic accounts (基本存款账户)."""
    for p in parties:
        db.execute(
            update(Organization)
            .where(Organization.id == p.org_id)
            .values(basic_account_bank="中国银行苏州分行", basic_account_no=basic_account(p.org_id))
        )
    db.commit()


def open_market(
    app: Any,
    client: Any,
    db: Session,
    database: Database,
    world: World,
    clock: ManualClock,
    tmp_path: Path,
    *,
    n: int = 3,
    behaviour: Behaviour | None = None,
) -> Market:
    """Platform and FI simulator live on loopback; an FI admitted with one product; a
    published section (bid security 800,000.00) with opening keys; n bidders."""
    port, sim_port = _free_port(), _free_port()
    url, sim_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sim_port}"
    platform_server = ServerThread(app, port).__enter__()
    sim = FiSimulator(
        tmp_path / "sim-fi",
        code="sim-bank",
        name="模拟银行股份有限公司苏州分行",
        credit_code=FI_CREDIT_CODE,
        platform_url=url,
        behaviour=behaviour or Behaviour(),
    )
    sim_server = ServerThread(create_app(sim, run_worker=False), sim_port).__enter__()
    bidders = [
        _party(db, world.ca, 600 + i, f"保函测试建设有限公司{i:02d}", [Role.BIDDER], f"经办{i}")
        for i in range(n)
    ]
    set_basic_accounts(db, bidders)
    tender = accepted_tender(client, world)
    section = tender["sections"][0]
    sid, code = section["id"], section["code"]
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
    market = Market(
        world,
        client,
        database,
        url,
        sim,
        sim_url,
        sid,
        code,
        dt.datetime.fromisoformat(section["bid_deadline"]),
        bidders,
        keys,
        servers=[platform_server, sim_server],
        passes=passes,
        center=center,
    )
    admit(market)
    market.identity = app.state.partner_identity
    return market


def admit(m: Market) -> None:
    staff = m.world.staff.headers
    r = m.client.post(
        "/api/v1/guarantee/institutions",
        json={
            "name": m.sim.name,
            "credit_code": FI_CREDIT_CODE,
            "kind": "bank",
            "partner_code": m.sim.code,
            "public_key_pem": m.sim.public_pem,
            "base_url": m.sim_url,
            "instant": True,
            "admission_ref": "苏公易准〔2026〕3号",
        },
        headers=staff,
    )
    assert r.status_code == 201, r.text
    m.inst_id = r.json()["id"]
    r = m.client.post(
        f"/api/v1/guarantee/institutions/{m.inst_id}/products",
        json={
            "code": "EBG-01",
            "name": "电子投标保函（银行）",
            "form": "bank_guarantee",
            "rate": "0.0015",
            "min_premium": "200.00",
            "min_amount": "1000.00",
            "max_amount": "5000000.00",
            "categories": ["engineering"],
        },
        headers=staff,
    )
    assert r.status_code == 201, r.text
    m.product_id = r.json()["id"]
    r = m.client.post(
        "/api/v1/guarantee/center-choices",
        json={"region_code": "320500", "institution_id": m.inst_id},
        headers=staff,
    )
    assert r.status_code == 200, r.text


def after_deadline(m: Market, clock: ManualClock, db: Session) -> None:
    clock.set(m.deadline + dt.timedelta(minutes=1))
    m.world.refresh_crl(db)


# --- separate processes (`sunlit serve`, `sunlit sim fi`, `sunlit sim bank`) -----------------


@contextmanager
def process(
    args: list[str], env: dict[str, str], log: Path, ready: str
) -> Iterator[subprocess.Popen[bytes]]:
    fh = log.open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from sunlit.cli import app; app()", *args],
        env={**os.environ, **env},
        cwd=log.parent,
        stdout=fh,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: _ok(ready), 90, lambda: proc.poll() is not None, log)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)
        fh.close()


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(
    cond: Callable[[], Any],
    seconds: float,
    dead: Callable[[], bool] = lambda: False,
    log: Path | None = None,
) -> Any:
    end = time.monotonic() + seconds
    while True:
        value = cond()
        if value:
            return value
        if dead() or time.monotonic() > end:
            raise AssertionError(log.read_text() if log else "timed out")
        time.sleep(0.1)


def sim_args(platform: str, folder: Path, port: int, *extra: str) -> list[str]:
    return [
        "sim", "fi", "--platform", platform, "--dir", str(folder), "--port", str(port),
        "--code", "sim-bank", "--credit-code", FI_CREDIT_CODE, *extra,
    ]  # fmt: skip
