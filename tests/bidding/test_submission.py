"""Submission failures on a real server over loopback (ADR 0010): an upload cut off halfway
leaves no bid and no blob and can be restarted; a server killed with SIGKILL mid-body keeps
every acknowledged bid intact and counts nothing else; stale temp blobs are swept."""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.bidding import sealed
from sunlit.bidding.models import Bid
from sunlit.bidding.opening_keys import generate_opening_key, generate_passphrase
from sunlit.bidding.receipts import load_receipt, verify_receipt
from sunlit.bidding.service import remove_stale_uploads
from sunlit.kernel.authz import Role
from sunlit.kernel.clock import ManualClock
from sunlit.kernel.crypto import load_public_key_any
from sunlit.kernel.db import Database
from sunlit.kernel.storage import LocalBlobStore
from tests.browser.conftest import ServerThread, _free_port
from tests.opening.test_end_to_end import _seal
from tests.projects.helpers import Party, World, _party, accepted_tender, build_world, publish

SQLITE_ONLY = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


@dataclass
class Section:
    world: World
    sid: str
    code: str
    keys: sealed.SectionKeys
    bidders: list[Party]
    passphrases: dict[str, str]


def open_section(client: Any, db: Session, tmp_path: Path, bidders: int) -> Section:
    """A published section with both opening keys registered, and ``bidders`` bidders."""
    world = build_world(db, tmp_path, bidders=0)
    parties = [
        _party(db, world.ca, 300 + i, f"投标测试建设有限公司{i:03d}", [Role.BIDDER], f"经办{i}")
        for i in range(bidders)
    ]
    tender = accepted_tender(client, world)
    section = tender["sections"][0]
    passes = {"tenderer": generate_passphrase(), "center": generate_passphrase()}
    for role, party in (("tenderer", world.agency), ("center", world.staff)):
        key = generate_opening_key(section["code"], role, "gm", passes[role])  # type: ignore[arg-type]
        r = client.post(
            f"/api/v1/sections/{section['id']}/opening-keys",
            json={
                "role": role,
                "public_key": key.public_pem.decode(),
                "encrypted_private_key": key.encrypted_private_pem.decode(),
            },
            headers=party.headers,
        )
        assert r.status_code == 201, r.text
    publish(client, world, tender)
    keys = sealed.SectionKeys.from_json(
        client.get(f"/api/v1/sections/{section['id']}/section-keys.json").content
    )
    return Section(world, section["id"], section["code"], keys, parties, passes)


def bid_files(settings: Any) -> list[Path]:
    root = settings.blob_dir / "bids"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def half_upload(url: str, path: str, token: str, body: bytes) -> None:
    """Send the headers with the full Content-Length and half of the body, then hang up."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        head = (
            f"PUT {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        sock.sendall(head.encode() + body[: len(body) // 2])
        time.sleep(0.3)


def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


def bids(db: Session) -> list[Bid]:
    db.rollback()
    return list(db.scalars(select(Bid)))


@SQLITE_ONLY
def test_interrupted_upload_leaves_nothing_and_can_restart(
    client: Any, app: Any, db: Session, tmp_path: Path, settings: Any
) -> None:
    s = open_section(client, db, tmp_path, 1)
    bidder = s.bidders[0]
    data = _seal(s.world, bidder, s.keys, "1234567.00", tmp_path / "b")
    url = f"http://127.0.0.1:{_free_port()}"
    with ServerThread(app, int(url.rsplit(":", 1)[1])):
        half_upload(url, f"/api/v1/sections/{s.sid}/bid", bidder.token, data)
        wait_for(lambda: not bid_files(settings))  # the temp blob is removed on disconnect
        assert bids(db) == []
        r = httpx.put(
            f"{url}/api/v1/sections/{s.sid}/bid",
            content=data,
            headers=bidder.headers,
            timeout=30,
        )
        assert r.status_code == 201, r.text
    (row,) = bids(db)
    assert row.bid_digest == r.json()["receipt"]["bid_digest"]
    assert bid_files(settings) == [settings.blob_dir / row.blob_key]


@contextmanager
def server_process(tmp_path: Path, settings: Any, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """``sunlit serve`` in its own process on the test's SQLite file and data dir."""
    env = dict(os.environ)
    env.update(
        SUNLIT_DATA_DIR=str(settings.data_dir),
        SUNLIT_DATABASE_URL=settings.database_url,
        SUNLIT_SECRET_KEY=settings.secret_key,
        SUNLIT_BASE_URL=f"http://127.0.0.1:{port}",
        SUNLIT_CHECKPOINT_MINUTES="0",
    )
    log = (tmp_path / f"server-{port}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from sunlit.cli import app; app()", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp_path / f"server-{port}.log").read_text())
            time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)
        log.close()


