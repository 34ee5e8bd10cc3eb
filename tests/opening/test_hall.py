"""The opening hall: the in-memory SSE hub, events published after commit only, the page
with each role's view and actions, bidder sign-in."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from sunlit.kernel import realtime
from sunlit.kernel.authz import system_actor
from sunlit.kernel.clock import ManualClock
from sunlit.kernel.errors import DomainError
from sunlit.opening import service
from tests.opening.hall_helpers import prepare
from tests.projects.helpers import World, build_world


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    return build_world(db, tmp_path, bidders=0)


def test_hub_fan_out_thread_safe_and_bounded() -> None:
    async def main() -> None:
        hub = realtime.Hub(queue_size=3)
        a, b = hub.subscribe("t"), hub.subscribe("t")
        other = hub.subscribe("u")
        loop = asyncio.get_running_loop()
        # publish from another thread (sync use case code)
        await loop.run_in_executor(None, hub.publish, "t", {"type": "x", "n": 1})
        assert await a.get(1) == {"type": "x", "n": 1}
        assert await b.get(1) == {"type": "x", "n": 1}
        assert await other.get(0.05) is None
        for n in range(5):  # a slow client keeps the newest events
            hub.publish("t", {"type": "x", "n": n})
        await asyncio.sleep(0.01)
        assert [(await a.get(1) or {})["n"] for _ in range(3)] == [2, 3, 4]
        assert a.dropped == 2
        hub.unsubscribe(a)
        hub.unsubscribe(b)
        assert hub.subscribers("t") == 0 and hub.subscribers("u") == 1

    asyncio.run(main())


def test_sse_stream_heartbeat_and_event_format() -> None:
    async def main() -> list[str]:
        hub = realtime.Hub()

        async def never() -> bool:
            return False

        gen = realtime.sse_stream("t", never, heartbeat=0.05, target=hub)
        out = [await gen.__anext__()]
        out.append(await gen.__anext__())  # heartbeat
        hub.publish("t", {"type": "announced", "section": "s"})
        out.append(await gen.__anext__())
        await gen.aclose()
        assert hub.subscribers("t") == 0
        return out

    first, beat, event = asyncio.run(main())
    assert first.startswith("retry:") and beat == ": heartbeat\n\n"
    assert event.startswith("event: announced\ndata: {") and event.endswith("\n\n")


def _collect(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    seen: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(realtime, "publish", lambda t, e, **kw: seen.append((t, e)) or 1)
    return seen


def test_events_after_commit_only_and_hall_flow(
    client: Any,
    db: Session,
    world: World,
    clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = prepare(client, db, world, clock, tmp_path, n=3)
    seen = _collect(monkeypatch)
    # A refused use case (rolled back) publishes nothing.
    with pytest.raises(DomainError):
        service.terminate(db, system_actor("test"), p.sid, "   ")
    assert seen == []
    # Page before the start: staff sees the start button; a bidder none; nobody sees prices.
    page = client.get(f"/opening/{p.sid}", headers=world.staff.headers)
    assert page.status_code == 200 and 'data-testid="start"' in page.text
    bidder = p.bidders[0]
    page = client.get(f"/opening/{p.sid}", headers=bidder.headers)
    assert 'data-testid="start"' not in page.text

    client.follow_redirects = False
    client.cookies.set("sunlit_csrf", "tok")
    form = {"csrf_token": "tok"}
    r = client.post(f"/opening/{p.sid}/start", data=form, headers=bidder.headers)
    assert r.status_code == 403 and seen == []
    r = client.post(f"/opening/{p.sid}/start", data=form, headers=world.staff.headers)
    assert r.status_code == 303, r.text
    assert seen[-1][0] == f"opening:{p.sid}" and seen[-1][1]["type"] == "started"
    assert seen[-1][1]["state"] == "started"

    # Bidder sign-in (once), visible to everyone.
    r = client.post(f"/opening/{p.sid}/sign-in", data=form, headers=bidder.headers)
    assert r.status_code == 303
    r = client.post(f"/opening/{p.sid}/sign-in", data=form, headers=bidder.headers)
    assert r.status_code == 409 and "已签到" in r.text
    r = client.post(f"/opening/{p.sid}/sign-in", data=form, headers=world.staff.headers)
    assert r.status_code == 403
    assert seen[-1][1]["type"] == "signed_in"
    parts = client.get(f"/opening/{p.sid}/parts", headers=world.tenderer.headers).text
    assert bidder.name in parts and 'data-testid="decrypt-tenderer"' in parts

    # Wrong passphrase: an error on the page, nothing published.
    before = len(seen)
    r = client.post(
        f"/opening/{p.sid}/decrypt",
        data={**form, "role": "tenderer", "passphrase": "WRONG-1"},
        headers=world.agency.headers,
    )
    assert r.status_code == 422 and before == len(seen)
    for role, party in (("tenderer", world.agency), ("center", world.staff)):
        r = client.post(
            f"/opening/{p.sid}/decrypt",
            data={**form, "role": role, "passphrase": p.passes[role]},
            headers=party.headers,
        )
        assert r.status_code == 303, r.text
    assert [e["type"] for _, e in seen[-2:]] == ["decrypted", "announced"]
    for _, event in seen:
        assert set(event) <= {"type", "section", "state", "role", "bids", "insufficient"}
    page = client.get(f"/opening/{p.sid}", headers=bidder.headers).text
    assert 'data-testid="announced"' in page
    for price in p.prices.values():
        whole = f"{int(price.split('.')[0]):,}"
        assert whole in page
    assert "壹仟贰佰叁拾肆万伍仟元伍角" in page  # 12,345,000.50 in 大写

    # Supervisor value, record, confirm through the page; the record downloads.
    from sunlit.kernel.authz import Role
    from tests.projects.helpers import _party

    sup = _party(db, None, 598, "监督科", [Role.SUPERVISOR], "孙红")
    r = client.post(
        f"/opening/{p.sid}/supervisor-value", data={**form, "value": "42"}, headers=sup.headers
    )
    assert r.status_code == 303, r.text
    r = client.post(
        f"/api/v1/sections/{p.sid}/opening/draw",
        json={"center_value": p.center.value.hex(), "center_salt": p.center.salt.hex()},
        headers=world.staff.headers,
    )
    assert r.status_code == 200, r.text
    r = client.post(f"/opening/{p.sid}/record", data=form, headers=world.staff.headers)
    assert r.status_code == 409 and "确认期至" in r.text  # bidders may still confirm or object
    clock.advance(service.CONFIRM_WINDOW + dt.timedelta(seconds=1))
    r = client.post(f"/opening/{p.sid}/record", data=form, headers=world.staff.headers)
    assert r.status_code == 303, r.text
    r = client.post(f"/opening/{p.sid}/confirm", data=form, headers=world.tenderer.headers)
    assert r.status_code == 303, r.text
    assert seen[-1][1] == {"type": "confirmed", "section": p.sid, "state": "closed"}
    page = client.get(f"/opening/{p.sid}", headers=bidder.headers).text
    assert "record.pdf" in page and "招标人已确认" in page


def test_events_endpoint_requires_login(client: Any) -> None:
    assert client.get("/opening/nope/events", follow_redirects=False).status_code in (303, 401)
