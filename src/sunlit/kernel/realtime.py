"""Live updates: an in-memory Server-Sent Events hub (topic → subscribers).

* Use cases publish *after commit* (``kernel.db.after_commit``), from synchronous code in any
  thread: :meth:`Hub.publish` hands the event to each subscriber's event loop with
  ``loop.call_soon_threadsafe``. A rolled-back use case publishes nothing.
* Each subscriber has a bounded queue; a slow client loses its *oldest* events, never blocks
  the publisher (pages reload the changed parts, so only the latest state matters).
* :func:`sse_stream` yields the ``text/event-stream`` body with a heartbeat comment every
  ``heartbeat`` seconds, which keeps proxies from closing an idle connection.
* Events are small public notices ({type, section, state, ...}); never secrets.

Across processes (several app processes on one PostgreSQL): :class:`PgNotifyHub` delivers
each event to its own process's subscribers at once and sends it with ``pg_notify`` on the
channel ``sunlit_live``; every other process's hub LISTENs on that channel (one dedicated
connection per hub, started with the first subscriber) and hands the event to its local
subscribers. Each hub tags what it sends with a random origin and ignores its own echo.
:func:`attach` picks the hub for a database: PostgreSQL → ``PgNotifyHub``, anything else
(SQLite: one process) → the in-memory hub. See ADR 0010.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

QUEUE_SIZE: Final = 64
HEARTBEAT_SECONDS: Final = 15.0
CHANNEL: Final = "sunlit_live"
NOTIFY_MAX_BYTES: Final = 7900  # PostgreSQL refuses payloads of 8000 bytes and more
RECONNECT_SECONDS: Final = 1.0

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Subscription:
    topic: str
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[dict[str, Any]]
    dropped: int = field(default=0)

    def _offer(self, event: dict[str, Any]) -> None:  # runs on the subscriber's loop
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)

    async def get(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next event, or ``None`` after ``timeout`` seconds without one."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None


class Hub:
    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self.queue_size = queue_size
        self._lock = threading.Lock()
        self._topics: dict[str, set[Subscription]] = {}

    def subscribe(self, topic: str) -> Subscription:
        """Subscribe from inside a running event loop."""
        sub = Subscription(topic, asyncio.get_running_loop(), asyncio.Queue(self.queue_size))
        with self._lock:
            self._topics.setdefault(topic, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._topics.get(sub.topic)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._topics[sub.topic]

    def subscribers(self, topic: str) -> int:
        with self._lock:
            return len(self._topics.get(topic, ()))

    def publish(self, topic: str, event: dict[str, Any]) -> int:
        """Thread-safe; returns the number of subscribers the event was handed to."""
        with self._lock:
            subs = list(self._topics.get(topic, ()))
        sent = 0
        for sub in subs:
            with contextlib.suppress(RuntimeError):  # that subscriber's loop is closed
                sub.loop.call_soon_threadsafe(sub._offer, dict(event))
                sent += 1
        return sent

    def close(self) -> None:
        """Release what the hub holds outside the process (nothing for the in-memory hub)."""


class PgNotifyHub(Hub):
    """A hub whose events also reach the hubs of other processes through PostgreSQL
    LISTEN/NOTIFY on one database (``engine``: where to NOTIFY; ``conninfo``: the libpq
    connection string of the listening connection)."""

    def __init__(self, engine: Engine, conninfo: str, queue_size: int = QUEUE_SIZE) -> None:
        super().__init__(queue_size)
        self.origin = secrets.token_hex(8)
        self.listening = threading.Event()  # set while the LISTEN connection is up
        self._engine = engine
        self._conninfo = conninfo
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def subscribe(self, topic: str) -> Subscription:
        sub = super().subscribe(topic)
        self.start()
        return sub

    def start(self) -> None:
        """Start listening (idempotent; also after :meth:`close`)."""
        with self._start_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._listen, name=f"sunlit-live-{self.origin}", daemon=True
            )
            self._thread.start()

    def close(self) -> None:
        with self._start_lock:
            thread, self._thread = self._thread, None
            self._stop.set()
        if thread is not None:
            thread.join(timeout=5)

    def publish(self, topic: str, event: dict[str, Any]) -> int:
        """Deliver locally now, then NOTIFY the other processes (after the use case's commit:
        if PostgreSQL is unreachable at that instant, only other processes miss the event)."""
        sent = super().publish(topic, event)
        payload = json.dumps(
            {"o": self.origin, "t": topic, "e": event}, ensure_ascii=False, separators=(",", ":")
        )
        if len(payload.encode("utf-8")) > NOTIFY_MAX_BYTES:
            log.warning("live event on %s too large for NOTIFY; sent to this process only", topic)
            return sent
        try:
            with self._engine.connect() as conn:
                conn.execute(
                    text("SELECT pg_notify(:channel, :payload)"),
                    {
                        "channel": CHANNEL,
                        "payload": payload,
                    },
                )
                conn.commit()
        except SQLAlchemyError as exc:
            log.warning("live event on %s not relayed to other processes: %s", topic, exc)
        return sent

    def _relay(self, payload: str) -> None:
        try:
            message = json.loads(payload)
            origin, topic, event = message["o"], message["t"], message["e"]
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed live event on channel %s", CHANNEL)
            return
        if origin == self.origin or not isinstance(topic, str) or not isinstance(event, dict):
            return
        Hub.publish(self, topic, event)

    def _listen(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._relay(note.payload)
            except (psycopg.Error, OSError) as exc:
                log.warning("live events: LISTEN connection lost (%s); reconnecting", exc)
            finally:
                self.listening.clear()
            self._stop.wait(RECONNECT_SECONDS)


_hub = Hub()
_hubs: weakref.WeakKeyDictionary[Engine, Hub] = weakref.WeakKeyDictionary()
_hubs_lock = threading.Lock()


def hub() -> Hub:
    """The in-memory hub of this process (used for SQLite and when nothing is attached)."""
    return _hub


def libpq_conninfo(engine: Engine) -> str:
    """The libpq URL of an engine's database (for a raw psycopg connection)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def attach(engine: Engine) -> Hub:
    """The hub of a database, created once per engine: PostgreSQL LISTEN/NOTIFY for
    PostgreSQL, the in-memory hub otherwise."""
    if engine.dialect.name != "postgresql":
        return _hub
    with _hubs_lock:
        found = _hubs.get(engine)
        if found is None:
            found = _hubs[engine] = PgNotifyHub(engine, libpq_conninfo(engine))
        return found


