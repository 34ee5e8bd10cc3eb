"""Trusted clock and the Chinese working-day calendar (调休 included)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from sunlit.kernel import clock
from sunlit.kernel.clock import CHINA_TZ, CalendarUnavailable, ManualClock, WorkingCalendar


def test_manual_clock_is_installed_and_aware(clock: ManualClock) -> None:
    now = clock.now()
    assert now.tzinfo is not None and now.utcoffset() == dt.timedelta(hours=8)
    clock.advance(dt.timedelta(minutes=5))
    assert clock.now() - now == dt.timedelta(minutes=5)


def test_manual_clock_refuses_naive() -> None:
    with pytest.raises(ValueError):
        ManualClock().set(dt.datetime(2026, 1, 1))


def test_system_clock_is_shanghai() -> None:
    assert clock.SystemClock().now().tzinfo == CHINA_TZ


def test_national_day_and_adjusted_working_days_2025() -> None:
    cal = WorkingCalendar()
    assert not cal.is_workday(dt.date(2025, 10, 1))  # 国庆节
    assert not cal.is_workday(dt.date(2025, 10, 8))
    assert cal.is_workday(dt.date(2025, 9, 28))  # 调休上班 (a Sunday)
    assert cal.is_workday(dt.date(2025, 10, 11))  # 调休上班 (a Saturday)
    assert not cal.is_workday(dt.date(2025, 10, 12))  # an ordinary Sunday


def test_add_working_days_skips_the_golden_week() -> None:
    cal = WorkingCalendar()
    # From Tue 2025-09-30, five working days: 10-09, 10-10, 10-11(调休), 10-13, 10-14.
    assert cal.add_working_days(dt.date(2025, 9, 30), 5) == dt.date(2025, 10, 14)
    assert cal.working_days_between(dt.date(2025, 9, 30), dt.date(2025, 10, 14)) == 5
    assert cal.add_working_days(dt.date(2025, 9, 30), 0) == dt.date(2025, 9, 30)


def test_unknown_year_is_refused_not_guessed() -> None:
    cal = WorkingCalendar()
    with pytest.raises(CalendarUnavailable) as info:
        cal.is_workday(dt.date(2099, 5, 1))
    assert "2099" in info.value.detail


def test_center_supplied_year(tmp_path: Path) -> None:
    path = tmp_path / "cal.json"
    path.write_text(
        json.dumps({"years": [2099], "holidays": ["2099-01-01"], "workdays": ["2099-01-03"]})
    )
    cal = WorkingCalendar.from_file(path)
    assert not cal.is_workday(dt.date(2099, 1, 1))  # a Thursday, declared a holiday
    assert cal.is_workday(dt.date(2099, 1, 3))  # a Saturday, declared a working day
    assert cal.is_workday(dt.date(2099, 1, 2))
    assert not cal.is_workday(dt.date(2099, 1, 4))
