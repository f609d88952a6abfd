"""PII masking: a `pii: true` dimension's values replaced, keeping their type, on restricted layers.

A masked value keeps the type family of the original, so results, exports (Arrow, pandas, CSV,
JSON) and later arithmetic see the column they expect:

- text: the lowercase hex MD5 of the value (`md5(x)`);
- integers: a 60-bit integer (BIGINT) made from the same MD5 (its first 15 hex digits);
- anything else (floating point, decimals, dates, timestamps, booleans, ...): NULL of the
  original type.

NULL stays NULL. MD5, substrings and `strpos` are builtins of DuckDB, PostgreSQL and Spark with
the same results everywhere, so a masked text or integer is stable across backends and calls:
equal values stay equal (grouping and distinct counts are unchanged) while the value itself is
not shown. It is a pseudonym, not encryption: a short or guessable value can be found by
hashing candidates, so hide such dimensions (`hidden:`) instead. A value of another type has no
pseudonym that keeps its type and hides it, so it is withheld: grouping by it gives one NULL
group and an aggregate over it is NULL.

Masking works on columns: every column a masked dimension reads (its own column, or the
columns of its `expr`) is masked, so no other dimension or measure can reveal the raw value
through the same column. Columns the definitions need raw (join keys and the like) are
masked after the join instead: see keys.py.
"""

from __future__ import annotations

from collections.abc import Iterable

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from metrics_layer.expressions import parse_expression
from metrics_layer.registry import Registry

HEX = "0123456789abcdef"
INT_DIGITS = 15  # 60 bits: the largest whole number of hex digits that fits a signed BIGINT


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


def masked_type(original: dt.DataType) -> dt.DataType:
    """The type of a masked value of type `original` (see the module doc)."""
    if original.is_string():
        return dt.string
    if original.is_integer():
        return dt.int64
    return original


def mask_value(value: ir.Value) -> ir.Value:
    """The masked form of a column (see the module doc); NULL stays NULL."""
    kind = value.type()
    if kind.is_string():
        return _md5(value)
    if kind.is_integer():
        digest = _md5(value.cast(dt.string))
        digits = ibis.literal(HEX)
        number: ir.IntegerValue = ibis.literal(0, type=dt.int64)
        for i in range(INT_DIGITS):
            # find() is typed int64 but is `strpos(...) - 1`, a 32-bit integer on PostgreSQL:
            # the casts make the multiplication 64-bit there too (ibis drops a no-op cast)
            digit = digits.find(digest.substr(i, 1)).cast(dt.int32).cast(dt.int64)
            number = number + digit * ibis.literal(16 ** (INT_DIGITS - 1 - i), type=dt.int64)
        return value.isnull().ifelse(ibis.null(dt.int64), number)
    return ibis.null(kind)


def mask_table(table: ir.Table, columns: Iterable[str]) -> ir.Table:
    """The table with each named column replaced by its masked form."""
    present = [c for c in sorted(set(columns)) if c in table.columns]
    if not present:
        return table
    return table.mutate(**{c: mask_value(table[c]) for c in present})
