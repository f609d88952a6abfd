"""Per-metric fill, as MetricFlow declares it on a metric.

`join_to_timespine: true` gives a query asking the metric at a grain every period of its
range (as `fill="null"` does for the whole query); `fill_nulls_with: 0` replaces the metric's
NULL values in the result (after the periods are filled). The query's own `fill=` still
wins when it is given. Only the metric's own result column is filled: a derived metric
computed from a filled metric sees the unfilled value (docs/coming-from-metricflow.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

from metrics_layer.definitions.models import Project


def query_fill(
    project: Project, metrics: Sequence[str], grain: str | None, fill: str | None
) -> str | None:
    """The query's fill: as asked, else "null" when an asked metric joins the time spine."""
    if fill is not None or grain is None:
        return fill
    for name in metrics:
        m = project.metrics.get(name) if isinstance(name, str) else None
        if m is not None and m.join_to_timespine:
            return "null"
    return None


def fill_nulls(project: Project, expr: ir.Table, metrics: Sequence[str]) -> ir.Table:
    """Each asked metric with fill_nulls_with has its NULL values replaced."""
    changes = {}
    for name in metrics:
        m = project.metrics.get(name) if isinstance(name, str) else None
        if m is not None and m.fill_nulls_with is not None and name in expr.columns:
            value = m.fill_nulls_with
            literal = int(value) if float(value).is_integer() else value
            changes[name] = ibis.coalesce(expr[name], ibis.literal(literal).cast(expr[name].type()))
    return expr.mutate(**changes) if changes else expr
