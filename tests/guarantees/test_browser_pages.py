"""The bidder's guarantee page and the public 验真 page in headless Chromium: the platform and
the FI simulator on loopback; the bidder applies in the browser, the signed messages go both
ways, the issued guarantee's link opens the public verification, which passes; a wrong code
finds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from sunlit.kernel.clock import ManualClock
from sunlit.kernel.db import Database
from tests.browser.conftest import browser, shot  # noqa: F401  (the browser fixture)
from tests.guarantees.helpers import Market, open_market
from tests.projects.helpers import World, build_world

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.parametrize("database", ["sqlite"], indirect=True),
]


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=0)


@pytest.fixture
def market(
    app: Any,
    client: Any,
    db: Session,
    database: Database,
    world: World,
    clock: ManualClock,
    tmp_path: Path,
) -> Iterator[Market]:
    m = open_market(app, client, db, database, world, clock, tmp_path)
    yield m
    m.close()


def test_bidder_applies_and_the_public_verifies(market: Market, browser: Any) -> None:  # noqa: F811
    m = market
    bidder = m.bidders[0]
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "sunlit_session", "value": bidder.token, "url": m.url}])
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(f"{m.url}/bidder/guarantees?section_id={m.sid}")
        apply = page.get_by_test_id("apply")
        assert "800000.00" in apply.inner_text() and "电子投标保函（银行）" in apply.inner_text()
        assert "1200.00" in apply.inner_text()  # the expected premium: 800,000 × 0.15 %
        shot(page, "guarantee-apply")
        apply.get_by_role("button", name="提交申请").click()
        page.wait_for_load_state()
        mine = page.get_by_test_id("my-guarantees")
        assert "已提交" in mine.inner_text() or "审核中" in mine.inner_text()

        # The outbox job and the FI's callbacks (driven here: no background jobs in tests).
        assert m.deliver().delivered == 1
        assert m.pump() == 3
        page.goto(f"{m.url}/bidder/guarantees")
        mine = page.get_by_test_id("my-guarantees")
        assert "已出函" in mine.inner_text() and "验证码" in mine.inner_text()
        shot(page, "guarantee-issued")
        link = mine.locator("a[href^='/guarantees/verify']")
        number = link.inner_text()
        assert number.startswith("BH-SIM-BANK-")

        # The public page, without a session: 验真 by number and code.
        public = browser.new_context(locale="zh-CN")
        try:
            anon = public.new_page()
            anon.goto(m.url + str(link.get_attribute("href")))
            result = anon.get_by_test_id("verify-result")
            assert "验真通过" in result.inner_text() and number in result.inner_text()
            assert anon.get_by_test_id("verify-status").inner_text() == "已出函"
            assert anon.locator("figure.qr svg").count() == 1
            shot(anon, "guarantee-verify")
            anon.goto(f"{m.url}/guarantees/verify")
            form = anon.get_by_test_id("verify-form")
            form.locator("input[name=no]").fill(number)
            form.locator("input[name=code]").fill("WRONG000")
            form.get_by_role("button", name="验真").click()
            anon.wait_for_load_state()
            assert "未找到该保函" in anon.get_by_test_id("verify-result").inner_text()
        finally:
            public.close()
    finally:
        context.close()
