"""Grain: the one definition of a calendar period (hour … year), in ibis and in Python.

Every analysis buckets time through a `Grain`: KPI grains and spines, cumulative and offset
metrics, retention periods, funnel conversion over time and validation series. A grain knows
its period start (`floor` for an ibis value, `floor_literal` for a Python datetime), its step
(`interval`, `next`, `shift`), an integer period index (`index`, used by retention so that
"period k" is a subtraction) and a short label. Weeks start on any weekday (`week_start`,
Monday by default): the floor shifts the value back by the start's distance from Monday,
truncates to the ISO (Monday) week and shifts forward again, which is exact on every engine
because only whole days move and `date_trunc('week')` is Monday-based everywhere.

This module depends on nothing else in the package, so definitions, planner, compile and
analyses all import it (see tests/dialects/test_imports.py).
"""

from __future__ import annotations

import calendar as _calendar
import datetime as _dt
from dataclasses import dataclass
from typing import Any

WEEKDAYS: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
GRAIN_NAMES: tuple[str, ...] = ("hour", "day", "week", "month", "quarter", "year")
_EPOCH = _dt.date(1970, 1, 1)
_FIRST_MONDAY = 4  # 1970-01-05, the first Monday after the epoch, is day 4


class GrainError(ValueError):
    """A bad grain or weekday name (callers turn it into their own MetricsLayerError)."""


def _suggest(name: str, options: tuple[str, ...]) -> str:
    import difflib

    close = difflib.get_close_matches(name.lower(), options, n=3, cutoff=0.5)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


