"""A small market for tender set-up tests: center staff, a tenderer, an agency, bidders."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sunlit.identity import service as identity_service
from sunlit.identity.devca import DevCA, IssuedCredential
from sunlit.identity.models import TrustedCA, User
from sunlit.kernel import clock as kclock
from sunlit.kernel.authz import Actor, Role
from sunlit.kernel.crypto import get_suite
from sunlit.kernel.crypto.x509 import SubjectInfo
from sunlit.kernel.web import sessions
from sunlit.notices.service import document_message
from tests.identity.helpers import SYSTEM, code, make_org

AUDIENCE = "http://testserver"


@dataclass
class Party:
    name: str
    org_id: str
    user_id: str
    credit_code: str
    roles: tuple[Role, ...]
    person: str
    cred: IssuedCredential | None = None
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def actor(self) -> Actor:
        return Actor(
            user_id=self.user_id,
            org_id=self.org_id,
            roles=frozenset(self.roles),
            name=self.person,
            org_name=self.name,
            auth_method="certificate",
        )


@dataclass
class World:
    ca: DevCA
    staff: Party
    supervisor: Party
    tenderer: Party
    agency: Party
    other_tenderer: Party
    bidders: list[Party] = field(default_factory=list)

    @property
    def everyone(self) -> list[Party]:
        return [
            self.staff,
            self.supervisor,
            self.tenderer,
            self.agency,
            self.other_tenderer,
            *self.bidders,
        ]

    def refresh_crl(self, db: Session) -> None:
        """CRLs last a week; tests that move the clock far publish a fresh one."""
        row = db.scalar(select(TrustedCA))
        assert row is not None
        identity_service.update_crl(db, SYSTEM, row.id, self.ca.crl(kclock.now()).der)


def _party(
    db: Session, ca: DevCA | None, n: int, name: str, roles: list[Role], person: str
) -> Party:
    org = make_org(db, n, name, roles, person=person)
    user = db.scalar(select(User).where(User.organization_id == org.id))
    assert user is not None
    party = Party(name, org.id, user.id, code(n), tuple(roles), person)
    if ca is not None:
        party.cred = ca.issue(SubjectInfo(person, name, code(n)), kclock.now())
        identity_service.bind_certificate_for(
            db, SYSTEM, user.id, party.cred.certificate.to_pem().decode()
        )
    token, _ = sessions.open_session(db, user.id, "certificate", 24 * 365)
    db.commit()
    party.token = token
    return party


def build_world(db: Session, tmp_path: Path, bidders: int = 4) -> World:
    now = kclock.now()
    ca = DevCA.create(tmp_path / "ca", "测试国密CA", "gm", now)
    row = identity_service.add_trusted_ca(
        db, SYSTEM, "测试国密CA", ca.certificate.to_pem().decode()
    )
    identity_service.update_crl(db, SYSTEM, row.id, ca.crl(now).der)
    world = World(
        ca=ca,
        staff=_party(db, None, 101, "苏州市公共资源交易中心", [Role.CENTER_STAFF], "王敏"),
        supervisor=_party(db, None, 102, "苏州市住房和城乡建设局", [Role.SUPERVISOR], "孙红"),
        tenderer=_party(db, ca, 103, "苏州市轨道交通集团有限公司", [Role.TENDERER], "李建国"),
        agency=_party(db, ca, 104, "江苏正信招标代理有限公司", [Role.AGENCY], "陈静"),
        other_tenderer=_party(db, ca, 105, "苏州市吴中区教育局", [Role.TENDERER], "周云"),
    )
    names = ["江苏恒远建设工程有限公司", "苏州金鼎建筑集团有限公司", "中建华东建设有限公司"]
    names += ["江苏润城市政工程有限公司", "昆山宏达路桥工程有限公司", "常熟天成建设有限公司"]
    for i in range(bidders):
        world.bidders.append(_party(db, None, 110 + i, names[i], [Role.BIDDER], f"经办人{i}"))
    return world


def count(db: Session, model: type) -> int:
    db.rollback()  # end any read transaction: see what other sessions committed
    return db.scalar(select(func.count()).select_from(model)) or 0


def deadline(days: int, hour: int = 9, minute: int = 30) -> dt.datetime:
    day = kclock.now().date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute), kclock.CHINA_TZ)


def register_payload(world: World, **tender: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "project": {
            "name": "苏州市轨道交通8号线工程",
            "category": "engineering",
            "region_code": "320500",
            "tenderer_credit_code": world.tenderer.credit_code,
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
    body["tender"].update(tender)
    return body


def section_payload(days: int = 25, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "土建施工第1标段",
        "content": "综合楼及检修库土建",
        "classify_code": "A08",
        "qualification": "建筑工程施工总承包一级及以上",
        "estimated_price": "52000000.00",
        "control_price": "50000000.00",
        "bid_security": "800000.00",
        "duration_days": 540,
        "evaluation_method": "reasonable_low_price",
        "bid_deadline": deadline(days).isoformat(),
        "coefficients": [
            {"name": "下浮系数K", "candidates": ["0.95", "0.96", "0.97", "0.98"]},
            {"name": "下浮率Δ（%）", "candidates": ["3", "4", "5"]},
        ],
    }
    body.update(over)
    return body


def signed_upload(party: Party, tender_code: str, content: bytes, algorithm: str = "sha256") -> str:
    assert party.cred is not None
    digest = (
        hashlib.sha256(content).hexdigest()
        if algorithm == "sha256"
        else get_suite("gm").hash(content).hex()
    )
    message = document_message(AUDIENCE, tender_code, f"{algorithm}:{digest}")
    suite = get_suite(party.cred.private_key.suite_name)
    return base64.b64encode(suite.sign(party.cred.private_key, message)).decode()


def upload(
    client: Any,
    party: Party,
    tender: dict[str, Any],
    content: bytes = b"%PDF-1.7 tender document\n",
    kind: str = "tender_document",
    name: str = "招标文件.pdf",
    signature: str | None = None,
) -> Any:
    sig = signature if signature is not None else signed_upload(party, tender["code"], content)
    return client.post(
        f"/api/v1/tender-projects/{tender['id']}/documents",
        headers=party.headers,
        files={"file": (name, content, "application/pdf")},
        data={"signature": sig, "kind": kind},
    )


def accepted_tender(
    client: Any, world: World, *, sections: int = 1, days: int = 25, **tender: Any
) -> dict[str, Any]:
    """A tender project registered by the agency, with a signed document, accepted."""
    r = client.post(
        "/api/v1/tender-projects",
        json=register_payload(world, **tender),
        headers=world.agency.headers,
    )
    assert r.status_code == 201, r.text
    t = r.json()
    for i in range(sections):
        payload = section_payload(days, name=f"土建施工第{i + 1}标段")
        if t["method"] != "open" or t["category"] != "engineering":
            payload.update(tender.get("_section", {}))
        r = client.post(
            f"/api/v1/tender-projects/{t['id']}/sections",
            json=payload,
            headers=world.agency.headers,
        )
        assert r.status_code == 201, r.text
    r = upload(client, world.agency, t)
    assert r.status_code == 201, r.text
    r = client.post(f"/api/v1/tender-projects/{t['id']}/submit", headers=world.agency.headers)
    assert r.status_code == 200, r.text
    r = client.post(
        f"/api/v1/tender-projects/{t['id']}/accept", json={}, headers=world.staff.headers
    )
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def publish(client: Any, world: World, tender: dict[str, Any], **notice: Any) -> dict[str, Any]:
    body = {"content": "招标公告正文……"}
    body.update(notice)
    r = client.post(
        f"/api/v1/tender-projects/{tender['id']}/notices", json=body, headers=world.agency.headers
    )
    assert r.status_code == 201, r.text
    r = client.post(f"/api/v1/notices/{r.json()['id']}/publish", headers=world.agency.headers)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def service_tender(
    db: Session,
    world: World,
    blobs: Any,
    *,
    days: int = 25,
    name: str = "苏州市轨道交通8号线车辆段土建施工",
    accept: bool = True,
    **tender: Any,
) -> Any:
    """The same set-up as :func:`accepted_tender`, through the services (fast, no HTTP)."""
    import io

    from sunlit.notices import service as notice_service
    from sunlit.projects import service as project_service
    from sunlit.projects.schemas import RegisterTenderIn, SectionIn

    body = register_payload(world, name=name, **tender)
    t = project_service.register_tender(db, world.agency.actor, RegisterTenderIn(**body))
    section = section_payload(days)
    if t.method != "open" or t.category != "engineering":
        section.update(tender.get("_section", {}))
    project_service.add_section(db, world.agency.actor, t.id, SectionIn(**section))
    content = f"%PDF-1.7 {name}\n".encode()
    notice_service.upload_document(
        db,
        world.agency.actor,
        blobs,
        t.id,
        "tender_document",
        notice_service.Upload("招标文件.pdf", "application/pdf", io.BytesIO(content)),
        signed_upload(world.agency, t.code, content),
        "sha256",
        AUDIENCE,
    )
    if accept:
        project_service.submit(db, world.agency.actor, t.id)
        project_service.accept(db, world.staff.actor, t.id)
    return t
