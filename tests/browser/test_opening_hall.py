"""The live opening hall in headless Chromium: several people at once (bidders, the tenderer's
agency holding the tenderer key, center staff, the supervisor). Staff starts, both key holders
decrypt with their passphrases, and a bidder's page, opened before and never reloaded, shows
the announced prices through Server-Sent Events; then a bidder whose bid failed uploads its
remedy key file, another confirms the results, the supervisor enters its value and staff
draws the coefficients — all of which the watching bidder sees live — and the downloaded
draw record verifies."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sunlit.cli import app as cli
from sunlit.demo.tender import build_market, prepare_section
from sunlit.draws import verify_record
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
            prep = prepare_section(
                client, db, market, clock, tmp_path / "bids", url, faulty=frozenset({1})
            )
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
            broken = market.bidders[1]
            for party in market.bidders:
                row = table.locator("tr", has_text=party.name)
                price = format_amount(prep.prices[party.credit_code])
                if party is broken:
                    assert price not in row.inner_text() and "解密失败" in row.inner_text()
                else:
                    assert price in row.locator("td.price").inner_text()
            assert bidder.evaluate("window.__notReloaded") is True
            state = bidder.get_by_test_id("opening-state").get_attribute("data-state")
            assert state == "announced"
            tenderer.reload()
            tenderer.get_by_test_id("announced").wait_for()
            shot(bidder, "opening-hall-bidder")
            shot(tenderer, "opening-hall-tenderer")
            shot(staff, "opening-hall-center")

            # The bidder whose bid failed: the remedy window, and its key file uploaded.
            assert broken.cred is not None
            key = tmp_path / "broken.key.pem"
            key.write_bytes(broken.cred.private_key.to_pem())
            keys_file = tmp_path / "remedy-keys.json"
            result = CliRunner().invoke(
                cli,
                [
                    "bid",
                    "remedy",
                    str(tmp_path / "bids" / "bid1.sealed"),
                    "--key",
                    str(key),
                    "--keys-out",
                    str(keys_file),
                ],
            )
            assert result.exit_code == 0, result.output
            remedying = contexts(url, broken.token)
            remedying.goto(hall)
            form = remedying.get_by_test_id("remedy-form")
            assert remedying.get_by_test_id("remedy-until").inner_text()
            form.locator('input[type="file"]').set_input_files(str(keys_file))
            form.get_by_role("button", name="提交补救").click()
            remedying.wait_for_url("**?done=remedy")
            assert remedying.get_by_test_id("remedy-form").count() == 0
            price = format_amount(prep.prices[broken.credit_code])
            table.locator("tr", has_text=broken.name).locator("td.price").filter(
                has_text=price
            ).wait_for()
            shot(remedying, "opening-hall-remedy")

            # Another bidder confirms the results; the watching pages follow.
            confirming = contexts(url, market.bidders[2].token)
            confirming.goto(hall)
            confirming.get_by_test_id("confirm-results").click()
            confirming.wait_for_url("**?done=confirm-results")
            assert confirming.get_by_test_id("confirm-results").count() == 0
            bidder.locator('[data-testid="confirmation"][data-response="confirmed"]').filter(
                has_text=market.bidders[2].name
            ).wait_for()
            tenderer.locator('[data-testid="confirmation"][data-response="confirmed"]').wait_for()
            assert bidder.get_by_test_id("confirm-results").is_visible()  # not yet for itself

            # The draw on the page: the supervisor's value, then the host reveals and draws.
            supervisor = contexts(url, market.supervisor.token)
            supervisor.goto(hall)
            supervisor.locator('input[name="value"]').fill("20261123")
            supervisor.get_by_role("button", name="录入").click()
            supervisor.wait_for_url("**?done=supervisor-value")
            draw_form = staff.get_by_test_id("draw-form")
            draw_form.wait_for()  # appeared on the staff page live
            draw_form.locator('input[name="center_value"]').fill(prep.center.value.hex())
            draw_form.locator('input[name="center_salt"]').fill(prep.center.salt.hex())
            draw_form.get_by_role("button", name="抽取系数").click()
            staff.wait_for_url("**?done=draw")
            outputs = bidder.get_by_test_id("draw-outputs")
            outputs.wait_for()
            link = bidder.get_by_test_id("draw-json")
            response = bidder.request.get(url + str(link.get_attribute("href")))
            assert response.ok
            record = response.json()
            assert verify_record(record).ok
            for output in record["outputs"]:
                assert f"{output['name']} = {output['value']}" in outputs.inner_text()
            assert bidder.evaluate("window.__notReloaded") is True
            shot(bidder, "opening-hall-draw")
    finally:
        database.dispose()
