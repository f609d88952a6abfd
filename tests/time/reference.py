"""Plain-Python references for the time tests: week bucketing, local time, elapsed windows.

Written independently of metrics_layer/grain.py (walks day by day instead of modular
arithmetic) so that a mistake in one is caught by the other.
"""

from __future__ import annotations

import datetime as _dt
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")


def week_start_of(day: _dt.date, week_start: int) -> _dt.date:
    """The last day on or before `day` whose weekday is `week_start` (0 = Monday)."""
    while day.weekday() != week_start:
        day -= _dt.timedelta(days=1)
    return day


def local(moment: _dt.datetime, zone: str) -> _dt.datetime:
    """Wall-clock time in `zone` of a naive UTC datetime."""
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def utc_of(wall: _dt.datetime, zone: str) -> _dt.datetime:
    """Naive UTC datetime of a wall-clock time in `zone` (the earlier one when ambiguous)."""
    return wall.replace(tzinfo=ZoneInfo(zone), fold=0).astimezone(UTC).replace(tzinfo=None)


def day_of(moment: _dt.datetime) -> _dt.datetime:
    return _dt.datetime(moment.year, moment.month, moment.day)


def month_of(moment: _dt.datetime) -> _dt.datetime:
    return _dt.datetime(moment.year, moment.month, 1)
