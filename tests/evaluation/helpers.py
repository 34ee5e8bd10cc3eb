"""A section whose opening record is confirmed (real HTTP API, real sealed bids), experts
with bound certificates, and signing with their keys."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from sunlit.bidding import sealed
from sunlit.bidding.opening_keys import generate_opening_key, generate_passphrase
from sunlit.draws import CenterSecret
from sunlit.kernel.authz import Role
from sunlit.kernel.clock import ManualClock
from sunlit.kernel.crypto import get_suite
from tests.opening.test_end_to_end import _seal
from tests.projects.helpers import (
    Party,
    World,
    _party,
    publish,
    register_payload,
    section_payload,
    upload,
)


@dataclass
class Opened:
    sid: str
    code: str
    bidders: list[Party]
    prices: dict[str, str]
    coefficient: str  # the drawn 下浮系数K
    tender_id: str


def _tender(client: Any, world: World, method: str) -> dict[str, Any]:
    """A tender project with one section evaluated by ``method``, accepted by the center."""
    r = client.post(
        "/api/v1/tender-projects", json=register_payload(world), headers=world.agency.headers
    )
    assert r.status_code == 201, r.text
    t = r.json()
    r = client.post(
        f"/api/v1/tender-projects/{t['id']}/sections",
        json=section_payload(evaluation_method=method),
        headers=world.agency.headers,
    )
    assert r.status_code == 201, r.text
    assert upload(client, world.agency, t).status_code == 201
    r = client.post(f"/api/v1/tender-projects/{t['id']}/submit", headers=world.agency.headers)
    assert r.status_code == 200, r.text
    r = client.post(
        f"/api/v1/tender-projects/{t['id']}/accept", json={}, headers=world.staff.headers
    )
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def api(sid: str, tail: str = "") -> str:
    return f"/api/v1/sections/{sid}/evaluation{tail}"


def opened_section(
    client: Any,
    db: Session,
    world: World,
    clock: ManualClock,
    tmp_path: Path,
    *,
    method: str = "comprehensive",
    prices: list[str] | None = None,
) -> Opened:
    """Tender → keys → notice → sealed bids → opening → 唱标 → draw → signed, confirmed record."""
    prices = prices or ["12345000.50", "12346000.51", "12347000.52"]
    bidders = [
        _party(db, world.ca, 600 + i, f"评标测试建设有限公司{i:02d}", [Role.BIDDER], f"经办{i}")
        for i in range(len(prices))
    ]
    tender = _tender(client, world, method)
    section = tender["sections"][0]
    sid, code = section["id"], section["code"]
    passes = {"tenderer": generate_passphrase(), "center": generate_passphrase()}
    for role, party in (("tenderer", world.agency), ("center", world.staff)):
        key = generate_opening_key(code, role, "gm", passes[role])  # type: ignore[arg-type]
        r = client.post(
            f"/api/v1/sections/{sid}/opening-keys",
            json={
                "role": role,
                "public_key": key.public_pem.decode(),
                "encrypted_private_key": key.encrypted_private_pem.decode(),
            },
            headers=party.headers,
        )
        assert r.status_code == 201, r.text
    publish(client, world, tender)
    center = CenterSecret.new("gm", committed_at=clock.now())
    r = client.post(
        f"/api/v1/sections/{sid}/draw-commitment",
        json={"commitment": center.commitment.hex()},
        headers=world.staff.headers,
    )
    assert r.status_code == 201, r.text
    keys = sealed.SectionKeys.from_json(
        client.get(f"/api/v1/sections/{sid}/section-keys.json").content
    )
    by_code = {}
    for i, (party, price) in enumerate(zip(bidders, prices, strict=True)):
        data = _seal(world, party, keys, price, tmp_path / f"ev{i}")
        r = client.put(f"/api/v1/sections/{sid}/bid", content=data, headers=party.headers)
        assert r.status_code == 201, r.text
        by_code[party.credit_code] = price
    clock.set(dt.datetime.fromisoformat(section["bid_deadline"]) + dt.timedelta(minutes=1))
    world.refresh_crl(db)
    opening = f"/api/v1/sections/{sid}/opening"
    r = client.post(f"{opening}/start", headers=world.staff.headers)
    assert r.status_code == 200, r.text
    for role, party in (("tenderer", world.agency), ("center", world.staff)):
        r = client.post(
            f"{opening}/decrypt",
            json={"role": role, "passphrase": passes[role]},
            headers=party.headers,
        )
        assert r.status_code == 200, r.text
    r = client.post(
        f"{opening}/supervisor-value", json={"value": "7"}, headers=world.supervisor.headers
    )
    assert r.status_code == 200, r.text
    r = client.post(
        f"{opening}/draw",
        json={"center_value": center.value.hex(), "center_salt": center.salt.hex()},
        headers=world.staff.headers,
    )
    assert r.status_code == 200, r.text
    outputs = {o["name"]: o["value"] for o in r.json()["outputs"]}
    # Bidders' confirmation window (ADR 0011): silence until it closes counts as 视为认可.
    view = client.get(opening, headers=world.staff.headers).json()
    clock.set(dt.datetime.fromisoformat(view["confirm_until"]) + dt.timedelta(seconds=1))
    r = client.post(f"{opening}/record", headers=world.staff.headers)
    assert r.status_code == 200, r.text
    return Opened(sid, code, bidders, by_code, outputs["下浮系数K"], tender["id"])


def confirm_opening(client: Any, world: World, sid: str) -> None:
    r = client.post(f"/api/v1/sections/{sid}/opening/confirm", headers=world.tenderer.headers)
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text


def experts(db: Session, world: World, n: int, base: int = 700) -> list[Party]:
    names = ["张教授", "刘教授", "徐工", "何工", "林工", "郭工", "马工"]
    return [
        _party(db, world.ca, base + i, f"专家单位{i:02d}研究院", [Role.EXPERT], names[i])
        for i in range(n)
    ]


def sign(party: Party, message: str) -> str:
    assert party.cred is not None
    suite = get_suite(party.cred.private_key.suite_name)
    return base64.b64encode(suite.sign(party.cred.private_key, message.encode())).decode()


def seated_committee(
    client: Any, db: Session, world: World, sid: str, members: list[Party]
) -> None:
    """Draw ``members`` as the section's experts, form the committee from the draw, sign in,
    declare, elect the first as leader and start the evaluation."""
    drawn_experts(client, db, world, sid, members)
    r = client.post(api(sid), json={}, headers=world.staff.headers)
    assert r.status_code == 201, r.text
    leader = next(m["id"] for m in r.json()["members"] if m["name"] == members[0].person)
    for p in members:
        assert client.post(api(sid, "/sign-in"), headers=p.headers).status_code == 200
        r = client.post(api(sid, "/declare"), json={"commitment": True}, headers=p.headers)
        assert r.status_code == 200, r.text
        r = client.post(api(sid, "/vote"), json={"member_id": leader}, headers=p.headers)
        assert r.status_code in (200, 409), r.text
    r = client.post(api(sid, "/start"), headers=world.staff.headers)
    assert r.status_code == 200, r.text


def drawn_experts(
    client: Any,
    db: Session,
    world: World,
    sid: str,
    members: list[Party],
    *,
    alternates: int = 0,
    confirm: bool = True,
    pool_employer: dict[str, str] | None = None,
) -> str:
    """The expert draw (ADR 0013) over the real API: ``members`` enter the pool (linked to their
    accounts, one specialty), the center draws them all, each confirms on his own invitation
    (unless ``confirm`` is false). ``pool_employer`` gives a pool entry an employer other than
    the account's organization (a profile not kept up to date). Returns the draw id."""
    from sunlit.experts import service as experts_service
    from sunlit.kernel import clock as kclock
    from tests.experts.helpers import at, expert_in

    for i, p in enumerate(members):
        experts_service.register_expert(
            db,
            world.staff.actor,
            expert_in(
                500 + i,
                name=p.person,
                user_id=p.user_id,
                employer_credit_code=(pool_employer or {}).get(p.user_id, p.credit_code),
            ),
        )
    center = CenterSecret.new("gm", committed_at=kclock.now())
    r = client.post(
        f"/api/v1/sections/{sid}/expert-draws",
        json={
            "evaluation_starts_at": at(1, 9).isoformat(),
            "evaluation_ends_at": at(1, 17).isoformat(),
            "venue": "苏州市公共资源交易中心3号评标室",
            "strata": [
                {"specialty": "A0101", "count": len(members) - alternates, "alternates": alternates}
            ],
            "regions": [],
            "region_reason": "",
            "cooldown_days": 0,
            "response_minutes": 30,
            "commitment": center.commitment.hex(),
        },
        headers=world.staff.headers,
    )
    assert r.status_code == 201, r.text
    did = r.json()["id"]
    r = client.post(f"/api/v1/expert-draws/{did}/fix", headers=world.staff.headers)
    assert r.status_code == 200, r.text
    r = client.post(
        f"/api/v1/expert-draws/{did}/supervisor-value",
        json={"value": "20261218"},
        headers=world.supervisor.headers,
    )
    assert r.status_code == 200, r.text
    r = client.post(
        f"/api/v1/expert-draws/{did}/draw",
        json={"center_value": center.value.hex(), "center_salt": center.salt.hex()},
        headers=world.staff.headers,
    )
    assert r.status_code == 200, r.text
    if confirm:
        for p in members:
            answer_invitation(client, p, True)
    return did


def answer_invitation(client: Any, expert: Party, accept: bool) -> bool:
    """The expert answers his open invitation, if he has one; True if he answered."""
    r = client.get("/api/v1/experts/me/invitations", headers=expert.headers)
    assert r.status_code == 200, r.text
    open_ = [i for i in r.json() if i["can_answer"]]
    if not open_:
        return False
    r = client.post(
        f"/api/v1/experts/me/invitations/{open_[0]['id']}/answer",
        json={"accept": accept, "reason": "" if accept else "当日另有评标任务"},
        headers=expert.headers,
    )
    assert r.status_code == 200, r.text
    return True
