"""Row filters applied to a source's table, wherever its rows are read.

A filter may use the source's own columns and dimensions and those of joined sources
(`workers.country = :country` on assignments). It is evaluated on a frame joined many-to-one
(LEFT joins: no row is multiplied), and the result keeps exactly the source's own columns, so
every later stage (KPIs, retention, funnels, checks, joins from other sources) reads a table of
the same shape holding only the allowed rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import reduce
from typing import Any

import ibis.expr.types as ir

from metrics_layer.access.placeholders import bind, column_names
from metrics_layer.compile.frames import TableOf, build_frame
from metrics_layer.errors import QueryError, guarded
from metrics_layer.expressions import ParsedExpression, compile_expression
from metrics_layer.registry import Registry


def filtered_rows(
    registry: Registry,
    table_of: TableOf,
    source: str,
    filters: Sequence[ParsedExpression],
    attributes: Mapping[str, Any],
    *,
    backend: str = "duckdb",
    timezone: str = "UTC",
) -> ir.Table:
    """The rows of `source` (read through `table_of`) for which any of `filters` is true."""

    def build() -> ir.Table:
        refs = [
            registry.resolve_field(source, n, prefer_columns=True)
            for f in filters
            for n in column_names(f)
        ]
        frame = build_frame(registry, table_of, source, refs, backend=backend, timezone=timezone)
        preds = []
        for f in filters:
            pred = compile_expression(f, frame.resolver(extra=bind(f, attributes)))
            if not isinstance(pred, ir.BooleanValue):
                raise QueryError(f"the row filter on {source!r} is not a condition (true/false)")
            preds.append(pred.fill_null(False))
        keep = reduce(lambda a, b: a | b, preds)
        base_columns = table_of(source).columns
        return frame.table.filter(keep).select(*base_columns)

    return guarded(build, f"the row filter of {source!r}")
