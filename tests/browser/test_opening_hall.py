"""The live opening hall in headless Chromium: three people at once (a bidder, the tenderer's
agency holding the tenderer key, center staff). Staff starts, both key holders decrypt with
their passphrases, and the bidder's page, opened before and never reloaded, shows the
announced prices through Server-Sent Events."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sunlit.demo.tender import build_market, prepare_section
from sunlit.kernel.clock import ManualClock
from sunlit.kernel.db import Database
from sunlit.opening.export import format_amount
from tests.browser.conftest import ServerThread, _free_port, shot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def contexts(browser: Any) -> Iterator[Any]:
    made: list[Any] = []

    def new_page(url: str, token: str) -> Any:
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        context.add_cookies([{"name": "sunlit_session", "value": token, "url": url}])
        made.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        return page

    yield new_page
    for context in made:
        context.close()


def test_bidder_sees_prices_live_while_holders_decrypt(
    contexts: Any, clock: ManualClock, tmp_path: Path, sqlite_template: Path
) -> None:
    from sunlit.app import create_app
    from sunlit.settings import Settings

    shutil.copy(sqlite_template, tmp_path / "sunlit.db")
    database = Database(f"sqlite:///{tmp_path / 'sunlit.db'}")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        data_dir=tmp_path / "var", database_url=database.url, base_url=url, secret_key="hall"
    )
    try:
        with (
            TestClient(create_app(settings, database), base_url=url) as client,
            database.session_scope() as db,
        ):
            market = build_market(db, tmp_path / "parties", "gm", 3)
            prep = prepare_section(client, db, market, clock, tmp_path / "bids", url)
        with ServerThread(create_app(settings, database), port):
            hall = f"{url}/opening/{prep.sid}"
            bidder = contexts(url, market.bidders[0].token)
            bidder.goto(hall)
            bidder.get_by_test_id("live-status").filter(has_text="已连接").wait_for()
            assert bidder.get_by_test_id("opening-state").get_attribute("data-state") == (
                "scheduled"
            )
            bidder.evaluate("window.__notReloaded = true")

            staff = contexts(url, market.staff.token)
            staff.goto(hall)
            staff.get_by_test_id("start").click()
            staff.wait_for_url("**?done=start")
            # The bidder's page follows without a reload.
            bidder.locator('[data-testid="opening-state"][data-state="started"]').wait_for()

            tenderer = contexts(url, market.agency.token)
            tenderer.goto(hall)
            form = tenderer.get_by_test_id("decrypt-tenderer")
            form.locator('input[name="passphrase"]').fill(prep.passes["tenderer"])
            form.get_by_role("button").click()
            tenderer.wait_for_url("**?done=decrypt")
            assert bidder.get_by_test_id("not-announced").is_visible()

            staff.goto(hall)
            form = staff.get_by_test_id("decrypt-center")
            form.locator('input[name="passphrase"]').fill(prep.passes["center"])
            form.get_by_role("button").click()
            staff.wait_for_url("**?done=decrypt")

            table = bidder.get_by_test_id("announced")
            table.wait_for()
            for party in market.bidders:
                row = table.locator("tr", has_text=party.name)
                price = format_amount(prep.prices[party.credit_code])
                assert price in row.locator("td.price").inner_text()
            assert bidder.evaluate("window.__notReloaded") is True
            state = bidder.get_by_test_id("opening-state").get_attribute("data-state")
            assert state == "announced"
            tenderer.reload()
            tenderer.get_by_test_id("announced").wait_for()
            shot(bidder, "opening-hall-bidder")
            shot(tenderer, "opening-hall-tenderer")
            shot(staff, "opening-hall-center")
    finally:
        database.dispose()
