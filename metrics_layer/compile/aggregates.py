"""How each declared aggregation becomes an ibis reduction (one table, one place)."""

from __future__ import annotations

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
        return table.count(where=where) if value is None else value.count(where=where)
    if value is None:
        raise QueryError(f"aggregation {agg!r} needs an expression")
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
