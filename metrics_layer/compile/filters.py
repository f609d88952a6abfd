"""A query's `where`: SQL-expression text or an ibis Deferred, over dimension names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis.expr.types as ir

from metrics_layer.compile.frames import Frame, field_value
from metrics_layer.errors import QueryError
from metrics_layer.expressions import compile_expression, parse_expression
from metrics_layer.registry import FieldRef

if TYPE_CHECKING:
    from metrics_layer.compile.kpi import Context


class _Names:
    """Stands in for a table when a Deferred is resolved: attribute access resolves a dimension."""

    def __init__(self, lookup: Any) -> None:
        self._lookup = lookup

    def __getattr__(self, name: str) -> ir.Value:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._lookup(name)

    def __getitem__(self, name: str) -> ir.Value:
        return self._lookup(name)


def where_names(ctx: Context, base: str, where: Any) -> list[FieldRef]:
    """The fields a where clause refers to, resolved from `base` (names are dimensions)."""
    if where is None:
        return []
    reg = ctx.registry
    if isinstance(where, str):
        return [reg.resolve_field(base, n) for n in parse_expression(where, what="where").names]
    found: list[FieldRef] = []

    def record(name: str) -> ir.Value:
        ref = reg.resolve_field(base, name)
        found.append(ref)
        return field_value(reg, ctx.table_of(ref.source), ref)

    _resolve_deferred(where, record)
    return found


def where_predicate(ctx: Context, frame: Frame, table: ir.Table, where: Any) -> ir.BooleanValue:
    """The where clause as a boolean on the frame's table."""
    reg = ctx.registry

    def lookup(name: str) -> ir.Value:
        return frame.value(reg.resolve_field(frame.base, name), table)

    if isinstance(where, str):
        pred = compile_expression(parse_expression(where, what="where"), lookup)
    else:
        pred = _resolve_deferred(where, lookup)
    if not isinstance(pred, ir.BooleanValue):
        raise QueryError(f"where must be a condition (true/false), got a {pred.type()} value")
    return pred


def _resolve_deferred(where: Any, lookup: Any) -> Any:
    try:
        return where.resolve(_Names(lookup))
    except QueryError:
        raise
    except Exception as exc:  # noqa: BLE001 - ibis raises many types for a bad deferred
        raise QueryError(f"where: cannot apply deferred expression {where!r}: {exc}") from None
