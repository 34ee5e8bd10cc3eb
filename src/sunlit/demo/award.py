"""``sunlit demo tender --through award``: after the confirmed opening record, the expert draw
(ADR 0013), the committee formed from it, scoring, the signed evaluation report (ADR 0014),
the award opened from the report, candidate publicity, the decision, the signed award letter
verified with the platform key, and the contract (ADR 0015, 0018) - all over the real API.

The steps are separate functions so a caller can stop part-way (the demo data leaves one
section in evaluation and one contracted).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from sunlit.award import letters
from sunlit.demo.tender import SYSTEM, Market, Party, Say, _check, _quiet, make_party
from sunlit.draws import CenterSecret, verify_record
from sunlit.experts import service as experts_service
from sunlit.experts.catalog import id_check_char
from sunlit.experts.schemas import ExpertIn
from sunlit.kernel import clock as kclock
from sunlit.kernel.authz import Role
from sunlit.kernel.crypto import get_suite, load_public_key_any

EXPERTS = [
    ("张志远", "苏州大学土木工程学院"),
    ("刘慧敏", "苏州市建筑设计研究院有限责任公司"),
    ("徐建华", "江苏华正工程咨询有限公司"),
    ("何文涛", "南京工业大学"),
    ("林少峰", "苏州科技大学"),
]
VENUE = "苏州市公共资源交易中心第一评标室"


@dataclass
class Panel:
    """The drawn experts of a section (in the order they were registered) and the draw."""

    experts: list[Party]
    draw_id: str
    record_verified: bool


def _ev(sid: str, tail: str = "") -> str:
    return f"/api/v1/sections/{sid}/evaluation{tail}"


def _award(sid: str, tail: str = "") -> str:
    return f"/api/v1/sections/{sid}/award{tail}"


def expert_parties(db: Session, market: Market, base: int = 800) -> list[Party]:
    """Five experts with certificates, entered in the expert pool linked to their accounts."""
    out = []
    for i, (name, employer) in enumerate(EXPERTS):
        p = make_party(db, market.ca, base + i, employer, [Role.EXPERT], name)
        first17 = f"320502{1968 + i * 3}0{i + 1}1{i}{i:03d}"
        experts_service.register_expert(
            db,
            SYSTEM,
            ExpertIn(
                name=name,
                id_number=first17 + id_check_char(first17),
                mobile=f"1391200{i:04d}",
                employer_name=employer,
                employer_credit_code=p.credit_code,
                title="高级工程师",
                region_code="320500",
                main_specialty="A010133",
                other_specialties=[],
                user_id=p.user_id,
            ),
        )
        out.append(p)
    db.commit()
    return out


def draw_experts(
    client: Any,
    market: Market,
    sid: str,
    experts: list[Party],
    say: Say = _quiet,
    *,
    strata: list[dict[str, Any]] | None = None,
    starts: dt.datetime | None = None,
) -> Panel:
    """The center draws the committee's experts from the pool (double-blind, committed value
    + supervisor's value); whoever of ``experts`` is invited confirms on his own invitation;
    the public draw record is verified."""
    staff = market.staff.headers
    if starts is None:
        today = kclock.now().date()
        starts = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(9), kclock.CHINA_TZ)
    strata = strata or [{"specialty": "A0101", "count": len(experts), "alternates": 0}]
    center = CenterSecret.new(market.suite, committed_at=kclock.now())
    draw = _check(
        client.post(
            f"/api/v1/sections/{sid}/expert-draws",
            json={
                "evaluation_starts_at": starts.isoformat(),
                "evaluation_ends_at": (starts + dt.timedelta(hours=8)).isoformat(),
                "venue": VENUE,
                "strata": strata,
                "regions": [],
                "region_reason": "",
                "cooldown_days": 0,
                "response_minutes": 30,
                "suite": market.suite,
                "commitment": center.commitment.hex(),
            },
            headers=staff,
        ),
        201,
        "申请专家抽取",
    )
    did = draw["id"]
    _check(client.post(f"/api/v1/expert-draws/{did}/fix", headers=staff), 200, "固定候选名单")
    _check(
        client.post(
            f"/api/v1/expert-draws/{did}/supervisor-value",
            json={"value": kclock.now().strftime("%Y%m%d")},
            headers=market.supervisor.headers,
        ),
        200,
        "监督人录入随机数",
    )
    _check(
        client.post(
            f"/api/v1/expert-draws/{did}/draw",
            json={"center_value": center.value.hex(), "center_salt": center.salt.hex()},
            headers=staff,
        ),
        200,
        "抽取专家",
    )
    record = _check(client.get(f"/api/v1/expert-draws/{did}/record.json"), 200, "抽取记录")
    ok = bool(verify_record(json.dumps(record)).ok)
    say(f"专家抽取完成，抽取记录验证{'通过' if ok else '失败'}")
    accepted = []
    for p in experts:
        mine = _check(
            client.get("/api/v1/experts/me/invitations", headers=p.headers), 200, "抽取通知"
        )
        for inv in mine:
            if inv["can_answer"]:
                _check(
                    client.post(
                        f"/api/v1/experts/me/invitations/{inv['id']}/answer",
                        json={"accept": True, "reason": ""},
                        headers=p.headers,
                    ),
                    200,
                    f"专家确认参加（{p.person}）",
                )
                accepted.append(p)
    say(f"{len(accepted)} 位专家已确认参加评标")
    return Panel(accepted, did, ok)


def start_evaluation(client: Any, market: Market, sid: str, panel: Panel, say: Say = _quiet) -> str:
    """Committee from the draw, sign-in, declarations, the first expert elected leader, the
    start (names disclosed). Returns the leader's member id."""
    members = _check(
        client.post(_ev(sid), json={}, headers=market.staff.headers), 201, "组建评标委员会"
    )["members"]
    leader = next(m["id"] for m in members if m["name"] == panel.experts[0].person)
    for p in panel.experts:
        _check(client.post(_ev(sid, "/sign-in"), headers=p.headers), 200, f"签到（{p.person}）")
        _check(
            client.post(_ev(sid, "/declare"), json={"commitment": True}, headers=p.headers),
            200,
            f"回避声明与承诺（{p.person}）",
        )
        r = client.post(_ev(sid, "/vote"), json={"member_id": leader}, headers=p.headers)
        if r.status_code not in (200, 409):  # 409: the leader is already elected
            _check(r, 200, f"推选组长（{p.person}）")
    _check(client.post(_ev(sid, "/start"), headers=market.staff.headers), 200, "开始评标")
    say(f"评标委员会 {len(members)} 人组建，组长 {panel.experts[0].person}，评标开始")
    return str(leader)


