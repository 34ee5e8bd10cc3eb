"""The public transparency API, the leaf visibility rule and the public pages."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy.orm import Session

from sunlit.kernel import audit
from sunlit.kernel.authz import ANONYMOUS, Actor, Role, system_actor
from sunlit.kernel.clock import ManualClock
from sunlit.kernel.crypto import load_public_key_any
from sunlit.kernel.db import use_case
from sunlit.transparency import bundles, note, queries, service
from sunlit.transparency.keys import PlatformKey
from tests.transparency.helpers import BIDDER, note_something

SYSTEM = system_actor("test")
OTHER_BIDDER = Actor(user_id="u-other", org_id="o-other", roles=frozenset({Role.BIDDER}))
SUPERVISOR = Actor(user_id="u-sup", org_id="o-sup", roles=frozenset({Role.SUPERVISOR}))
TENDERER = Actor(user_id="u-ten", org_id="o-ten", roles=frozenset({Role.TENDERER}))


def _problem(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code, body
    return dict(body)


def test_key_endpoint_publishes_the_platform_key(
    client: Any, db: Session, key: PlatformKey
) -> None:
    note_something(db, BIDDER, 1)
    r = client.get("/api/v1/transparency/key")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["suite"] == "gm" and body["algorithm"] == "SM2-with-SM3"
    assert body["key_id"] == key.key_id
    assert load_public_key_any(body["public_key_pem"]) == key.public_key
    assert body["origin"].startswith("sunlit/")
    assert body["note_key_id"] == note.key_hash(body["origin"], key.public_key).hex()
    pem = client.get("/api/v1/transparency/key.pem")
    assert pem.status_code == 200 and pem.text == key.public_pem()


def test_checkpoint_endpoints(client: Any, db: Session, key: PlatformKey) -> None:
    _problem(
        client.get("/api/v1/transparency/checkpoints/latest"), 404, "transparency.no_checkpoint"
    )
    for n in range(3):
        note_something(db, BIDDER, n)
    cp = service.issue_checkpoint(db, SYSTEM, "开标", key=key)
    latest = client.get("/api/v1/transparency/checkpoints/latest").json()
    assert latest["tree_size"] == 3 == cp.tree_size
    assert latest["root_hash"] == base64.b64encode(cp.root_hash).decode()
    assert latest["reason"] == "开标"
    note.verify_checkpoint(latest["note"], key.public_key)
    text = client.get("/api/v1/transparency/checkpoints/latest.txt").text
    assert text == latest["note"]
    assert client.get("/api/v1/transparency/checkpoints/3").json()["note"] == text
    _problem(client.get("/api/v1/transparency/checkpoints/2"), 404, "not_found")
    assert [c["tree_size"] for c in client.get("/api/v1/transparency/checkpoints").json()] == [3]


def test_issue_via_api_needs_staff(client: Any, staff_token: str, key: PlatformKey) -> None:
    _problem(
        client.post("/api/v1/transparency/checkpoints", json={"reason": "定时"}),
        401,
        "auth.required",
    )
    r = client.post(
        "/api/v1/transparency/checkpoints",
        json={"reason": "定时"},
        headers={"Authorization": f"Bearer {staff_token}"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["tree_size"] > 0  # organization registration, password, login events
    note.verify_checkpoint(r.json()["note"], key.public_key)


def test_inclusion_proof_for_anyone_with_leaf_bytes_only_for_the_entitled(
    client: Any, db: Session, key: PlatformKey
) -> None:
    mine = note_something(db, BIDDER, 1)
    for n in range(4):
        note_something(db, OTHER_BIDDER, n)
    service.issue_checkpoint(db, SYSTEM, "定时", key=key)
    r = client.get("/api/v1/transparency/proofs/inclusion", params={"event_id": mine})
    assert r.status_code == 200, r.text
    bundle = r.json()
    assert (bundle["leafIdx"], bundle["treeSize"], bundle["eventId"]) == (0, 5, mine)
    assert bundle["leaf"] is None  # anonymous: only the hash
    result = bundles.verify_document(bundle, key.public_key)
    assert result.kind == "inclusion"
    # As the event's own actor the bytes are included, and verify with the hash.
    own = queries.inclusion(db, BIDDER, event_id=mine)
    assert own["leaf"] is not None
    assert json.loads(base64.b64decode(own["leaf"]))["id"] == mine
    bundles.verify_document(own, key.public_key)
    by_index = client.get(
        "/api/v1/transparency/proofs/inclusion", params={"leaf_index": 0, "tree_size": 5}
    ).json()
    assert by_index["proof"] == bundle["proof"]


@pytest.mark.parametrize(
    ("actor", "visible"),
    [
        (BIDDER, True),  # the event's own actor
        (SUPERVISOR, True),  # oversight sees the trail
        (SYSTEM, True),  # the platform (CLI export)
        (OTHER_BIDDER, False),
        (TENDERER, False),
        (ANONYMOUS, False),
    ],
)
def test_leaf_visibility_rule(db: Session, key: PlatformKey, actor: Actor, visible: bool) -> None:
    ev = note_something(db, BIDDER, 1)
    cp = service.issue_checkpoint(db, SYSTEM, "定时", key=key)
    view = queries.leaf_view(db, actor, event_id=ev)
    assert (view.leaf is not None) is visible
    assert len(view.leaf_hash) == 32
    # The issue of a checkpoint is a public record: anyone sees its leaf.
    issued = queries.leaf_view(db, actor, leaf_index=cp.tree_size)
    assert issued.leaf is not None


def test_consistency_proof_between_two_checkpoints(
    client: Any, db: Session, key: PlatformKey
) -> None:
    note_something(db, BIDDER, 1)
    first = service.issue_checkpoint(db, SYSTEM, "一", key=key)
    for n in range(9):
        note_something(db, BIDDER, n)
    second = service.issue_checkpoint(db, SYSTEM, "二", key=key)
    r = client.get(
        "/api/v1/transparency/proofs/consistency",
        params={"from": first.tree_size, "to": second.tree_size},
    )
    assert r.status_code == 200, r.text
    bundle = r.json()
    assert (bundle["size1"], bundle["size2"]) == (1, 11)
    assert bundle["checkpoint1"] and bundle["checkpoint2"]
    assert bundles.verify_document(bundle, key.public_key).kind == "consistency"
    default_to = client.get("/api/v1/transparency/proofs/consistency", params={"from": 1}).json()
    assert default_to == bundle


def test_proof_errors_are_precise(client: Any, db: Session, key: PlatformKey) -> None:
    ids = [note_something(db, BIDDER, n) for n in range(3)]
    url = "/api/v1/transparency/proofs/inclusion"
    _problem(client.get(url, params={"event_id": ids[0]}), 404, "transparency.no_checkpoint")
    service.issue_checkpoint(db, SYSTEM, "定时", key=key)  # size 3; its event is leaf 3
    body = _problem(
        client.get(url, params={"event_id": ids[0], "tree_size": 99}),
        422,
        "transparency.size_out_of_range",
    )
    assert "99" in body["detail"] and "4" in body["detail"]
    _problem(
        client.get(url, params={"event_id": ids[2], "tree_size": 2}),
        422,
        "transparency.index_beyond_size",
    )
    _problem(client.get(url, params={"leaf_index": 3}), 422, "transparency.not_yet_checkpointed")
    _problem(client.get(url, params={"event_id": "nope"}), 404, "transparency.leaf_not_found")
    _problem(client.get(url), 422, "transparency.leaf_selector")
    _problem(
        client.get("/api/v1/transparency/proofs/consistency", params={"from": 0, "to": 3}),
        422,
        "transparency.consistency_sizes",
    )
    _problem(
        client.get("/api/v1/transparency/proofs/consistency", params={"from": 3, "to": 2}),
        422,
        "transparency.consistency_sizes",
    )


@use_case
def _draw(db: Session, actor: Actor, reveal: dt.datetime) -> str:
    ev = audit.record(
        db, actor, "draws.experts.drawn", "draw", "d1", {"count": 2},
        sealed={"experts": ["张工", "李工"]}, reveal_after=reveal,
    )  # fmt: skip
    return ev.id


def test_sealed_opening_over_the_api(
    client: Any, db: Session, clock: ManualClock, key: PlatformKey
) -> None:
    event_id = _draw(db, SYSTEM, clock.now() + dt.timedelta(days=1))
    url = f"/api/v1/transparency/events/{event_id}/opening"
    body = _problem(client.get(url), 409, "transparency.sealed.not_yet")
    assert "之后方可公开" in body["detail"]
    _problem(
        client.get(f"/api/v1/transparency/events/{note_something(db, BIDDER, 1)}/opening"),
        404,
        "transparency.sealed.not_found",
    )
    clock.advance(dt.timedelta(days=1))
    r = client.get(url)
    assert r.status_code == 200, r.text
    opening = r.json()
    assert json.loads(base64.b64decode(opening["sealed"])) == {"experts": ["张工", "李工"]}
    assert bundles.verify_document(opening, key.public_key).kind == "opening"
    # The commitment is the one in the logged leaf.
    leaf = client.get(f"/api/v1/transparency/events/{event_id}/leaf").json()
    assert leaf["visible"] is False  # the leaf itself stays private (actor: the platform)
    service.issue_checkpoint(db, SYSTEM, "定时", key=key)
    own = queries.inclusion(db, SYSTEM, event_id=event_id)
    doc = json.loads(base64.b64decode(own["leaf"]))
    assert doc["sealed"]["commitment"] == opening["commitment"]


def test_public_pages_show_the_latest_checkpoint(
    client: Any, db: Session, key: PlatformKey
) -> None:
    page = client.get("/transparency")
    assert page.status_code == 200
    assert "如何验证一条记录" in page.text and "尚未签发检查点" in page.text
    assert key.key_id in page.text
    note_something(db, BIDDER, 1)
    cp = service.issue_checkpoint(db, SYSTEM, "开标 S1", key=key)
    root = base64.b64encode(cp.root_hash).decode()
    page = client.get("/transparency")
    assert root in page.text and "开标 S1" in page.text and "sunlit log verify" in page.text
    home = client.get("/")
    assert home.status_code == 200
    assert root in home.text and 'href="/transparency"' in home.text
