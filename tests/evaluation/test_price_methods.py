"""The price-only methods end to end: 合理低价法 (benchmark from the drawn K) and
经评审的最低投标价法 (the committee's price adjustments, the mean of the experts'), each
checked against the stated rules computed independently here."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from sunlit.kernel.clock import ManualClock
from tests.evaluation.helpers import (
    api,
    confirm_opening,
    experts,
    opened_section,
    seated_committee,
    sign,
)
from tests.projects.helpers import World, build_world


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=0)


def _q2(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _finish(client: Any, sid: str, members: list[Any]) -> dict[str, Any]:
    for p in members:
        r = client.post(api(sid, "/submit"), headers=p.headers)
        assert r.status_code == 200, r.text
    r = client.post(api(sid, "/report"), headers=members[0].headers)
    assert r.status_code == 200, r.text
    for p in members:
        msg = client.get(api(sid, "/report/signing-message"), headers=p.headers).json()["message"]
        r = client.post(
            api(sid, "/report/sign"), json={"signature": sign(p, msg)}, headers=p.headers
        )
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "signed"
    out: dict[str, Any] = r.json()["report"]["document"]
    return out


def test_reasonable_low_price(
    client: Any, db: Session, world: World, clock: ManualClock, tmp_path: Path
) -> None:
    prices = ["9600000.00", "9800000.00", "10000000.00", "10200000.00", "9400000.00"]
    o = opened_section(
        client, db, world, clock, tmp_path, method="reasonable_low_price", prices=prices
    )
    confirm_opening(client, world, o.sid)
    members = experts(db, world, 5)
    seated_committee(client, db, world, o.sid, members)
    for p in members:
        for b in o.bidders:
            r = client.put(api(o.sid, f"/sheets/{b.credit_code}"), json={}, headers=p.headers)
            assert r.status_code == 200, r.text
        r = client.put(
            api(o.sid, f"/sheets/{o.bidders[0].credit_code}"),
            json={"adjustment": "100"},
            headers=p.headers,
        )
        assert r.status_code == 422 and r.json()["code"] == "evaluation.score.adjustment"
    doc = _finish(client, o.sid, members)
    # 5 valid bids: drop 10,200,000 and 9,400,000; mean 9,800,000 × K; 100 − |r| × 2 / × 1.
    k = Decimal(o.coefficient)
    bench = _q2(Decimal("9800000") * k)
    assert Decimal(doc["result"]["benchmark"]) == bench
    expected = {}
    for b in o.bidders:
        p = Decimal(o.prices[b.credit_code])
        rate = _q2((p - bench) / bench * 100)
        expected[b.credit_code] = _q2(max(Decimal(0), 100 - abs(rate) * (2 if rate > 0 else 1)))
    got = {r["bidder_id"]: Decimal(r["score"]) for r in doc["result"]["ranking"]}
    assert got == expected
    order = [r["bidder_id"] for r in doc["result"]["ranking"]]
    assert order == sorted(expected, key=lambda c: (-expected[c], Decimal(o.prices[c])))
    assert [c["rank"] for c in doc["candidates"]] == [1, 2, 3]

    # The pages of each role render what that role may see.
    first = doc["candidates"][0]["name"]
    for party, url, present, absent in (
        (members[0], "/evaluation", o.code, None),
        (members[1], f"/evaluation/{o.sid}", 'data-testid="signatures"', None),
        (members[1], f"/evaluation/{o.sid}/sheets", 'data-testid="sheet"', None),
        (world.staff, f"/evaluation/{o.sid}", 'data-testid="committee"', None),
        (world.supervisor, f"/evaluation/{o.sid}", first, None),
        (world.agency, f"/evaluation/{o.sid}", 'data-testid="ranking"', None),
        (world.agency, f"/evaluation/{o.sid}/plan", "合理低价法", None),
        (o.bidders[0], "/evaluation", "暂无评标任务", o.code),
    ):
        r = client.get(url, headers=party.headers)
        assert r.status_code == 200, (url, r.text[:300])
        assert present in r.text, url
        assert absent is None or absent not in r.text
    assert client.get(f"/evaluation/{o.sid}", headers=o.bidders[0].headers).status_code == 200
    assert (
        client.get(f"/evaluation/{o.sid}/sheets", headers=o.bidders[0].headers).status_code == 404
    )


def test_lowest_evaluated_price_with_adjustments(
    client: Any, db: Session, world: World, clock: ManualClock, tmp_path: Path
) -> None:
    prices = ["5000000.00", "4900000.00", "4950000.00"]
    o = opened_section(
        client, db, world, clock, tmp_path, method="lowest_evaluated_price", prices=prices
    )
    confirm_opening(client, world, o.sid)
    members = experts(db, world, 5)
    seated_committee(client, db, world, o.sid, members)
    b0, b1, b2 = (b.credit_code for b in o.bidders)
    # B1: experts propose +100,000 … +140,000 (mean +120,000); B2: −10,000.50 by all.
    for i, p in enumerate(members):
        for code, adj in ((b0, "0"), (b1, str(100000 + 10000 * i)), (b2, "-10000.50")):
            r = client.put(
                api(o.sid, f"/sheets/{code}"), json={"adjustment": adj}, headers=p.headers
            )
            assert r.status_code == 200, r.text
    doc = _finish(client, o.sid, members)
    ranking = [(r["bidder_id"], r["evaluated_price"]) for r in doc["result"]["ranking"]]
    assert ranking == [(b2, "4939999.50"), (b0, "5000000.00"), (b1, "5020000.00")]
    assert doc["candidates"][0]["credit_code"] == b2