def weekday_number(value: str | int | None) -> int:
    """0 = Monday … 6 = Sunday, from a weekday name ('sunday', 'Sun') or that number."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise GrainError(f"week_start must be a weekday name such as 'sunday', got {value!r}")
    if isinstance(value, int):
        if 0 <= value <= 6:
            return value
        raise GrainError(f"week_start must be 0 (Monday) … 6 (Sunday), got {value}")
    text = value.strip().lower()
    for i, day in enumerate(WEEKDAYS):
        if text == day or (len(text) >= 3 and day.startswith(text)):
            return i
    raise GrainError(
        f"unknown weekday {value!r}{_suggest(text, WEEKDAYS)}; use one of monday … sunday"
    )


@dataclass(frozen=True)
class Grain:
    """A calendar period. `months` > 0 for month/quarter/year, else `seconds` is its length."""

    name: str
    unit: str  # ibis truncate unit
    months: int = 0
    seconds: int = 0
    week_start: int = 0  # 0 = Monday … 6 = Sunday; used by the week grain only

    # ------------------------------------------------------------------ construction
    @classmethod
    def of(cls, value: str | Grain, week_start: str | int | None = None) -> Grain:
        """The grain named `value` ('week', 'Month'); a Grain is returned as is unless a
        week start is given, which then replaces its own."""
        if isinstance(value, Grain):
            base = value
        else:
            if not isinstance(value, str):
                raise GrainError(f"grain must be a name such as 'month', got {value!r}")
            try:
                base = _BASE[value.strip().lower()]
            except KeyError:
                raise GrainError(
                    f"unknown grain {value!r}{_suggest(value, GRAIN_NAMES)}; "
                    f"use one of {', '.join(GRAIN_NAMES)}"
                ) from None
        if week_start is None or base.name != "week":
            return base
        from dataclasses import replace

        return replace(base, week_start=weekday_number(week_start))

    def __str__(self) -> str:
        return self.name

    @property
    def order(self) -> int:
        """Position from finest (hour) to coarsest (year)."""
        return GRAIN_NAMES.index(self.name)

    @property
    def fixed(self) -> bool:
        """Whether every period has the same length in local time (hour, day, week)."""
        return self.months == 0

    @property
    def week_start_name(self) -> str:
        return WEEKDAYS[self.week_start]

    def describe(self) -> str:
        """'month', or 'week (starting sunday)' when the week does not start on Monday."""
        if self.name == "week" and self.week_start:
            return f"week (starting {self.week_start_name})"
        return self.name

    # ------------------------------------------------------------------ ibis
    def interval(self, n: int = 1) -> Any:
        """n periods as an ibis interval (weeks as 7 days, quarters as 3 months)."""
        import ibis

        if self.months:
            return ibis.interval(months=n * self.months)
        if self.name == "hour":
            return ibis.interval(hours=n)
        return ibis.interval(days=n * self.seconds // 86400)

    def floor(self, value: Any) -> Any:
        """Start of the period holding an ibis date or timestamp (same type as `value`)."""
        typ = value.type()
        if typ.is_date() and self.name == "hour":
            raise GrainError("grain 'hour' needs a timestamp time column, not a date")
        if self.name == "week" and self.week_start:
            import ibis

            days = ibis.interval(days=self.week_start)
            return (value - days).truncate("W") + days
        return value.truncate(self.unit)

    def bucket(self, value: Any) -> Any:
        """The period start as a timestamp (dates become midnight), the result-column type."""
        import ibis.expr.datatypes as dt

        start = self.floor(value)
        return start.cast(dt.timestamp) if value.type().is_date() else start

    def index(self, value: Any) -> Any:
        """Whole periods since a fixed origin, as an integer (retention's period numbers).

        Months count year*12 + month - 1, quarters year*4 + quarter - 1, days the days since
        1970-01-01 and weeks floor((days - first start day) / 7), where the first start day is
        the first week start after the epoch; hours are days*24 + hour.
        """
        import ibis.expr.datatypes as dt

        if self.months:
            year = value.year().cast(dt.int64)
            if self.name == "year":
                return year
            if self.name == "month":
                return year * 12 + value.month().cast(dt.int64) - 1
            return year * 4 + value.quarter().cast(dt.int64) - 1
        day = value if value.type().is_date() else value.date()
        days = day.epoch_days().cast(dt.int64)
        if self.name == "day":
            return days
        if self.name == "hour":
            return days * 24 + value.hour().cast(dt.int64)
        return (days - (_FIRST_MONDAY + self.week_start)) // 7

    # ------------------------------------------------------------------ Python
    def floor_literal(self, moment: _dt.datetime | _dt.date) -> _dt.datetime:
        """Start of the period holding a naive local datetime (or a date)."""
        if not isinstance(moment, _dt.datetime):
            moment = _dt.datetime(moment.year, moment.month, moment.day)
        if self.name == "hour":
            return moment.replace(minute=0, second=0, microsecond=0)
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        if self.name == "day":
            return day
        if self.name == "week":
            return day - _dt.timedelta(days=(day.weekday() - self.week_start) % 7)
        if self.name == "month":
            return day.replace(day=1)
        if self.name == "quarter":
            return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
        return day.replace(month=1, day=1)

    def shift(self, moment: _dt.datetime, n: int = 1) -> _dt.datetime:
        """`moment` moved by n periods; months clamp to the month's end (Jan 31 + 1 month =
        Feb 29), fixed grains move by whole local days or hours."""
        if self.months:
            return add_months(moment, n * self.months)
        return moment + _dt.timedelta(seconds=n * self.seconds)

    def next(self, moment: _dt.datetime) -> _dt.datetime:
        """Start of the period after the one holding `moment`."""
        return self.shift(self.floor_literal(moment), 1)

    def index_literal(self, moment: _dt.datetime | _dt.date) -> int:
        """The same index as `index` for a Python date or naive local datetime."""
        d = moment.date() if isinstance(moment, _dt.datetime) else moment
        if self.name == "year":
            return d.year
        if self.name == "month":
            return d.year * 12 + d.month - 1
        if self.name == "quarter":
            return d.year * 4 + (d.month - 1) // 3
        days = (d - _EPOCH).days
        if self.name == "day":
            return days
        if self.name == "hour":
            hour = moment.hour if isinstance(moment, _dt.datetime) else 0
            return days * 24 + hour
        return (days - (_FIRST_MONDAY + self.week_start)) // 7

    def label(self, value: Any) -> str:
        """Short label of a period start: 2024-03-04 (day/week), 2024-03, 2024-Q1, 2024."""
        import pandas as pd

        ts = pd.Timestamp(value)
        if pd.isna(ts):
            return "NULL"
        if self.name == "month":
            return f"{ts.year}-{ts.month:02d}"
        if self.name == "quarter":
            return f"{ts.year}-Q{(ts.month - 1) // 3 + 1}"
        if self.name == "year":
            return f"{ts.year}"
        if self.name == "hour":
            return f"{ts.year}-{ts.month:02d}-{ts.day:02d} {ts.hour:02d}:00"
        return f"{ts.year}-{ts.month:02d}-{ts.day:02d}"


def add_months(moment: _dt.datetime, months: int) -> _dt.datetime:
    """A datetime moved by whole months, the day clamped to the target month's length."""
    total = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(total, 12)
    day = min(moment.day, _calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


_BASE: dict[str, Grain] = {
    "hour": Grain("hour", "h", seconds=3600),
    "day": Grain("day", "D", seconds=86400),
    "week": Grain("week", "W", seconds=7 * 86400),
    "month": Grain("month", "M", months=1),
    "quarter": Grain("quarter", "Q", months=3),
    "year": Grain("year", "Y", months=12),
}
