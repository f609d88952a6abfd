"""Result: a compiled query that runs on demand and shows its SQL (for any dialect) and plan.

An expression is compiled for the layer's backend, and a few of its formulations are
specific to it: time zone conversion (`timezone(...)` on DuckDB/PostgreSQL,
`from_utc_timestamp` on Spark), epoch microseconds of funnels (`epoch_us`, `unix_micros`)
and ASOF joins. `Result.sql(dialect)` rewrites the first two into the target dialect's
exact equivalent, and refuses (QueryError) what has no equivalent there, such as an ASOF
join for BigQuery, Trino or Spark: SQL that would fail or, worse, count differently is never
printed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
from ibis.expr.operations.udf import InputType

from metrics_layer.compile.timegrain import backend_family, epoch_micros, wall_clock
from metrics_layer.errors import ExecutionError, QueryError

SQL_DIALECTS = (
    "duckdb",
    "postgres",
    "bigquery",
    "snowflake",
    "trino",
    "clickhouse",
    "spark",
    "pyspark",
    "mysql",
    "sqlite",
    "databricks",
    "datafusion",
    "risingwave",
    "mssql",
    "oracle",
    "exasol",
    "druid",
    "impala",
    "athena",
    "flink",
)

# dialect name -> ibis compiler name (families: timegrain.backend_family)
_COMPILER = {"spark": "pyspark", "postgresql": "postgres"}
# ibis compiles an ASOF join natively (DuckDB, Snowflake, ClickHouse) or as an equivalent
# LEFT JOIN LATERAL ... ORDER BY ... LIMIT 1 (PostgreSQL); elsewhere it is not valid SQL
_ASOF_OK = ("duckdb", "postgres", "snowflake", "clickhouse")


class Result:
    """Lazy result of a query, a retention or a funnel: nothing runs until you ask for data."""

    def __init__(
        self,
        expr: ir.Table,
        *,
        explain: str | Callable[[], str] = "",
        backend: str | None = None,
        kind: str = "query",
        postprocess: Callable[[Any], Any] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self._expr = expr
        self._explain = explain
        self._backend = backend
        self.kind = kind
        self._post = postprocess
        self.meta = meta or {}
        self._cache: Any = None

    @property
    def expr(self) -> ir.Table:
        """The ibis table expression (compose it further, or run it yourself)."""
        return self._expr

    @property
    def columns(self) -> list[str]:
        return list(self._expr.columns)

    def sql(self, dialect: str | None = None, pretty: bool = True) -> str:
        """SQL text for a sqlglot dialect; default: the connection's.

        duckdb, postgres, bigquery, snowflake, trino, clickhouse and spark (pyspark,
        databricks) are compiled by ibis, after the backend-specific formulations are
        rewritten for the target (module docstring). Where ibis's compiler for a dialect lacks
        an operation (e.g. BigQuery median), or for a dialect ibis does not know, the DuckDB
        SQL is transpiled by sqlglot instead.
        """
        built = backend_family(self._backend or "duckdb") or (self._backend or "duckdb")
        target = (dialect or self._backend or "duckdb").lower()
        target = _COMPILER.get(target, target)
        expr = portable(self._expr, built, target)
        try:
            return _compile(expr, target, pretty)
        except Exception as first:  # noqa: BLE001 - unknown dialects and unsupported ops
            reason = _no_fallback(self._expr)
            if reason:
                raise QueryError(
                    f"cannot render SQL for dialect {target!r}: {first}; "
                    f"transpiling the DuckDB SQL instead is not safe: {reason}"
                ) from None
            import sqlglot

            write = {"pyspark": "spark"}.get(target, target)
            try:
                base = _compile(self._expr, "duckdb", False)
                return ";\n".join(
                    sqlglot.transpile(base, read="duckdb", write=write, pretty=pretty)
                )
            except Exception:  # noqa: BLE001
                raise QueryError(f"cannot render SQL for dialect {target!r}: {first}") from None

    def explain(self) -> str:
        """The plan in words: sources, joins, aggregations and how metrics combine."""
        return self._explain() if callable(self._explain) else self._explain

    def to_pandas(self) -> Any:
        if self._cache is None:
            try:
                df = self._expr.execute()
            except Exception as exc:  # noqa: BLE001 - surface backend failures as our error
                raise ExecutionError(f"the backend failed to run the query: {exc}") from exc
            self._cache = self._post(df) if self._post else df
        return self._cache.copy()

    def to_pyarrow(self) -> Any:
        import pyarrow as pa

        return pa.Table.from_pandas(self.to_pandas(), preserve_index=False)

    def to_polars(self) -> Any:
        import polars as pl

        return pl.from_arrow(self.to_pyarrow())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind}: columns {', '.join(self.columns)}>"

    def _repr_html_(self) -> str:
        df = self.to_pandas()
        head = f"<p><b>{self.kind}</b> · {len(df)} rows</p>"
        return head + df.to_html(index=False, max_rows=50, na_rep="NULL")


# --------------------------------------------------------------------------- portability


def _compile(expr: ir.Table, target: str, pretty: bool) -> str:
    """ibis's SQL for `target`, with exact quantiles on ClickHouse (its `quantile` samples)."""
    import ibis.backends.sql.compilers as sc

    if backend_family(target) == "pyspark":
        # registers ibis.options.pyspark, which the compiler reads; without pyspark installed
        # the compiler fails and the sqlglot fallback may still do
        with contextlib.suppress(Exception):
            getattr(ibis, "pyspark")  # noqa: B009
    try:
        compiler = getattr(sc, target).compiler
    except AttributeError:
        raise QueryError(f"ibis has no SQL compiler for {target!r}") from None
    out = compiler.to_sqlglot(expr.unbind())
    queries = out if isinstance(out, list) else [out]
    if backend_family(target) == "clickhouse":
        queries = [q.transform(_exact_quantile) for q in queries]
    return ";\n".join(q.sql(dialect=compiler.dialect, pretty=pretty) for q in queries)


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


