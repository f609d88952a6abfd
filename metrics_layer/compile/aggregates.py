"""How each declared aggregation becomes an ibis reduction (one table, one place)."""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from metrics_layer.errors import QueryError


def _exact(value: ir.Value) -> ir.Value:
    """Averages and quantiles of decimals are computed in float64 (ibis would round to the scale)."""
    if value.type().is_decimal() or value.type().is_integer():
        return value.cast(dt.float64)
    return value


def reduce(
    agg: str,
    table: ir.Table,
    value: ir.Value | None,
    where: ir.BooleanValue | None,
    p: float | None = None,
) -> ir.Scalar:
    """The reduction of `value` (or of rows, for count without expr) over rows matching `where`."""
    if agg == "count":
        if isinstance(value, ir.Scalar):  # count(1): the rows, none when the constant is NULL
            return ibis.ifelse(value.isnull(), 0, table.count(where=where))
        return table.count(where=where) if value is None else value.count(where=where)
    if value is None:
        raise QueryError(f"aggregation {agg!r} needs an expression")
    if isinstance(value, ir.Scalar):
        return _reduce_constant(agg, table, value, where)
    if agg == "count_distinct":
        return value.nunique(where=where)
    if agg == "sum":
        if value.type().is_boolean():
            value = value.cast(dt.int64)
        return value.sum(where=where)
    if agg == "avg":
        return _exact(value).mean(where=where)
    if agg == "min":
        return value.min(where=where)
    if agg == "max":
        return value.max(where=where)
    if agg == "median":
        return _exact(value).median(where=where)
    if agg == "percentile":
        return _exact(value).quantile(p, where=where)
    raise QueryError(f"unknown aggregation {agg!r}")


def _reduce_constant(
    agg: str, table: ir.Table, value: ir.Scalar, where: ir.BooleanValue | None
) -> ir.Scalar:
    """A constant expression (`expr: "1"`, dbt's way to count) has one value on every row.

    SQL aggregates it per row; here it is computed from the row count, which every backend
    agrees on: sum(c) = c * rows, avg/min/max/median/percentile(c) = c, count_distinct(c) = 1,
    each NULL (0 for count_distinct) over no rows or a NULL constant, as in SQL.
    """
    rows = table.count(where=where)
    some = rows > 0
    if value.type().is_null():  # `expr: "NULL"`: every aggregate of it is NULL (0 distinct)
        value = ibis.null().cast(dt.float64)
    if agg == "count_distinct":
        return ibis.ifelse(some & value.notnull(), 1, 0).cast(dt.int64)
    if value.type().is_boolean() and agg == "sum":
        value = value.cast(dt.int64)
    if agg in ("avg", "median", "percentile"):
        value = _exact(value)
    if agg not in ("sum", "avg", "min", "max", "median", "percentile"):
        raise QueryError(f"unknown aggregation {agg!r}")
    if agg in ("sum", "avg", "median", "percentile") and not value.type().is_numeric():
        raise QueryError(
            f"aggregation {agg!r} needs a number, got the constant of type {value.type()}"
        )
    result = value * rows if agg == "sum" else value
    return ibis.ifelse(some, result, ibis.null().cast(result.type()))
