"""The trusted clock (Asia/Shanghai) and the Chinese working-day calendar.

All time in Sunlit comes from here. Production uses :class:`SystemClock`; tests inject a
:class:`ManualClock`. Deadlines are checked against ``clock.now()`` inside the transaction
that commits the change (house rule 5).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import chinese_calendar

from sunlit.kernel.errors import DomainError

CHINA_TZ = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, timezone-aware, in Asia/Shanghai."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(CHINA_TZ)


class ManualClock:
    """A clock for tests and demos that only moves when told to."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = (start or dt.datetime.now(CHINA_TZ)).astimezone(CHINA_TZ)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def set(self, when: dt.datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("ManualClock.set needs an aware datetime")
        with self._lock:
            self._now = when.astimezone(CHINA_TZ)

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        with self._lock:
            self._now = self._now + delta
            return self._now


_clock: Clock = SystemClock()


def get_clock() -> Clock:
    return _clock


def set_clock(clock: Clock) -> Clock:
    """Install ``clock`` process-wide; returns the previous one (tests restore it)."""
    global _clock
    previous, _clock = _clock, clock
    return previous


def now() -> dt.datetime:
    return _clock.now()


def today() -> dt.date:
    return _clock.now().date()


def ensure_aware(value: dt.datetime) -> dt.datetime:
    """Treat naive datetimes (as SQLite returns them) as UTC and convert to China time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(CHINA_TZ)


class CalendarUnavailable(DomainError):
    status = 503


@dataclass
class WorkingCalendar:
    """Chinese statutory working days, 调休 included.

    Data comes from the maintained ``chinese_calendar`` package. For a year the package does
    not know yet (the State Council publishes each year's arrangement in November or
    December), a trading center supplies the year in a JSON file
    ``{"holidays": ["2027-01-01", ...], "workdays": ["2027-02-07", ...], "years": [2027]}``.
    A date in a year known to neither source is refused: guessing a statutory period is worse
    than saying we cannot compute it.
    """

    extra_holidays: set[dt.date] = field(default_factory=set)
    extra_workdays: set[dt.date] = field(default_factory=set)
    extra_years: set[int] = field(default_factory=set)

    @classmethod
    def from_file(cls, path: Path | None) -> WorkingCalendar:
        if path is None:
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        holidays = {dt.date.fromisoformat(d) for d in data.get("holidays", [])}
        workdays = {dt.date.fromisoformat(d) for d in data.get("workdays", [])}
        years = set(data.get("years", [])) | {d.year for d in holidays | workdays}
        return cls(holidays, workdays, years)

    def is_workday(self, day: dt.date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        if day.year in self.extra_years:
            return day.weekday() < 5
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError as exc:
            raise CalendarUnavailable(
                "calendar.year_unavailable",
                "{year}年的法定节假日安排尚未载入工作日历，无法计算工作日期限，请联系交易中心维护",
                year=day.year,
            ) from exc

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The date that is ``days`` working days after ``start`` (``start`` not counted)."""
        if days < 0:
            raise ValueError("days must be >= 0")
        current, counted = start, 0
        while counted < days:
            current += dt.timedelta(days=1)
            if self.is_workday(current):
                counted += 1
        return current

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end], i.e. counting from the day after ``start``."""
        count, current = 0, start
        while current < end:
            current += dt.timedelta(days=1)
            if self.is_workday(current):
                count += 1
        return count


def add_calendar_days(start: dt.date, days: int) -> dt.date:
    return start + dt.timedelta(days=days)