def _no_fallback(expr: ir.Table) -> str | None:
    """Why transpiling the DuckDB SQL with sqlglot would not be safe, if it would not."""
    if names := _backend_specific(expr):
        return f"sqlglot would copy {', '.join(names)} through unchanged"
    if expr.op().find((ops.Median, ops.Quantile, ops.MultiQuantile)):
        return "no exact median/percentile aggregate is known for this dialect"
    return None


# the builtin functions each family's formulations use
_NATIVE = {
    "duckdb": {"timezone", "epoch_us"},
    "postgres": {"timezone"},
    "pyspark": {"from_utc_timestamp", "unix_micros"},
    "bigquery": {"datetime", "timestamp", "unix_micros"},
    "snowflake": {"convert_timezone"},
    "trino": {"with_timezone", "at_timezone", "to_unixtime"},
    "clickhouse": {"tounixtimestamp64micro"},
}


def _builtin(node: Any) -> str | None:
    """`kind` of a backend-specific builtin function node, else None."""
    if not isinstance(node, ops.ScalarUDF) or node.__input_type__ != InputType.BUILTIN:
        return None
    name = node.__func_name__.lower()
    if name == "timezone":
        return "instant" if node.dtype.timezone is not None else "wall"
    return {"from_utc_timestamp": "spark_wall", "epoch_us": "epoch", "unix_micros": "epoch"}.get(
        name, "other"
    )


def _backend_specific(expr: ir.Table) -> list[str]:
    return sorted(
        {type(n).__func_name__ for n in expr.op().find(ops.ScalarUDF) if _builtin(n) is not None}
    )


def portable(expr: ir.Table, built: str, target: str) -> ir.Table:
    """`expr` (compiled for the `built` family) with its backend-specific formulations
    rewritten for the `target` dialect; a QueryError where there is no equivalent."""
    family = backend_family(target)
    if family == built:
        return expr
    asof = [j for j in expr.op().find(ops.JoinLink) if j.how == "asof"]
    if asof and family not in _ASOF_OK:
        raise QueryError(
            f"this {built} expression uses an ASOF join, which {target} SQL does not have; build "
            "it with the window formulation to render it for this dialect (funnels: "
            "layer.funnel(..., strategy='window'))"
        )
    if not _backend_specific(expr):
        return expr
    if family is None:
        raise QueryError(f"no formulation of {', '.join(_backend_specific(expr))} for {target}")

    def rewrite(node: Any, kwargs: dict[str, Any] | None) -> Any:
        new = node.__recreate__(kwargs) if kwargs else node
        kind = _builtin(new)
        if kind == "wall":
            zone, ts = (a.to_expr() for a in new.args)
            inner = ts.op()
            if _builtin(inner) == "instant":  # timezone(z, timezone('UTC', naive))
                return wall_clock(inner.args[1].to_expr(), zone, family, naive=True).op()
            return wall_clock(ts, zone, family, naive=False).op()
        if kind == "spark_wall":
            ts, zone = (a.to_expr() for a in new.args)
            return wall_clock(ts, zone, family, naive=True).op()
        if kind == "epoch":
            return epoch_micros(new.args[0].to_expr(), family).op()
        return new

    out = expr.op().replace(rewrite).to_expr()
    left = [n for n in _backend_specific(out) if n.lower() not in _NATIVE[family]]
    if left:
        raise QueryError(f"no formulation of {', '.join(left)} (compiled for {built}) for {target}")
    return out
