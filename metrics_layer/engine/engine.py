"""The engine of a layer: compiled queries cached by request shape, run from any thread.

`prepare` turns a request into a compiled query and the values to bind: from the cache when
a request of the same shape was compiled before (a hit, microseconds), else compiled now
with sentinels in place of its bound values (engine/params.py) and cached. When compilation
derives other values from a sentinel (a bound truncated to a period, a spine of periods), the
shape is remembered as one whose values are compiled in: such requests are cached with their
real values, so they still hit when asked again exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa

from metrics_layer.engine.adhoc import shape_expr
from metrics_layer.engine.cache import MAX_BYTES, MAX_ENTRIES, CompiledCache
from metrics_layer.engine.compiled import Compiled
from metrics_layer.engine.executor import Executor, executor_for
from metrics_layer.engine.exports import to_pandas
from metrics_layer.engine.keys import Shape
from metrics_layer.engine.params import check_sentinels, limits_in_force
from metrics_layer.errors import ExecutionError, MetricsLayerError

_VALUES_COMPILED_IN = object()  # cache marker: this shape cannot take bound values


@dataclass
class Prepared:
    """A compiled query, the values it binds, and whether it came from the cache."""

    compiled: Compiled
    values: dict[int, Any] = field(default_factory=dict)
    hit: bool = False
    cached: bool = True  # False: not cacheable (e.g. a deferred where)
    slotted: bool = True  # False: the values are compiled in
    key: Hashable | None = None  # where the engine's cache holds it (None: not cached)

    def describe(self) -> str:
        if not self.cached:
            return "compiled query: compiled for this call only (not cacheable: deferred where)"
        where = "cache hit" if self.hit else "cache miss (compiled now)"
        if self.slotted and not self.compiled.slots:
            return f"compiled query: {where}"
        bound = "values bound as parameters" if self.slotted else "values compiled in"
        return f"compiled query: {where}; {bound}"


@dataclass(frozen=True)
class Recall:
    """What finds a prepared query again without holding it (so the cache alone bounds
    what stays in memory): its cache key and the values it binds."""

    key: Hashable
    values: dict[int, Any]
    slotted: bool

    @classmethod
    def of(cls, prepared: Prepared) -> Recall | None:
        if prepared.key is None:
            return None
        return cls(prepared.key, prepared.values, prepared.slotted)


class Engine:
    """Compiled-query cache and connection strategy of one layer (shared by its threads)."""

    def __init__(
        self, con: Any, backend: str, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES
    ) -> None:
        self.backend = backend
        self.cache = CompiledCache(max_entries, max_bytes)
        self.executor: Executor = executor_for(con, backend)

    def prepare(
        self,
        kind: str,
        shape: Shape | None,
        real: Hashable | None,
        build: Callable[[Any], ir.Table],
    ) -> Prepared:
        """The compiled query of a request.

        `shape` is the slotted request (None: not cacheable), `real` the request with its
        values, `build(request)` compiles a request (slotted or real) to an ibis table.
        """
        if shape is None:
            return Prepared(Compiled(build(real)), cached=False, slotted=False)
        key = (kind, limits_in_force(), shape.request)
        found = self.cache.get(key) if shape.slots else None
        if isinstance(found, Compiled):
            return Prepared(found, shape.values, hit=True, key=key)
        if found is None and shape.slots:
            compiled = self._try_slotted(shape, build)
            if compiled is not None:
                stored = self.cache.put(key, compiled)
                return Prepared(stored, shape.values, key=key)
        real_key = (kind, key[1], real) if shape.slots else key
        found = self.cache.get(real_key)
        if isinstance(found, Compiled):
            return Prepared(found, hit=True, slotted=not shape.slots, key=real_key)
        compiled = Compiled(build(real))  # a user error in the request is raised here
        if shape.slots:
            self.cache.put(key, _VALUES_COMPILED_IN)
        stored = self.cache.put(real_key, compiled)
        return Prepared(stored, slotted=not shape.slots, key=real_key)

    def prepare_again(self, recall: Recall) -> Prepared | None:
        """A request prepared before, again (the same shape and values): its compiled query
        if the cache still holds it (a hit), else None (prepare the request anew)."""
        found = self.cache.get(recall.key)
        if not isinstance(found, Compiled):
            return None
        return Prepared(found, recall.values, hit=True, slotted=recall.slotted, key=recall.key)

    def _try_slotted(self, shape: Shape, build: Callable[[Any], ir.Table]) -> Compiled | None:
        try:
            expr = build(shape.request)
        except Exception:  # noqa: BLE001 - compiled again with real values, which reports it
            return None
        forms = check_sentinels(expr, shape.slots)
        if forms is None:
            return None
        return Compiled(expr, shape.slots, forms)

    def arrow(self, compiled: Compiled, values: dict[int, Any]) -> pa.Table:
        """Run a compiled query with `values` bound; a backend failure is an ExecutionError."""
        try:
            return self.executor.arrow(compiled, values)
        except MetricsLayerError:
            raise
        except Exception as exc:  # noqa: BLE001 - surface backend failures as our error
            # ExecutionError keeps the engine's reason on one line, the rest as its detail
            raise ExecutionError(f"the backend failed to run the query: {exc}") from exc

    def execute(self, expr: ir.Table) -> Any:
        """Run an ad-hoc expression (checks build their own) on this thread's connection and
        return pandas as ibis's `execute()` does; compiled once per shape (engine/adhoc.py)."""
        prepared = self.prepare_expr(expr)
        try:
            table = self.arrow(prepared.compiled, prepared.values)
        except ExecutionError:
            if not prepared.compiled.slots:
                raise
            # a value the backend will not take as a parameter there: compile it in, always
            self.cache.put(
                ("expr", limits_in_force(), prepared.compiled.expr.op()), _VALUES_COMPILED_IN
            )
            prepared = self._prepare_real(expr)
            table = self.arrow(prepared.compiled, prepared.values)
        return to_pandas(table, prepared.compiled.schema, self.backend, exact=False)

    def prepare_expr(self, expr: ir.Table) -> Prepared:
        """The compiled query of an ad-hoc expression: from the cache when one of the same
        shape (the same expression but for its slotted values) was compiled before."""
        shape = shape_expr(expr)
        if shape is None:
            return self._prepare_real(expr)
        key = ("expr", limits_in_force(), shape.op)
        found = self.cache.get(key)
        if isinstance(found, Compiled):
            return Prepared(found, shape.values, hit=True)
        if found is _VALUES_COMPILED_IN:
            return self._prepare_real(expr)
        stored = self.cache.put(key, Compiled(shape.expr, shape.slots, shape.forms))
        return Prepared(stored, shape.values)

    def _prepare_real(self, expr: ir.Table) -> Prepared:
        key = ("expr", limits_in_force(), expr.op())
        found = self.cache.get(key)
        if isinstance(found, Compiled):
            return Prepared(found, hit=True, slotted=False)
        return Prepared(self.cache.put(key, Compiled(expr)), slotted=False)

    def close(self) -> None:
        self.executor.close()
