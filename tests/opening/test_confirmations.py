"""Bidders' confirmation of the announced results (确认无误): once, within the window after 唱标;
silence until the window closes counts as confirmation (视为认可); the signed record and its
exports say which bidders confirmed, which objected and which were deemed to confirm."""

from __future__ import annotations

import base64
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
from sunlit.opening import service
from sunlit.opening.models import OpeningConfirmation
from sunlit.opening.record import verify_record_signature
from sunlit.transparency import keys as platform_keys
from tests.opening.hall_helpers import Prepared, prepare
from tests.projects.helpers import World, _party, build_world


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=0)


def _api(sid: str, tail: str = "") -> str:
    return f"/api/v1/sections/{sid}/opening{tail}"


def _start(client: Any, world: World, p: Prepared) -> None:
    r = client.post(_api(p.sid, "/start"), headers=world.staff.headers)
    assert r.status_code == 200, r.text


def _decrypt(client: Any, world: World, p: Prepared) -> dict[str, Any]:
    for role, party in (("tenderer", world.agency), ("center", world.staff)):
        r = client.post(
            _api(p.sid, "/decrypt"),
            json={"role": role, "passphrase": p.passes[role]},
            headers=party.headers,
        )
        assert r.status_code == 200, r.text
    view: dict[str, Any] = r.json()
    assert view["status"] == "announced"
    return view


def _draw(client: Any, db: Session, world: World, p: Prepared) -> None:
    sup = _party(db, None, 698, "监督科", [Role.SUPERVISOR], "孙红")
    r = client.post(_api(p.sid, "/supervisor-value"), json={"value": "9"}, headers=sup.headers)
    assert r.status_code == 200, r.text
    r = client.post(
        _api(p.sid, "/draw"),
        json={"center_value": p.center.value.hex(), "center_salt": p.center.salt.hex()},
        headers=world.staff.headers,
    )
    assert r.status_code == 200, r.text


def _confirm(client: Any, sid: str, party: Any) -> Any:
    return client.post(_api(sid, "/confirm-results"), headers=party.headers)


def _confirmed_events(db: Session) -> int:
    db.rollback()
    return len(
        list(db.scalars(select(AuditEvent).where(AuditEvent.action == "opening.bidder_confirmed")))
    )


