"""The evaluation workflow over the real HTTP API, after a real sealed-bid opening: criteria
table, committee (composition rules), sign-in, 回避声明 and 承诺书, leader election, start after
the confirmed opening record, five members scoring per criterion, a majority rejection, a
clarification through the platform, a report refused while scores are missing, the report
computed by the stated rules and signed by every member with his certificate key (one
dissent), the signed report for the award domain, and the PDF."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from sunlit.cli import app as cli_app
from sunlit.evaluation import queries as evaluation_queries
from sunlit.evaluation.models import EvaluationReport, ReportSignature
from sunlit.kernel.audit import AuditEvent
from sunlit.kernel.clock import ManualClock
from tests.evaluation.helpers import (
    answer_invitation,
    api,
    confirm_opening,
    drawn_experts,
    experts,
    opened_section,
    sign,
)
from tests.projects.helpers import World, build_world

PLAN = {
    "criteria": [
        {"key": "T1", "group": "technical", "name": "施工组织设计", "max_points": "30"},
        {"key": "T2", "group": "technical", "name": "项目管理机构", "max_points": "10"},
        {"key": "C1", "group": "commercial", "name": "企业业绩与信誉", "max_points": "10"},
    ],
    "price_points": "50",
    "e1": "1",
    "e2": "0.5",
    "committee_rule": "trimmed_mean",
    "coefficient_name": "下浮系数K",
    "coefficient_kind": "multiplier",
}


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=0)


def _q2(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _events(db: Session) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_committee_scores_report_and_signatures(
    client: Any, db: Session, world: World, clock: ManualClock, tmp_path: Path
) -> None:
    o = opened_section(client, db, world, clock, tmp_path)
    b0, b1, b2 = (p.credit_code for p in o.bidders)
    ex = experts(db, world, 4)
    rep = world.tenderer  # 招标人代表, with a bound certificate

    # The criteria table: the tenderer's agency sets it; the totals must make 100.
    bad = dict(PLAN, price_points="40")
    r = client.put(api(o.sid, "/plan"), json=bad, headers=world.agency.headers)
    assert r.status_code == 422 and r.json()["code"] == "evaluation.plan.total"
    r = client.put(api(o.sid, "/plan"), json=PLAN, headers=o.bidders[0].headers)
    assert r.status_code == 403
    r = client.put(api(o.sid, "/plan"), json=PLAN, headers=world.agency.headers)
    assert r.status_code == 200 and r.json()["defined"], r.text

    # Committee: formed from the expert draw (5+ odd, two thirds drawn).
    def form(reps: list[Any], who: Any = world.staff) -> Any:
        body = {"tenderer_reps": [p.user_id for p in reps]}
        return client.post(api(o.sid), json=body, headers=who.headers)

    r = form([rep])
    assert r.status_code == 409 and r.json()["code"] == "evaluation.committee.no_draw"
    did = drawn_experts(client, db, world, o.sid, ex, confirm=False)
    for e in ex[:3]:
        assert answer_invitation(client, e, True)
    r = form([rep])
    assert r.status_code == 409 and r.json()["code"] == "evaluation.committee.draw_incomplete"
    assert "通知确认中" in r.json()["detail"]
    assert answer_invitation(client, ex[3], True)
    r = form([])
    assert r.status_code == 422 and r.json()["code"] == "evaluation.committee.size"
    r = form([rep], who=world.agency)
    assert r.status_code == 403
    before = _events(db)
    r = form([rep, rep])
    assert r.status_code == 422 and r.json()["code"] == "evaluation.committee.duplicate"
    r = form([world.staff])
    assert r.status_code == 422 and r.json()["code"] == "evaluation.member.not_tenderer"
    assert _events(db) == before  # refusals change nothing
    r = form([rep])
    assert r.status_code == 201, r.text
    # Double-blind until evaluation starts: the tenderer's agency sees no drawn names.
    text = client.get(api(o.sid), headers=world.agency.headers).text
    assert not any(e.person in text for e in ex), text
    view = r.json()
    assert view["status"] == "formed" and len(view["members"]) == 5
    ids = {m["name"]: m["id"] for m in view["members"]}
    members = [*ex, rep]

    # Not ready: nobody signed in, the opening record not confirmed yet.
    r = client.post(api(o.sid, "/start"), headers=world.staff.headers)
    assert r.status_code == 409 and r.json()["code"] == "evaluation.opening_not_confirmed"
    confirm_opening(client, world, o.sid)
    r = client.post(api(o.sid, "/start"), headers=world.staff.headers)
    assert r.status_code == 409 and r.json()["code"] == "evaluation.not_ready"
    assert "未签到" in r.json()["detail"]

    for p in members:
        r = client.post(api(o.sid, "/declare"), json={"commitment": True}, headers=p.headers)
        assert r.status_code == 409 and r.json()["code"] == "evaluation.not_signed_in"
        assert client.post(api(o.sid, "/sign-in"), headers=p.headers).status_code == 200
        r = client.post(api(o.sid, "/declare"), json={}, headers=p.headers)
        assert r.status_code == 422 and r.json()["code"] == "evaluation.declare.commitment"
        r = client.post(api(o.sid, "/declare"), json={"commitment": True}, headers=p.headers)
        assert r.status_code == 200, r.text
    r = client.post(api(o.sid, "/vote"), json={"member_id": ids[rep.person]}, headers=ex[1].headers)
    assert r.status_code == 422 and r.json()["code"] == "evaluation.vote.tenderer_rep"
    leader = ex[0]
    for p in members[:3]:
        r = client.post(
            api(o.sid, "/vote"), json={"member_id": ids[leader.person]}, headers=p.headers
        )
        assert r.status_code == 200, r.text
    assert [m["name"] for m in r.json()["members"] if m["leader"]] == [leader.person]
    r = client.post(api(o.sid, "/start"), headers=ex[1].headers)
    assert r.status_code == 403
    assert client.get(f"/api/v1/expert-draws/{did}/disclosure.json").status_code == 404
    r = client.post(api(o.sid, "/start"), headers=world.staff.headers)
    assert r.status_code == 200 and r.json()["status"] == "started", r.text
    assert {b["credit_code"] for b in r.json()["bids"]} == {b0, b1, b2}
    # Starting disclosed the draw in the same transaction (one audit event, the start's).
    draw = client.get(f"/api/v1/expert-draws/{did}", headers=world.agency.headers).json()
    assert draw["status"] == "disclosed"
    assert client.get(f"/api/v1/expert-draws/{did}/disclosure.json").status_code == 200
    text = client.get(api(o.sid), headers=world.agency.headers).text
    assert all(e.person in text for e in ex)
    r = client.put(api(o.sid, "/plan"), json=PLAN, headers=world.agency.headers)
    assert r.status_code == 409 and r.json()["code"] == "evaluation.plan.frozen"

    # Each member's own sheets. B2 is found non-conforming by three of five (a majority).
    def sheet(p: Any, code: str, **body: Any) -> Any:
        return client.put(api(o.sid, f"/sheets/{code}"), json=body, headers=p.headers)

    r = sheet(ex[0], b0, scores={"T1": "31"})
    assert r.status_code == 422 and r.json()["code"] == "scoring.out_of_range"
    r = sheet(ex[0], b0, scores={"T1": "20.123"})
    assert r.status_code == 422 and r.json()["code"] == "scoring.precision"
    r = sheet(ex[0], b2, scores={"T1": "10", "T2": "5", "C1": "5"}, conforms=False)
    assert r.status_code == 422 and r.json()["code"] == "evaluation.score.reason"
    for i, p in enumerate(members):
        assert sheet(p, b0, scores={"T1": str(20 + i), "T2": "8", "C1": "7"}).status_code == 200
        r = sheet(p, b1, scores={"T1": "25", "T2": "9", "C1": str(8 - i % 2)})
        assert r.status_code == 200, r.text
        reject = i < 3
        r = sheet(
            p,
            b2,
            scores={"T1": "10", "T2": "5", "C1": "5"},
            conforms=not reject,
            reason="投标文件未按招标文件要求提供项目经理证书" if reject else "",
        )
        assert r.status_code == 200, r.text
    mine = client.get(api(o.sid, "/sheets"), headers=ex[1].headers).json()
    assert {b["credit_code"]: b["total"] for b in mine["bids"]}[b0] == "36"  # 21 + 8 + 7
    # Another member's sheets are not visible to bidders or the tenderer.
    assert client.get(api(o.sid, "/sheets"), headers=o.bidders[0].headers).status_code == 404

    # A clarification to B1 through the platform; only B1 sees and answers it.
    r = client.post(
        api(o.sid, "/clarifications"),
        json={"credit_code": b1, "question": "请澄清项目经理的到岗承诺"},
        headers=ex[2].headers,
    )
    assert r.status_code == 201, r.text
    cid = r.json()["clarification_id"]
    r = client.post(
        api(o.sid, f"/clarifications/{cid}/answer"),
        json={"answer": "x"},
        headers=o.bidders[0].headers,
    )
    assert r.status_code == 404
    assert client.get(api(o.sid), headers=o.bidders[0].headers).json()["clarifications"] == []
    r = client.post(
        api(o.sid, f"/clarifications/{cid}/answer"),
        json={"answer": "项目经理全职到岗，附承诺书"},
        headers=o.bidders[1].headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["clarifications"][0]["answer"] == "项目经理全职到岗，附承诺书"
    assert r.json()["members"] == []  # a bidder sees no committee progress

    # Four hand in; the fifth has not: no report, no signature (and no change).
    for p in members[:4]:
        r = client.post(api(o.sid, "/submit"), headers=p.headers)
        assert r.status_code == 200, r.text
    r = sheet(ex[0], b0, scores={"T1": "21", "T2": "8", "C1": "7"})
    assert r.status_code == 409 and r.json()["code"] == "evaluation.submitted"
    before = _events(db)
    r = client.post(api(o.sid, "/report"), headers=leader.headers)
    assert r.status_code == 409 and r.json()["code"] == "evaluation.scores_incomplete"
    assert rep.person in r.json()["detail"]
    r = client.post(
        api(o.sid, "/report/sign"),
        json={"signature": sign(ex[1], "anything"), "dissent": ""},
        headers=ex[1].headers,
    )
    assert r.status_code == 409 and r.json()["code"] == "evaluation.scores_incomplete"
    assert "不能签署评标报告" in r.json()["detail"]
    assert _events(db) == before
    assert db.scalar(select(func.count()).select_from(EvaluationReport)) == 0
    r = client.post(api(o.sid, "/submit"), headers=rep.headers)
    assert r.status_code == 200, r.text

    # The report: only the leader generates it.
    r = client.post(api(o.sid, "/report"), headers=ex[1].headers)
    assert r.status_code == 403
    r = client.post(api(o.sid, "/report"), headers=leader.headers)
    assert r.status_code == 200 and r.json()["status"] == "reporting", r.text
    doc = r.json()["report"]["document"]
    result = doc["result"]

    # Independent check of the stated rules (docs/spec/evaluation-methods.md).
    k = Decimal(o.coefficient)
    p0, p1 = Decimal(o.prices[b0]), Decimal(o.prices[b1])
    bench = _q2((p0 + p1) / 2 * k)  # B2 rejected, 2 valid bids: plain mean
    assert Decimal(result["benchmark"]) == bench

    def price_score(p: Decimal) -> Decimal:
        rate = _q2((p - bench) / bench * 100)
        return _q2(max(Decimal(0), Decimal(50) - abs(rate) * (1 if rate > 0 else Decimal("0.5"))))

    # Technical, trimmed mean of 5: B0 sums 28..32 -> (29+30+31)/3 = 30.00; commercial 7.00.
    # B1: technical 34.00; commercial 8,7,8,7,8 -> (7+8+8)/3 = 7.67.
    expected = {
        b0: Decimal("30.00") + Decimal("7.00") + price_score(p0),
        b1: Decimal("34.00") + Decimal("7.67") + price_score(p1),
    }
    ranking = [(x["bidder_id"], Decimal(x["score"])) for x in result["ranking"]]
    assert ranking == sorted(expected.items(), key=lambda kv: -kv[1])
    assert ranking[0][0] == b1
    assert [x["bidder_id"] for x in result["rejected"]] == [b2]
    assert len(result["rejected"][0]["reasons"]) == 3
    assert doc["candidates"][0]["credit_code"] == b1
    assert doc["clarifications"][0]["answer"] == "项目经理全职到岗，附承诺书"

    # Scores stay inside the committee until signed: the tenderer sees no report yet.
    assert client.get(api(o.sid), headers=world.agency.headers).json()["report"] is None

    # Signing: the ADR 0007 document message over {report digest, member, dissent}.
    def message(p: Any, dissent: str = "") -> str:
        r = client.get(
            api(o.sid, "/report/signing-message"),
            params={"dissent": dissent},
            headers=p.headers,
        )
        assert r.status_code == 200, r.text
        text: str = r.json()["message"]
        assert text.startswith("sunlit-document:v1\nhttp://testserver\n")
        return text

    r = client.post(
        api(o.sid, "/report/sign"),
        json={"signature": sign(ex[1], message(ex[2])), "dissent": ""},
        headers=ex[1].headers,
    )
    assert r.status_code == 422 and r.json()["code"] == "evaluation.bad_signature"
    dissent = "对第一名投标人的技术评分有不同意见：施工组织设计深度不足"
    r = client.post(
        api(o.sid, "/report/sign"),
        json={"signature": sign(ex[3], message(ex[3])), "dissent": dissent},
        headers=ex[3].headers,
    )
    assert r.status_code == 422 and r.json()["code"] == "evaluation.bad_signature"  # not signed
    for p in members:
        d = dissent if p is ex[3] else ""
        r = client.post(
            api(o.sid, "/report/sign"),
            json={"signature": sign(p, message(p, d)), "dissent": d},
            headers=p.headers,
        )
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "signed"
    r = client.post(
        api(o.sid, "/report/sign"),
        json={"signature": sign(ex[0], message(ex[0])), "dissent": ""},
        headers=ex[0].headers,
    )
    assert r.status_code == 409
    db.rollback()
    assert db.scalar(select(func.count()).select_from(ReportSignature)) == 5

    # The tenderer now sees the signed report with the dissent; the award domain's query.
    view = client.get(api(o.sid), headers=world.agency.headers).json()
    sigs = {s["name"]: s for s in view["report"]["signatures"]}
    assert sigs[ex[3].person]["dissent"] == dissent and all(s["signed"] for s in sigs.values())
    signed = evaluation_queries.signed_report(db, o.sid)
    assert signed is not None and signed.report_id == view["report"]["id"]
    assert signed.candidates[0].credit_code == b1
    assert signed.candidates[0].org_id == o.bidders[1].org_id
    assert signed.candidates[0].price == p1 and signed.candidates[0].rank == 1
    assert signed.dissents == (dissent,)
    # Anyone holding the report recomputes it offline; a changed score is caught.
    doc = view["report"]["document"]
    path = tmp_path / "report.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    out = CliRunner().invoke(cli_app, ["evaluation", "verify-report", str(path)])
    assert out.exit_code == 0, out.output
    assert f"sha256:{view['report']['digest']}" in out.output and "重新计算一致" in out.output
    for x in doc["sheets"]:  # (one changed score alone would be trimmed away)
        if x["bidder"] == b1:
            x["scores"]["T1"] = "1"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    out = CliRunner().invoke(cli_app, ["evaluation", "verify-report", str(path)])
    assert out.exit_code == 1 and "不一致" in out.output

    for url in (api(o.sid, "/report.pdf"), f"/evaluation/{o.sid}/report.pdf"):
        pdf = client.get(url, headers=world.agency.headers)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
