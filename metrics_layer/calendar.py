"""The generated calendar: a date dimension (time spine) any source can join on a date key."""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import pandas as pd

if TYPE_CHECKING:
    from metrics_layer.definitions.models import Calendar

CALENDAR_SCHEMA: dict[str, str] = {
    "date": "date",
    "day_of_week": "int64",  # ISO: 1 = Monday … 7 = Sunday
    "day_name": "string",
    "is_weekend": "boolean",
    "is_business_day": "boolean",
    "week": "date",  # first day of the week (the layer's week start, Monday by default)
    "iso_year": "int64",
    "iso_week": "int64",
    "month": "date",
    "month_name": "string",
    "quarter": "date",
    "year": "int64",
    "fiscal_year": "int64",  # named after the calendar year in which it ends (retail: see retail.py)
    "fiscal_quarter": "int64",
    "fiscal_month": "int64",  # 1 … 12 within the fiscal year
    "fiscal_week": "int64",  # retail calendars: 1 … 53 within the fiscal year (else NULL)
    "fiscal_year_start": "date",  # first day of each fiscal period holding the day
    "fiscal_quarter_start": "date",
    "fiscal_month_start": "date",
    "fiscal_week_start": "date",  # retail calendars only (else NULL)
}


def calendar_frame(spec: Calendar, week_start: int = 0) -> pd.DataFrame:
    """One row per day in [start, end) with calendar, ISO and fiscal attributes; `week` is the
    first day of the week starting on `week_start` (0 = Monday … 6 = Sunday), as the `week`
    grain of the layer's queries."""
    days = pd.date_range(spec.start, spec.end - _dt.timedelta(days=1), freq="D")
    iso = days.isocalendar()
    holidays = {pd.Timestamp(h) for h in spec.holidays}
    shift = (days.month - spec.fiscal_year_start_month) % 12
    fiscal_year = days.year + (
        (days.month >= spec.fiscal_year_start_month) & (spec.fiscal_year_start_month > 1)
    )
    frame = pd.DataFrame(
        {
            "date": days.date,
            "day_of_week": iso["day"].to_numpy().astype("int64"),
            "day_name": days.day_name(),
            "is_weekend": (iso["day"] >= 6).to_numpy(),
            "is_business_day": ((iso["day"] < 6).to_numpy() & ~days.isin(list(holidays))),
            "week": (days - pd.to_timedelta((days.weekday - week_start) % 7, unit="D")).date,
            "iso_year": iso["year"].to_numpy().astype("int64"),
            "iso_week": iso["week"].to_numpy().astype("int64"),
            "month": days.to_period("M").to_timestamp().date,
            "month_name": days.month_name(),
            "quarter": days.to_period("Q").to_timestamp().date,
            "year": days.year.astype("int64"),
            "fiscal_year": fiscal_year.astype("int64"),
            "fiscal_quarter": (shift // 3 + 1).astype("int64"),
            "fiscal_month": (shift + 1).astype("int64"),
            "fiscal_week": pd.array([None] * len(days), dtype="Int64"),
            "fiscal_year_start": _months_back(days, shift),
            "fiscal_quarter_start": _months_back(days, shift % 3),
            "fiscal_month_start": _months_back(days, 0 * shift),
            "fiscal_week_start": [None] * len(days),
        }
    )
    if spec.retail is not None:
        _retail_columns(frame, spec)
    return frame


def _months_back(days: pd.DatetimeIndex, months: Any) -> list[_dt.date]:
    """First day of the month `months` months before each day's month."""
    starts = days.to_period("M") - pd.Index(months).astype("int64")
    return list(starts.to_timestamp().date)


def _retail_columns(frame: pd.DataFrame, spec: Calendar) -> None:
    """Overwrite the fiscal columns with the retail calendar's (metrics_layer/retail.py)."""
    assert spec.retail is not None
    rules = spec.retail.rules()
    first, last = frame["date"].iloc[0], frame["date"].iloc[-1]
    weeks = {w.start: w for w in rules.weeks(first, last)}
    rows = [
        weeks[d - _dt.timedelta(days=(d.weekday() - rules.week_start) % 7)] for d in frame["date"]
    ]
    frame["fiscal_year"] = [w.year for w in rows]
    frame["fiscal_quarter"] = [w.quarter for w in rows]
    frame["fiscal_month"] = [w.month for w in rows]
    frame["fiscal_week"] = pd.array([w.week for w in rows], dtype="Int64")
    frame["fiscal_year_start"] = [w.year_start for w in rows]
    frame["fiscal_quarter_start"] = [w.quarter_start for w in rows]
    frame["fiscal_month_start"] = [w.month_start for w in rows]
    frame["fiscal_week_start"] = [w.start for w in rows]


def calendar_table(spec: Calendar, week_start: int = 0) -> ir.Table:
    """The calendar as an ibis memtable (uploaded to whichever backend runs the query)."""
    schema = ibis.schema(CALENDAR_SCHEMA)
    return ibis.memtable(calendar_frame(spec, week_start), schema=schema)
