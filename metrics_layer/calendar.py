"""The generated calendar: a date dimension (time spine) any source can join on a date key."""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING

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
    "fiscal_year": "int64",  # named after the calendar year in which it ends
    "fiscal_quarter": "int64",
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
        }
    )
    return frame


def calendar_table(spec: Calendar, week_start: int = 0) -> ir.Table:
    """The calendar as an ibis memtable (uploaded to whichever backend runs the query)."""
    schema = ibis.schema(CALENDAR_SCHEMA)
    return ibis.memtable(calendar_frame(spec, week_start), schema=schema)
