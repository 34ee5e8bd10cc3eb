"""``sunlit demo tender``: one section from notice to signed opening record, over the real API.

A fresh temporary SQLite database; parties with the identity service and a development CA;
opening keys generated "on the holders' machines"; each bidder seals with
:func:`sunlit.bidding.sealed.seal_bid` and uploads through the HTTP API; a manual clock passes
the deadline; the opening runs (start, the two collective decryptions, the supervisor's value,
the center's reveal, the draw, the signed record, the tenderer's confirmation).

The helpers (:func:`build_market`, :func:`prepare_section`, :func:`run_opening`) are also
used by the tests (browser opening hall).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.bidding import sealed
from sunlit.bidding.machine import collect_machine_fingerprint
from sunlit.bidding.opening_keys import generate_opening_key, generate_passphrase
from sunlit.bidding.receipts import load_receipt, verify_receipt
from sunlit.demo import api_client
from sunlit.draws import CenterSecret, verify_record
from sunlit.identity import service as identity_service
from sunlit.identity.devca import DevCA, IssuedCredential
from sunlit.identity.models import TrustedCA, User
from sunlit.identity.schemas import OrganizationIn, UserIn
from sunlit.kernel import clock as kclock
from sunlit.kernel.authz import Role, system_actor
from sunlit.kernel.codes import make_credit_code
from sunlit.kernel.crypto import get_suite, load_private_key_any
from sunlit.kernel.crypto.x509 import SubjectInfo
from sunlit.kernel.web import sessions
from sunlit.notices.service import document_message
from sunlit.opening.record import verify_record_signature

SYSTEM = system_actor("demo-tender")
SUITES = ("gm", "intl")
# A Monday morning: the section's deadline is 25 days later at 09:30.
START = dt.datetime(2026, 11, 23, 9, 30, tzinfo=kclock.CHINA_TZ)
Say = Callable[[str], None]


class DemoFailed(RuntimeError):
    """A step of the demo was refused by the platform."""


def _check(r: Any, status: int, what: str) -> Any:
    if r.status_code != status:
        raise DemoFailed(f"{what}: HTTP {r.status_code} {r.text}")
    return r.json() if r.content and "json" in r.headers.get("content-type", "") else None


def _quiet(_: str) -> None:
    pass


@dataclass
class Party:
    name: str
    org_id: str
    user_id: str
    credit_code: str
    person: str
    cred: IssuedCredential | None = None
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Market:
    ca: DevCA
    suite: str
    staff: Party
    supervisor: Party
    tenderer: Party
    agency: Party
    bidders: list[Party] = field(default_factory=list)

    def refresh_crl(self, db: Session) -> None:
        """CRLs last a week: publish a fresh one after moving the clock."""
        row = db.scalar(select(TrustedCA))
        assert row is not None
        identity_service.update_crl(db, SYSTEM, row.id, self.ca.crl(kclock.now()).der)
        db.commit()


def credit_code(n: int) -> str:
    return make_credit_code("9", "1", "320500", f"{n:08d}")


def make_party(
    db: Session, ca: DevCA | None, n: int, name: str, roles: list[Role], person: str
) -> Party:
    """An organization with one user (and a certificate from ``ca``), and an API session."""
    org = identity_service.register_organization(
        db,
        SYSTEM,
        OrganizationIn(
            name=name,
            credit_code=credit_code(n),
            roles=roles,
            admin=UserIn(name=person, roles=roles),
        ),
    )
    user = db.scalar(select(User).where(User.organization_id == org.id))
    assert user is not None
    party = Party(name, org.id, user.id, credit_code(n), person)
    if ca is not None:
        party.cred = ca.issue(SubjectInfo(person, name, credit_code(n)), kclock.now())
        identity_service.bind_certificate_for(
            db, SYSTEM, user.id, party.cred.certificate.to_pem().decode()
        )
    token, _ = sessions.open_session(db, user.id, "certificate", 24 * 365)
    db.commit()
    party.token = token
    return party


BIDDER_NAMES = [
    "江苏恒远建设工程有限公司",
    "苏州金鼎建筑集团有限公司",
    "中建华东建设有限公司",
    "江苏润城市政工程有限公司",
    "昆山宏达路桥工程有限公司",
    "常熟天成建设有限公司",
]


def build_market(db: Session, folder: Path, suite: str, bidders: int) -> Market:
    now = kclock.now()
    ca_name = "演示国密CA" if suite == "gm" else "演示CA"
    ca = DevCA.create(folder / "ca", ca_name, suite, now)
    row = identity_service.add_trusted_ca(db, SYSTEM, ca_name, ca.certificate.to_pem().decode())
    identity_service.update_crl(db, SYSTEM, row.id, ca.crl(now).der)
    market = Market(
        ca=ca,
        suite=suite,
        staff=make_party(db, None, 101, "苏州市公共资源交易中心", [Role.CENTER_STAFF], "王敏"),
        supervisor=make_party(db, None, 102, "苏州市住房和城乡建设局", [Role.SUPERVISOR], "孙红"),
        tenderer=make_party(db, ca, 103, "苏州市轨道交通集团有限公司", [Role.TENDERER], "李建国"),
        agency=make_party(db, ca, 104, "江苏正信招标代理有限公司", [Role.AGENCY], "陈静"),
    )
    for i in range(bidders):
        name = BIDDER_NAMES[i] if i < len(BIDDER_NAMES) else f"演示投标建设有限公司{i:02d}"
        market.bidders.append(make_party(db, ca, 500 + i, name, [Role.BIDDER], f"经办人{i}"))
    return market


def _tender_payload(market: Market, days: int) -> tuple[dict[str, Any], dict[str, Any]]:
    day = kclock.now().date() + dt.timedelta(days=days)
    deadline = dt.datetime.combine(day, dt.time(9, 30), kclock.CHINA_TZ)
    tender = {
        "project": {
            "name": "苏州市轨道交通8号线工程",
            "category": "engineering",
            "region_code": "320500",
            "tenderer_credit_code": market.tenderer.credit_code,
            "invest_project_code": "2026-320500-48-01-000123",
            "legal_person": "苏州市轨道交通集团有限公司",
            "fund_source": "财政资金 40%，自筹 60%",
        },
        "tender": {
            "name": "苏州市轨道交通8号线车辆段土建施工",
            "method": "open",
            "must_tender": True,
            "project_type": "A11",
            "content": "车辆段土建施工，含综合楼、检修库",
            "entrustment": {"contract_no": "ZX-2026-118", "scope": "招标全过程代理"},
        },
    }
    section = {
        "name": "土建施工第1标段",
        "content": "综合楼及检修库土建",
        "classify_code": "A08",
        "qualification": "建筑工程施工总承包一级及以上",
        "estimated_price": "52000000.00",
        "control_price": "50000000.00",
        "bid_security": "800000.00",
        "duration_days": 540,
        "evaluation_method": "reasonable_low_price",
        "bid_deadline": deadline.isoformat(),
        "coefficients": [
            {"name": "下浮系数K", "candidates": ["0.95", "0.96", "0.97", "0.98"]},
            {"name": "下浮率Δ（%）", "candidates": ["3", "4", "5"]},
        ],
    }
    return tender, section


def accepted_tender(client: Any, market: Market, audience: str, days: int = 25) -> dict[str, Any]:
    """Registered by the agency with one section and a signed tender document, accepted."""
    payload, section = _tender_payload(market, days)
    agency = market.agency
    t = _check(
        client.post("/api/v1/tender-projects", json=payload, headers=agency.headers),
        201,
        "登记招标项目",
    )
    _check(
        client.post(
            f"/api/v1/tender-projects/{t['id']}/sections", json=section, headers=agency.headers
        ),
        201,
        "添加标段",
    )
    content = f"%PDF-1.7 {t['name']} 招标文件\n".encode()
    digest = hashlib.sha256(content).hexdigest()
    assert agency.cred is not None
    key = agency.cred.private_key
    message = document_message(audience, t["code"], f"sha256:{digest}")
    signature = base64.b64encode(get_suite(key.suite_name).sign(key, message)).decode()
    _check(
        client.post(
            f"/api/v1/tender-projects/{t['id']}/documents",
            headers=agency.headers,
            files={"file": ("招标文件.pdf", content, "application/pdf")},
            data={"signature": signature, "kind": "tender_document"},
        ),
        201,
        "上传招标文件",
    )
    _check(
        client.post(f"/api/v1/tender-projects/{t['id']}/submit", headers=agency.headers),
        200,
        "提交招标项目",
    )
    out: dict[str, Any] = _check(
        client.post(
            f"/api/v1/tender-projects/{t['id']}/accept", json={}, headers=market.staff.headers
        ),
        200,
        "受理招标项目",
    )
    return out


def publish(client: Any, market: Market, tender: dict[str, Any]) -> None:
    headers = market.agency.headers
    notice = _check(
        client.post(
            f"/api/v1/tender-projects/{tender['id']}/notices",
            json={"content": "招标公告正文……"},
            headers=headers,
        ),
        201,
        "起草招标公告",
    )
    _check(client.post(f"/api/v1/notices/{notice['id']}/publish", headers=headers), 200, "发布公告")


def seal(
    party: Party, keys: sealed.SectionKeys, price: str, folder: Path, faulty: bool = False
) -> bytes:
    """What the bidder's tool does: a folder of files and a summary, sealed to the section.

    ``faulty``: a broken tool wraps a wrong summary key to the tenderer, so the collective
    decryption of this bid fails and only the bidder's own key opens it (the remedy)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "商务标.pdf").write_bytes(f"%PDF {party.name} {price}".encode() * 50)
    (folder / "技术标.pdf").write_bytes(f"%PDF 施工组织设计 {party.name}".encode() * 80)
    assert party.cred is not None
    out = io.BytesIO()
    summary = sealed.BidSummary(price=price, duration_days=540, quality="合格")
    if not faulty:
        sealed.seal_bid(folder, summary, keys, party.cred.private_key, party.cred.certificate, out)
        return out.getvalue()
    suite = get_suite(keys.suite)

    def wrap(pub: Any, key: bytes, info: bytes) -> bytes:
        if b"wrap/summary/tenderer" in info:
            return suite.wrap(pub, secrets.token_bytes(len(key)), info)
        return suite.wrap(pub, key, info)

    sealed._seal(
        folder,
        summary,
        keys,
        party.cred.private_key,
        party.cred.certificate,
        out,
        None,
        fingerprint=collect_machine_fingerprint(),
        created_at=dt.datetime.now(dt.UTC),
        rng=secrets.token_bytes,
        wrap=wrap,
        sign=None,
    )
    return out.getvalue()


