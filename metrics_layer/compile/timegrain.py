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


@ibis.udf.scalar.builtin(name="timezone")
def _instant(zone: str, ts: dt.timestamp) -> dt.Timestamp(timezone="UTC"):  # type: ignore[valid-type,empty-body]
    """DuckDB/PostgreSQL `timezone(zone, timestamp)`: the instant of a wall-clock time in `zone`."""


@ibis.udf.scalar.builtin(name="from_utc_timestamp")
def _from_utc_timestamp(ts: dt.timestamp, zone: str) -> dt.timestamp:  # type: ignore[empty-body]
    """Spark's conversion of a UTC timestamp to wall-clock time in `zone`."""


# Other engines' exact equivalents (rendered by Result.sql; used when a layer is bound there)
_UTC = dt.Timestamp(timezone="UTC")


@ibis.udf.scalar.builtin(name="datetime")
def _bq_wall(ts: _UTC, zone: str) -> dt.timestamp:  # type: ignore[valid-type,empty-body]
    """BigQuery DATETIME(timestamp, zone): the civil time in `zone` of an instant."""


@ibis.udf.scalar.builtin(name="timestamp")
def _bq_instant(ts: dt.timestamp, zone: str) -> _UTC:  # type: ignore[valid-type,empty-body]
    """BigQuery TIMESTAMP(datetime, zone): the instant of a civil time in `zone`."""


@ibis.udf.scalar.builtin(name="convert_timezone")
def _sf_wall_ntz(source: str, zone: str, ts: dt.timestamp) -> dt.timestamp:  # type: ignore[empty-body]
    """Snowflake CONVERT_TIMEZONE(source, target, ntz): a wall-clock time moved between zones."""


@ibis.udf.scalar.builtin(name="convert_timezone")
def _sf_wall_tz(zone: str, ts: _UTC) -> _UTC:  # type: ignore[valid-type,empty-body]
    """Snowflake CONVERT_TIMEZONE(target, tz): the instant shown in `zone` (cast to NTZ next)."""


@ibis.udf.scalar.builtin(name="with_timezone")
def _trino_instant(ts: dt.timestamp, zone: str) -> _UTC:  # type: ignore[valid-type,empty-body]
    """Trino with_timezone(timestamp, zone): the instant of a wall-clock time in `zone`."""


@ibis.udf.scalar.builtin(name="at_timezone")
def _trino_at(ts: _UTC, zone: str) -> _UTC:  # type: ignore[valid-type,empty-body]
    """Trino at_timezone(timestamp with time zone, zone): the same instant shown in `zone`."""


@ibis.udf.scalar.builtin(name="epoch_us")
def _duck_epoch_us(ts: dt.timestamp) -> dt.int64:  # type: ignore[empty-body]
    """DuckDB: microseconds since the epoch."""


@ibis.udf.scalar.builtin(name="unix_micros")
def _spark_micros(ts: dt.timestamp) -> dt.int64:  # type: ignore[empty-body]
    """Spark: microseconds since the epoch."""


@ibis.udf.scalar.builtin(name="unix_micros")
def _bq_micros(ts: _UTC) -> dt.int64:  # type: ignore[valid-type,empty-body]
    """BigQuery UNIX_MICROS(timestamp)."""


@ibis.udf.scalar.builtin(name="to_unixtime")
def _trino_unixtime(ts: _UTC) -> dt.float64:  # type: ignore[valid-type,empty-body]
    """Trino to_unixtime: epoch seconds as a double."""


@ibis.udf.scalar.builtin(name="toUnixTimestamp64Micro")
def _ch_micros(ts: dt.timestamp) -> dt.int64:  # type: ignore[empty-body]
    """ClickHouse: microseconds since the epoch of a DateTime64."""


# ibis backend name -> the family whose functions its formulations use
FAMILIES = {
    "duckdb": "duckdb",
    "postgres": "postgres",
    "risingwave": "postgres",
    "materialize": "postgres",
    "pyspark": "pyspark",
    "databricks": "pyspark",
    "bigquery": "bigquery",
    "snowflake": "snowflake",
    "trino": "trino",
    "athena": "trino",
    "clickhouse": "clickhouse",
}


def backend_family(backend: str) -> str | None:
    """duckdb, postgres, pyspark, bigquery, snowflake, trino or clickhouse; None if unknown."""
    name = {"spark": "pyspark", "postgresql": "postgres"}.get(backend.lower(), backend.lower())
    return FAMILIES.get(name)