def hub_for(bind: Any) -> Hub:
    """The hub attached to ``bind`` (an Engine, a Connection, or None), else the in-memory one."""
    engine = getattr(bind, "engine", bind)
    if engine is None:
        return _hub
    with _hubs_lock:
        return _hubs.get(engine, _hub)


def publish(topic: str, event: dict[str, Any], *, bind: Any = None) -> int:
    """Publish on the hub of ``bind``'s database (see :func:`attach`)."""
    return hub_for(bind).publish(topic, event)


def format_event(event: dict[str, Any]) -> str:
    name = str(event.get("type", "message")).replace("\n", " ")
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    return f"event: {name}\ndata: {data}\n\n"


async def sse_stream(
    topic: str,
    is_disconnected: Callable[[], Awaitable[bool]],
    *,
    heartbeat: float = HEARTBEAT_SECONDS,
    target: Hub | None = None,
) -> AsyncIterator[str]:
    """The body of a ``text/event-stream`` response for ``topic``."""
    h = target or _hub
    sub = h.subscribe(topic)
    try:
        yield f"retry: 3000\n: subscribed {topic}\n\n"
        while True:
            event = await sub.get(timeout=heartbeat)
            if await is_disconnected():
                break
            yield ": heartbeat\n\n" if event is None else format_event(event)
    finally:
        h.unsubscribe(sub)
