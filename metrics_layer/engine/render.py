"""SQL text with bind parameters, rendered once per compiled query and engine.

ibis's own compilers turn every literal into SQL text. For execution the engine wants the
slotted literals (engine/params.py) as parameters instead, so the text is rendered once and
every execution only binds values: a compiler subclass renders each sentinel literal as a
typed placeholder (`CAST($p0 AS TIMESTAMP)` on DuckDB, `CAST(%(p0)s AS TIMESTAMP)` for
psycopg; a text one is a bare `$p0` on DuckDB), and everything else exactly as ibis does.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import sqlglot.expressions as sge

from metrics_layer.engine.params import Slot, _norm

_TOKEN = "\ue001"
PARAM_STYLES = {"duckdb": "${}", "postgres": "%({})s"}


@dataclass(frozen=True)
class Placeholder:
    """One parameter of rendered SQL: its name, the slot it binds and the SQL type it has."""

    name: str
    slot: Slot
    dtype: dt.DataType


@dataclass(frozen=True)
class ParamSQL:
    """Executable SQL text for one engine and the parameters it binds, by name."""

    text: str
    params: tuple[Placeholder, ...]


@functools.cache
def _compiler_class(backend: str) -> type:
    import ibis.backends.sql.compilers as sc

    base = type(getattr(sc, backend).compiler)
    # DuckDB types a parameter by the value bound (a Python str is VARCHAR), so a text
    # placeholder needs no CAST, and a CAST costs it time (measured: about 1% of a light
    # query); psycopg sends text untyped, so PostgreSQL keeps the CAST
    untyped_text = backend == "duckdb"

    def visit_Literal(self: Any, op: Any, *, value: Any, dtype: dt.DataType) -> Any:
        slot = self.ml_forms.get(_norm(value)) if value is not None else None
        if slot is None:
            return base.visit_Literal(self, op, value=value, dtype=dtype)
        family = "d" if dtype.is_date() else "t" if dtype.is_timestamp() else "v"
        name = f"p{slot.index}{family}"
        self.ml_found.setdefault(name, Placeholder(name, slot, dtype))
        placeholder = sge.var(f"{_TOKEN}{name}{_TOKEN}")
        if untyped_text and dtype.is_string():
            return placeholder
        return self.cast(placeholder, dtype)

    return type(f"Bound{base.__name__}", (base,), {"visit_Literal": visit_Literal})


def param_sql(expr: ir.Table, backend: str, forms: dict[Any, Slot]) -> ParamSQL:
    """`expr` as `backend` SQL with its slotted literals as named parameters."""
    from metrics_layer.dialects import dialect

    compiler = _compiler_class(backend)()
    compiler.ml_forms = forms
    compiler.ml_found = {}
    tree = compiler.to_sqlglot(expr.unbind())
    queries = dialect(backend).finish_sql([tree])
    text = ";\n".join(q.sql(dialect=compiler.dialect) for q in queries)
    style = PARAM_STYLES[backend]
    if backend == "postgres" and compiler.ml_found:
        # psycopg reads % as the start of a parameter when (and only when) parameters are
        # passed; without any, the text goes as written and a doubled %% would stay doubled
        text = text.replace("%", "%%")
    for name in compiler.ml_found:
        text = text.replace(f"{_TOKEN}{name}{_TOKEN}", style.format(name))
    if _TOKEN in text:
        raise AssertionError("a bind parameter was not rendered")  # a bug, not a user error
    return ParamSQL(text, tuple(compiler.ml_found.values()))