def score(client: Any, market: Market, sid: str, experts: list[Party], say: Say = _quiet) -> None:
    """Each of ``experts`` reviews every bid (the method's default sheet) and hands in."""
    for p in experts:
        for b in market.bidders:
            _check(
                client.put(_ev(sid, f"/sheets/{b.credit_code}"), json={}, headers=p.headers),
                200,
                f"评审（{p.person} · {b.name}）",
            )
        _check(client.post(_ev(sid, "/submit"), headers=p.headers), 200, f"提交评分（{p.person}）")
    say(f"{len(experts)} 位专家已提交评分")


def sign_report(client: Any, sid: str, panel: Panel, say: Say = _quiet) -> dict[str, Any]:
    """The leader generates the report; every member signs the exact message with his key."""
    _check(client.post(_ev(sid, "/report"), headers=panel.experts[0].headers), 200, "生成评标报告")
    body: dict[str, Any] = {}
    for p in panel.experts:
        msg = _check(
            client.get(_ev(sid, "/report/signing-message"), headers=p.headers), 200, "待签报文"
        )["message"]
        assert p.cred is not None
        key = p.cred.private_key
        signature = base64.b64encode(get_suite(key.suite_name).sign(key, msg.encode())).decode()
        body = _check(
            client.post(_ev(sid, "/report/sign"), json={"signature": signature}, headers=p.headers),
            200,
            f"签署评标报告（{p.person}）",
        )
    report: dict[str, Any] = body["report"]
    say(f"评标报告已由 {len(panel.experts)} 位专家签署，摘要 {report['digest'][:16]}…")
    return report


