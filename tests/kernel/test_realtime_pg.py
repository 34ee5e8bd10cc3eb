"""Live events across processes: PostgreSQL LISTEN/NOTIFY behind the SSE hub.

Two ``Database`` objects on one PostgreSQL database stand for two app processes (two engines,
two hubs, two LISTEN connections): an event published through one reaches the subscribers of
the other, once, and not back to the publisher twice. SQLite keeps the in-memory hub."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from sunlit.kernel import realtime
from sunlit.kernel.db import Database


@pytest.fixture
def two(pg_database: Database) -> Iterator[tuple[realtime.PgNotifyHub, realtime.PgNotifyHub]]:
    first, second = Database(pg_database.url), Database(pg_database.url)
    a, b = realtime.attach(first.engine), realtime.attach(second.engine)
    assert isinstance(a, realtime.PgNotifyHub) and isinstance(b, realtime.PgNotifyHub)
    assert a is not b and realtime.attach(first.engine) is a
    try:
        yield a, b
    finally:
        a.close()
        b.close()
        first.dispose()
        second.dispose()


async def _listening(*hubs: realtime.PgNotifyHub) -> None:
    for hub in hubs:
        for _ in range(200):
            if hub.listening.is_set():
                break
            await asyncio.sleep(0.05)
        assert hub.listening.is_set(), "LISTEN connection did not come up"


def test_event_crosses_engines_once(
    two: tuple[realtime.PgNotifyHub, realtime.PgNotifyHub],
) -> None:
    a, b = two

    async def main() -> None:
        on_a, on_b = a.subscribe("opening:s1"), b.subscribe("opening:s1")
        elsewhere = b.subscribe("opening:s2")
        await _listening(a, b)
        loop = asyncio.get_running_loop()
        # Published from a worker thread, as use cases do after commit.
        event = {"type": "announced", "section": "s1", "state": "announced", "名": "唱标"}
        await loop.run_in_executor(None, lambda: a.publish("opening:s1", event))
        assert await on_b.get(10) == event
        assert await on_a.get(5) == event  # local delivery
        assert await on_a.get(0.5) is None  # ... and not again through its own NOTIFY echo
        assert await on_b.get(0.3) is None and await elsewhere.get(0.1) is None
        # The other way round.
        await loop.run_in_executor(None, lambda: b.publish("opening:s1", {"type": "draw"}))
        assert await on_a.get(10) == {"type": "draw"}

    asyncio.run(main())


def test_listener_reconnects_and_ignores_garbage(
    pg_database: Database, two: tuple[realtime.PgNotifyHub, realtime.PgNotifyHub]
) -> None:
    a, b = two

    async def main() -> None:
        sub = b.subscribe("t")
        await _listening(b)
        # Something else on the channel: ignored, the listener keeps going.
        with pg_database.engine.connect() as conn:
            for junk in ("not json", '{"o":1}', '{"o":"x","t":"t","e":[1]}'):
                conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": realtime.CHANNEL, "p": junk})
            conn.commit()
        assert await sub.get(0.5) is None
        assert b.listening.is_set()  # the garbage did not break the listener
        # Kill the LISTEN connection (a PostgreSQL restart, a proxy timeout): it comes back.
        with pg_database.engine.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE query = :q AND pid <> pg_backend_pid() AND datname = current_database()"
                ),
                {"q": f"LISTEN {realtime.CHANNEL}"},
            ).scalar_one()
            conn.commit()
        assert killed >= 1
        deadline = time.monotonic() + 10
        while b.listening.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await _listening(b)
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: a.publish("t", {"type": "after"})
        )
        assert await sub.get(10) == {"type": "after"}

    asyncio.run(main())


def test_hub_per_database_kind(database: Database) -> None:
    hub = realtime.attach(database.engine)
    if database.dialect == "sqlite":
        assert hub is realtime.hub()
    else:
        assert isinstance(hub, realtime.PgNotifyHub)
    assert realtime.hub_for(database.engine) is hub
    assert realtime.hub_for(None) is realtime.hub()


def test_opening_event_reaches_another_app_process(
    database: Database, client: Any, db: Any, clock: Any, tmp_path: Any
) -> None:
    """A real use case committed through one app (its engine) is seen by a subscriber of a
    second Database on the same database, as a second app process's hall would see it."""
    from tests.opening.hall_helpers import prepare
    from tests.projects.helpers import build_world

    world = build_world(db, tmp_path, bidders=0)
    p = prepare(client, db, world, clock, tmp_path, n=1)
    other = Database(database.url)
    hub = realtime.attach(other.engine)
    got: list[dict[str, Any] | None] = []
    ready = threading.Event()

    async def listen() -> None:
        sub = hub.subscribe(f"opening:{p.sid}")
        if isinstance(hub, realtime.PgNotifyHub):
            await _listening(hub)
        ready.set()
        got.append(await sub.get(15))
        hub.unsubscribe(sub)

    thread = threading.Thread(target=lambda: asyncio.run(listen()))
    thread.start()
    try:
        assert ready.wait(15)
        r = client.post(f"/api/v1/sections/{p.sid}/opening/start", headers=world.staff.headers)
        assert r.status_code == 200, r.text
        thread.join(20)
        assert got and got[0] is not None
        assert got[0]["type"] == "started" and got[0]["section"] == p.sid
    finally:
        hub.close()
        other.dispose()
