"""验真 at the opening, on both databases: the platform and the FI simulator on loopback, real
sealed bids, the collective decryption and the signed opening record (version 3).

A: a guarantee issued through the signed messages → verified; B: issued, but its stored PDF
hash no longer matches what the FI signed → flagged; C: no security at all → flagged. The
hall shows the same live after 唱标; the record and its exports carry it once sealed."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import update
from sqlalchemy.orm import Session

from sunlit.guarantees.models import Application
from sunlit.kernel.authz import Role
from sunlit.kernel.clock import ManualClock
from sunlit.kernel.db import Database
from sunlit.opening.record import verify_record_signature
from sunlit.transparency import keys as platform_keys
from tests.guarantees.helpers import Market, after_deadline, open_market
from tests.projects.helpers import World, _party, build_world


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=0)


@pytest.fixture
def market(
    app: Any,
    client: Any,
    db: Session,
    database: Database,
    world: World,
    clock: ManualClock,
    tmp_path: Path,
) -> Iterator[Market]:
    m = open_market(app, client, db, database, world, clock, tmp_path)
    yield m
    m.close()


def _api(sid: str, tail: str = "") -> str:
    return f"/api/v1/sections/{sid}/opening{tail}"


def announce(m: Market, db: Session) -> None:
    """Start, both decryptions, the coefficient draw: 唱标 done, record not yet sealed."""
    client, world = m.client, m.world
    r = client.post(_api(m.sid, "/start"), headers=world.staff.headers)
    assert r.status_code == 200, r.text
    for role, party in (("tenderer", world.agency), ("center", world.staff)):
        r = client.post(
            _api(m.sid, "/decrypt"),
            json={"role": role, "passphrase": m.passes[role]},
            headers=party.headers,
        )
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "announced"
    sup = _party(db, None, 697, "监督科", [Role.SUPERVISOR], "孙红")
    r = client.post(_api(m.sid, "/supervisor-value"), json={"value": "7"}, headers=sup.headers)
    assert r.status_code == 200, r.text
    assert m.center is not None
    r = client.post(
        _api(m.sid, "/draw"),
        json={"center_value": m.center.value.hex(), "center_salt": m.center.salt.hex()},
        headers=world.staff.headers,
    )
    assert r.status_code == 200, r.text


def test_opening_record_verifies_each_bids_security(
    market: Market, db: Session, clock: ManualClock, tmp_path: Path
) -> None:
    m = market
    a, b, c = m.bidders
    ids = {}
    for p in (a, b):
        ids[p.org_id] = m.apply(p)["id"]
        m.deliver()
        m.pump()
        assert m.status(p, ids[p.org_id])["status"] == "issued"
    got_a = m.status(a, ids[a.org_id])
    for i, p in enumerate((a, b, c)):
        m.upload_bid(p, tmp_path, f"{12_345_000 + i}.00")
    after_deadline(m, clock, db)
    # B's stored guarantee is altered after issuance: the FI signed another PDF hash.
    db.execute(
        update(Application).where(Application.id == ids[b.org_id]).values(pdf_sha256="0" * 64)
    )
    db.commit()

    announce(m, db)
    # Live in the hall after 唱标 (verified now, not yet signed).
    page = m.client.get(f"/opening/{m.sid}/parts", headers=c.headers).text
    assert "验真通过" in page and got_a["guarantee_no"] in page
    assert page.count('data-testid="security-flag"') == 2
    assert "保函文件哈希与签名信息不符" in page and "未提交投标保证金或保函" in page

    for p in (a, b, c):
        r = m.client.post(_api(m.sid, "/confirm-results"), headers=p.headers)
        assert r.status_code == 200, r.text
    r = m.client.post(_api(m.sid, "/record"), headers=m.world.staff.headers)
    assert r.status_code == 200, r.text
    view = m.client.get(_api(m.sid), headers=a.headers).json()
    record = view["record"]
    verify_record_signature(
        record,
        base64.b64decode(view["record_signature"]),
        platform_keys.platform_key().public_key,
    )
    assert record["version"] == 3 and record["bid_security"] == "800000.00"
    sec = {bid["credit_code"]: bid["security"] for bid in record["bids"]}
    assert sec[a.credit_code]["kind"] == "guarantee" and sec[a.credit_code]["verified"] is True
    assert sec[a.credit_code]["flagged"] is False and sec[a.credit_code]["problems"] == []
    assert sec[a.credit_code]["guarantee_no"] == got_a["guarantee_no"]
    assert sec[a.credit_code]["amount"] == "800000.00"
    assert sec[a.credit_code]["institution"] == m.sim.name
    assert sec[b.credit_code]["kind"] == "guarantee" and sec[b.credit_code]["flagged"] is True
    assert sec[b.credit_code]["problems"] == ["保函文件哈希与签名信息不符"]
    assert sec[c.credit_code]["kind"] == "none" and sec[c.credit_code]["flagged"] is True
    assert sec[c.credit_code]["problems"] == ["未提交投标保证金或保函"]

    # Once sealed, the hall and the exports show what was signed, even if the data changes.
    db.execute(
        update(Application).where(Application.id == ids[a.org_id]).values(guarantee_amount=1)
    )
    db.commit()
    page = m.client.get(f"/opening/{m.sid}/parts", headers=c.headers).text
    assert page.count('data-testid="security-flag"') == 2
    xlsx = m.client.get(f"/opening/{m.sid}/record.xlsx", headers=c.headers)
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    assert ws is not None
    rows = [[v for v in row if v is not None] for row in ws.iter_rows(values_only=True)]
    row_a = next(r for r in rows if got_a["guarantee_no"] in " ".join(map(str, r)))
    assert "验真通过" in row_a and "800,000.00" in row_a
    assert sum("未通过（已标记，由评标委员会判定）" in r for r in rows) == 2