def test_confirm_object_deemed_and_refusals(
    client: Any, db: Session, world: World, clock: ManualClock, tmp_path: Path
) -> None:
    p = prepare(client, db, world, clock, tmp_path, n=3)
    first, objector, silent = p.bidders

    # Before 唱标: refused by the lifecycle.
    _start(client, world, p)
    r = _confirm(client, p.sid, first)
    assert r.status_code == 409, r.text
    view = _decrypt(client, world, p)
    until = dt.datetime.fromisoformat(view["confirm_until"])
    assert until == clock.now() + service.CONFIRM_WINDOW and view["confirm_open"]
    assert [c["response"] for c in view["confirmations"]] == ["pending"] * 3

    # Not a bidder in this opening: a bidder of another section, the tenderer, staff.
    outsider = _party(db, world.ca, 691, "未投标建设有限公司", [Role.BIDDER], "路人甲")
    r = _confirm(client, p.sid, outsider)
    assert r.status_code == 403 and r.json()["code"] == "opening.confirmation.no_bid"
    for party in (world.tenderer, world.staff):
        assert _confirm(client, p.sid, party).status_code == 403
    assert _confirmed_events(db) == 0

    # Confirm once; twice is refused; a bidder that confirmed cannot object any more.
    clock.advance(dt.timedelta(minutes=3))
    r = _confirm(client, p.sid, first)
    assert r.status_code == 200, r.text
    mine = {c["credit_code"]: c for c in r.json()["confirmations"]}[first.credit_code]
    assert mine["response"] == "confirmed" and mine["confirmed_by"] == first.person
    r = _confirm(client, p.sid, first)
    assert r.status_code == 409 and r.json()["code"] == "opening.confirmation.done"
    r = client.post(_api(p.sid, "/objections"), json={"content": "x"}, headers=first.headers)
    assert r.status_code == 409 and r.json()["code"] == "opening.objection.confirmed"

    # An objection (answered) and no confirmation: 提出异议.
    r = client.post(
        _api(p.sid, "/objections"), json={"content": "工期唱读有误"}, headers=objector.headers
    )
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    r = client.post(
        _api(p.sid, f"/objections/{oid}/answer"),
        json={"answer": "工期为540日历天，唱读无误"},
        headers=world.agency.headers,
    )
    assert r.status_code == 200, r.text

    # While the window is open and not everyone confirmed, no record.
    _draw(client, db, world, p)
    r = client.post(_api(p.sid, "/record"), headers=world.staff.headers)
    assert r.status_code == 409 and r.json()["code"] == "opening.record.confirm_window"

    # The window closes: a late confirmation is refused; the silent bidder is deemed.
    clock.set(until + dt.timedelta(seconds=1))
    r = _confirm(client, p.sid, silent)
    assert r.status_code == 409 and r.json()["code"] == "opening.confirmation.closed"
    view = client.get(_api(p.sid), headers=silent.headers).json()
    assert not view["confirm_open"]
    responses = {c["credit_code"]: c["response"] for c in view["confirmations"]}
    assert responses == {
        first.credit_code: "confirmed",
        objector.credit_code: "objected",
        silent.credit_code: "deemed",
    }
    assert _confirmed_events(db) == 1
    assert len(list(db.scalars(select(OpeningConfirmation)))) == 1

    r = client.post(_api(p.sid, "/record"), headers=world.staff.headers)
    assert r.status_code == 200, r.text
    view = r.json()
    record = view["record"]
    verify_record_signature(
        record,
        base64.b64decode(view["record_signature"]),
        platform_keys.platform_key().public_key,
    )
    assert record["version"] == 3 and record["confirm_until"] == until.isoformat()
    rows = {c["credit_code"]: c for c in record["confirmations"]}
    assert rows[first.credit_code]["response"] == "confirmed"
    assert rows[first.credit_code]["confirmed_by"] == first.person
    assert (
        rows[first.credit_code]["confirmed_at"]
        == (dt.datetime.fromisoformat(view["confirm_until"]) - dt.timedelta(minutes=27)).isoformat()
    )
    assert rows[objector.credit_code]["response"] == "objected"
    assert rows[silent.credit_code]["response"] == "deemed"
    assert "视为认可" in rows[silent.credit_code]["response_label"]
    # After the record, confirming is closed for good.
    assert _confirm(client, p.sid, silent).status_code == 409

    xlsx = client.get(f"/opening/{p.sid}/record.xlsx", headers=silent.headers)
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    assert ws is not None
    cells = [str(c) for row in ws.iter_rows(values_only=True) for c in row if c]
    assert any(c.startswith("确认无误（" + first.person) for c in cells)
    assert any(c.startswith("视为认可") for c in cells) and "提出异议" in cells
    assert "工期唱读有误" in cells and "工期为540日历天，唱读无误" in cells
    pdf = client.get(f"/opening/{p.sid}/record.pdf", headers=silent.headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    # The tenderer confirms the record: closed.
    r = client.post(_api(p.sid, "/confirm"), headers=world.tenderer.headers)
    assert r.status_code == 200 and r.json()["status"] == "closed"


def test_everyone_confirmed_seals_before_the_window_ends(
    client: Any, db: Session, world: World, clock: ManualClock, tmp_path: Path
) -> None:
    p = prepare(client, db, world, clock, tmp_path, n=3)
    _start(client, world, p)
    _decrypt(client, world, p)
    _draw(client, db, world, p)
    for party in p.bidders[:2]:
        assert _confirm(client, p.sid, party).status_code == 200
    r = client.post(_api(p.sid, "/record"), headers=world.staff.headers)
    assert r.status_code == 409 and "确认期至" in r.json()["detail"]
    assert _confirm(client, p.sid, p.bidders[2]).status_code == 200
    r = client.post(_api(p.sid, "/record"), headers=world.staff.headers)
    assert r.status_code == 200, r.text
    record = r.json()["record"]
    assert {c["response"] for c in record["confirmations"]} == {"confirmed"}
    assert record["objections"] == []
    # The window is still open in time, but the record is sealed: objections are closed.
    r = client.post(
        _api(p.sid, "/objections"), json={"content": "迟到的异议"}, headers=p.bidders[0].headers
    )
    assert r.status_code == 409 and r.json()["code"] == "opening.objection.closed"


def test_confirmation_on_the_hall_page(
    client: Any, db: Session, world: World, clock: ManualClock, tmp_path: Path
) -> None:
    p = prepare(client, db, world, clock, tmp_path, n=3)
    _start(client, world, p)
    _decrypt(client, world, p)
    client.follow_redirects = False
    client.cookies.set("sunlit_csrf", "tok")
    bidder, other = p.bidders[0], p.bidders[1]
    page = client.get(f"/opening/{p.sid}", headers=bidder.headers).text
    assert 'data-testid="confirm-results"' in page and 'data-testid="confirm-until"' in page
    assert (
        'data-testid="confirm-results"'
        not in client.get(f"/opening/{p.sid}", headers=world.tenderer.headers).text
    )
    r = client.post(
        f"/opening/{p.sid}/confirm-results", data={"csrf_token": "tok"}, headers=bidder.headers
    )
    assert r.status_code == 303 and r.headers["location"].endswith("done=confirm-results")
    page = client.get(f"/opening/{p.sid}?done=confirm-results", headers=bidder.headers).text
    assert "已确认唱标结果无误" in page and 'data-testid="confirm-results"' not in page
    assert f"确认无误（{bidder.person}" in page
    # Twice from the page: the error is shown, nothing changes.
    r = client.post(
        f"/opening/{p.sid}/confirm-results", data={"csrf_token": "tok"}, headers=bidder.headers
    )
    assert r.status_code == 409 and "本单位已确认唱标结果" in r.text
    assert (
        'data-testid="confirm-results"'
        in client.get(f"/opening/{p.sid}", headers=other.headers).text
    )
    clock.advance(service.CONFIRM_WINDOW)
    clock.advance(dt.timedelta(seconds=1))
    page = client.get(f"/opening/{p.sid}", headers=other.headers).text
    assert 'data-testid="confirm-results"' not in page and "确认期已结束" in page
    assert page.count('data-response="deemed"') == 2
    assert page.count('data-response="confirmed"') == 1
