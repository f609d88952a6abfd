"""Types checked at load when they are known: what an aggregation, a filter or a join needs.

A sum of a text column, a filter that is not a condition, or join keys that cannot be
compared would otherwise fail inside ibis at query time (with its internal wording) or,
worse, return an answer (the percentile of text is a word). Each measure's expression and
filter is typed against its source table (from the connection or a schema snapshot); an
expression naming something other than the table's own columns is left to the query, which
types it with the joins in place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis.expr.datatypes as dt

from metrics_layer.errors import DefinitionError, ExpressionError
from metrics_layer.expressions.compile import compile_expression
from metrics_layer.expressions.parse import parse_expression

NUMERIC_AGGS = ("sum", "avg")  # booleans count as 0/1
ORDERED_AGGS = ("median", "percentile")  # numbers, times and dates


class _NotOwnColumn(Exception):
    """An expression uses a name that is not a column of the source's own table."""


def check_types(reg: Any, table_of: Callable[[str], Any]) -> None:
    """Raise DefinitionError (file, line, field) for the first ill-typed measure or join."""
    for name, src in reg.sources.items():
        if src.calendar is not None:
            continue
        table = table_of(name)
        at = ("sources", name)
        for mname, m in src.measures.items():
            where = (*at, "measures", mname)
            if m.expr is not None:
                kind = _type(table, m.expr)
                if kind is not None:
                    _check_agg(reg, m.agg, kind, m.expr, where)
            if m.filter is not None:
                kind = _type(table, m.filter)
                if kind is not None and not kind.is_boolean() and not kind.is_null():
                    raise DefinitionError(
                        f"filter {m.filter!r} is a {_word(kind)}, not a condition: write a "
                        "comparison such as `amount > 0`",
                        reg.locate(*where, "filter"),
                    )
        for role, join in src.joins.items():
            target = join.source or role
            other = table_of(target)
            for left, right in join.key_pairs():
                if left not in table.columns or right not in other.columns:
                    continue  # a dimension used as a key (a date for a calendar)
                a, b = table[left].type(), other[right].type()
                if not _comparable(a, b):
                    field = ("keys", left) if isinstance(join.keys, dict) else ("keys",)
                    raise DefinitionError(
                        f"join key {left!r} ({_word(a)}) cannot be compared with "
                        f"{target}.{right} ({_word(b)}); cast one of them in a dimension",
                        reg.locate(*at, "joins", role, *field),
                    )


def _type(table: Any, text: str) -> dt.DataType | None:
    """The type of an expression over the table's columns, or None when it names others."""
    parsed = parse_expression(text)

    def resolve(name: str) -> Any:
        if name not in table.columns:
            raise _NotOwnColumn(name)
        return table[name]

    try:
        return compile_expression(parsed, resolve).type()
    except (_NotOwnColumn, ExpressionError):
        return None  # the query reports it with the joins (and their names) in place


def _check_agg(reg: Any, agg: str, kind: dt.DataType, expr: str, where: tuple[str, ...]) -> None:
    ok = True
    if agg in NUMERIC_AGGS:
        ok = kind.is_numeric() or kind.is_boolean()
    elif agg in ORDERED_AGGS:
        ok = kind.is_numeric() or kind.is_temporal()
    if not ok:
        need = "numbers" if agg in NUMERIC_AGGS else "numbers, times or dates"
        raise DefinitionError(
            f"{agg} of {expr!r}, a {_word(kind)}: {agg} needs {need} "
            "(count or count_distinct count any values)",
            reg.locate(*where, "expr"),
        )


def _comparable(a: dt.DataType, b: dt.DataType) -> bool:
    if a.is_null() or b.is_null():
        return True
    for test in ("is_numeric", "is_string", "is_temporal", "is_boolean", "is_uuid", "is_binary"):
        if getattr(a, test)() and getattr(b, test)():
            return True
    return bool(a == b)


def _word(kind: dt.DataType) -> str:
    if kind.is_string():
        return "text value"
    if kind.is_numeric():
        return "number"
    if kind.is_boolean():
        return "boolean"
    if kind.is_temporal():
        return "time"
    return f"{kind} value"
