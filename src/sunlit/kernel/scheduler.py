"""Periodic jobs run inside an app process (e.g. scheduled transparency checkpoints).

Jobs must be safe to run in several processes at once: each does its work in a use case that
takes the locks it needs and treats "someone else already did it" as success.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("sunlit.scheduler")


@dataclass(frozen=True)
class Job:
    name: str
    interval_seconds: float
    run: Callable[[], None]


class Scheduler:
    """Runs each job every ``interval_seconds`` on one daemon thread until stopped."""

    def __init__(self, jobs: list[Job]) -> None:
        self.jobs = jobs
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self.jobs or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="sunlit-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        tick = min(job.interval_seconds for job in self.jobs)
        elapsed = {job.name: 0.0 for job in self.jobs}
        while not self._stop.wait(tick):
            for job in self.jobs:
                elapsed[job.name] += tick
                if elapsed[job.name] + 1e-9 < job.interval_seconds:
                    continue
                elapsed[job.name] = 0.0
                try:
                    job.run()
                except Exception:  # a failing job must not stop the others
                    log.exception("scheduled job %s failed", job.name)
