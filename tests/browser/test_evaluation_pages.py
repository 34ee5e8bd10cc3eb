"""Evaluation and award in the browser, on the live demo (its section in evaluation): an expert
logs in with his certificate through the live local helper, finds the evaluation from his
workbench, reviews every bid on the scoring page and hands in; the others finish over the API;
the leader's report is signed by the browser expert through the certificate helper (``fetch``
to the signer, no pasted signature); the tenderer then opens the award page with the ranking."""

from __future__ import annotations

import base64
from typing import Any

import httpx
from sqlalchemy import select

from sunlit.evaluation.models import EvaluationMember, EvaluationSession
from sunlit.identity.models import User
from sunlit.kernel.crypto import load_private_key_any, sign_any
from sunlit.kernel.db import Database
from sunlit.kernel.web import sessions
from sunlit.projects.models import Section
from tests.browser.conftest import LiveDemo, shot
from tests.browser.test_tender_pages import login_with_certificate


def _expert_key(user: User) -> str:
    n = int((user.mobile or "")[-4:])
    return f"{20 + n:02d}-expert-{n}"


def test_expert_scores_and_signs_through_the_helper_then_the_tenderer_opens_the_award(
    page: Any, live_demo: LiveDemo
) -> None:
    database = Database(f"sqlite:///{live_demo.root / 'sunlit.db'}")
    with database.session_scope() as db:
        row = db.scalar(select(EvaluationSession).where(EvaluationSession.status == "started"))
        assert row is not None
        sid = row.section_id
        section = db.get(Section, sid)
        assert section is not None
        section_name = section.name
        codes = [b["credit_code"] for b in row.bids]
        members = list(
            db.scalars(select(EvaluationMember).where(EvaluationMember.session_id == row.id))
        )
        leader = next(m for m in members if m.id == row.leader_member_id)
        pending = [m for m in members if m.submitted_at is None]
        me = next(m for m in pending if m.id != leader.id)  # the browser's expert
        others = []  # (name, bearer headers, key) of the other members
        for m in members:
            user = db.get(User, m.user_id)
            assert user is not None
            if m.id == me.id:
                continue
            token, _ = sessions.open_session(db, user.id, "certificate", 4)
            key = load_private_key_any(
                (live_demo.root / "keys" / f"{_expert_key(user)}.key.pem").read_bytes()
            )
            others.append((m, {"Authorization": f"Bearer {token}"}, key))
        db.commit()
    api = httpx.Client(base_url=live_demo.url, timeout=30)
    ev = f"/api/v1/sections/{sid}/evaluation"

    # The expert: certificate login, workbench → evaluation → scoring page.
    login_with_certificate(page, live_demo, me.name, "/expert")
    link = page.locator(f'[data-testid="invitation-evaluation"][href="/evaluation/{sid}"]')
    assert link.inner_text() == section_name
    shot(page, "expert-workbench")
    link.click()
    page.wait_for_url(f"**/evaluation/{sid}")
    assert page.get_by_test_id("evaluation-state").get_attribute("data-state") == "started"
    page.get_by_test_id("my-sheets").click()
    page.wait_for_url(f"**/evaluation/{sid}/sheets")
    bidders = page.get_by_test_id("sheet").count()
    assert bidders == 3
    for i in range(bidders):
        sheet = page.get_by_test_id("sheet").nth(i)
        sheet.locator("select[name=conforms]").select_option("yes")
        sheet.locator("input[name=reason]").fill("资格、符合性审查通过")
        sheet.locator("button[type=submit]").click()
        page.wait_for_load_state()
    shot(page, "expert-scoring")
    page.get_by_test_id("submit-form").locator("button").click()
    page.wait_for_load_state()
    assert "您已提交评分" in page.content()

    # The other members who had not handed in finish; the leader generates the report.
    assert len(codes) == 3
    for m, headers, _ in others:
        if m.submitted_at is None:
            for code in codes:
                r = api.put(f"{ev}/sheets/{code}", json={}, headers=headers)
                assert r.status_code == 200, r.text
            assert api.post(f"{ev}/submit", headers=headers).status_code == 200
    lead = next(h for m, h, _ in others if m.id == leader.id)
    r = api.post(f"{ev}/report", headers=lead)
    assert r.status_code == 200, r.text
    for _m, headers, key in others:
        msg = api.get(f"{ev}/report/signing-message", headers=headers).json()["message"]
        signature = base64.b64encode(sign_any(key, msg.encode())).decode()
        r = api.post(f"{ev}/report/sign", json={"signature": signature}, headers=headers)
        assert r.status_code == 200, r.text

    # The browser expert signs through the live certificate helper.
    page.goto(f"{live_demo.url}/evaluation/{sid}")
    page.wait_for_function("!document.getElementById('report-sign-btn').disabled")
    chosen = page.locator("#report-cert option:checked").inner_text()
    assert me.name in chosen  # his own certificate is preselected
    shot(page, "report-signing")
    page.get_by_test_id("report-sign-btn").click()
    page.wait_for_url("**done=sign")
    assert "已签署评标报告" in page.content()
    assert page.get_by_test_id("evaluation-state").get_attribute("data-state") == "signed"
    ranking = page.get_by_test_id("ranking").inner_text()
    shot(page, "report-signed")

    # The tenderer opens the award page: the signed report's ranking, the open-award button.
    context = page.context
    context.clear_cookies()
    login_with_certificate(page, live_demo, "李建国", f"/award/{sid}")
    text = page.content()
    first = ranking.splitlines()[1].split("\t")[1]
    assert first in text
    shot(page, "award-page-tenderer")
    api.close()
    database.dispose()
