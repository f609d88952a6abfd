"""Time handling shared by every analysis: local time in the layer's timezone, grains, ranges."""

from __future__ import annotations

import datetime as _dt
from zoneinfo import ZoneInfo, available_timezones

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from metrics_layer.errors import QueryError, suggest

GRAIN_UNITS = {"hour": "h", "day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}


@ibis.udf.scalar.builtin(name="timezone")
def _timezone(zone: str, ts: dt.Timestamp(timezone="UTC")) -> dt.timestamp:  # type: ignore[valid-type,empty-body]
    """DuckDB/PostgreSQL `timezone(zone, timestamptz)`: the wall-clock time in `zone`."""


@ibis.udf.scalar.builtin(name="from_utc_timestamp")
def _from_utc_timestamp(ts: dt.timestamp, zone: str) -> dt.timestamp:  # type: ignore[empty-body]
    """Spark's conversion of a UTC timestamp to wall-clock time in `zone`."""


def check_timezone(tz: str) -> str:
    """Validate an IANA timezone name (it is passed to the backend as a literal, never as SQL)."""
    if tz.upper() == "UTC":
        return "UTC"
    try:
        ZoneInfo(tz)
    except Exception:  # noqa: BLE001 - ZoneInfo raises several kinds of errors for bad names
        raise QueryError(f"unknown timezone {tz!r}{suggest(tz, available_timezones())}") from None
    return tz


def to_local(value: ir.Value, tz: str, backend: str) -> ir.Value:
    """Wall-clock time in `tz` of a timestamp (naive timestamps are UTC); dates stay dates."""
    typ = value.type()
    if typ.is_date():
        return value
    if not typ.is_timestamp():
        raise QueryError(f"time column has type {typ}, expected a timestamp or a date")
    if tz == "UTC":
        if typ.timezone is not None:
            return value.cast(dt.Timestamp(timezone="UTC")).cast(dt.timestamp)
        return value
    if backend == "pyspark":
        return _from_utc_timestamp(value.cast(dt.timestamp), tz)
    return _timezone(tz, value.cast(dt.Timestamp(timezone="UTC")))


def bucket(value: ir.Value, grain: str) -> ir.Value:
    """First instant of the grain period holding `value` (weeks are ISO weeks, Monday first)."""
    try:
        unit = GRAIN_UNITS[grain]
    except KeyError:
        raise QueryError(f"unknown grain {grain!r}{suggest(grain, GRAIN_UNITS)}") from None
    if value.type().is_date():
        if grain == "hour":
            raise QueryError("grain 'hour' needs a timestamp time column, not a date")
        return value.truncate(unit).cast(dt.timestamp)
    return value.truncate(unit)


def parse_bound(value: object, name: str) -> _dt.datetime | None:
    """A start/end bound as a naive local datetime ('2024-01-01', a date or a datetime)."""
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else value.astimezone(_dt.UTC).replace(tzinfo=None)
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return _dt.datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise QueryError(f"{name}={value!r} is not a date or timestamp (use e.g. '2024-01-01')")


def time_range(local: ir.Value, start: _dt.datetime | None, end: _dt.datetime | None) -> list[ir.BooleanValue]:
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
