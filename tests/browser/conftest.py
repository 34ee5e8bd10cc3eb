"""Live servers for browser tests: the platform and the local certificate helper, with the
real demo data, driven by Debian's Chromium (headless) through Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from sunlit.kernel.db import Database

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerThread:
    def __init__(self, app: Any, port: int) -> None:
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass
class LiveDemo:
    url: str
    signer_url: str
    password: str
    totp_secret: str
    root: Path


@pytest.fixture(scope="module")
def live_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDemo]:
    from sunlit.app import create_app
    from sunlit.demo.loader import DemoPaths, load
    from sunlit.migrate import upgrade
    from sunlit.settings import Settings
    from sunlit.signer.server import create_signer_app, load_folder

    root = tmp_path_factory.mktemp("demo")
    paths = DemoPaths(root)
    database = Database(f"sqlite:///{root / 'sunlit.db'}")
    upgrade(database)
    # Build the demo on the tests' clock, so its six-week history ends when the tests start.
    from sunlit.kernel import clock
    from tests.conftest import START

    previous = clock.set_clock(clock.ManualClock(START))
    try:
        creds = load(database, paths, password="Demo-Passw0rd!")
    finally:
        clock.set_clock(previous)
    port, signer_port = _free_port(), _free_port()
    url, signer_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{signer_port}"
    settings = Settings(
        data_dir=root,
        database_url=database.url,
        base_url=url,
        signer_url=signer_url,
        secret_key="browser-test",
    )
    app = create_app(settings, database)
    signer = create_signer_app(load_folder(paths.keys), url)
    with ServerThread(app, port), ServerThread(signer, signer_port):
        yield LiveDemo(url, signer_url, creds["password"], creds["totp_secret"], root)
    database.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but chromium is not installed")
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
