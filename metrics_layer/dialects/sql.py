"""SQL text of an expression for any dialect: engine formulations rewritten, then compiled.

An expression is built for the layer's engine, and a few of its formulations are specific to
it: wall-clock time (`timezone(...)` on DuckDB/PostgreSQL, `from_utc_timestamp` on Spark),
epoch microseconds of funnels (`epoch_us`, `unix_micros`) and ASOF joins. `portable` rewrites
the first two into the target dialect's exact equivalent and refuses (QueryError) what has no
equivalent there, such as an ASOF join for BigQuery, Trino or Spark: SQL that would fail or,
worse, count differently is never printed.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
from ibis.expr.operations.udf import InputType

from metrics_layer.dialects.base import Dialect
from metrics_layer.errors import QueryError

_QUANTILES = (ops.Median, ops.Quantile, ops.MultiQuantile)


def render_sql(expr: ir.Table, built: str | None, target: str | None, pretty: bool = True) -> str:
    """SQL for the sqlglot dialect `target` (default: `built`, the engine it was built for).

    duckdb, postgres, bigquery, snowflake, trino, clickhouse and spark (pyspark, databricks)
    are compiled by ibis after `portable`. Where ibis's compiler for a dialect lacks an
    operation (e.g. BigQuery median), or for a dialect ibis does not know, the DuckDB SQL is
    transpiled by sqlglot instead, unless that could change the numbers (`_no_fallback`).
    """
    from metrics_layer.dialects import GENERIC, canonical, dialect, family

    if target is not None and (not isinstance(target, str) or not target.strip()):
        raise QueryError(f"dialect must be a name such as 'duckdb' or 'postgres', got {target!r}")
    if not isinstance(pretty, bool):
        raise QueryError(f"pretty must be True or False, got {pretty!r}")
    origin = built or "duckdb"
    built_family = family(origin) or origin
    to = canonical(target or origin)
    out = portable(expr, built_family, to)
    d = dialect(to)
    if d is not GENERIC and not d.exact_median:
        quantiles = sorted({type(n).__name__ for n in expr.op().find(_QUANTILES)})
        if quantiles:
            raise QueryError(
                f"cannot render SQL for dialect {to!r}: it has no exact median/percentile "
                f"aggregate ({', '.join(quantiles)}), and an approximate one would change "
                "the numbers"
            )
    try:
        return compile_sql(out, to, pretty)
    except Exception as first:  # noqa: BLE001 - unknown dialects and unsupported ops
        reason = _no_fallback(expr)
        if reason:
            raise QueryError(
                f"cannot render SQL for dialect {to!r}: {first}; "
                f"transpiling the DuckDB SQL instead is not safe: {reason}"
            ) from None
        import sqlglot

        write = {"pyspark": "spark"}.get(to, to)
        try:
            base = compile_sql(expr, "duckdb", False)
            return ";\n".join(sqlglot.transpile(base, read="duckdb", write=write, pretty=pretty))
        except Exception:  # noqa: BLE001
            raise QueryError(f"cannot render SQL for dialect {to!r}: {first}") from None


def compile_sql(expr: ir.Table, target: str, pretty: bool) -> str:
    """ibis's SQL for `target`, finished by the dialect (exact quantiles on ClickHouse)."""
    import ibis.backends.sql.compilers as sc

    from metrics_layer.dialects import dialect

    d = dialect(target)
    if d.name == "pyspark":
        _declare_pyspark_options()
    try:
        compiler = getattr(sc, d.compiler or target).compiler
    except AttributeError:
        raise QueryError(f"ibis has no SQL compiler for {target!r}") from None
    out = compiler.to_sqlglot(expr.unbind())
    queries = d.finish_sql(out if isinstance(out, list) else [out])
    return ";\n".join(q.sql(dialect=compiler.dialect, pretty=pretty) for q in queries)


class _PySparkOptions(ibis.config.Config):  # type: ignore[misc]  # ibis.config is untyped
    """ibis's `pyspark` option group, as its PySpark backend declares it.

    Attributes
    ----------
    treat_nan_as_null : bool
        Treat NaNs in floating point expressions as NULL.
    """

    treat_nan_as_null: bool = False


