"""The award over the real HTTP API, continuing the opening scenario: the ranked candidates of
the evaluation report → 中标候选人公示 on the portal → an objection pauses the process until
answered → an award to the second candidate is refused without the 第55条 reason and evidence
and accepted with them → 中标结果公告 and signed letters to every bidder (PDF and JSON verify
with the platform public key, amounts in Chinese words) → the contract with its publicity.
Every refusal changes nothing."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sunlit.award import letters
from sunlit.award import queries as award_queries
from sunlit.award.models import (
    AwardCandidate,
    AwardContract,
    AwardLetter,
    AwardObjection,
    AwardPassOver,
    AwardProcess,
)
from sunlit.kernel.audit import AuditEvent
from sunlit.kernel.authz import Role
from sunlit.kernel.clock import ManualClock
from sunlit.kernel.crypto import InvalidSignature, load_public_key_any
from sunlit.notices.models import Notice
from tests.award.helpers import award, closed_opening, open_award, ranked_from_opening, try_open
from tests.projects.helpers import World, _party, build_world

TABLES = (
    AwardProcess,
    AwardCandidate,
    AwardObjection,
    AwardPassOver,
    AwardLetter,
    AwardContract,
    Notice,
    AuditEvent,
)


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=0)


def bidder_of(p: Any, i: int) -> Any:
    return p.bidders[i]


def snapshot(db: Session) -> tuple[Any, ...]:
    db.rollback()
    statuses = tuple(db.scalars(select(AwardProcess.status).order_by(AwardProcess.id)))
    counts = tuple(db.scalar(select(func.count()).select_from(t)) for t in TABLES)
    return statuses + counts


def refused(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    return body


def test_award_from_report_to_contract(
    client: Any, db: Session, world: World, clock: ManualClock, tmp_path: Path
) -> None:
    p = closed_opening(client, db, world, clock, tmp_path, n=4)
    sid = p.sid
    by_code = {b.credit_code: b for b in p.bidders}

    # --- the report's candidates: checked against the opening -----------------------------
    ranked = ranked_from_opening(client, world, p, [2, 0, 1])
    outsider = _party(db, world.ca, 880, "未投标建设有限公司", [Role.BIDDER], "路人")
    staff = world.staff.actor
    before = snapshot(db)
    # Over the API the award opens only from a signed evaluation report.
    r = client.post(award(sid, "/open"), headers=world.staff.headers)
    assert "评标报告" in refused(r, 409, "award.no_signed_report")["detail"]
    refused(
        client.post(award(sid, "/open"), headers=bidder_of(p, 0).headers), 403, "award.forbidden"
    )
    bad = [dict(ranked[0], credit_code=outsider.credit_code), *ranked[1:]]
    assert try_open(db, staff, sid, bad)[:2] == (422, "award.candidates.not_bidder")
    status, code, detail = try_open(db, staff, sid, [dict(c, rank=c["rank"] * 2) for c in ranked])
    assert (status, code) == (422, "award.candidates.ranks") and detail.endswith("2、4、6")
    four = ranked_from_opening(client, world, p, [0, 1, 2, 3])
    status, code, detail = try_open(db, staff, sid, four)
    assert (status, code) == (422, "award.candidates.too_many") and "不得超过3个" in detail
    assert snapshot(db) == before

    view = open_award(client, db, world, p, [2, 0, 1])
    assert view["status"] == "open" and view["publicity_required"] and view["rule_bound"]
    cands = view["candidates"]
    assert [c["rank"] for c in cands] == [1, 2, 3]
    first, second, third = cands
    assert first["credit_code"] == ranked[0]["credit_code"]
    assert first["price"] == f"{float(p.prices[first['credit_code']]):.2f}"
    assert first["amount_words"].startswith("壹仟贰佰叁拾肆万") and "元" in first["amount_words"]
    refused(client.post(award(sid, "/open"), headers=world.staff.headers), 409, "award.exists")

    # A bidder cannot see the candidates before publicity; a stranger cannot see anything.
    bidder_first = by_code[first["credit_code"]]
    bidder_second = by_code[second["credit_code"]]
    assert client.get(award(sid), headers=bidder_first.headers).json()["candidates"] == []
    assert client.get(award(sid), headers=outsider.headers).status_code == 404

    # Deciding before publicity is refused for a 依法必须招标 project.
    before = snapshot(db)
    r = client.post(
        award(sid, "/decision"), json={"winner_id": first["id"]}, headers=world.agency.headers
    )
    assert "第五十四条" in refused(r, 409, "award.process.guard_failed")["detail"]
    assert snapshot(db) == before

    # --- 中标候选人公示 ------------------------------------------------------------------------
    refused(
        client.post(award(sid, "/publicity"), json={"days": 2}, headers=world.agency.headers),
        422,
        "award.publicity.too_short",
    )
    refused(
        client.post(award(sid, "/publicity"), json={"days": 3}, headers=bidder_first.headers),
        403,
        "award.process.forbidden",
    )
    clock.advance(dt.timedelta(hours=2))
    r = client.post(award(sid, "/publicity"), json={"days": 3}, headers=world.agency.headers)
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["status"] == "publicizing" and not view["publicity"]["late"]
    notice_id = view["publicity"]["notice_id"]
    start = dt.datetime.fromisoformat(view["publicity"]["start"])
    assert dt.datetime.fromisoformat(view["publicity"]["end"]) - start == dt.timedelta(days=3)
    # On the portal: listed by kind, detail shows the candidates.
    found = client.get("/api/v1/notices", params={"kind": "candidate_publicity"})
    assert found.status_code == 200, found.text
    assert [n["id"] for n in found.json()] == [notice_id]
    assert found.json()[0]["kind_label"] == "中标候选人公示"
    page = client.get(f"/notices/{notice_id}")
    assert page.status_code == 200 and "中标候选人公示" in page.text
    assert first["name"] in page.text and first["amount_words"] in page.text
    listing = client.get("/notices", params={"kind": "candidate_publicity"})
    assert notice_id in listing.text
    # Now the bidders see the candidates.
    assert len(client.get(award(sid), headers=bidder_first.headers).json()["candidates"]) == 3

    # --- an objection pauses the process until answered ------------------------------------
    r = client.post(
        award(sid, "/objections"),
        json={"content": "第一名业绩不符合招标文件要求", "contact": "0512-1234567"},
        headers=bidder_second.headers,
    )
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    refused(
        client.post(award(sid, "/objections"), json={"content": "x"}, headers=outsider.headers),
        403,
        "award.objection.not_bidder",
    )
    refused(
        client.post(award(sid, "/objections"), json={"content": " "}, headers=bidder_first.headers),
        422,
        "award.objection.content.empty",
    )
    mine = client.get(award(sid), headers=bidder_first.headers).json()["objections"]
    assert mine == []  # another bidder's objection is not shown to it
    clock.advance(dt.timedelta(days=3, hours=1))  # publicity over, objection unanswered
    refused(
        client.post(
            award(sid, "/objections"), json={"content": "晚了"}, headers=bidder_first.headers
        ),
        409,
        "award.objection.closed",
    )
    before = snapshot(db)
    r = client.post(
        award(sid, "/decision"), json={"winner_id": first["id"]}, headers=world.agency.headers
    )
    assert "1条异议未答复" in refused(r, 409, "award.process.guard_failed")["detail"]
    assert snapshot(db) == before
    r = client.post(
        award(sid, f"/objections/{oid}/answer"),
        json={"answer": "经复核，第一中标候选人业绩符合要求"},
        headers=world.tenderer.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["objections"][0]["overdue"] is True  # answered after 3 days: flagged
    refused(
        client.post(
            award(sid, f"/objections/{oid}/answer"),
            json={"answer": "再答"},
            headers=world.tenderer.headers,
        ),
        409,
        "award.objection.answered",
    )

    # --- the decision: 第55条 ---------------------------------------------------------------
    before = snapshot(db)
    r = client.post(
        award(sid, "/decision"), json={"winner_id": second["id"]}, headers=world.agency.headers
    )
    detail = refused(r, 422, "award.decision.reason_missing")["detail"]
    assert f"排名第2的{second['name']}" in detail and f"排名第1的{first['name']}" in detail
    assert "第五十五条" in detail
    evidence = "放弃中标声明（盖章扫描件）".encode() * 10
    pass_over = {
        "candidate_id": first["id"],
        "reason_code": "cheaper",
        "explanation": "第一中标候选人书面声明放弃中标",
        "evidence_name": "放弃声明.pdf",
        "evidence_base64": base64.b64encode(evidence).decode(),
    }
    r = client.post(
        award(sid, "/decision"),
        json={"winner_id": second["id"], "pass_overs": [pass_over]},
        headers=world.agency.headers,
    )
    refused(r, 422, "award.decision.reason_not_allowed")
    r = client.post(
        award(sid, "/decision"),
        json={
            "winner_id": second["id"],
            "pass_overs": [pass_over | {"reason_code": "gave_up", "evidence_base64": ""}],
        },
        headers=world.agency.headers,
    )
    refused(r, 422, "award.decision.evidence_missing")
    r = client.post(
        award(sid, "/decision"),
        json={
            "winner_id": second["id"],
            "pass_overs": [pass_over | {"reason_code": "gave_up", "candidate_id": third["id"]}],
        },
        headers=world.agency.headers,
    )
    refused(r, 422, "award.decision.reason_not_needed")
    r = client.post(
        award(sid, "/decision"),
        json={"winner_id": second["id"], "pass_overs": [pass_over | {"reason_code": "gave_up"}]},
        headers=bidder_second.headers,
    )
    refused(r, 403, "award.process.forbidden")
    assert snapshot(db) == before

    r = client.post(
        award(sid, "/decision"),
        json={
            "winner_id": second["id"],
            "pass_overs": [pass_over | {"reason_code": "gave_up"}],
            "note": "按排名顺序确定第二中标候选人",
        },
        headers=world.agency.headers,
    )
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["status"] == "decided" and view["winner_id"] == second["id"]
    statuses = {c["rank"]: c["status"] for c in view["candidates"]}
    assert statuses == {1: "passed_over", 2: "winner", 3: "candidate"}
    (po,) = view["pass_overs"]
    assert (
        po["reason"] == "放弃中标" and po["evidence_sha256"] == hashlib.sha256(evidence).hexdigest()
    )
    got = client.get(award(sid, f"/evidence/{first['id']}"), headers=world.supervisor.headers)
    assert got.status_code == 200 and got.content == evidence
    assert (
        client.get(award(sid, f"/evidence/{first['id']}"), headers=bidder_first.headers).status_code
        == 404
    )

    # --- the letters and the result notice, at the same time (第45条) ----------------------------
    assert not award_queries.is_awarded(db, sid)
    r = client.post(
        award(sid, "/notify"),
        json={"project_lead": "张工", "project_lead_certificate": "苏132060800001"},
        headers=world.agency.headers,
    )
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["status"] == "notified"
    db.rollback()
    assert award_queries.is_awarded(db, sid) and not award_queries.is_contracted(db, sid)
    state = award_queries.section_award(db, sid)
    assert state is not None and state.winner_org_id == bidder_second.org_id
    kinds = sorted((lt["kind"], lt["credit_code"]) for lt in view["letters"])
    assert kinds == sorted(
        [("award", second["credit_code"])]
        + [
            ("non_award", b.credit_code)
            for b in p.bidders
            if b.credit_code != second["credit_code"]
        ]
    )
    # The winner sees its letter only; a loser its non-award letter only.
    (mine,) = client.get(award(sid), headers=bidder_second.headers).json()["letters"]
    assert mine["kind"] == "award"
    (theirs,) = client.get(award(sid), headers=bidder_first.headers).json()["letters"]
    assert theirs["kind"] == "non_award"
    assert (
        client.get(f"/api/v1/award-letters/{mine['id']}", headers=bidder_first.headers).status_code
        == 404
    )

    pem = client.get("/api/v1/transparency/key.pem").text
    platform = load_public_key_any(pem.encode())
    bundle = client.get(f"/api/v1/award-letters/{mine['id']}", headers=bidder_second.headers).json()
    doc = bundle["letter"]
    letters.verify_letter(doc, bundle["signature"], platform)
    winner_price = p.prices[second["credit_code"]]
    assert (
        doc["winner_code"] == second["credit_code"]
        and doc["amount_value"] == f"{float(winner_price):.2f}"
    )
    assert doc["amount_words"] == second["amount_words"] and doc["amount_words"] in doc["text"]
    assert doc["project_lead"] == "张工" and "30日内" in doc["text"]
    pdf = client.get(f"/api/v1/award-letters/{mine['id']}/pdf", headers=bidder_second.headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    letters.verify_pdf(doc["number"], pdf.content, bundle["pdf_signature"], platform)
    assert hashlib.sha256(pdf.content).hexdigest() == bundle["pdf_sha256"]
    tampered = dict(doc, amount_value="1.00")
    with pytest.raises(InvalidSignature):
        letters.verify_letter(tampered, bundle["signature"], platform)
    with pytest.raises(InvalidSignature):
        letters.verify_pdf(doc["number"], pdf.content + b"\n", bundle["pdf_signature"], platform)
    checked = client.get(f"/api/v1/award-letters/{mine['id']}/verify", headers=world.staff.headers)
    assert checked.json() == {
        "number": doc["number"],
        "key_id": doc["platform_key_id"],
        "letter": True,
        "pdf": True,
    }

    result = client.get(f"/notices/{view['result_notice_id']}")
    assert result.status_code == 200 and "中标结果公告" in result.text
    assert second["name"] in result.text and "放弃中标" in result.text
    my = client.get("/api/v1/my/award-letters", headers=bidder_first.headers).json()
    assert [x["kind"] for x in my] == ["non_award"]

    # --- the contract (第46条, 第57条) ------------------------------------------------------------
    notified = dt.datetime.fromisoformat(view["notified_at"])
    contract = {
        "contract_code": "SGHT-2026-008",
        "name": "苏州市轨道交通8号线车辆段土建施工合同",
        "price": str(winner_price),
        "content": "车辆段土建施工，含场平、基础、主体结构",
        "signed_at": (notified + dt.timedelta(days=5)).isoformat(),
        "limit_time": "540日历天",
        "quality": "合格",
    }
    before = snapshot(db)
    refused(
        client.post(award(sid, "/contract"), json=contract, headers=world.agency.headers),
        422,
        "award.contract.future",
    )
    assert snapshot(db) == before
    clock.advance(dt.timedelta(days=40))
    world.refresh_crl(db)
    before = snapshot(db)
    r = client.post(
        award(sid, "/contract"),
        json=contract | {"price": str(float(winner_price) - 1000)},
        headers=world.agency.headers,
    )
    assert "第五十七条" in refused(r, 422, "award.contract.price_mismatch")["detail"]
    late = contract | {"signed_at": (notified + dt.timedelta(days=35)).isoformat()}
    r = client.post(award(sid, "/contract"), json=late, headers=world.agency.headers)
    assert "第四十六条" in refused(r, 422, "award.contract.late_reason")["detail"]
    r = client.post(
        award(sid, "/contract"),
        json=contract | {"signed_at": (notified - dt.timedelta(hours=1)).isoformat()},
        headers=world.agency.headers,
    )
    refused(r, 422, "award.contract.before_notice")
    assert snapshot(db) == before
    r = client.post(award(sid, "/contract"), json=contract, headers=world.agency.headers)
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["status"] == "contracted" and view["contract"]["late"] is False
    assert view["contract"]["publicity_due"] is None  # 工程建设: no statutory GP deadline
    db.rollback()
    assert award_queries.is_contracted(db, sid)
    page = client.get(f"/notices/{view['contract']['publicity_notice_id']}")
    assert page.status_code == 200 and "合同公示" in page.text and "SGHT-2026-008" in page.text

    # The award notices travel with the others: change feed and Atom feed (once settled).
    clock.advance(dt.timedelta(seconds=11))
    feed = client.get("/api/v1/feed/notices", params={"limit": 100}).json()
    kinds = [n["kind"] for n in feed["items"]]
    assert kinds.count("candidate_publicity") == kinds.count("award_result") == 1
    assert kinds.count("contract_publicity") == 1
    atom = client.get("/feeds/notices.atom").text
    assert "中标结果公告" in atom and "合同公示" in atom

    # The data spec's tables, structured.
    spec = client.get(award(sid, "/data-spec"), headers=world.supervisor.headers).json()
    assert [r["WIN_CANDIDATE_ORDER"] for r in spec["510"]] == [1, 2, 3]
    assert spec["510"][1]["WIN_CANDIDATE_CODE"] == second["credit_code"]
    (pub,) = spec["511"]
    assert pub["FIRST_BIDDER_CODE"] == first["credit_code"] and pub["THIRD_BIDDER_NAME"]
    assert (
        len(pub["PUBLICITY_START_TIME"]) == 14
        and pub["PUBLICITY_END_TIME"] > pub["PUBLICITY_START_TIME"]
    )
    (res,) = spec["513"]
    assert res["WIN_BIDDER_CODE"] == second["credit_code"] and res["BID_AMOUNT"] == second["price"]
    (win,) = spec["9018"]
    assert win["WIN_NOTICE_CODE"] == doc["number"] and win["BID_AMOUNT"] == doc["amount_value"]
    (ctr,) = spec["512"]
    assert ctr["CONTRACT_CODE"] == "SGHT-2026-008" and ctr["CONTRACT_PRICE"] == second["price"]
    (obj,) = spec["9019"]
    assert obj["TYPE"] == "3" and obj["CREATOR_CODE"] == second["credit_code"]
    assert client.get(award(sid, "/data-spec"), headers=bidder_first.headers).status_code == 404

    # Supervisors see the flags: award to the second-ranked, objection answered late.
    rows = client.get("/api/v1/awards", headers=world.supervisor.headers).json()
    (row,) = [x for x in rows if x["section_id"] == sid]
    assert "确定排名第2的候选人为中标人" in row["flags"] and "1条异议逾期答复" in row["flags"]
    assert client.get("/api/v1/awards", headers=bidder_first.headers).status_code == 403

    # Every use case left exactly its audit event (several share a manual-clock instant, so
    # the order among them is not defined: compare as a sorted list).
    actions = sorted(
        e.action for e in db.scalars(select(AuditEvent)) if e.action.startswith("award.")
    )
    assert actions == sorted(
        [
            "award.opened",
            "award.publicity_published",
            "award.objection_raised",
            "award.objection_answered",
            "award.decided",
            "award.notified",
            "award.contract_recorded",
        ]
    )
