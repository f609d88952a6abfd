"""Check every table and column the definitions use against the connection's real schema."""

from __future__ import annotations

from typing import TYPE_CHECKING

from metrics_layer.errors import MetricsLayerError, SchemaError, suggest
from metrics_layer.expressions import parse_expression

if TYPE_CHECKING:
    from metrics_layer.layer import Layer


def check_schema(layer: Layer) -> None:
    """Raise SchemaError (file, line, field) for the first missing table or column."""
    reg = layer.registry
    for name, src in reg.sources.items():
        layer.table(name)  # raises a located SchemaError for a missing table
        cols = reg.columns(name) or {}

        def need(column: str, *field: str | int, source: str = name, columns: dict = cols) -> None:
            if column not in columns:
                raise SchemaError(
                    f"column {column!r} not found in table {reg.table_name(source)!r}"
                    f"{suggest(column, columns)}",
                    reg.locate("sources", name, *field),
                )

        def names(text: str | None, *field: str | int) -> None:
            if not text:
                return
            for n in parse_expression(text).names:
                try:
                    reg.resolve_field(name, n, prefer_columns=True)
                except MetricsLayerError as exc:
                    raise SchemaError(str(exc), reg.locate("sources", name, *field)) from None

        if src.time:
            names(src.time, "time")
        pks = [src.primary_key] if isinstance(src.primary_key, str) else (src.primary_key or [])
        for pk in pks:
            need(pk, "primary_key")
        for role, join in src.joins.items():
            target = join.source or role
            target_cols = reg.columns(target) or {}
            for left, right in join.key_pairs():
                need(left, "joins", role, "keys")
                need(right, "joins", role, "keys", source=target, columns=target_cols)
        for dname, dim in src.dimensions.items():
            if dim.expr is None:
                need(dname, "dimensions", dname)
            else:
                for n in parse_expression(dim.expr).names:
                    need(n, "dimensions", dname, "expr")
        for mname, m in src.measures.items():
            names(m.expr, "measures", mname, "expr")
            names(m.filter, "measures", mname, "filter")
            names(m.time, "measures", mname, "time")
    for mname, metric in reg.project.metrics.items():
        if metric.filter and metric.measure:
            ref = reg.find_measure(metric.measure)
            if ref is None:
                continue
            for n in parse_expression(metric.filter).names:
                try:
                    reg.resolve_field(ref.source, n, prefer_columns=True)
                except MetricsLayerError as exc:
                    raise SchemaError(str(exc), reg.locate("metrics", mname, "filter")) from None