@SQLITE_ONLY
def test_server_killed_mid_upload_keeps_every_acknowledged_bid(
    client: Any,
    db: Session,
    database: Database,
    tmp_path: Path,
    settings: Any,
    clock: ManualClock,
) -> None:
    # The server process runs on the real clock: set the world up at the real time.
    clock.set(dt.datetime.now(dt.UTC))
    n = 4
    s = open_section(client, db, tmp_path, n + 1)
    sealed_bids = [
        _seal(s.world, p, s.keys, f"{1000 + i}.00", tmp_path / f"b{i}")
        for i, p in enumerate(s.bidders)
    ]
    blobs = LocalBlobStore(settings.blob_dir)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    receipts: dict[str, dict[str, Any]] = {}
    with server_process(tmp_path, settings, port) as proc:
        for party, data in zip(s.bidders[:n], sealed_bids, strict=False):
            r = httpx.put(
                f"{url}/api/v1/sections/{s.sid}/bid",
                content=data,
                headers=party.headers,
                timeout=30,
            )
            assert r.status_code == 201, r.text
            receipts[party.credit_code] = r.json()
        victim = s.bidders[n]
        host_port = url.removeprefix("http://")
        sock = socket.create_connection(("127.0.0.1", port))
        body = sealed_bids[n]
        head = (
            f"PUT /api/v1/sections/{s.sid}/bid HTTP/1.1\r\nHost: {host_port}\r\n"
            f"Authorization: Bearer {victim.token}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        sock.sendall(head.encode() + body[: len(body) // 2])
        wait_for(lambda: any(p.name.startswith(".tmp-") for p in bid_files(settings)))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        sock.close()
    stale = [p for p in bid_files(settings) if p.name.startswith(".tmp-")]
    assert len(stale) == 1  # SIGKILL: nobody could clean up the half-written temp blob
    with server_process(tmp_path, settings, port):
        platform_pub = load_public_key_any(httpx.get(f"{url}/api/v1/transparency/key.pem").text)
        rows = bids(db)
        assert sorted(b.bid_digest for b in rows) == sorted(
            r["receipt"]["bid_digest"] for r in receipts.values()
        )
        for row in rows:
            with blobs.open(row.blob_key) as fh:
                verified = sealed.verify_structure(fh, s.keys)
            assert verified.bid_digest.hex() == row.bid_digest
        for party in s.bidders[:n]:
            r = httpx.get(f"{url}/api/v1/bids", headers=party.headers)
            (mine,) = r.json()
            signed = load_receipt(
                httpx.get(f"{url}/api/v1/bids/{mine['id']}/receipt", headers=party.headers).content
            )
            verify_receipt(signed, platform_pub)
            assert signed.document == receipts[party.credit_code]["receipt"]
        # The interrupted bidder counts for nothing, and can submit again.
        assert httpx.get(f"{url}/api/v1/bids", headers=victim.headers).json() == []
        r = httpx.put(
            f"{url}/api/v1/sections/{s.sid}/bid", content=body, headers=victim.headers, timeout=30
        )
        assert r.status_code == 201, r.text
    # The sweep removes only temp blobs nobody wrote to for an hour.
    assert remove_stale_uploads(blobs) == 0
    old = time.time() - 2 * 3600
    os.utime(stale[0], (old, old))
    assert remove_stale_uploads(blobs) == 1
    assert not stale[0].exists()
    assert len([p for p in bid_files(settings) if not p.name.startswith(".")]) == n + 1
    _ = io


def test_scheduler_sweeps_stale_uploads(settings: Any, database: Database) -> None:
    from sunlit.app import make_scheduler

    names = {job.name for job in make_scheduler(settings, database).jobs}
    assert {"bidding.stale_uploads", "opening.bid_deadlines"} <= names
