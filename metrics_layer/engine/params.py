"""Bound values: the literals of a request that one compiled query serves for any value.

A request is compiled with *sentinels* in place of its bound values (`start`, `end`, `as_of`
and the literals of a text `where`): values no definition uses (timestamps in the year 1,
strings in Unicode's private-use area, numbers around 7e18), each unique. The compiled ibis
expression then holds each sentinel as a literal, and the engine renders that literal as a
bind parameter (engine/render.py) whose value is supplied per execution. Literals whose
compiled form depends on their value (a divisor, a ROUND digit count, a number in arithmetic)
are never slotted: they stay part of the request's shape, so they are compiled as written.

Sentinels stand for the value only where the compiled expression uses it as it is. Where
compilation derives something else from it (a bound truncated to a period, a horizon
`end + window`, a spine of periods), `check_sentinels` sees a sentinel-like value that is
no sentinel and the request is compiled with its real values instead (engine/engine.py).
"""

from __future__ import annotations

import datetime as _dt
import functools
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import ibis.expr.operations as ops
import ibis.expr.types as ir
from sqlglot import exp

from metrics_layer import limits
from metrics_layer.errors import QueryError
from metrics_layer.expressions import parse_expression

_EPOCH = _dt.datetime(1, 1, 1)
_MARK = "\ue000"
_INT_BASE = 7_340_000_000_000_000_000
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.In, exp.Between)
_PATTERNS = (exp.Like, exp.ILike)


@dataclass(frozen=True)
class Slot:
    """One bound value: its position (`index`) and kind (what a value must be to fit)."""

    index: int
    kind: str  # "bound" (a datetime), "value" (any value, bound as it is), "str", "date" (ISO date text), "ts" (ISO timestamp text), "int", "float"


def bound_sentinel(index: int) -> _dt.datetime:
    """The stand-in of bound slot `index` (start < end keeps the order of the bounds)."""
    return _EPOCH + _dt.timedelta(microseconds=index + 1)


def text_sentinel(index: int, kind: str) -> str:
    """Stand-in text of a where literal; date-like kinds still read as dates and timestamps."""
    if kind == "date":
        return (_EPOCH.date() + _dt.timedelta(days=index + 40)).isoformat()
    if kind == "ts":
        return (_EPOCH + _dt.timedelta(days=index + 40, microseconds=7)).isoformat(sep=" ")
    return f"{_MARK}ml{index}{_MARK}"


def number_sentinel(index: int, kind: str) -> int | float:
    # zero-padded: "7.3{index}" would make index 10 the same number as index 1
    return _INT_BASE + index if kind == "int" else float(f"7.3{index:06d}e300")


def text_kind(text: str) -> str:
    """str, or date/ts when the text reads as an ISO date or naive timestamp (it may be
    compared with a time column, where it is read as one)."""
    try:
        _dt.date.fromisoformat(text.strip())
        return "date"
    except ValueError:
        pass
    try:
        stamp = _dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return "str"
    return "ts" if stamp.tzinfo is None else "tz"  # "tz" is never slotted


@dataclass(frozen=True)
class WhereTemplate:
    """A text `where` with its slottable literals replaced by sentinels.

    `text` is what gets compiled (and keys the cache); `values` are the literals as written,
    one per slot, in order.
    """

    text: str
    slots: tuple[Slot, ...]
    values: tuple[Any, ...]


def limits_in_force() -> tuple[Any, ...]:
    """The values of the limits on work (metrics_layer/limits.py): part of every cache key, so
    a lowered limit applies to requests compiled before it was lowered."""
    return _read_limits(limits)


def _limit_names() -> tuple[str, ...]:
    return tuple(n for n in vars(limits) if n.isupper() and n.startswith(("MAX_", "PARSE_")))


# one C call: read on every request, where a Python loop over a dozen names costs 1-25 µs
_read_limits = operator.attrgetter(*_limit_names())


def where_template(where: str, first_index: int) -> WhereTemplate:
    """Slot the literals of `where` that are operands of a comparison, IN, BETWEEN or LIKE
    (cached by text: a service asks the same texts again and again)."""
    return _where_template(where, first_index, limits_in_force())


