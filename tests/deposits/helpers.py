"""A live platform (uvicorn on loopback, on the tests' manual clock) and the deposit-bank
simulator as a separate process (`sunlit sim bank`), talking only through the spec."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.identity import service as identity_service
from sunlit.identity.models import User
from sunlit.identity.schemas import OrganizationIn, UserIn
from sunlit.kernel import clock as kclock
from sunlit.kernel.authz import Role
from sunlit.kernel.web import sessions
from tests.identity.helpers import SYSTEM, code
from tests.projects.helpers import Party

T = TypeVar("T")


def bidder(db: Session, n: int, name: str, basic: str) -> Party:
    """A bidder with a registered basic account (基本户)."""
    org = identity_service.register_organization(
        db,
        SYSTEM,
        OrganizationIn(
            name=name,
            credit_code=code(n),
            roles=[Role.BIDDER],
            basic_account_bank="中国工商银行苏州分行",
            basic_account_no=basic,
            admin=UserIn(name=f"经办{n}", roles=[Role.BIDDER]),
        ),
    )
    user = db.scalar(select(User).where(User.organization_id == org.id))
    assert user is not None
    token, _ = sessions.open_session(db, user.id, "certificate", 24 * 365)
    db.commit()
    return Party(name, org.id, user.id, code(n), (Role.BIDDER,), f"经办{n}", token=token)


def wait_for(fn: Callable[[], T | None], timeout: float = 120.0, what: str = "") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or fn}")
        time.sleep(0.1)


@dataclass
class Sim:
    url: str
    http: httpx.Client

    def control(self, path: str, body: dict[str, Any]) -> Any:
        r = self.http.post(f"{self.url}{path}", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    def sync_clock(self) -> None:
        self.control("/sim/clock", {"now": kclock.now().isoformat()})

    def pay(self, sub_account: str, amount: str, payer: str, **extra: Any) -> dict[str, Any]:
        body = {"sub_account_no": sub_account, "amount": amount, "payer_account_no": payer}
        body.update(extra)
        out: dict[str, Any] = self.control("/sim/pay", body)
        return out

    def outbox(self) -> dict[str, Any]:
        out: dict[str, Any] = self.http.get(f"{self.url}/sim/outbox").json()
        return out


@contextmanager
def sim_bank(platform_url: str, port: int, tmp: Path) -> Iterator[Sim]:
    cmd = [
        str(Path(sys.executable).parent / "sunlit"),
        "sim",
        "bank",
        "--platform-url",
        platform_url,
        "--port",
        str(port),
        "--code",
        "simbank",
        "--key",
        str(tmp / "bank.key.pem"),
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = (tmp / "simbank.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    http = httpx.Client(timeout=10)
    try:

        def up() -> bool:
            if proc.poll() is not None:
                raise AssertionError((tmp / "simbank.log").read_text())
            try:
                return http.get(f"{url}/healthz").status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, 30, "the bank simulator to start")
        yield Sim(url, http)
    finally:
        http.close()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
