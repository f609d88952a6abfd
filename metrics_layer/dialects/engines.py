"""The engines: each a few overrides of `Dialect` (capabilities and exact formulations).

Wall-clock time and epoch microseconds are the two formulations ibis has no portable
operation for; everything else (date_trunc, intervals, epoch days) is portable ibis.
"""

from __future__ import annotations

from typing import Any, ClassVar

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from metrics_layer.dialects import functions as fn
from metrics_layer.dialects.base import UTC, Dialect


class DuckDB(Dialect):
    name = "duckdb"
    backends = ("duckdb",)
    compiler = "duckdb"
    asof_join = True
    asof_sql = True
    exact_median = True
    functions: ClassVar[frozenset[str]] = frozenset({"timezone", "epoch_us"})

    def wall_clock(self, ts: ir.Value, zone: str | ir.StringValue, naive: bool) -> ir.Value:
        # timezone('UTC', naive) reads a naive value as UTC; a CAST to TIMESTAMPTZ (or from
        # it) would use the session's TimeZone, the machine's zone on a default DuckDB
        return fn.pg_wall(zone, fn.pg_instant("UTC", ts) if naive else ts.cast(UTC))

    def utc_of(self, wall: ir.Value, zone: str | ir.StringValue) -> ir.Value:
        return fn.pg_wall("UTC", fn.pg_instant(zone, wall.cast(dt.timestamp)))

    def epoch_micros(self, ts: ir.Value) -> ir.Value:
        return fn.duck_epoch_us(ts)


class Postgres(Dialect):
    name = "postgres"
    backends = ("postgres", "risingwave", "materialize")
    compiler = "postgres"
    asof_sql = True  # ibis writes LEFT JOIN LATERAL ... ORDER BY ... LIMIT 1
    exact_median = True
    functions: ClassVar[frozenset[str]] = frozenset({"timezone"})
    wall_clock = DuckDB.wall_clock
    utc_of = DuckDB.utc_of

    def epoch_micros(self, ts: ir.Value) -> ir.Value:
        # EXTRACT(EPOCH ...) is an exact numeric
        return (ts.epoch_seconds().cast(dt.Decimal(38, 6)) * 1_000_000).cast(dt.int64)


class Spark(Dialect):
    name = "pyspark"
    backends = ("pyspark", "databricks")
    compiler = "pyspark"
    exact_median = True
    functions: ClassVar[frozenset[str]] = frozenset(
        {"from_utc_timestamp", "to_utc_timestamp", "unix_micros"}
    )

    def wall_clock(self, ts: ir.Value, zone: str | ir.StringValue, naive: bool) -> ir.Value:
        # TIMESTAMPs are instants shown in the session zone, UTC
        return fn.spark_wall(ts.cast(dt.timestamp), zone)

    def utc_of(self, wall: ir.Value, zone: str | ir.StringValue) -> ir.Value:
        return fn.spark_utc(wall.cast(dt.timestamp), zone)

    def utc_naive(self, ts: ir.Value) -> ir.Value:
        return ts.cast(UTC).cast(dt.timestamp)

    def epoch_micros(self, ts: ir.Value) -> ir.Value:
        return fn.spark_micros(ts)


class BigQuery(Dialect):
    name = "bigquery"
    backends = ("bigquery",)
    compiler = "bigquery"
    functions: ClassVar[frozenset[str]] = frozenset({"datetime", "timestamp", "unix_micros"})

    def wall_clock(self, ts: ir.Value, zone: str | ir.StringValue, naive: bool) -> ir.Value:
        return fn.bq_wall(fn.bq_instant(ts, "UTC") if naive else ts, zone)

    def utc_of(self, wall: ir.Value, zone: str | ir.StringValue) -> ir.Value:
        return fn.bq_wall(fn.bq_instant(wall, zone), "UTC")

    def epoch_micros(self, ts: ir.Value) -> ir.Value:
        naive = ts.type().timezone is None
        return fn.bq_micros(fn.bq_instant(ts, "UTC") if naive else ts)


class Snowflake(Dialect):
    name = "snowflake"
    backends = ("snowflake",)
    compiler = "snowflake"
    asof_join = True
    asof_sql = True
    exact_median = True
    functions: ClassVar[frozenset[str]] = frozenset({"convert_timezone"})

    def wall_clock(self, ts: ir.Value, zone: str | ir.StringValue, naive: bool) -> ir.Value:
        if naive:
            return fn.sf_wall_ntz("UTC", zone, ts)
        return fn.sf_wall_tz(zone, ts).cast(dt.timestamp)

    def utc_of(self, wall: ir.Value, zone: str | ir.StringValue) -> ir.Value:
        return fn.sf_wall_ntz(zone, "UTC", wall)

    def epoch_micros(self, ts: ir.Value) -> ir.Value:
        # DATEDIFF(MICROSECOND, epoch, ntz)
        naive = ts.type().timezone is None
        epoch = ibis.literal("1970-01-01 00:00:00", type=dt.timestamp)
        return (ts if naive else ts.cast(dt.timestamp)).delta(epoch, unit="microsecond")


class Trino(Dialect):
    name = "trino"
    backends = ("trino", "athena")
    compiler = "trino"
    functions: ClassVar[frozenset[str]] = frozenset({"with_timezone", "at_timezone", "to_unixtime"})

    def wall_clock(self, ts: ir.Value, zone: str | ir.StringValue, naive: bool) -> ir.Value:
        # TIMESTAMP alone would be TIMESTAMP(3): milliseconds
        instant = fn.trino_instant(ts, "UTC") if naive else ts
        return fn.trino_at(instant, zone).cast(dt.Timestamp(scale=6))

    def utc_of(self, wall: ir.Value, zone: str | ir.StringValue) -> ir.Value:
        return fn.trino_at(fn.trino_instant(wall, zone), "UTC").cast(dt.Timestamp(scale=6))

    def epoch_micros(self, ts: ir.Value) -> ir.Value:
        # a double holds today's epoch to < 0.5 µs: rounding makes it exact
        naive = ts.type().timezone is None
        instant = fn.trino_instant(ts, "UTC") if naive else ts
        return (fn.trino_unixtime(instant) * 1_000_000).round().cast(dt.int64)


class ClickHouse(Dialect):
    """DateTime64 carries its own zone: no verified wall-clock formulation (QueryError)."""

    name = "clickhouse"
    backends = ("clickhouse",)
    compiler = "clickhouse"
    asof_join = True
    asof_sql = True
    exact_median = True  # with quantileExactInclusive, see finish_sql
    functions: ClassVar[frozenset[str]] = frozenset({"tounixtimestamp64micro"})

    def epoch_micros(self, ts: ir.Value) -> ir.Value:
        return fn.ch_micros(ts)

    def finish_sql(self, queries: list[Any]) -> list[Any]:
        return [q.transform(_exact_quantile) for q in super().finish_sql(queries)]


def _exact_quantile(node: Any) -> Any:
    """ClickHouse `quantile(p)(x)` is estimated from a sample; quantileExactInclusive
    interpolates linearly between the closest ranks, like percentile_cont elsewhere."""
    import sqlglot.expressions as sge

    if isinstance(node, sge.ParameterizedAgg) and str(node.this) in ("quantile", "quantileIf"):
        return sge.ParameterizedAgg(
            this=str(node.this).replace("quantile", "quantileExactInclusive"),
            expressions=node.expressions,
            params=node.args.get("params"),
        )
    return node


ENGINES: tuple[type[Dialect], ...] = (
    DuckDB,
    Postgres,
    Spark,
    BigQuery,
    Snowflake,
    Trino,
    ClickHouse,
)
