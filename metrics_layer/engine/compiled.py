"""A compiled query: the ibis expression of one request shape, its bound slots and its SQL.

One `Compiled` serves every request of its shape. It keeps the expression built with
sentinels (engine/params.py) and renders executable SQL with parameters once per engine,
on first use, under a lock (many threads may execute it at once). `bind` gives the
expression with real values for everything that wants ibis (other dialects, `Result.expr`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import ibis.expr.operations as ops
import ibis.expr.types as ir

from metrics_layer.engine.params import Slot, _norm, bind_value
from metrics_layer.engine.render import ParamSQL, param_sql


class Compiled:
    """The compiled query of one request shape (thread-safe; immutable once rendered)."""

    def __init__(
        self, expr: ir.Table, slots: tuple[Slot, ...] = (), forms: Mapping[Any, Slot] | None = None
    ) -> None:
        self.expr = expr
        self.slots = slots
        self.forms = dict(forms or {})
        self.columns = tuple(expr.columns)
        self.schema = expr.schema()
        self.arrow_schema = self.schema.to_pyarrow()
        self._sql: dict[str, ParamSQL] = {}
        self._lock = threading.Lock()
        self._nbytes: int | None = None

    @property
    def nbytes(self) -> int:
        """Estimated footprint (the cache's byte bound), computed on first use."""
        if self._nbytes is None:
            self._nbytes = _size(self.expr) + 2 * sum(len(s.text) for s in self._sql.values())
        return self._nbytes

    def param_sql(self, backend: str) -> ParamSQL:
        """Executable SQL for `backend` (duckdb or postgres), rendered once."""
        found = self._sql.get(backend)
        if found is None:
            with self._lock:
                found = self._sql.get(backend)
                if found is None:
                    found = self._sql[backend] = param_sql(self.expr, backend, self.forms)
        return found

    def bind(self, values: Mapping[int, Any]) -> ir.Table:
        """The expression with each slot's real value in place of its sentinel."""
        if not self.forms:
            return self.expr
        mapping: dict[ops.Node, ops.Node] = {}
        for lit in self.expr.op().find(ops.Literal):
            slot = self.forms.get(_norm(lit.value)) if lit.value is not None else None
            if slot is not None:
                value = bind_value(slot, values[slot.index], lit.dtype)
                mapping[lit] = ops.Literal(value, lit.dtype)
        return self.expr.op().replace(mapping).to_expr()

    def bound_params(self, sql: ParamSQL, values: Mapping[int, Any]) -> dict[str, Any]:
        """The parameter values of `sql` for the slot values `values`."""
        return {p.name: bind_value(p.slot, values[p.slot.index], p.dtype) for p in sql.params}


def _size(expr: ir.Table) -> int:
    """A rough footprint in bytes, for the cache's byte bound: nodes of the expression tree
    plus the text of its literals."""
    from ibis.common.graph import Graph

    graph = Graph.from_bfs(expr.op())
    extra = sum(len(str(n.value)) for n in graph if isinstance(n, ops.Literal))
    return 400 * len(graph) + extra
