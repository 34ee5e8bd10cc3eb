"""A section with sealed bids at its opening time, through the real HTTP API."""

from __future__ import annotations

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
from tests.opening.test_end_to_end import _seal
from tests.projects.helpers import World, _party, accepted_tender, publish


@dataclass
class Prepared:
    sid: str
    code: str
    passes: dict[str, str]
    bidders: list[Any]
    prices: dict[str, str]
    center: CenterSecret
    sealed: dict[str, bytes]  # credit code -> the sealed bid as uploaded


def prepare(
    client: Any,
    db: Session,
    world: World,
    clock: ManualClock,
    tmp_path: Path,
    n: int = 3,
    broken: frozenset[int] = frozenset(),
) -> Prepared:
    """``broken``: indexes of bidders whose tool seals an inconsistent tenderer share (the
    collective decryption fails; the bidder's own key still opens it: the remedy)."""
    bidders = [
        _party(db, world.ca, 500 + i, f"大厅测试建设有限公司{i:02d}", [Role.BIDDER], f"经办{i}")
        for i in range(n)
    ]
    tender = accepted_tender(client, world)
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
    prices = {}
    sealed_bids = {}
    for i, party in enumerate(bidders):
        price = f"{12_345_000 + i * 1000}.5{i}"
        data = _seal(world, party, keys, price, tmp_path / f"hall{i}", broken=i in broken)
        sealed_bids[party.credit_code] = data
        r = client.put(f"/api/v1/sections/{sid}/bid", content=data, headers=party.headers)
        assert r.status_code == 201, r.text
        prices[party.credit_code] = price
    clock.set(dt.datetime.fromisoformat(section["bid_deadline"]) + dt.timedelta(minutes=1))
    world.refresh_crl(db)
    return Prepared(sid, code, passes, bidders, prices, center, sealed_bids)
