"""Time handling shared by every analysis: local time in the effective timezone, grains, ranges.

Periods are `metrics_layer.grain.Grain` values and engine formulations live in
`metrics_layer.dialects`; this module applies them to the values compile works with.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from metrics_layer.bounds import check_timezone, parse_bound
from metrics_layer.dialects import dialect, family
from metrics_layer.errors import QueryError
from metrics_layer.grain import GRAIN_NAMES, Grain, GrainError, weekday_number

GRAIN_UNITS = {name: Grain.of(name).unit for name in GRAIN_NAMES}


def grain_of(value: str | Grain, week_start: str | int | None = None) -> Grain:
    """The Grain named `value`; a bad name is a QueryError suggesting close ones."""
    try:
        return Grain.of(value, week_start)
    except GrainError as exc:
        raise QueryError(str(exc)) from None


def check_week_start(value: str | int | None) -> int:
    """A week start (weekday name or 0 = Monday … 6 = Sunday) as its number; QueryError if bad."""
    try:
        return weekday_number(value)
    except GrainError as exc:
        raise QueryError(str(exc)) from None


def backend_family(backend: str) -> str | None:
    """duckdb, postgres, pyspark, bigquery, snowflake, trino or clickhouse; None if unknown."""
    return family(backend)


def wall_clock(
    ts: ir.Value, zone: str | ir.StringValue, family_name: str | None, naive: bool
) -> ir.Value:
    """Naive wall-clock time in `zone` of `ts` with the formulation of an engine family."""
    return dialect(family_name).wall_clock(ts, zone, naive)


def epoch_micros(ts: ir.Value, family_name: str | None) -> ir.Value:
    """Integer microseconds since 1970-01-01 UTC of a timestamp (naive = UTC), exactly."""
    return dialect(family_name).epoch_micros(ts)


def to_local(value: ir.Value, tz: str, backend: str) -> ir.Value:
    """Wall-clock time in `tz` of a timestamp (naive timestamps are UTC); dates stay dates."""
    typ = value.type()
    if typ.is_date():
        return value
    if not typ.is_timestamp():
        raise QueryError(f"time column has type {typ}, expected a timestamp or a date")
    if tz == "UTC" and typ.timezone is None:
        return value
    engine = dialect(backend)
    if tz == "UTC":
        return engine.utc_naive(value)
    return engine.wall_clock(value, tz, naive=typ.timezone is None)


def epoch_us(value: ir.Value, backend: str) -> ir.IntegerValue:
    """Integer microseconds since 1970-01-01 UTC; naive timestamps are UTC, dates midnight."""
    typ = value.type()
    if typ.is_date():
        value = value.cast(dt.timestamp)
    elif not typ.is_timestamp():
        raise QueryError(f"time column has type {typ}, expected a timestamp or a date")
    engine = dialect(backend)
    if engine.name == "generic":  # EXTRACT(epoch) is exact to the microsecond as a decimal
        engine = dialect("postgres")
    return engine.epoch_micros(value)


def bucket(value: ir.Value, grain: Any) -> ir.Value:
    """First instant of the grain period holding `value`, as a timestamp (a fiscal period
    object of compile/fiscal.py buckets by itself)."""
    if not isinstance(grain, (str, Grain)):
        return grain.bucket(value)
    g = grain_of(grain)
    try:
        return g.bucket(value)
    except GrainError as exc:
        raise QueryError(str(exc)) from None


def time_range(
    local: ir.Value, start: _dt.datetime | None, end: _dt.datetime | None
) -> list[ir.BooleanValue]:
    """Predicates start <= t < end on a local time value."""
    preds: list[ir.BooleanValue] = []
    is_date = local.type().is_date()
    for bound, op in ((start, "ge"), (end, "lt")):
        if bound is None:
            continue
        lit = ibis.literal(bound, type=dt.timestamp)
        lhs = local.cast(dt.timestamp) if is_date else local
        preds.append(lhs >= lit if op == "ge" else lhs < lit)
    return preds


__all__ = [
    "GRAIN_UNITS",
    "backend_family",
    "bucket",
    "check_timezone",
    "check_week_start",
    "epoch_micros",
    "epoch_us",
    "grain_of",
    "parse_bound",
    "time_range",
    "to_local",
    "wall_clock",
]