def _declare_pyspark_options() -> None:
    """Declare `ibis.options.pyspark` if absent, as ibis does when its PySpark backend loads.

    ibis's Spark SQL compiler reads `ibis.options.pyspark.treat_nan_as_null`, but the option
    group is declared only by `ibis.backends.pyspark`, which imports pyspark. Declaring the
    same group (same name, same default) lets Spark SQL render without pyspark installed;
    if that backend loads later it replaces the group with its own, default for default.
    """
    if ibis.options.pyspark is None:
        ibis.options.pyspark = _PySparkOptions()


def _no_fallback(expr: ir.Table) -> str | None:
    """Why transpiling the DuckDB SQL with sqlglot would not be safe, if it would not."""
    if names := backend_specific(expr):
        return f"sqlglot would copy {', '.join(names)} through unchanged"
    if expr.op().find(_QUANTILES):
        return "no exact median/percentile aggregate is known for this dialect"
    return None


def _builtin(node: Any) -> str | None:
    """`kind` of an engine-specific builtin function node, else None."""
    if not isinstance(node, ops.ScalarUDF) or node.__input_type__ != InputType.BUILTIN:
        return None
    name = node.__func_name__.lower()
    if name == "timezone":
        return "instant" if node.dtype.timezone is not None else "wall"
    kinds = {
        "from_utc_timestamp": "spark_wall",
        "to_utc_timestamp": "spark_utc",
        "epoch_us": "epoch",
        "unix_micros": "epoch",
    }
    return kinds.get(name, "other")


def _literal(node: Any) -> Any:
    """The value of a literal op (a zone name), else None."""
    return getattr(node, "value", None) if isinstance(node, ops.Literal) else None


def backend_specific(expr: ir.Table) -> list[str]:
    """Names of the engine builtin functions an expression uses."""
    return sorted(
        {type(n).__func_name__ for n in expr.op().find(ops.ScalarUDF) if _builtin(n) is not None}
    )


def portable(expr: ir.Table, built: str, target: str) -> ir.Table:
    """`expr` (compiled for the `built` family) with its engine-specific formulations
    rewritten for the `target` dialect; a QueryError where there is no equivalent."""
    from metrics_layer.dialects import GENERIC, dialect

    to: Dialect = dialect(target)
    if to.name == built:
        return expr
    asof = [j for j in expr.op().find(ops.JoinLink) if j.how == "asof"]
    if asof and not to.asof_sql:
        raise QueryError(
            f"this {built} expression uses an ASOF join, which {target} SQL does not have; build "
            "it with the window formulation to render it for this dialect (funnels: "
            "layer.funnel(..., strategy='window'))"
        )
    if not backend_specific(expr):
        return expr
    if to is GENERIC:
        raise QueryError(f"no formulation of {', '.join(backend_specific(expr))} for {target}")

    def rewrite(node: Any, kwargs: dict[str, Any] | None) -> Any:
        new = node.__recreate__(kwargs) if kwargs else node
        kind = _builtin(new)
        if kind == "wall":
            zone, ts = (a.to_expr() for a in new.args)
            inner = ts.op()
            if _builtin(inner) == "instant":  # timezone(z, timezone(z0, naive wall in z0))
                wall = inner.args[1].to_expr()
                source = _literal(inner.args[0])
                if source != "UTC":
                    utc = to.utc_of(wall, inner.args[0].to_expr())
                    if _literal(new.args[0]) == "UTC":
                        return utc.op()
                    return to.wall_clock(utc, zone, naive=True).op()
                return to.wall_clock(wall, zone, naive=True).op()
            return to.wall_clock(ts, zone, naive=False).op()
        if kind == "spark_wall":
            ts, zone = (a.to_expr() for a in new.args)
            return to.wall_clock(ts, zone, naive=True).op()
        if kind == "spark_utc":
            ts, zone = (a.to_expr() for a in new.args)
            return to.utc_of(ts, zone).op()
        if kind == "epoch":
            return to.epoch_micros(new.args[0].to_expr()).op()
        return new

    out = expr.op().replace(rewrite).to_expr()
    left = [n for n in backend_specific(out) if n.lower() not in to.functions]
    if left:
        raise QueryError(f"no formulation of {', '.join(left)} (compiled for {built}) for {target}")
    return out
