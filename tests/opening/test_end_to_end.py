"""End to end over the real HTTP API: opening keys → notice → draw commitment → N bidders
seal and upload → a late upload is refused → an operator holding everything cannot decrypt →
opening with the two collective decryptions → 唱标 equals the sealed prices → one broken bid
rescued by the bidder's remedy → the coefficient draw verifies → the signed opening record."""

from __future__ import annotations

import base64
import datetime as dt
import io
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from sunlit.bidding import sealed
from sunlit.bidding.errors import BadPassphrase, BidError
from sunlit.bidding.models import Bid, OpeningKeyRecord
from sunlit.bidding.opening_keys import (
    generate_opening_key,
    generate_passphrase,
    unlock_opening_key,
)
from sunlit.bidding.receipts import load_receipt, verify_receipt
from sunlit.draws import CenterSecret, verify_record
from sunlit.identity.models import User
from sunlit.kernel import tlog
from sunlit.kernel.audit import AuditEvent
from sunlit.kernel.authz import Role
from sunlit.kernel.clock import ManualClock
from sunlit.kernel.crypto import get_suite, load_public_key_any
from sunlit.kernel.db import Database
from sunlit.models import metadata
from sunlit.opening import service
from sunlit.opening.record import verify_record_signature
from sunlit.transparency.models import Checkpoint
from tests.projects.helpers import World, _party, accepted_tender, build_world, publish


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=0)


def _seal(
    world: World,
    party: Any,
    keys: sealed.SectionKeys,
    price: str,
    folder: Path,
    broken: bool = False,
) -> bytes:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "商务标.pdf").write_bytes(f"%PDF {party.name} {price}".encode() * 50)
    out = io.BytesIO()
    assert party.cred is not None
    suite = get_suite(keys.suite)

    def wrap(pub: Any, key: bytes, info: bytes) -> bytes:
        if broken and b"wrap/summary/tenderer" in info:  # a faulty bidder tool
            return suite.wrap(pub, secrets.token_bytes(len(key)), info)
        return suite.wrap(pub, key, info)

    sealed._seal(
        folder,
        sealed.BidSummary(price=price, duration_days=540, quality="合格"),
        keys,
        party.cred.private_key,
        party.cred.certificate,
        out,
        None,
        fingerprint=sealed.collect_machine_fingerprint(),
        created_at=dt.datetime.now(dt.UTC),
        rng=secrets.token_bytes,
        wrap=wrap,
        sign=None,
    )
    return out.getvalue()


