"""Check every table and column the definitions use against the connection's real schema.

Runs once at load time (when `ml.load` is given a connection), so a misspelt table or column
fails there, naming file, line and field, and suggesting the closest real name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from metrics_layer.connection import backend_name
from metrics_layer.errors import QueryError, SchemaError, suggest

if TYPE_CHECKING:
    from metrics_layer.layer import Layer
    from metrics_layer.registry.registry import Registry

Where = tuple[str | int, ...]


def check_schema(layer: Layer) -> None:
    """Raise SchemaError (file, line, field) for the first missing table or column."""
    reg = layer.registry
    for name in reg.sources:
        if reg.columns(name) is None:
            table = reg.table_name(name)
            raise SchemaError(
                f"table {table!r} of source {name!r} not found in the connection"
                f"{suggest(table, list_tables(layer.con))}",
                reg.locate("sources", name, *(("table",) if reg.sources[name].table else ())),
            )
        layer.table(name)
    check = _Checker(reg)
    for name in reg.sources:
        check.source(name)
    for name in reg.project.metrics:
        check.metric(name)
    for name in reg.project.retention:
        check.retention(name)
    for name in reg.project.funnels:
        check.funnel(name)
    from metrics_layer.registry.type_check import check_types

    check_types(reg, layer.table)


def list_tables(con: Any) -> list[str]:
    """Table names for suggestions; never raises.

    ibis 12's DuckDB `list_tables` fails on duckdb 2 and leaves the connection holding an
    unfinished result (every later call on it fails), so DuckDB is asked directly.
    """
    try:
        if backend_name(con) == "duckdb":
            rows = con.raw_sql("SELECT table_name FROM information_schema.tables").fetchall()
            return [str(r[0]) for r in rows]
        return [str(t) for t in con.list_tables()]
    except Exception:  # noqa: BLE001 - only used for suggestions
        return []


class _Checker:
    """The checks, one method per kind of definition; `where` is the located field path."""

    def __init__(self, reg: Registry) -> None:
        self.reg = reg

    def column(self, source: str, column: str, *where: str | int) -> None:
        """A raw column of the source's table (keys, primary keys, plain dimensions)."""
        columns = self.reg.columns(source) or {}
        if column not in columns:
            raise SchemaError(
                f"column {column!r} not found in {self._table(source)}{suggest(column, columns)}",
                self.reg.locate(*where),  # type: ignore[arg-type]
            )

    def names(self, base: str, text: str | None, *where: str | int) -> None:
        """Every name of an expression is a column of `base` or a dimension reachable from it."""
        if not text:
            return
        for name in self.reg.parse(text, *where).names:  # type: ignore[arg-type]
            self.field(base, name, *where)

    def field(self, base: str, name: str, *where: str | int) -> None:
        try:
            self.reg.resolve_field(base, name, prefer_columns=True)
        except QueryError as exc:
            if "ambiguous" in str(exc):
                raise SchemaError(str(exc), self.reg.locate(*where)) from None  # type: ignore[arg-type]
            known = [*(self.reg.columns(base) or {}), *self.reg.field_names(base)]
            raise SchemaError(
                f"unknown column or dimension {name!r} in {self._table(base)}{suggest(name, known)}",
                self.reg.locate(*where),  # type: ignore[arg-type]
            ) from None

    def _table(self, source: str) -> str:
        table = self.reg.table_name(source)
        return f"source {source!r}" if table == source else f"table {table!r} of source {source!r}"

    def source(self, name: str) -> None:
        src = self.reg.sources[name]
        at: Where = ("sources", name)
        self.names(name, src.time, *at, "time")
        pks = [src.primary_key] if isinstance(src.primary_key, str) else (src.primary_key or [])
        for pk in pks:
            self.column(name, pk, *at, "primary_key")
        for role, join in src.joins.items():
            target = join.source or role
            for left, right in join.key_pairs():
                key: Where = (*at, "joins", role, "keys")
                if isinstance(join.keys, dict):
                    key = (*key, left)
                if (
                    left not in src.dimensions
                ):  # a dimension may be a join key (a date for a calendar)
                    self.column(name, left, *key)
                self.column(target, right, *key)
        for dname, dim in src.dimensions.items():
            if dim.expr is None:
                self.column(name, dname, *at, "dimensions", dname)
            else:
                self.names(name, dim.expr, *at, "dimensions", dname, "expr")
        for mname, m in src.measures.items():
            for f in ("expr", "filter", "time"):
                self.names(name, getattr(m, f), *at, "measures", mname, f)
        scd = getattr(src, "scd", None)
        if scd is not None:
            keys = [scd.key] if isinstance(scd.key, str) else scd.key
            for k in keys:
                self.column(name, k, *at, "scd", "key")
            self.column(name, scd.valid_from, *at, "scd", "valid_from")
            self.column(name, scd.valid_to, *at, "scd", "valid_to")

    def metric(self, name: str) -> None:
        metric = self.reg.project.metrics[name]
        if metric.conversion is not None:
            from metrics_layer.registry.conversion import check_conversion_fields

            check_conversion_fields(self.reg, name, metric)
        if not (metric.filter and metric.measure):
            return
        ref = self.reg.find_measure(metric.measure)
        if ref is not None:
            self.names(ref.source, metric.filter, "metrics", name, "filter")

    def retention(self, name: str) -> None:
        ret = self.reg.project.retention[name]
        at: Where = ("retention", name)
        self.names(ret.source, ret.entity, *at, "entity")
        self.names(ret.source, getattr(ret, "time", None), *at, "time")
        self.names(ret.source, ret.cohort, *at, "cohort")
        self.names(ret.source, ret.activity, *at, "activity")
        for i, by in enumerate(getattr(ret, "by", None) or []):
            self.field(ret.source, by, *at, "by", i)

    def funnel(self, name: str) -> None:
        fun = self.reg.project.funnels[name]
        at: Where = ("funnels", name)
        self.names(fun.source, fun.entity, *at, "entity")
        self.names(fun.source, getattr(fun, "time", None), *at, "time")
        for i, by in enumerate(getattr(fun, "by", None) or []):
            self.field(fun.source, by, *at, "by", i)
        for i, step in enumerate(fun.steps):
            source = getattr(step, "source", None) or fun.source
            self.names(source, step.filter, *at, "steps", i, "filter")
            self.names(source, getattr(step, "entity", None), *at, "steps", i, "entity")
            self.names(source, getattr(step, "time", None), *at, "steps", i, "time")
        for i, exc in enumerate(getattr(fun, "exclusions", None) or []):
            self.names(fun.source, exc.filter, *at, "exclusions", i, "filter")
