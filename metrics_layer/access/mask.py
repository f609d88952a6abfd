"""PII masking: a `pii: true` dimension's columns replaced by a stable hash on restricted layers.

The mask is the lowercase hex MD5 of the value's text (`md5(CAST(x AS VARCHAR))`), NULL for
NULL. MD5 is a builtin of DuckDB, PostgreSQL and Spark with the same result everywhere, so a
masked value is stable across backends and calls: equal values stay equal (grouping and
distinct counts are unchanged) while the value itself is not shown. It is a pseudonym, not
encryption: a short or guessable value can be found by hashing candidates, so hide such
dimensions (`hidden:`) instead.

Masking works on columns: every column a masked dimension reads (its own column, or the
columns of its `expr`) is hashed in the source's table, so no other dimension or measure can
reveal the raw value through the same column.
"""

from __future__ import annotations

from collections.abc import Iterable

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from metrics_layer.expressions import parse_expression
from metrics_layer.registry import Registry


@ibis.udf.scalar.builtin(name="md5")
def _md5(value: str) -> str:  # type: ignore[empty-body]
    """The engine's md5(text): lowercase hex digest."""


def masked_columns(registry: Registry, source: str, dimensions: Iterable[str]) -> set[str]:
    """Columns of `source` that the given dimensions read."""
    src = registry.sources[source]
    cols: set[str] = set()
    for name in dimensions:
        dim = src.dimensions.get(name)
        if dim is None:
            continue
        cols |= set(parse_expression(dim.expr).names) if dim.expr else {name}
    return cols


def mask_table(table: ir.Table, columns: Iterable[str]) -> ir.Table:
    """The table with each named column replaced by its hash (as text)."""
    present = [c for c in sorted(set(columns)) if c in table.columns]
    if not present:
        return table
    return table.mutate(**{c: _md5(table[c].cast(dt.string)) for c in present})
