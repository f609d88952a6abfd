"""Frames: a source's table with exactly the joined fields a request needs, flattened.

Joins follow many-to-one paths from the base source as LEFT joins (a fact row is never dropped
or multiplied by a dimension lookup). Each joined source is projected to its key and the
needed fields first, so the backend joins narrow tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from metrics_layer.errors import QueryError
from metrics_layer.expressions import compile_expression, parse_expression
from metrics_layer.registry import FieldRef, JoinStep, Registry

TableOf = Callable[[str], ir.Table]


@dataclass
class _Node:
    index: int
    step: JoinStep
    outputs: dict[FieldRef, str] = field(default_factory=dict)
    carry: dict[str, str] = field(
        default_factory=dict
    )  # column of this source -> alias, for child joins


@dataclass
class Frame:
    """A flat table plus where each resolved field lives in it."""

    registry: Registry
    base: str
    table: ir.Table
    columns: dict[FieldRef, str]

    def value(self, ref: FieldRef, table: ir.Table | None = None) -> ir.Value:
        """The field's value on `table` (default: the frame table; or a filtered version of it)."""
        t = self.table if table is None else table
        if ref.path:
            return t[self.columns[ref]]
        return field_value(self.registry, t, ref)

    def resolver(
        self,
        table: ir.Table | None = None,
        *,
        own_columns: bool = True,
        extra: dict[str, ir.Value] | None = None,
    ) -> Callable[[str], ir.Value]:
        """Name → value for expressions in this source's context."""

        def resolve(name: str) -> ir.Value:
            if extra and name in extra:
                return extra[name]
            ref = self.registry.resolve_field(self.base, name, prefer_columns=own_columns)
            if ref not in self.columns and ref.path:
                raise QueryError(f"internal: field {ref.full_name} was not planned into the frame")
            return self.value(ref, table)

        return resolve


_TRUNCATE = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}


def field_value(registry: Registry, table: ir.Table, ref: FieldRef) -> ir.Value:
    """A field of `ref.source` computed on a table holding that source's raw columns; a
    `<field>__<grain>` reference is the field truncated to the start of its period."""
    if ref.grain is not None:
        from dataclasses import replace

        value = field_value(registry, table, replace(ref, grain=None))
        return value.truncate(_TRUNCATE[ref.grain]).name(f"{ref.name}__{ref.grain}")
    if ref.kind == "column":
        return table[ref.name]
    dim = registry.sources[ref.source].dimensions[ref.name]
    if dim.expr is None:
        if ref.name not in table.columns:
            raise QueryError(
                f"dimension {ref.source}.{ref.name} has no expr and its table has no "
                f"column {ref.name!r}"
            )
        return table[ref.name]
    parsed = parse_expression(dim.expr, what=f"dimension {ref.source}.{ref.name}")

    def resolve(name: str) -> ir.Value:
        if name in table.columns:
            return table[name]
        raise QueryError(
            f"dimension {ref.source}.{ref.name}: {name!r} is not a column of "
            f"{registry.table_name(ref.source)!r} (dimension expressions use their "
            "own source's columns)"
        )

    return compile_expression(parsed, resolve).name(ref.name)