def test_sealed_bids_to_signed_opening_record(
    client: Any,
    db: Session,
    database: Database,
    world: World,
    clock: ManualClock,
    tmp_path: Path,
    settings: Any,
) -> None:
    n = 50 if database.dialect == "sqlite" else 8
    bidders = [
        _party(db, world.ca, 300 + i, f"投标测试建设有限公司{i:02d}", [Role.BIDDER], f"经办{i}")
        for i in range(n)
    ]
    tender = accepted_tender(client, world)
    section = tender["sections"][0]
    sid, code = section["id"], section["code"]

    # a. Opening keys, generated on the holders' machines; the server gets PEMs only.
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
    r = client.post(
        f"/api/v1/sections/{sid}/opening-keys",
        json={"role": "center", "public_key": "x"},
        headers=world.agency.headers,
    )
    assert r.status_code == 403
    publish(client, world, tender)
    r = client.post(
        f"/api/v1/sections/{sid}/opening-keys",
        json={"role": "tenderer", "public_key": key.public_pem.decode()},
        headers=world.agency.headers,
    )
    assert r.status_code == 409 and r.json()["code"] == "bid.key.published"
    center_secret = CenterSecret.new("gm", committed_at=clock.now())
    r = client.post(
        f"/api/v1/sections/{sid}/draw-commitment",
        json={"commitment": center_secret.commitment.hex()},
        headers=world.staff.headers,
    )
    assert r.status_code == 201, r.text
    keys = sealed.SectionKeys.from_json(
        client.get(f"/api/v1/sections/{sid}/section-keys.json").content
    )
    assert keys.section_code == code

    # b. Bidders seal and upload; the last valid submission counts.
    prices: dict[str, str] = {}
    sealed_bytes: dict[str, bytes] = {}
    platform_pub = None
    for i, party in enumerate(bidders):
        price = f"{48_000_000 + i * 1000 + 7}.5{i % 10}"
        data = _seal(world, party, keys, price, tmp_path / f"b{i}", broken=(i == 0))
        r = client.put(f"/api/v1/sections/{sid}/bid", content=data, headers=party.headers)
        assert r.status_code == 201, r.text
        prices[party.credit_code], sealed_bytes[party.credit_code] = price, data
        body = r.json()
        assert body["receipt"]["bid_digest"] == sealed.inspect(io.BytesIO(data)).digest.hex()
        assert body["receipt"]["log_leaf_index"] is not None
        if platform_pub is None:
            pem = (settings.data_dir / "keys" / "platform.key.pem").read_bytes()
            from sunlit.kernel.crypto import load_private_key_any

            platform_pub = load_private_key_any(pem).public_key()
        verify_receipt(
            load_receipt(
                client.get(
                    f"/api/v1/bids/{body['bid']['id']}/receipt", headers=party.headers
                ).content
            ),
            platform_pub,
        )
    # A resubmission supersedes; another bidder's file is refused; staff count only.
    r = client.put(
        f"/api/v1/sections/{sid}/bid",
        content=sealed_bytes[bidders[1].credit_code],
        headers=bidders[1].headers,
    )
    assert r.status_code == 201
    r = client.put(
        f"/api/v1/sections/{sid}/bid",
        content=sealed_bytes[bidders[2].credit_code],
        headers=bidders[1].headers,
    )
    assert r.status_code == 403 and r.json()["code"] == "bid.not_own_bid"
    r = client.put(
        f"/api/v1/sections/{sid}/bid", content=b"PK\x03\x04 not a bid", headers=bidders[1].headers
    )
    assert r.status_code == 422 and r.json()["code"] == "bid.not_sealed"
    assert (
        client.get(f"/api/v1/sections/{sid}/bid-count", headers=world.staff.headers).json()[
            "valid_bids"
        ]
        == n
    )
    assert (
        client.get(f"/api/v1/sections/{sid}/bid-count", headers=world.agency.headers).status_code
        == 404
    )
    # The public log does not name the bidders.
    for ev in db.scalars(select(AuditEvent).where(AuditEvent.action == "bidding.bid.submitted")):
        assert ev.actor_org_id is None and ev.actor_user_id is None and ev.data == {}

    # One millisecond late is refused.
    deadline = dt.datetime.fromisoformat(section["bid_deadline"])
    clock.set(deadline - dt.timedelta(seconds=1))
    late = _seal(world, bidders[3], keys, "1.00", tmp_path / "late")
    clock.set(deadline + dt.timedelta(milliseconds=1))
    r = client.put(f"/api/v1/sections/{sid}/bid", content=late, headers=bidders[3].headers)
    assert r.status_code == 409 and r.json()["code"] == "bid.deadline_passed"

    # S7: an operator holding the whole database, the blob store and the settings.
    db.rollback()
    dump = {
        t.name: db.execute(text(f'SELECT * FROM "{t.name}"')).all() for t in metadata.sorted_tables
    }
    assert dump["bids"] and not dump["opening_bids"]
    for row in db.scalars(select(OpeningKeyRecord)):
        assert row.encrypted_private_pem is not None
        for guess in ("", settings.secret_key, str(settings.data_dir), code):
            with pytest.raises((BadPassphrase, BidError)):
                unlock_opening_key(row.encrypted_private_pem.encode(), guess)
    blob_root = settings.blob_dir
    any_bid = db.scalars(select(Bid)).first()
    assert any_bid is not None and (blob_root / any_bid.blob_key).is_file()
    header = sealed.inspect(io.BytesIO((blob_root / any_bid.blob_key).read_bytes()))
    for part in sealed.PARTS:  # the shares are wrapped to keys nobody on the platform holds
        with pytest.raises(BidError):
            sealed.combine(header, part, [])

    # c. Opening: the host starts, each holder decrypts once with its passphrase.
    clock.set(deadline + dt.timedelta(minutes=1))
    world.refresh_crl(db)
    r = client.post(f"/api/v1/sections/{sid}/opening/start", headers=world.staff.headers)
    assert r.status_code == 200, r.text
    assert r.json()["bid_count"] == n and not r.json()["insufficient"]
    r = client.post(
        f"/api/v1/sections/{sid}/opening/decrypt",
        json={"role": "tenderer", "passphrase": "WRONG-PASSPHRASE-1"},
        headers=world.agency.headers,
    )
    assert r.status_code == 422 and r.json()["code"] == "bid.bad_passphrase"
    r = client.post(
        f"/api/v1/sections/{sid}/opening/decrypt",
        json={"role": "tenderer", "passphrase": passes["tenderer"]},
        headers=world.agency.headers,
    )
    assert r.status_code == 200, r.text
    assert all(b["price"] is None for b in r.json()["bids"])
    r = client.post(
        f"/api/v1/sections/{sid}/opening/decrypt",
        json={"role": "center", "passphrase": passes["center"]},
        headers=world.staff.headers,
    )
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["status"] == "announced"
    by_code = {b["credit_code"]: b for b in view["bids"]}
    broken = by_code[bidders[0].credit_code]
    assert broken["status"] == "failed" and broken["bidder_fault"] is True
    for party in bidders[1:]:
        assert Decimal(by_code[party.credit_code]["price"]) == Decimal(prices[party.credit_code])

    # The bidder's remedy with its own certificate key (sunlit bid remedy, client side).
    recovered = sealed.remedy_decrypt(
        io.BytesIO(sealed_bytes[bidders[0].credit_code]), bidders[0].cred.private_key
    )  # type: ignore[union-attr]
    r = client.post(
        f"/api/v1/sections/{sid}/opening/remedy",
        json={
            "opened_bid_id": broken["id"],
            "summary_key": recovered.summary_key.hex(),
            "files_key": "00" * 16,
        },
        headers=bidders[0].headers,
    )
    assert r.status_code == 422 and r.json()["code"] == "bid.wrong_key"
    r = client.post(
        f"/api/v1/sections/{sid}/opening/remedy",
        json={
            "opened_bid_id": broken["id"],
            "summary_key": recovered.summary_key.hex(),
            "files_key": recovered.files_key.hex(),
        },
        headers=bidders[0].headers,
    )
    assert r.status_code == 200, r.text
    fixed = {b["credit_code"]: b for b in r.json()["bids"]}[bidders[0].credit_code]
    assert fixed["status"] == "remedied" and fixed["price"] == prices[bidders[0].credit_code]

    # d. The coefficient draw: supervisor's value, then the center reveals.
    supervisor = _party(db, None, 399, "苏州市住房和城乡建设局监督科", [Role.SUPERVISOR], "孙红")
    r = client.post(
        f"/api/v1/sections/{sid}/opening/supervisor-value",
        json={"value": "20261123"},
        headers=supervisor.headers,
    )
    assert r.status_code == 200, r.text
    clock.advance(dt.timedelta(seconds=5))
    r = client.post(
        f"/api/v1/sections/{sid}/opening/draw",
        json={"center_value": center_secret.value.hex(), "center_salt": center_secret.salt.hex()},
        headers=world.staff.headers,
    )
    assert r.status_code == 200, r.text
    assert verify_record(r.json()).ok

    # e. Bidders confirm (two), object (one, answered on the spot) or stay silent (视为认可).
    base = f"/api/v1/sections/{sid}/opening"
    for party in bidders[1:3]:
        r = client.post(f"{base}/confirm-results", headers=party.headers)
        assert r.status_code == 200, r.text
    r = client.post(
        f"{base}/objections", json={"content": "第4家报价唱读有误"}, headers=bidders[3].headers
    )
    assert r.status_code == 201, r.text
    r = client.post(
        f"{base}/objections/{r.json()['id']}/answer",
        json={"answer": "已复核，唱标无误"},
        headers=world.agency.headers,
    )
    assert r.status_code == 200, r.text
    r = client.post(f"{base}/record", headers=world.staff.headers)
    assert r.status_code == 409 and r.json()["code"] == "opening.record.confirm_window"
    clock.advance(service.CONFIRM_WINDOW)

    # f. The signed opening record, confirmed by the tenderer; checkpoints at deadline/opening.
    r = client.post(f"{base}/record", headers=world.staff.headers)
    assert r.status_code == 200, r.text
    view = r.json()
    assert platform_pub is not None
    verify_record_signature(
        view["record"], base64.b64decode(view["record_signature"]), platform_pub
    )
    assert len(view["record"]["bids"]) == n
    responses = {c["credit_code"]: c["response"] for c in view["record"]["confirmations"]}
    assert len(responses) == n
    assert [responses[p.credit_code] for p in bidders[:4]] == [
        "deemed",
        "confirmed",
        "confirmed",
        "objected",
    ]
    assert sum(1 for r_ in responses.values() if r_ == "deemed") == n - 3
    (objection,) = view["record"]["objections"]
    assert objection["credit_code"] == bidders[3].credit_code
    assert objection["answer"] == "已复核，唱标无误" and objection["answered_at"]
    r = client.post(f"/api/v1/sections/{sid}/opening/confirm", headers=world.tenderer.headers)
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text
    db.rollback()
    reasons = [c.reason for c in db.scalars(select(Checkpoint))]
    assert f"开标 标段 {code}" in reasons and f"开标记录 标段 {code}" in reasons
    assert tlog.tree_size(db) > n
    _ = (User, load_public_key_any)
