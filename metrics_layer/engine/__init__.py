"""The engine: compile a request once, run it from any thread, export it exactly.

params.py    bound values: sentinels in place of start/end/as_of and where literals
keys.py      the shape of a request (what one compiled query serves)
calls.py     query() calls seen: their arguments to the request they built
cache.py     a thread-safe LRU of compiled queries (entries and bytes bounded)
compiled.py  a compiled query: expression, slots, SQL rendered once per engine
render.py    SQL text with bind parameters
executor.py  connection strategy per backend (DuckDB cursors, a PostgreSQL pool)
exports.py   Arrow as the source of truth; pandas and polars from it
engine.py    the per-layer engine tying them together
"""

from __future__ import annotations

from metrics_layer.engine.compiled import Compiled
from metrics_layer.engine.engine import Engine, Prepared
from metrics_layer.engine.keys import Shape, shape_of

__all__ = ["Compiled", "Engine", "Prepared", "Shape", "shape_of"]
