"""Ad-hoc expressions (the queries checks build) compiled once, their values bound.

Checks build their ibis expressions on every call: building is cheap, rendering SQL is not
(tens of milliseconds per query). The engine keys such an expression by its structure with
its value literals replaced by sentinels (engine/params.py), so the same check asked again,
or with other bounds, thresholds or accepted values, reuses the rendered SQL and binds the
values as parameters.

Which literals are slotted: timestamps and dates anywhere (period bounds, `now`, `as_of`:
any value position of SQL takes a parameter of that type); numbers and strings only as an
operand of a comparison, BETWEEN or IN, where a parameter means exactly what the literal
meant. Numbers are bound as 64-bit (a comparison's result does not depend on the literal's
width). Every other literal (a quantile's fraction, a divisor, a label, a window offset)
stays in the key, so an expression that differs there is compiled on its own. ibis makes
equal literals one node, so values that happen to be equal share a slot: a call whose values
coincide in another pattern is another shape (compiled once more, and still exact).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir
from ibis.common.graph import Graph

from metrics_layer.engine.params import Slot, _norm, number_sentinel, text_sentinel

_COMPARED = (
    ops.Equals,
    ops.NotEquals,
    ops.Less,
    ops.LessEqual,
    ops.Greater,
    ops.GreaterEqual,
    ops.Between,
    ops.InValues,
)


@dataclass(frozen=True)
class ExprShape:
    """An expression with sentinels in place of its values: `op` keys the cache."""

    op: ops.Node
    slots: tuple[Slot, ...]
    values: dict[int, Any]
    forms: dict[Any, Slot]

    @property
    def expr(self) -> ir.Table:
        return self.op.to_expr()


def shape_expr(expr: ir.Table) -> ExprShape | None:
    """The shape of `expr`, or None when a literal reads like a sentinel (then the expression
    is compiled as written).

    ibis numbers every self-reference and join reference (`t.view()`, a join's sides) from a
    global counter, so an expression built again differs from the first in those numbers
    alone; the shape numbers them in graph order instead, which is the same for the same
    structure.
    """
    root = expr.op()
    graph = Graph.from_bfs(root)
    parents: dict[ops.Node, list[ops.Node]] = {}
    for node, children in graph.items():
        for child in children:
            parents.setdefault(child, []).append(node)
    mapping: dict[ops.Node, ops.Node] = {}
    slots: list[Slot] = []
    values: dict[int, Any] = {}
    forms: dict[Any, Slot] = {}
    kept: list[ops.Literal] = []
    for node in graph:
        if not isinstance(node, ops.Literal):
            continue
        made = _sentinel(node, len(slots), parents.get(node, []))
        if made is None:
            kept.append(node)
            continue
        slot, literal = made
        slots.append(slot)
        values[slot.index] = node.value
        forms[_norm(literal.value)] = slot
        mapping[node] = literal
    if any(_norm(k.value) in forms for k in kept if k.value is not None):
        return None
    refs: dict[ops.Node, int] = {}

    def replace(node: ops.Node, kwargs: dict[str, Any] | None) -> ops.Node:
        if node in mapping:
            return mapping[node]
        if isinstance(node, ops.Reference):  # renumbered in graph order (see the docstring)
            args = (
                dict(kwargs) if kwargs else dict(zip(node.__argnames__, node.__args__, strict=True))
            )
            args["identifier"] = refs.setdefault(node, len(refs))
            return node.__recreate__(args)
        return node.__recreate__(kwargs) if kwargs else node

    return ExprShape(root.replace(replace), tuple(slots), values, forms)


def _sentinel(lit: ops.Literal, index: int, parents: list[ops.Node]) -> tuple[Slot, Any] | None:
    """The slot and sentinel literal standing for `lit`, or None when it stays as written."""
    value, dtype = lit.value, lit.dtype
    if value is None:
        return None
    if dtype.is_timestamp() and isinstance(value, _dt.datetime):
        stamp = _dt.datetime(1, 1, 1) + _dt.timedelta(microseconds=index + 1)
        if value.tzinfo is not None:
            stamp = stamp.replace(tzinfo=value.tzinfo)
        return Slot(index, "bound"), ops.Literal(stamp, dtype)
    if dtype.is_date() and isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        day = _dt.date(1, 1, 1) + _dt.timedelta(days=index + 1)
        return Slot(index, "value"), ops.Literal(day, dtype)
    if not parents or not all(isinstance(p, _COMPARED) for p in parents):
        return None
    if isinstance(value, bool):
        return None
    if dtype.is_integer() and isinstance(value, int) and abs(value) < 2**62:
        return Slot(index, "int"), ops.Literal(number_sentinel(index, "int"), dt.int64)
    if dtype.is_floating() and isinstance(value, float):
        return Slot(index, "float"), ops.Literal(number_sentinel(index, "float"), dt.float64)
    if dtype.is_string() and isinstance(value, str):
        return Slot(index, "str"), ops.Literal(text_sentinel(index, "str"), dtype)
    return None
