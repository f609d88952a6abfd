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


# --------------------------------------------------------------------------- retail calendars
_PATTERNS = {"4-4-5": [4, 4, 5], "4-5-4": [4, 5, 4], "5-4-4": [5, 4, 4]}


def retail_year_end(year: int, month: int, weekday: int, rule: str) -> _dt.date:
    """By search: the `weekday` nearest to (or last on or before) the month's last day."""
    nxt = _dt.date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - _dt.timedelta(days=1)
    if rule == "last":
        day = last
        while day.weekday() != weekday:
            day -= _dt.timedelta(days=1)
        return day
    near = [
        last + _dt.timedelta(days=k)
        for k in range(-3, 4)
        if (last + _dt.timedelta(days=k)).weekday() == weekday
    ]
    assert len(near) == 1
    return near[0]


def retail_attributes(
    day: _dt.date, pattern: str, month: int, weekday: int, rule: str, label: str = "start"
) -> dict[str, object]:
    """Fiscal year label, quarter, month, week and the first days of each, for one day."""
    closing = day.year - 1
    while retail_year_end(closing, month, weekday, rule) < day:
        closing += 1
    first = retail_year_end(closing - 1, month, weekday, rule) + _dt.timedelta(days=1)
    last = retail_year_end(closing, month, weekday, rule)
    n_weeks = ((last - first).days + 1) // 7
    week = (day - first).days // 7 + 1
    lengths = _PATTERNS[pattern] * 4
    lengths[-1] += n_weeks - 52
    m, done = 1, 0
    while week > done + lengths[m - 1]:
        done += lengths[m - 1]
        m += 1
    quarter = (m - 1) // 3 + 1
    q_weeks = sum(lengths[: 3 * (quarter - 1)])
    return {
        "year": closing - 1 if label == "start" and month != 12 else closing,
        "n_weeks": n_weeks,
        "quarter": quarter,
        "month": m,
        "week": week,
        "year_start": first,
        "quarter_start": first + _dt.timedelta(weeks=q_weeks),
        "month_start": first + _dt.timedelta(weeks=done),
        "week_start": first + _dt.timedelta(weeks=week - 1),
    }
