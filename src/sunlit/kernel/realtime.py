"""Live updates: an in-memory Server-Sent Events hub (topic → subscribers).

* Use cases publish *after commit* (``kernel.db.after_commit``), from synchronous code in any
  thread: :meth:`Hub.publish` hands the event to each subscriber's event loop with
  ``loop.call_soon_threadsafe``. A rolled-back use case publishes nothing.
* Each subscriber has a bounded queue; a slow client loses its *oldest* events, never blocks
  the publisher (pages reload the changed parts, so only the latest state matters).
* :func:`sse_stream` yields the ``text/event-stream`` body with a heartbeat comment every
  ``heartbeat`` seconds, which keeps proxies from closing an idle connection.
* Events are small public notices ({type, section, state, ...}); never secrets.

This hub lives in one process. Several app processes need a shared backend (PostgreSQL
LISTEN/NOTIFY) that forwards each published event to every process's hub (not built yet,
see ADR 0010).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

QUEUE_SIZE: Final = 64
HEARTBEAT_SECONDS: Final = 15.0


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


_hub = Hub()


def hub() -> Hub:
    return _hub


def publish(topic: str, event: dict[str, Any]) -> int:
    return _hub.publish(topic, event)


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
