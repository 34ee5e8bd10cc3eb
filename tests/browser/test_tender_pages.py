"""Tender set-up in headless Chromium against the live demo: the public portal, the agency's
workspace (register, section, signed upload through the local certificate helper, submit),
the center's acceptance and venue pages, publication, and a bidder obtaining the documents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest

from sunlit.demo.data import organizations
from sunlit.kernel import clock
from tests.browser.conftest import LiveDemo, shot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

METRO = next(o for o in organizations() if o.name == "苏州市轨道交通集团有限公司")
NEW_TENDER = "苏州市轨道交通8号线停车场土建施工"


@pytest.fixture
def contexts(browser: Any) -> Iterator[Any]:
    made: list[Any] = []

    def new_page() -> Any:
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        made.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        return page

    yield new_page
    for c in made:
        c.close()


def login_with_certificate(page: Any, demo: LiveDemo, who: str, next_path: str) -> None:
    page.goto(f"{demo.url}/login?next={next_path}")
    page.wait_for_function("!document.getElementById('cert-select').disabled")
    options = page.locator("#cert-select option").all_inner_texts()
    page.locator("#cert-select").select_option(label=next(o for o in options if who in o))
    page.click("#cert-login-btn")
    page.wait_for_url(f"**{next_path}")


def login_staff(page: Any, demo: LiveDemo, next_path: str) -> None:
    page.goto(f"{demo.url}/login?tab=password&next={next_path}")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", demo.password)
    page.fill("input[name=totp]", pyotp.TOTP(demo.totp_secret).at(clock.now()))
    page.click("#password-form button[type=submit]")
    page.wait_for_url(f"**{next_path}")


def test_public_portal_shows_the_living_demo(page: Any, live_demo: LiveDemo) -> None:
    page.goto(live_demo.url + "/")
    assert "苏州市轨道交通8号线车辆段土建施工" in page.get_by_test_id("home-notices").inner_text()
    shot(page, "portal-home")
    page.goto(live_demo.url + "/notices")
    total = page.get_by_test_id("notice-total").inner_text()
    assert "共" in total
    page.select_option("select[name=category]", "engineering")
    page.select_option("select[name=status]", "open")
    page.click("#notice-search button[type=submit]")
    table = page.get_by_test_id("notice-table").inner_text()
    assert "车辆段土建施工招标公告" in table and "智慧校园" not in table
    assert "工程监理服务" not in table  # invitations are not public
    shot(page, "portal-notices")
    page.click("text=苏州市轨道交通8号线车辆段土建施工招标公告")
    sections = page.get_by_test_id("notice-sections").inner_text()
    assert "下浮系数K" in sections and "0.95" in sections
    assert "第一开标室" in sections  # rebooked after the deadline moved
    assert "澄清/修改公告" in page.get_by_test_id("related-notices").inner_text()
    shot(page, "portal-notice-detail")
    page.click("text=苏州市轨道交通8号线车辆段土建施工澄清/修改公告")
    assert "→" in page.get_by_test_id("deadline-change").inner_text()
    page.goto(live_demo.url + "/openings")
    assert "车辆段" in page.get_by_test_id("openings").inner_text()
    shot(page, "portal-openings")
    page.goto(live_demo.url + "/notices?status=terminated")
    assert "终止公告" in page.get_by_test_id("notice-table").inner_text()
    page.goto(live_demo.url + "/notices?region=32")
    assert "行政区划代码" in page.get_by_test_id("search-error").inner_text()


def test_agency_staff_and_bidder_walk_a_new_tender(contexts: Any, live_demo: LiveDemo) -> None:
    deadline = (clock.now() + dt.timedelta(days=25)).replace(hour=9, minute=30)

    # The agency registers a tender for the metro company and prepares it.
    agency = contexts()
    login_with_certificate(agency, live_demo, "陈静", "/workspace/tenders")
    assert "苏州市轨道交通8号线车辆段土建施工" in agency.get_by_test_id("my-tenders").inner_text()
    shot(agency, "workspace-agency")
    agency.click("text=登记新项目")
    agency.fill("input[name=project_name]", "苏州市轨道交通8号线停车场工程")
    agency.select_option("select[name=category]", "engineering")
    agency.fill("input[name=tenderer_credit_code]", METRO.credit_code)
    agency.fill("input[name=tender_name]", NEW_TENDER)
    agency.select_option("select[name=project_type]", "A11")
    agency.fill("input[name=contract_no]", "ZX-WT-2026-077")
    shot(agency, "workspace-new-tender")
    agency.click("#new-tender-form button[type=submit]")
    agency.wait_for_url("**/workspace/tenders/*?done=registered")
    assert agency.get_by_test_id("tender-code").inner_text().startswith("E320500")
    form = agency.locator("#section-form")
    form.locator("input[name=name]").fill("停车场土建施工")
    form.locator("select[name=evaluation_method]").select_option(label="综合评估法")
    form.locator("input[name=estimated_price]").fill("26000000")
    form.locator("input[name=bid_security]").fill("600000")  # over 2%: refused
    form.locator("input[name=bid_deadline]").fill(deadline.strftime("%Y-%m-%dT%H:%M"))
    form.locator("button[type=submit]").click()
    assert "第二十六条" in agency.get_by_test_id("page-error").inner_text()
    shot(agency, "workspace-section-refused")
    form = agency.locator("#section-form")
    form.locator("input[name=name]").fill("停车场土建施工")
    form.locator("select[name=evaluation_method]").select_option(label="综合评估法")
    form.locator("input[name=estimated_price]").fill("26000000")
    form.locator("input[name=bid_security]").fill("500000")
    form.locator("input[name=bid_deadline]").fill(deadline.strftime("%Y-%m-%dT%H:%M"))
    form.locator("button[type=submit]").click()
    assert "停车场土建施工" in agency.get_by_test_id("sections").inner_text()
    # Signed upload: the page hashes the file, the local helper signs, the platform verifies.
    agency.wait_for_function("!document.getElementById('doc-cert').disabled")
    labels = agency.locator("#doc-cert option").all_inner_texts()
    agency.select_option("#doc-cert", label=next(o for o in labels if "陈静" in o))
    agency.set_input_files(
        "#doc-file",
        files=[
            {
                "name": "停车场土建施工招标文件.pdf",
                "mimeType": "application/pdf",
                "buffer": b"%PDF-1.4 demo\n",
            }
        ],
    )
    agency.click("#doc-upload-btn")
    agency.wait_for_url("**?done=uploaded")
    docs = agency.get_by_test_id("documents").inner_text()
    assert "停车场土建施工招标文件.pdf" in docs and "陈静" in docs
    agency.get_by_test_id("submit-tender").click()
    assert agency.get_by_test_id("tender-status").inner_text() == "待受理"
    shot(agency, "workspace-submitted")
    tender_url = agency.url.split("?")[0]

    # The center accepts it and books the opening room and an evaluation room.
    staff = contexts()
    login_staff(staff, live_demo, "/staff/acceptance")
    queue = staff.get_by_test_id("acceptance-queue").inner_text()
    assert NEW_TENDER in queue and "出入口及风亭附属工程" in queue
    shot(staff, "staff-acceptance-queue")
    staff.click(f"text={NEW_TENDER}")
    staff.click("#review-form button[value=accept]")
    assert staff.get_by_test_id("tender-status").inner_text() == "已受理"
    staff.click("#booking summary")
    booking = staff.locator("#booking-form")
    booking.locator("select[name=room_id]").select_option(label="第二开标室（开标室）")
    booking.locator("select[name=section_id]").select_option(index=1)
    booking.locator("input[name=starts_at]").fill(
        (deadline - dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")
    )
    booking.locator("input[name=ends_at]").fill(
        (deadline + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    )
    booking.locator("button[type=submit]").click()
    assert "第二开标室" in staff.get_by_test_id("bookings").inner_text()
    shot(staff, "staff-tender-accepted")
    staff.goto(f"{live_demo.url}/staff/venues?week={deadline.date().isoformat()}")
    assert "第二开标室" in staff.get_by_test_id("venue-calendar").inner_text()
    shot(staff, "staff-venue-calendar")

    # The tenderer itself follows its entrusted tender in its own workspace.
    tenderer = contexts()
    login_with_certificate(tenderer, live_demo, "李建国", "/workspace/tenders")
    tenderer.click(f"text={NEW_TENDER}")
    assert tenderer.get_by_test_id("tender-status").inner_text() == "已受理"
    assert "江苏正信招标代理有限公司" in tenderer.get_by_test_id("tender-info").inner_text()
    shot(tenderer, "workspace-tenderer")

    # The agency publishes the notice.
    agency.goto(tender_url)
    agency.fill("#notice-form textarea[name=content]", "停车场土建施工招标公告正文。")
    agency.click("#notice-form button[type=submit]")
    agency.get_by_test_id("publish-notice").click()
    assert "公告已发布" in agency.locator(".flash.ok").inner_text()
    assert agency.get_by_test_id("tender-status").inner_text() == "招标中"
    shot(agency, "workspace-published")

    # A bidder finds it and obtains the documents; its own downloads are listed.
    bidder = contexts()
    login_with_certificate(bidder, live_demo, "江苏恒远建设工程有限公司", "/bidder/notices")
    assert NEW_TENDER in bidder.get_by_test_id("bidder-notices").inner_text()
    shot(bidder, "bidder-notices")
    bidder.click(f"text={NEW_TENDER}招标公告")
    with bidder.expect_download() as download:
        bidder.click("text=停车场土建施工招标文件.pdf")
    assert download.value.suggested_filename == "停车场土建施工招标文件.pdf"
    bidder.goto(f"{live_demo.url}/bidder/downloads")
    assert "停车场土建施工招标文件.pdf" in bidder.get_by_test_id("my-downloads").inner_text()
    shot(bidder, "bidder-downloads")

    # The tenderer's side still learns nothing about who downloaded before the deadline.
    agency.goto(tender_url)
    text = agency.get_by_test_id("downloads").inner_text()
    assert "任何人不得知悉" in text and "江苏恒远" not in text


def test_a_restricted_bidder_is_told_why(contexts: Any, live_demo: LiveDemo) -> None:
    bidder = contexts()
    login_with_certificate(bidder, live_demo, "张家港长江基础工程有限公司", "/bidder/notices")
    bidder.click("text=苏州市轨道交通8号线车辆段土建施工招标公告")
    bidder.click("text=8号线车辆段土建施工招标文件.pdf")
    error = bidder.locator(".error-detail")
    assert "苏建罚〔2026〕37号" in error.inner_text()
    assert error.get_attribute("data-code") == "notices.download.restricted"
    shot(bidder, "bidder-restricted")
