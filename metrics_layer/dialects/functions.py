"""Engine builtin functions as ibis builtin UDFs: the vocabulary the dialect tables use.

Each is rendered by ibis as a plain function call, so the exact per-engine formulations of
wall-clock time and epoch microseconds (dialects/engines.py) stay ibis expressions that the
portability rewrite (dialects/portable.py) can find and translate.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt

UTC = dt.Timestamp(timezone="UTC")


@ibis.udf.scalar.builtin(name="timezone")
def pg_wall(zone: str, ts: dt.Timestamp(timezone="UTC")) -> dt.timestamp:  # type: ignore[valid-type]
    """DuckDB/PostgreSQL `timezone(zone, timestamptz)`: the wall-clock time in `zone`."""


@ibis.udf.scalar.builtin(name="timezone")
def pg_instant(zone: str, ts: dt.timestamp) -> dt.Timestamp(timezone="UTC"):  # type: ignore[valid-type]
    """DuckDB/PostgreSQL `timezone(zone, timestamp)`: the instant of a wall-clock time in `zone`."""


@ibis.udf.scalar.builtin(name="from_utc_timestamp")
def spark_wall(ts: dt.timestamp, zone: str) -> dt.timestamp:
    """Spark's conversion of a UTC timestamp to wall-clock time in `zone`."""


@ibis.udf.scalar.builtin(name="to_utc_timestamp")
def spark_utc(ts: dt.timestamp, zone: str) -> dt.timestamp:
    """Spark's conversion of a wall-clock time in `zone` to the UTC timestamp."""


@ibis.udf.scalar.builtin(name="datetime")
def bq_wall(ts: UTC, zone: str) -> dt.timestamp:  # type: ignore[valid-type]
    """BigQuery DATETIME(timestamp, zone): the civil time in `zone` of an instant."""


@ibis.udf.scalar.builtin(name="timestamp")
def bq_instant(ts: dt.timestamp, zone: str) -> UTC:  # type: ignore[valid-type]
    """BigQuery TIMESTAMP(datetime, zone): the instant of a civil time in `zone`."""


@ibis.udf.scalar.builtin(name="convert_timezone")
def sf_wall_ntz(source: str, zone: str, ts: dt.timestamp) -> dt.timestamp:
    """Snowflake CONVERT_TIMEZONE(source, target, ntz): a wall-clock time moved between zones."""


@ibis.udf.scalar.builtin(name="convert_timezone")
def sf_wall_tz(zone: str, ts: UTC) -> UTC:  # type: ignore[valid-type]
    """Snowflake CONVERT_TIMEZONE(target, tz): the instant shown in `zone` (cast to NTZ next)."""


@ibis.udf.scalar.builtin(name="with_timezone")
def trino_instant(ts: dt.timestamp, zone: str) -> UTC:  # type: ignore[valid-type]
    """Trino with_timezone(timestamp, zone): the instant of a wall-clock time in `zone`."""


@ibis.udf.scalar.builtin(name="at_timezone")
def trino_at(ts: UTC, zone: str) -> UTC:  # type: ignore[valid-type]
    """Trino at_timezone(timestamp with time zone, zone): the same instant shown in `zone`."""


@ibis.udf.scalar.builtin(name="epoch_us")
def duck_epoch_us(ts: dt.timestamp) -> dt.int64:
    """DuckDB: microseconds since the epoch (of the UTC instant for TIMESTAMPTZ)."""


@ibis.udf.scalar.builtin(name="unix_micros")
def spark_micros(ts: dt.timestamp) -> dt.int64:
    """Spark: microseconds since the epoch."""


@ibis.udf.scalar.builtin(name="unix_micros")
def bq_micros(ts: UTC) -> dt.int64:  # type: ignore[valid-type]
    """BigQuery UNIX_MICROS(timestamp)."""


@ibis.udf.scalar.builtin(name="to_unixtime")
def trino_unixtime(ts: UTC) -> dt.float64:  # type: ignore[valid-type]
    """Trino to_unixtime: epoch seconds as a double."""


@ibis.udf.scalar.builtin(name="toUnixTimestamp64Micro")
def ch_micros(ts: dt.timestamp) -> dt.int64:
    """ClickHouse: microseconds since the epoch of a DateTime64."""
