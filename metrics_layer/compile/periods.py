"""Period arithmetic: grain steps, durations as ibis intervals, period spines, offsets.

Spines are generated inside the expression (`ibis.range` over timestamps), so cumulative
metrics and zero-filled periods stay one query on every backend.
"""

from __future__ import annotations

import calendar
import datetime as _dt

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir

from metrics_layer import limits
from metrics_layer.definitions.durations import parse_duration, parse_offset
from metrics_layer.errors import QueryError
from metrics_layer.grain import Grain

_GRAIN_STEP = {
    "hour": (1, "hour"),
    "day": (1, "day"),
    "week": (7, "day"),
    "month": (1, "month"),
    "quarter": (3, "month"),
    "year": (12, "month"),
}


def interval(n: int, unit: str) -> ir.IntervalScalar:
    """An ibis interval for n units (weeks as 7 days, quarters as 3 months, years as 12 months)."""
    unit = unit.rstrip("s")
    if unit == "week":
        n, unit = n * 7, "day"
    elif unit == "quarter":
        n, unit = n * 3, "month"
    elif unit == "year":
        n, unit = n * 12, "month"
    return ibis.interval(**{f"{unit}s": n})


def grain_step(grain: str) -> ir.IntervalScalar:
    n, unit = _GRAIN_STEP[grain]
    return interval(n, unit)


def duration(text: str) -> ir.IntervalScalar:
    n, unit = parse_duration(text)
    return interval(n, unit)


def shift(moment: _dt.datetime, text: str, sign: int = 1) -> _dt.datetime:
    """A datetime moved by a duration; months clamp to the month's last day (Jan 31 + 1 month = Feb 29)."""
    n, unit = parse_duration(text)
    n *= sign
    if unit in ("month", "quarter", "year"):
        months = n * {"month": 1, "quarter": 3, "year": 12}[unit]
        total = moment.year * 12 + (moment.month - 1) + months
        year, month = divmod(total, 12)
        day = min(moment.day, calendar.monthrange(year, month + 1)[1])
        return moment.replace(year=year, month=month + 1, day=day)
    seconds = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}[unit]
    return moment + _dt.timedelta(seconds=n * seconds)


def next_period(moment: _dt.datetime, grain: str | Grain) -> _dt.datetime:
    """The start of the period after the one starting at `moment`."""
    return Grain.of(grain).shift(moment, 1)


_FIXED = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}
_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def check_offset(text: str, grain: str, metric: str) -> None:
    """An offset must move whole periods of the grain, else P - offset is no period start.

    Calendar offsets (months, quarters, years) are also accepted at hour/day/week grain: at week
    grain the shifted period is the week holding P - offset ("the same week a year ago").
    """
    n, unit = parse_offset(text)
    if unit.startswith("fiscal_") or grain.startswith("fiscal_"):
        if grain.startswith("fiscal_") and unit in (grain, "fiscal_year"):
            return
        raise QueryError(
            f"an offset of {text!r} on metric {metric!r} does not line up with {grain} periods: "
            + (
                f"at a fiscal grain offset by whole {grain}s or fiscal_years"
                if grain.startswith("fiscal_")
                else "fiscal offsets need a fiscal grain (e.g. grain='fiscal_week')"
            )
        )
    if grain in _MONTHS:
        if unit in _MONTHS and (n * _MONTHS[unit]) % _MONTHS[grain] == 0:
            return
    elif unit in _MONTHS or (n * _FIXED[unit]) % _FIXED[grain] == 0:
        return
    raise QueryError(
        f"an offset of {text!r} on metric {metric!r} does not move whole {grain}s, so "
        f"its periods would not line up with the {grain} periods of the query; use a "
        f"multiple of one {grain} (or ask at a finer grain)"
    )


def truncate_literal(moment: _dt.datetime, grain: str | Grain) -> _dt.datetime:
    """The start of the grain period holding a Python datetime (a Grain's own week start;
    a grain name: weeks start on Monday)."""
    return Grain.of(grain).floor_literal(moment)


def spine(source: ir.Table, lo: ir.Value, hi: ir.Value, grain: str | Grain, name: str) -> ir.Table:
    """One row per period start in [lo, hi) (lo must be a period start).

    lo/hi may be literals or reductions of `source`: the bounds are computed by one aggregate of
    `source` (a single row), so the range is unnested exactly once.
    """
    lo_value, hi_value = _literal_value(lo), _literal_value(hi)
    if lo_value is not None and hi_value is not None:
        limits.check_spine(lo_value, hi_value, grain if isinstance(grain, str) else grain.name)
    ends = {"__lo": lo.cast(dt.timestamp), "__hi": hi.cast(dt.timestamp)}
    reduced = {k: v for k, v in ends.items() if not _constant(v)}
    if not reduced:
        periods = ibis.range(ends["__lo"], ends["__hi"], Grain.of(grain).interval())
        return periods.unnest().name(name).as_table()
    bounds = source.aggregate(**reduced)
    bounds = bounds.mutate(**{k: v for k, v in ends.items() if k not in reduced})
    periods = ibis.range(bounds["__lo"], bounds["__hi"], Grain.of(grain).interval())
    return bounds.select(**{name: periods.unnest()})


def _literal_value(value: ir.Value) -> object | None:
    """The Python value of a literal bound (None when the bound is computed from data)."""
    op = value.op()
    return op.value if isinstance(op, ops.Literal) else None


def _constant(value: ir.Value) -> bool:
    """True when a value refers to no table column (a literal, maybe cast)."""
    return not value.op().find(ops.Field)
