"""Distinct values of one dimension, for pickers in UIs and for agents choosing a filter.

The dimension is named from its source (`workers.country`, or a path through joins such as
`assignments.workers.country`); on a restricted layer the source's table is the allowed one
and masked values stay masked. `search` keeps values whose text contains it, case-insensitive,
compared as a literal (no wildcards).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from metrics_layer.compile.frames import build_frame
from metrics_layer.errors import QueryError, guarded
from metrics_layer.result import Result

if TYPE_CHECKING:
    from metrics_layer.layer import Layer

MAX_VALUES = 100_000


def dimension_values(
    layer: Layer, dimension: str, *, search: str | None = None, limit: int = 100
) -> Result:
    if not isinstance(dimension, str) or "." not in dimension:
        raise QueryError(
            f"name the dimension from its source, as source.dimension (got {dimension!r})"
        )
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_VALUES:
        raise QueryError(f"limit must be a whole number from 1 to {MAX_VALUES:,}, got {limit!r}")
    if search is not None and not isinstance(search, str):
        raise QueryError("search must be text")
    source, _, name = dimension.partition(".")
    reg = layer.registry
    reg.source(source)
    ref = reg.resolve_field(source, name, declared_only=True)
    column = ref.name

    def build() -> ibis.Table:
        frame = build_frame(
            reg, layer.table, source, [ref], backend=layer.backend, timezone=layer.timezone
        )
        values = frame.table.select(frame.value(ref).name(column)).distinct()
        if search:
            text = values[column].cast("string").lower()
            values = values.filter(text.contains(ibis.literal(search.lower())))
        return values.order_by(ibis.asc(column, nulls_first=False)).limit(limit)

    expr = guarded(build, f"the values of {dimension!r}")
    explain = (
        f"Distinct values of {ref.full_name} read from {source!r}"
        + (f", containing {search!r} (case-insensitive)" if search else "")
        + f", sorted, at most {limit}."
    )
    return Result(
        expr, explain=explain, backend=layer.backend, kind="dimension_values", engine=layer.engine
    )