def build_frame(
    registry: Registry,
    table_of: TableOf,
    base: str,
    refs: Iterable[FieldRef],
    *,
    as_of: Any = None,
    backend: str = "duckdb",
    timezone: str = "UTC",
    carry: Iterable[FieldRef] | None = None,
) -> Frame:
    """Join the base source with the sources holding `refs` (one join per distinct path).

    A join into an SCD Type 2 source is point-in-time: the left row's time must fall in the
    version's [valid_from, valid_to) (valid_to NULL = current), unless `as_of` pins a version
    ("current" or a datetime). With `carry`, the joined table keeps only the base columns
    that those fields read (the caller reads no other), not every column of the base table:
    each SELECT above the join then lists a few columns instead of all. Callers pass the same
    `carry` for every frame of a source in one query, so frames joined alike stay one
    subquery that the backend computes once.
    """
    refs = list(refs)
    base_t = table_of(base)
    nodes: dict[tuple[JoinStep, ...], _Node] = {}
    wanted = [r for r in dict.fromkeys(refs) if r.path]
    for ref in wanted:
        for depth in range(1, len(ref.path) + 1):
            prefix = ref.path[:depth]
            if prefix not in nodes:
                nodes[prefix] = _Node(len(nodes), prefix[-1])
        node = nodes[ref.path]
        node.outputs.setdefault(ref, f"__j{node.index}_f{len(node.outputs)}")
    for path, node in nodes.items():
        if len(path) > 1:
            parent = nodes[path[:-1]]
            for left, _ in node.step.pairs:
                parent.carry.setdefault(left, f"__j{parent.index}_c_{left}")
    if not nodes:
        return Frame(registry, base, base_t, {})
    acc: ir.Table = base_t
    extra: list[str] = []
    for path, node in sorted(nodes.items(), key=lambda kv: len(kv[0])):
        right_t = table_of(node.step.right)
        sel: dict[str, ir.Value] = {}
        for i, (_, right) in enumerate(node.step.pairs):
            sel[f"__j{node.index}_k{i}"] = right_t[right]
        for ref, alias in node.outputs.items():
            sel[alias] = field_value(registry, right_t, ref)
        for col, alias in node.carry.items():
            sel[alias] = _key_value(registry, right_t, node.step.right, col)
        scd = registry.sources[node.step.right].scd
        if scd is not None:
            sel[f"__j{node.index}_vf"] = right_t[scd.valid_from]
            sel[f"__j{node.index}_vt"] = right_t[scd.valid_to]
        right_p = right_t.select(**sel)
        up = nodes.get(path[:-1])
        preds = []
        for i, (left, _) in enumerate(node.step.pairs):
            left_v = _key_value(registry, acc, base, left) if up is None else acc[up.carry[left]]
            preds.append(left_v == right_p[f"__j{node.index}_k{i}"])
        if scd is not None:
            if as_of is None:  # at the time of the queried fact, however far the hop
                moment = acc[_scd_time_column(registry, base, node.step.right)]
            elif as_of == "current":
                moment = None
            else:
                moment = ibis.literal(as_of, type=dt.timestamp)
            preds += _validity(right_p, node.index, moment)
        acc = acc.left_join(right_p, preds)
        extra.extend(node.outputs.values())
    kept = None if carry is None else read_columns(registry, base, carry, base_t.columns)
    flat = acc.select(*(base_t.columns if kept is None else kept), *extra)
    columns = {ref: alias for node in nodes.values() for ref, alias in node.outputs.items()}
    return Frame(registry, base, flat, columns)


def read_columns(
    registry: Registry, base: str, refs: Iterable[FieldRef], columns: Sequence[str]
) -> list[str] | None:
    """The columns of the base table that the base's own fields in `refs` read, in table
    order; None (keep all) when one of them cannot be told from the definitions."""
    refs = list(dict.fromkeys(refs))
    source = registry.sources[base]
    needed: set[str] = set()
    names: list[str] = []
    for ref in refs:  # joined fields: their join keys are read by the join, not above it
        if ref.path:
            continue
        if ref.kind == "column":
            needed.add(ref.name)
        else:
            names.append(ref.name)
    for name in names:  # join keys and own dimensions: a column, or the columns of its expr
        dim = source.dimensions.get(name)
        if name in columns and (dim is None or dim.expr is None):
            needed.add(name)
        elif dim is not None and dim.expr is not None:
            needed.update(parse_expression(dim.expr, what=f"dimension {base}.{name}").names)
        else:
            return None
    if not needed <= set(columns):
        return None
    return [c for c in columns if c in needed]


def _key_value(registry: Registry, table: ir.Table, source: str, key: str) -> ir.Value:
    """A join key: a column, or a dimension of the source (e.g. a date cast to join a calendar)."""
    if key in table.columns:
        return table[key]
    if key in registry.sources[source].dimensions:
        return field_value(registry, table, FieldRef(source, (), source, key, "dimension"))
    raise QueryError(f"join key {key!r} is neither a column nor a dimension of source {source!r}")


def _scd_time_column(registry: Registry, base: str, scd_source: str) -> str:
    """The queried (fact) source's own time column, which picks the SCD version in effect.

    It is the fact's time even when the SCD source is reached through other sources (the
    contract's "the fact's time t"): events -> workers -> worker_history uses the event's time.
    """
    fact = registry.sources[base]
    if fact.time is None:
        raise QueryError(
            f"{base!r} reaches the SCD source {scd_source!r}, which is joined point-in-time at "
            f"{base!r}'s time, but {base!r} declares no `time:`; declare one, or query with "
            "as_of='current' or a date"
        )
    ref = registry.resolve_field(base, fact.time, prefer_columns=True)
    if ref.path or ref.kind != "column":
        raise QueryError(
            f"the time of {base!r} must be its own column to join {scd_source!r} point-in-time"
        )
    return ref.name


def _validity(right: ir.Table, index: int, moment: ir.Value | None) -> list[ir.BooleanValue]:
    """valid_from <= moment < valid_to (open end NULL); only the open version when moment is None."""
    vf, vt = right[f"__j{index}_vf"], right[f"__j{index}_vt"]
    if moment is None:
        return [vt.isnull()]
    return [vf <= moment, vt.isnull() | (vt > moment)]