@functools.lru_cache(maxsize=4096)
def _where_template(where: str, first_index: int, _limits: tuple[Any, ...]) -> WhereTemplate:
    parsed = parse_expression(where, what="where")
    tree = parsed.tree.copy()
    slots: list[Slot] = []
    values: list[Any] = []

    def replace(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Literal) or not _slottable(node):
            return node
        index = first_index + len(slots)
        text = str(node.this)
        if node.is_string:
            kind = text_kind(text)
            if kind == "tz":
                return node
            slots.append(Slot(index, kind))
            values.append(text)
            return exp.Literal.string(text_sentinel(index, kind))
        kind = "int" if text.isdigit() else "float"
        value: int | float = int(text) if kind == "int" else float(text)
        if kind == "int" and value > 2**62:
            return node  # near the int64 limit: keep the written value in the shape
        slots.append(Slot(index, kind))
        values.append(value)
        return exp.Literal.number(number_sentinel(index, kind))

    out = tree.transform(replace, copy=False)
    return WhereTemplate(out.sql(), tuple(slots), tuple(values))


def _slottable(node: exp.Literal) -> bool:
    parent = node.parent
    if isinstance(parent, _COMPARISONS):
        return True
    return isinstance(parent, _PATTERNS) and node.arg_key == "expression"


def sentinel_of(slot: Slot) -> Any:
    if slot.kind == "bound":
        return bound_sentinel(slot.index)
    if slot.kind in ("int", "float"):
        return number_sentinel(slot.index, slot.kind)
    return text_sentinel(slot.index, slot.kind)


def _literal_forms(slot: Slot) -> list[Any]:
    """Every value the sentinel of `slot` can have as a compiled literal."""
    s = sentinel_of(slot)
    if slot.kind == "date":
        d = _dt.date.fromisoformat(s)
        return [s, d, _dt.datetime(d.year, d.month, d.day)]
    if slot.kind == "ts":
        return [s, _dt.datetime.fromisoformat(s)]
    if slot.kind == "int":
        return [s, float(s)]
    return [s]


def check_sentinels(expr: ir.Table, slots: Iterable[Slot]) -> dict[Any, Slot] | None:
    """Map each sentinel literal of `expr` to its slot; None when the expression derived other
    values from a sentinel (then its real values must be compiled) or lost one."""
    forms: dict[Any, Slot] = {}
    for slot in slots:
        for value in _literal_forms(slot):
            forms[_norm(value)] = slot
    seen: set[int] = set()
    for lit in expr.op().find(ops.Literal):
        value = lit.value
        key = _norm(value)
        if key in forms:
            seen.add(forms[key].index)
        elif _looks_like_sentinel(value):
            return None
    if seen != {s.index for s in forms.values()}:
        return None
    return forms


def _norm(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        return ("ts", value.replace(tzinfo=None))
    if isinstance(value, _dt.date):
        return ("date", value)
    return (type(value).__name__ if not isinstance(value, bool) else "bool", value)


def _looks_like_sentinel(value: Any) -> bool:
    if isinstance(value, _dt.datetime | _dt.date):
        return value.year < 10
    if isinstance(value, str):
        return _MARK in value or value.startswith("0001-")
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value - _INT_BASE) < 10**12
    if isinstance(value, float):
        return abs(value) > 1e299
    return False


def bind_value(slot: Slot, value: Any, target: Any) -> Any:
    """The Python value to bind for `slot` where the compiled literal has ibis type `target`.

    A date-like where literal compared with a time column is read as SQL reads it (a date or
    timestamp); a value that does not fit is a QueryError, as compiling it would be.
    """
    if slot.kind in ("bound", "int", "float", "value"):  # "value": bound as it is
        return value
    if target.is_date():
        try:
            return _dt.date.fromisoformat(value.strip())
        except ValueError:
            raise QueryError(
                f"where: {value!r} is not a valid date (use ISO format, e.g. '2024-01-31')"
            ) from None
    if target.is_timestamp():
        try:
            return _dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise QueryError(
                f"where: {value!r} is not a valid timestamp (use ISO format, e.g. '2024-01-31 13:45:00')"
            ) from None
    return value