def open_award(client: Any, market: Market, sid: str, say: Say = _quiet) -> dict[str, Any]:
    """The award opened from the signed report, candidate publicity for 3 days."""
    agency = market.agency.headers
    view: dict[str, Any] = _check(
        client.post(_award(sid, "/open"), headers=agency), 201, "进入定标"
    )
    _check(
        client.post(_award(sid, "/publicity"), json={"days": 3}, headers=agency),
        200,
        "发布中标候选人公示",
    )
    say("中标候选人公示：" + "，".join(f"{c['rank']} {c['name']}" for c in view["candidates"]))
    return view


def decide(client: Any, market: Market, sid: str, say: Say = _quiet) -> dict[str, Any]:
    """After the publicity: the first candidate is awarded, the letters go out; the winner's
    letter is fetched and verified with the platform's public key."""
    agency = market.agency.headers
    first = _check(client.get(_award(sid), headers=agency), 200, "定标情况")["candidates"][0]
    _check(
        client.post(_award(sid, "/decision"), json={"winner_id": first["id"]}, headers=agency),
        200,
        "确定中标人",
    )
    notified = _check(
        client.post(
            _award(sid, "/notify"),
            json={"project_lead": "张建军", "project_lead_certificate": "苏132060800001"},
            headers=agency,
        ),
        200,
        "发出中标通知书",
    )
    winner = next(b for b in market.bidders if b.credit_code == first["credit_code"])
    mine = _check(client.get(_award(sid), headers=winner.headers), 200, "定标情况")
    (letter,) = mine["letters"]
    bundle = _check(
        client.get(f"/api/v1/award-letters/{letter['id']}", headers=winner.headers),
        200,
        "中标通知书",
    )
    key = load_public_key_any(client.get("/api/v1/transparency/key.pem").content)
    try:
        letters.verify_letter(bundle["letter"], bundle["signature"], key)
        letter_ok = True
    except Exception:
        letter_ok = False
    number = bundle["letter"]["number"]
    say(f"中标通知书 {number} 已发出（平台签名验证{'通过' if letter_ok else '失败'}）")
    return {
        "winner": first["name"],
        "amount": first["price"],
        "amount_words": first.get("amount_words"),
        "award_letter": {"number": number, "signature_verified": letter_ok},
        "notified_at": notified["notified_at"],
        "status": "notified",
    }


def sign_contract(
    client: Any, market: Market, sid: str, decided: dict[str, Any], say: Say = _quiet
) -> str:
    """The contract (signed the day after the letters), registered and published."""
    signed_at = dt.datetime.fromisoformat(decided["notified_at"]) + dt.timedelta(days=1)
    r = _check(
        client.post(
            _award(sid, "/contract"),
            json={
                "contract_code": "SGHT-2026-018",
                "name": "施工合同",
                "price": decided["amount"],
                "content": "按招标文件及中标人投标文件约定的范围施工",
                "signed_at": signed_at.isoformat(),
            },
            headers=market.agency.headers,
        ),
        200,
        "登记合同",
    )
    say(f"合同已登记并公示，状态 {r['status']}")
    return str(r["status"])


def through_award(
    client: Any,
    db: Session,
    market: Market,
    sid: str,
    clock: kclock.ManualClock,
    say: Say = _quiet,
) -> dict[str, Any]:
    """Expert draw → evaluation → signed report → award → contract; the summary's part."""
    experts = expert_parties(db, market)
    panel = draw_experts(client, market, sid, experts, say)
    start_evaluation(client, market, sid, panel, say)
    score(client, market, sid, panel.experts, say)
    report = sign_report(client, sid, panel, say)
    ranking = [
        {"rank": r["rank"], "name": r["name"], "price": r["price"]}
        for r in report["document"]["result"]["ranking"]
    ]
    open_award(client, market, sid, say)
    clock.advance(dt.timedelta(days=3, hours=1))
    market.refresh_crl(db)
    awarded = decide(client, market, sid, say)
    clock.advance(dt.timedelta(days=2))
    awarded["status"] = sign_contract(client, market, sid, awarded, say)
    return {
        "expert_draw": {"id": panel.draw_id, "record_verified": panel.record_verified},
        "ranking": ranking,
        "report_digest": report["digest"],
        "award": awarded,
    }