def price_of(i: int) -> str:
    return f"{48_000_000 - i * 12_345}.{(i * 37 + 5) % 100:02d}"


@dataclass
class Prepared:
    sid: str
    code: str
    deadline: dt.datetime
    passes: dict[str, str]
    prices: dict[str, str]
    center: CenterSecret
    receipts: list[tuple[Party, str]]


def prepare_section(
    client: Any,
    db: Session,
    market: Market,
    clock: kclock.ManualClock,
    folder: Path,
    audience: str,
    say: Say = _quiet,
    faulty: frozenset[int] = frozenset(),
) -> Prepared:
    """Notice, opening keys, draw commitment, sealed bids; the clock just past the deadline.
    ``faulty``: indexes of bidders whose (broken) tool seals a bid that needs the remedy."""
    say("登记招标项目并受理")
    tender = accepted_tender(client, market, audience)
    section = tender["sections"][0]
    sid, code = section["id"], section["code"]
    passes = {"tenderer": generate_passphrase(), "center": generate_passphrase()}
    for role, party in (("tenderer", market.agency), ("center", market.staff)):
        key = generate_opening_key(code, role, market.suite, passes[role])  # type: ignore[arg-type]
        _check(
            client.post(
                f"/api/v1/sections/{sid}/opening-keys",
                json={
                    "role": role,
                    "public_key": key.public_pem.decode(),
                    "encrypted_private_key": key.encrypted_private_pem.decode(),
                },
                headers=party.headers,
            ),
            201,
            f"登记开标公钥（{role}）",
        )
    say(f"开标公钥已登记（{market.suite}），发布招标公告")
    publish(client, market, tender)
    center = CenterSecret.new(market.suite, committed_at=clock.now())
    _check(
        client.post(
            f"/api/v1/sections/{sid}/draw-commitment",
            json={"commitment": center.commitment.hex()},
            headers=market.staff.headers,
        ),
        201,
        "提交抽取承诺",
    )
    keys = sealed.SectionKeys.from_json(
        client.get(f"/api/v1/sections/{sid}/section-keys.json").content
    )
    prices: dict[str, str] = {}
    receipts: list[tuple[Party, str]] = []
    for i, party in enumerate(market.bidders):
        price = price_of(i)
        data = seal(party, keys, price, folder / f"bid{i}", faulty=i in faulty)
        (folder / f"bid{i}.sealed").write_bytes(data)
        body = _check(
            client.put(f"/api/v1/sections/{sid}/bid", content=data, headers=party.headers),
            201,
            f"上传投标文件（{party.name}）",
        )
        prices[party.credit_code] = price
        receipts.append((party, body["bid"]["id"]))
        say(f"投标人 {party.name} 已加密上传，报价 {price}")
    deadline = dt.datetime.fromisoformat(section["bid_deadline"])
    clock.set(deadline + dt.timedelta(minutes=1))
    market.refresh_crl(db)
    say(f"时钟已越过投标截止时间 {deadline.isoformat()}")
    return Prepared(sid, code, deadline, passes, prices, center, receipts)