def wall_clock(
    ts: ir.Value, zone: str | ir.StringValue, family: str | None, naive: bool
) -> ir.Value:
    """Naive wall-clock time in `zone` of `ts` (naive = a timestamp meaning UTC, else an
    instant), written with the functions of a backend family. Only exact formulations exist:
    elsewhere (ClickHouse, whose DateTime64 carries its own zone) it is a QueryError."""
    if family in ("duckdb", "postgres"):
        # timezone('UTC', naive) reads a naive value as UTC; a CAST to TIMESTAMPTZ (or from
        # it) would use the session's TimeZone, the machine's zone on a default DuckDB
        return _timezone(zone, _instant("UTC", ts) if naive else ts.cast(_UTC))
    if family == "pyspark":  # TIMESTAMPs are instants shown in the session zone, UTC
        return _from_utc_timestamp(ts.cast(dt.timestamp), zone)
    if family == "bigquery":
        return _bq_wall(_bq_instant(ts, "UTC") if naive else ts, zone)
    if family == "snowflake":
        return _sf_wall_ntz("UTC", zone, ts) if naive else _sf_wall_tz(zone, ts).cast(dt.timestamp)
    if family == "trino":  # TIMESTAMP alone would be TIMESTAMP(3): milliseconds
        return _trino_at(_trino_instant(ts, "UTC") if naive else ts, zone).cast(
            dt.Timestamp(scale=6)
        )
    shown = zone if isinstance(zone, str) else getattr(zone.op(), "value", "of the layer")
    raise QueryError(
        f"converting timestamps to the time zone {shown!r} has no verified "
        f"formulation for {family or 'this backend'}; use timezone='UTC' there"
    )


def check_timezone(tz: str) -> str:
    """Validate an IANA timezone name (it is passed to the backend as a literal, never as SQL)."""
    if tz.upper() == "UTC":
        return "UTC"
    try:
        ZoneInfo(tz)
    except Exception:  # noqa: BLE001 - ZoneInfo raises several kinds of errors for bad names
        raise QueryError(f"unknown timezone {tz!r}{suggest(tz, available_timezones())}") from None
    return tz


def epoch_micros(ts: ir.Value, family: str | None) -> ir.Value:
    """Integer microseconds since 1970-01-01 UTC of a timestamp (naive = UTC), exactly."""
    naive = ts.type().timezone is None
    if family == "duckdb":
        return _duck_epoch_us(ts)
    if family == "pyspark":
        return _spark_micros(ts)
    if family == "postgres":  # EXTRACT(EPOCH ...) is an exact numeric
        return (ts.epoch_seconds().cast(dt.Decimal(38, 6)) * 1_000_000).cast(dt.int64)
    if family == "bigquery":
        return _bq_micros(_bq_instant(ts, "UTC") if naive else ts)
    if family == "snowflake":  # DATEDIFF(MICROSECOND, epoch, ntz)
        epoch = ibis.literal("1970-01-01 00:00:00", type=dt.timestamp)
        return (ts if naive else ts.cast(dt.timestamp)).delta(epoch, unit="microsecond")
    if family == "trino":  # a double holds today's epoch to < 0.5 µs: rounding makes it exact
        instant = _trino_instant(ts, "UTC") if naive else ts
        return (_trino_unixtime(instant) * 1_000_000).round().cast(dt.int64)
    if family == "clickhouse":
        return _ch_micros(ts)
    raise QueryError(
        f"epoch microseconds (funnels) have no formulation for {family or 'this backend'}"
    )


def to_local(value: ir.Value, tz: str, backend: str) -> ir.Value:
    """Wall-clock time in `tz` of a timestamp (naive timestamps are UTC); dates stay dates."""
    typ = value.type()
    if typ.is_date():
        return value
    if not typ.is_timestamp():
        raise QueryError(f"time column has type {typ}, expected a timestamp or a date")
    if tz == "UTC" and typ.timezone is None:
        return value
    family = backend_family(backend)
    if family == "pyspark" and tz == "UTC":
        return value.cast(dt.Timestamp(timezone="UTC")).cast(dt.timestamp)
    return wall_clock(value, tz, family, naive=typ.timezone is None)


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


def parse_bound(value: object, name: str, tz: str = "UTC") -> _dt.datetime | None:
    """A start/end bound as a naive local datetime ('2024-01-01', a date or a datetime).

    Naive values are already local (wall-clock in `tz`); an instant with an offset, given as a
    datetime or as text, is converted to the wall-clock time in `tz` it is compared with.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = _dt.datetime.fromisoformat(text)
        except ValueError:
            raise QueryError(
                f"{name}={text!r} is not a date or timestamp (use e.g. '2024-01-01')"
            ) from None
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            return value
        return value.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day)
    raise QueryError(f"{name}={value!r} is not a date or timestamp (use e.g. '2024-01-01')")


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
