"""Calendar periods of retention as integers, so `k` is a subtraction on every backend.

A period index counts whole periods since a fixed origin: months as year*12 + month, quarters
as year*4 + quarter, days as days since 1970-01-01 and ISO weeks (Monday first) as
floor((days - 4) / 7), 1970-01-05 being a Monday. The same formulas exist in Python for
literal bounds, so a bound and a row are always placed in a period the same way.
"""

from __future__ import annotations

import datetime as _dt

import ibis.expr.datatypes as dt
import ibis.expr.types as ir

PERIODS: tuple[str, ...] = ("day", "week", "month", "quarter")
_EPOCH = _dt.date(1970, 1, 1)
_MONDAY_OFFSET = 4  # 1970-01-05, the first Monday after the epoch, is day 4


def period_index(local: ir.Value, period: str) -> ir.IntegerValue:
    """Whole periods since the origin of a local timestamp or date (portable ibis ops only)."""
    if period in ("month", "quarter"):
        year = local.year().cast(dt.int64)
        if period == "month":
            return year * 12 + local.month().cast(dt.int64) - 1
        return year * 4 + local.quarter().cast(dt.int64) - 1
    day = local if local.type().is_date() else local.date()
    days = day.epoch_days().cast(dt.int64)
    if period == "day":
        return days
    return (days - _MONDAY_OFFSET) // 7


def py_period_index(value: _dt.datetime | _dt.date, period: str) -> int:
    """The same index for a Python date or naive local datetime."""
    d = value.date() if isinstance(value, _dt.datetime) else value
    if period == "month":
        return d.year * 12 + d.month - 1
    if period == "quarter":
        return d.year * 4 + (d.month - 1) // 3
    days = (d - _EPOCH).days
    return days if period == "day" else (days - _MONDAY_OFFSET) // 7


def py_period_start(value: _dt.datetime, period: str) -> _dt.datetime:
    """First instant of the period holding `value` (naive local time)."""
    d = value.date()
    if period == "week":
        d -= _dt.timedelta(days=d.weekday())
    elif period == "month":
        d = d.replace(day=1)
    elif period == "quarter":
        d = d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1)
    return _dt.datetime(d.year, d.month, d.day)


def period_label(value: object, period: str) -> str:
    """Short human label of a period start: 2024-03-04 (day/week), 2024-03, 2024-Q1."""
    import pandas as pd

    ts = pd.Timestamp(value)
    if pd.isna(ts):
        return "NULL"
    if period == "month":
        return f"{ts.year}-{ts.month:02d}"
    if period == "quarter":
        return f"{ts.year}-Q{(ts.month - 1) // 3 + 1}"
    return f"{ts.year}-{ts.month:02d}-{ts.day:02d}"