def run_opening(
    client: Any,
    market: Market,
    prep: Prepared,
    clock: kclock.ManualClock,
    platform_key_pem: bytes,
    say: Say = _quiet,
) -> dict[str, Any]:
    """Start, decrypt twice, supervisor's value, draw, record, confirm; return the summary."""
    sid, staff = prep.sid, market.staff
    platform_pub = load_private_key_any(platform_key_pem).public_key()
    verified = 0
    for party, bid_id in prep.receipts:
        r = client.get(f"/api/v1/bids/{bid_id}/receipt", headers=party.headers)
        if r.status_code == 200:
            verify_receipt(load_receipt(r.content), platform_pub)
            verified += 1
    say(f"投标回执验证通过 {verified} 份")
    started = _check(
        client.post(f"/api/v1/sections/{sid}/opening/start", headers=staff.headers),
        200,
        "开始开标",
    )
    say(f"开始开标，有效投标文件 {started['bid_count']} 份")
    for role, party in (("tenderer", market.agency), ("center", staff)):
        view = _check(
            client.post(
                f"/api/v1/sections/{sid}/opening/decrypt",
                json={"role": role, "passphrase": prep.passes[role]},
                headers=party.headers,
            ),
            200,
            f"解密（{role}）",
        )
        say(f"{'招标人' if role == 'tenderer' else '交易中心'}解密完成")
    announced = {b["credit_code"]: b["price"] for b in view["bids"]}
    say("唱标：" + "，".join(f"{b['bidder_name']} {b['price']}" for b in view["bids"]))
    _check(
        client.post(
            f"/api/v1/sections/{sid}/opening/supervisor-value",
            json={"value": clock.now().strftime("%Y%m%d")},
            headers=market.supervisor.headers,
        ),
        200,
        "录入监督随机数",
    )
    clock.advance(dt.timedelta(seconds=5))
    draw: dict[str, Any] = _check(
        client.post(
            f"/api/v1/sections/{sid}/opening/draw",
            json={"center_value": prep.center.value.hex(), "center_salt": prep.center.salt.hex()},
            headers=staff.headers,
        ),
        200,
        "系数抽取",
    )
    draw_ok = bool(verify_record(draw).ok)
    say(
        "系数抽取："
        + "，".join(f"{o['name']} = {o['value']}" for o in draw.get("outputs") or [])
        + f"（验证{'通过' if draw_ok else '失败'}）"
    )
    for party in market.bidders:
        _check(
            client.post(f"/api/v1/sections/{sid}/opening/confirm-results", headers=party.headers),
            200,
            f"投标人确认唱标结果（{party.name}）",
        )
    say(f"投标人确认唱标结果无误 {len(market.bidders)} 家")
    view = _check(
        client.post(f"/api/v1/sections/{sid}/opening/record", headers=staff.headers),
        200,
        "生成开标记录",
    )
    try:
        verify_record_signature(
            view["record"], base64.b64decode(view["record_signature"]), platform_pub
        )
        signature_ok = True
    except Exception:
        signature_ok = False
    closed = _check(
        client.post(f"/api/v1/sections/{sid}/opening/confirm", headers=market.tenderer.headers),
        200,
        "确认开标记录",
    )
    say(f"开标记录已签名（验证{'通过' if signature_ok else '失败'}），招标人已确认")
    return {
        "section_code": prep.code,
        "suite": market.suite,
        "bids": started["bid_count"],
        "sealed_prices": {p.name: prep.prices[p.credit_code] for p in market.bidders},
        "announced_prices": {
            p.name: None if announced.get(p.credit_code) is None else str(announced[p.credit_code])
            for p in market.bidders
        },
        "prices_match": all(
            announced.get(code) is not None and Decimal(announced[code]) == Decimal(price)
            for code, price in prep.prices.items()
        ),
        "draw": draw,
        "draw_verified": draw_ok,
        "receipts_verified": verified,
        "record_signature_verified": signature_ok,
        "status": closed["status"],
    }


