"""The identity pages in headless Chromium, against the real demo data."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest

from sunlit.kernel import clock
from tests.browser.conftest import LiveDemo, shot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_home_page_is_chinese_and_lists_both_cas(page: Any, live_demo: LiveDemo) -> None:
    page.goto(live_demo.url + "/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    cas = page.get_by_test_id("trusted-cas").inner_text()
    assert "阳光演示CA（国密SM2）" in cas and "ECDSA" in cas
    shot(page, "home")


def test_certificate_login_as_a_bidder_through_the_local_helper(
    page: Any, live_demo: LiveDemo
) -> None:
    page.goto(live_demo.url + "/login")
    select = page.locator("#cert-select")
    page.wait_for_function("!document.getElementById('cert-select').disabled")
    options = select.locator("option").all_inner_texts()
    assert len(options) >= 20
    bidder = next(o for o in options if "江苏恒远建设工程有限公司" in o)
    select.select_option(label=bidder)
    shot(page, "login-certificate")
    page.click("#cert-login-btn")
    page.wait_for_url("**/me")
    text = page.get_by_test_id("my-org").inner_text()
    assert "江苏恒远建设工程有限公司" in text and "投标人/供应商" in text
    assert "SM2" in page.get_by_test_id("certificates").inner_text()
    shot(page, "me-bidder")
    page.click("text=退出")
    page.wait_for_url(live_demo.url + "/")
    assert page.get_by_role("link", name="登录").first.is_visible()


def test_staff_password_login_and_review_of_a_pending_registration(
    page: Any, live_demo: LiveDemo
) -> None:
    page.goto(live_demo.url + "/login?tab=password")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "wrong-Passw0rd!")
    page.fill("input[name=totp]", pyotp.TOTP(live_demo.totp_secret).at(clock.now()))
    page.click("#password-form button[type=submit]")
    assert "登录名、口令或动态口令不正确" in page.get_by_test_id("login-error").inner_text()
    page.fill("input[name=password]", live_demo.password)
    page.fill("input[name=totp]", pyotp.TOTP(live_demo.totp_secret).at(clock.now()))
    page.click("#password-form button[type=submit]")
    page.wait_for_url("**/me")

    page.goto(live_demo.url + "/staff/organizations?status=pending_review")
    table = page.get_by_test_id("org-table")
    assert "苏州智慧城市科技有限公司" in table.inner_text()
    shot(page, "staff-organizations")
    page.click("text=苏州智慧城市科技有限公司")
    page.click("#review-form button[value=approve]")
    assert page.get_by_test_id("org-status").inner_text() == "正常"
    shot(page, "staff-organization-approved")

    page.goto(live_demo.url + "/staff/organizations?q=恒远")
    assert "共 1 家" in page.get_by_test_id("total").inner_text()


def test_registration_form_explains_a_bad_credit_code(page: Any, live_demo: LiveDemo) -> None:
    page.goto(live_demo.url + "/register")
    page.fill("input[name=name]", "苏州测试科技有限公司")
    page.fill("input[name=credit_code]", "91320505MA1X2Y4W5J")  # the check character is H
    page.check("input[value=bidder]")
    page.fill("input[name=contact_name]", "测试人")
    page.click("#register-form button[type=submit]")
    error = page.get_by_test_id("register-error")
    assert "校验位错误" in error.inner_text()
    assert error.get_attribute("data-field") == "credit_code"
    assert page.input_value("input[name=name]") == "苏州测试科技有限公司"
    shot(page, "register-bad-code")
