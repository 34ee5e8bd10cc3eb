"""开标异议 (实施条例第44条): a bidder with a bid raises an objection after 唱标 and within the
confirmation window, the tenderer answers it on the spot, once; the record cannot be sealed
while one is open, and the signed record and its exports carry every objection and answer."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.kernel.audit import AuditEvent
from sunlit.kernel.authz import Role
from sunlit.kernel.clock import ManualClock
from sunlit.kernel.crypto import InvalidSignature
from sunlit.opening import service
from sunlit.opening.models import OpeningObjection, OpeningSession
from sunlit.opening.record import verify_record_signature
from sunlit.transparency import keys as platform_keys
from tests.opening.hall_helpers import Prepared, prepare
from tests.projects.helpers import World, _party, build_world


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=0)


def _api(sid: str, tail: str = "") -> str:
    return f"/api/v1/sections/{sid}/opening{tail}"


def _announce(client: Any, world: World, p: Prepared) -> None:
    r = client.post(_api(p.sid, "/start"), headers=world.staff.headers)
    assert r.status_code == 200, r.text
    for role, party in (("tenderer", world.agency), ("center", world.staff)):
        r = client.post(
            _api(p.sid, "/decrypt"),
            json={"role": role, "passphrase": p.passes[role]},
            headers=party.headers,
        )
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "announced"


def _draw(client: Any, db: Session, world: World, p: Prepared) -> None:
    sup = _party(db, None, 697, "监督科", [Role.SUPERVISOR], "孙红")
    r = client.post(_api(p.sid, "/supervisor-value"), json={"value": "7"}, headers=sup.headers)
    assert r.status_code == 200, r.text
    r = client.post(
        _api(p.sid, "/draw"),
        json={"center_value": p.center.value.hex(), "center_salt": p.center.salt.hex()},
        headers=world.staff.headers,
    )
    assert r.status_code == 200, r.text


def _raise(client: Any, sid: str, party: Any, content: str) -> Any:
    return client.post(_api(sid, "/objections"), json={"content": content}, headers=party.headers)


def _actions(db: Session) -> list[str]:
    db.rollback()
    return [
        e.action
        for e in db.scalars(select(AuditEvent).order_by(AuditEvent.occurred_at, AuditEvent.id))
        if e.action.startswith("opening.objection")
    ]


def test_raise_answer_confirm_and_refusals(
    client: Any, db: Session, world: World, clock: ManualClock, tmp_path: Path
) -> None:
    p = prepare(client, db, world, clock, tmp_path, n=3)
    bidder, other = p.bidders[0], p.bidders[1]

    # Before 唱标: refused (also before the session exists at all).
    r = client.post(_api(p.sid, "/start"), headers=world.staff.headers)
    assert r.status_code == 200, r.text
    r = _raise(client, p.sid, bidder, "开标时间有误")
    assert r.status_code == 409 and r.json()["code"] == "opening.objection.not_announced"
    for role, party in (("tenderer", world.agency), ("center", world.staff)):
        r = client.post(
            _api(p.sid, "/decrypt"),
            json={"role": role, "passphrase": p.passes[role]},
            headers=party.headers,
        )
        assert r.status_code == 200, r.text

    # A bidder without a bid in this section.
    outsider = _party(db, world.ca, 690, "无投标建设有限公司", [Role.BIDDER], "路人")
    r = _raise(client, p.sid, outsider, "我有异议")
    assert r.status_code == 403 and r.json()["code"] == "opening.objection.no_bid"
    # Empty and too long content.
    r = _raise(client, p.sid, bidder, "   ")
    assert r.status_code == 422 and r.json()["code"] == "opening.objection.content.empty"
    assert "请填写异议内容" in r.json()["detail"]
    r = _raise(client, p.sid, bidder, "异" * 2001)
    assert r.status_code == 422 and r.json()["code"] == "opening.objection.content.too_long"
    assert _actions(db) == []

    r = _raise(client, p.sid, bidder, "唱标价格与投标文件不一致")
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    r = _raise(client, p.sid, other, "对解密过程有异议")
    assert r.status_code == 201, r.text
    other_id = r.json()["id"]
    assert _actions(db) == ["opening.objection_raised", "opening.objection_raised"]

    # Visibility: a bidder sees its own, the tenderer and staff see all.
    mine = client.get(_api(p.sid, "/objections"), headers=bidder.headers).json()
    assert [o["id"] for o in mine] == [oid]
    assert len(client.get(_api(p.sid, "/objections"), headers=world.tenderer.headers).json()) == 2
    assert len(client.get(_api(p.sid, "/objections"), headers=world.staff.headers).json()) == 2

    # An answer by a bidder is refused.
    r = client.post(
        _api(p.sid, f"/objections/{oid}/answer"), json={"answer": "无"}, headers=bidder.headers
    )
    assert r.status_code == 403 and r.json()["code"] == "opening.objection.forbidden"

    # Sealing the record with open objections: refused (after the window), nothing changes.
    _draw(client, db, world, p)
    clock.advance(service.CONFIRM_WINDOW + dt.timedelta(seconds=1))
    r = _raise(client, p.sid, bidder, "确认期后的异议")
    assert r.status_code == 409 and r.json()["code"] == "opening.objection.closed"
    r = client.post(_api(p.sid, "/record"), headers=world.staff.headers)
    assert r.status_code == 409 and r.json()["code"] == "opening.objection.unanswered"
    assert "2条" in r.json()["detail"]
    db.rollback()
    row = db.scalar(select(OpeningSession).where(OpeningSession.section_id == p.sid))
    assert row is not None and row.status == "announced" and row.record is None

    r = client.post(
        _api(p.sid, f"/objections/{oid}/answer"),
        json={"answer": "经核对，唱标价格与投标文件一致"},
        headers=world.tenderer.headers,
    )
    assert r.status_code == 200, r.text
    # A second answer is refused.
    r = client.post(
        _api(p.sid, f"/objections/{oid}/answer"),
        json={"answer": "再答"},
        headers=world.agency.headers,
    )
    assert r.status_code == 409 and r.json()["code"] == "opening.objection.answered"
    r = client.post(_api(p.sid, "/record"), headers=world.staff.headers)
    assert r.status_code == 409 and "1条" in r.json()["detail"]
    r = client.post(
        _api(p.sid, f"/objections/{other_id}/answer"),
        json={"answer": "解密过程符合规定"},
        headers=world.agency.headers,
    )
    assert r.status_code == 200, r.text
    assert sorted(_actions(db)) == [
        "opening.objection_answered",
        "opening.objection_answered",
        "opening.objection_raised",
        "opening.objection_raised",
    ]

    # The signed record carries both objections: who, when, text, answer, answered when.
    r = client.post(_api(p.sid, "/record"), headers=world.staff.headers)
    assert r.status_code == 200, r.text
    view = r.json()
    record, signature = view["record"], base64.b64decode(view["record_signature"])
    verify_record_signature(record, signature, platform_keys.platform_key().public_key)
    by_bidder = {o["credit_code"]: o for o in record["objections"]}
    first = by_bidder[bidder.credit_code]
    assert first["bidder_name"] == bidder.name and first["raised_by"] == bidder.person
    assert first["content"] == "唱标价格与投标文件不一致"
    assert first["answer"] == "经核对，唱标价格与投标文件一致"
    assert first["answered_by"].endswith(world.tenderer.person)
    assert first["raised_at"] <= first["answered_at"]
    assert by_bidder[other.credit_code]["answer"] == "解密过程符合规定"
    responses = {c["credit_code"]: c["response"] for c in record["confirmations"]}
    assert responses == {
        bidder.credit_code: "objected",
        other.credit_code: "objected",
        p.bidders[2].credit_code: "deemed",
    }
    # Editing an answer after signing breaks the signature.
    forged = copy.deepcopy(record)
    forged["objections"][0]["answer"] = "（改写的答复）"
    with pytest.raises(InvalidSignature):
        verify_record_signature(forged, signature, platform_keys.platform_key().public_key)
    # Both exports show them.
    pdf = client.get(f"/opening/{p.sid}/record.pdf", headers=world.staff.headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    xlsx = client.get(f"/opening/{p.sid}/record.xlsx", headers=world.staff.headers)
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    assert ws is not None
    cells = {c for row_ in ws.iter_rows(values_only=True) for c in row_ if c}
    assert {"唱标价格与投标文件不一致", "经核对，唱标价格与投标文件一致", "提出异议"} <= cells

    r = client.post(_api(p.sid, "/confirm"), headers=world.tenderer.headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed"
    # After confirmation no further objection.
    r = _raise(client, p.sid, bidder, "还有异议")
    assert r.status_code == 409
    db.rollback()
    answered = db.get(OpeningObjection, oid)
    assert answered is not None and answered.answer and answered.answered_by
    assert answered.user_id is not None


def test_hall_page_forms(
    client: Any, db: Session, world: World, clock: ManualClock, tmp_path: Path
) -> None:
    p = prepare(client, db, world, clock, tmp_path, n=3)
    _announce(client, world, p)
    bidder = p.bidders[0]
    client.follow_redirects = False
    client.cookies.set("sunlit_csrf", "tok")
    page = client.get(f"/opening/{p.sid}", headers=bidder.headers).text
    assert 'data-testid="objection-form"' in page and "提出异议" in page
    r = client.post(
        f"/opening/{p.sid}/objections",
        data={"csrf_token": "tok", "content": "报价读错"},
        headers=bidder.headers,
    )
    assert r.status_code == 303, r.text
    page = client.get(f"/opening/{p.sid}", headers=world.tenderer.headers).text
    assert "报价读错" in page and 'data-testid="answer-form"' in page
    assert 'data-testid="objection-form"' not in page
    oid = client.get(_api(p.sid, "/objections"), headers=world.tenderer.headers).json()[0]["id"]
    r = client.post(
        f"/opening/{p.sid}/objections/{oid}/answer",
        data={"csrf_token": "tok", "answer": "已核对无误"},
        headers=world.tenderer.headers,
    )
    assert r.status_code == 303, r.text
    page = client.get(f"/opening/{p.sid}", headers=bidder.headers).text
    assert "已核对无误" in page and 'data-testid="answer-form"' not in page
    r = client.post(
        f"/opening/{p.sid}/objections",
        data={"csrf_token": "tok", "content": ""},
        headers=bidder.headers,
    )
    assert r.status_code == 422 and "请填写异议内容" in r.text