THROUGH = ("opening", "award")


def run(bidders: int, suite: str, say: Say = _quiet, through: str = "opening") -> dict[str, Any]:
    """The whole demo on a fresh temporary SQLite database; return the JSON summary."""
    from sunlit.app import create_app
    from sunlit.kernel.db import Database
    from sunlit.migrate import upgrade
    from sunlit.settings import Settings

    if suite not in SUITES:
        raise DemoFailed(f"unknown suite {suite!r}")
    if bidders < 1:
        raise DemoFailed("at least one bidder")
    if through not in THROUGH:
        raise DemoFailed(f"unknown stage {through!r}")
    manual = kclock.ManualClock(START)
    previous = kclock.set_clock(manual)
    try:
        with tempfile.TemporaryDirectory(prefix="sunlit-demo-tender-") as tmp:
            root = Path(tmp)
            database = Database(f"sqlite:///{root / 'sunlit.db'}")
            say("迁移临时数据库")
            upgrade(database)
            audience = "http://testserver"
            settings = Settings(
                data_dir=root / "var",
                database_url=database.url,
                secret_key=secrets.token_urlsafe(32),
                base_url=audience,
            )
            try:
                app = create_app(settings, database)
                with (
                    api_client(app, audience) as client,
                    database.session_scope() as db,
                ):
                    say(f"建立交易主体与演示 CA（{suite}），{bidders} 家投标人")
                    market = build_market(db, root / "parties", suite, bidders)
                    prep = prepare_section(client, db, market, manual, root / "bids", audience, say)
                    pem = (settings.data_dir / "keys" / "platform.key.pem").read_bytes()
                    summary = run_opening(client, market, prep, manual, pem, say)
                    if through == "award":
                        from sunlit.demo.award import through_award

                        summary.update(through_award(client, db, market, prep.sid, manual, say))
                    return summary
            finally:
                database.dispose()
    finally:
        kclock.set_clock(previous)
