"""Masked columns the definitions need raw: masked after the join, never before.

A `pii: true` dimension can be a column the definitions use structurally: a join key (on
either side of any join, so also a hop in the middle of a join path), the source's time,
primary key or SCD validity, or the entity or time of a retention, funnel or experiment.
Masking such a column in the table would break what uses it (a hashed key matches nothing on
the other side; a NULL time drops every row). So on a restricted layer such a column stays raw
in the source's table, where joins, time filters and entity matching read it by name, and the
table gets a masked copy of it, `__ml_masked_<column>`. The restricted registry's definitions
are rewritten so that every dimension and measure that reads the column reads the copy instead
(the dimension named like the column becomes `expr: __ml_masked_<column>`), and source checks
that name the column are left out (their failure samples would show raw values). A caller names
only declared dimensions, so the raw column cannot be asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import ibis.expr.datatypes as dt
import ibis.expr.types as ir
from sqlglot import exp

from metrics_layer.access.mask import mask_value, masked_type
from metrics_layer.definitions.models import Project
from metrics_layer.expressions import parse_expression
from metrics_layer.registry import Registry

PREFIX = "__ml_masked_"
SchemaOf = Callable[[str, str | None], dict[str, str] | None]


def structural_columns(registry: Registry, source: str) -> set[str]:
    """Columns of `source` that joins, time, keys, SCD validity or analyses read by name."""
    src = registry.sources[source]
    cols: set[str] = set()
    for value in (src.time, src.primary_key):
        cols.update([value] if isinstance(value, str) else (value or []))
    if src.scd is not None:
        cols.update([src.scd.valid_from, src.scd.valid_to])
        cols.update([src.scd.key] if isinstance(src.scd.key, str) else src.scd.key)
    for name, other in registry.sources.items():
        for role, join in other.joins.items():
            for left, right in join.key_pairs():
                if name == source:
                    cols.add(left)
                if (join.source or role) == source:
                    cols.add(right)
    project = registry.project
    analyses: list[tuple[str, Iterable[str | None]]] = []
    analyses += [(r.source, (r.entity, r.time)) for r in project.retention.values()]
    analyses += [(e.source, (e.entity, e.time)) for e in project.experiments.values()]
    for f in project.funnels.values():
        analyses.append((f.source, (f.entity, f.time)))
        analyses += [(s.source, (s.entity, s.time)) for s in f.steps if s.source]
    for base, texts in analyses:
        if base == source:
            for text in texts:
                if text:
                    cols.update(parse_expression(text).names)
    return cols


def add_masked_copies(table: ir.Table, columns: Iterable[str]) -> ir.Table:
    """The table with a masked copy of each named column beside the raw one."""
    present = [c for c in sorted(set(columns)) if c in table.columns]
    if not present:
        return table
    return table.mutate(**{PREFIX + c: mask_value(table[c]) for c in present})


def _rename(text: str, columns: set[str]) -> str:
    """The expression with its bare references to `columns` pointing at their masked copies."""
    parsed = parse_expression(text)
    if not set(parsed.names) & columns:
        return text

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name in columns:
            return exp.column(PREFIX + node.name)
        return node

    return parsed.tree.copy().transform(swap).sql()


def read_masked_copies(project: Project, kept: Mapping[str, set[str]]) -> Project:
    """The definitions with every dimension and measure of a source reading the masked copies
    of its `kept` columns, and without the source checks that name them (see module doc)."""
    from metrics_layer.access.prune import mentions

    sources = dict(project.sources)
    for name, cols in kept.items():
        if not cols or name not in sources:
            continue
        src = sources[name]
        dims = {}
        for d, dim in src.dimensions.items():
            if dim.expr is None and d in cols:
                dims[d] = dim.model_copy(update={"expr": PREFIX + d})
            elif dim.expr is not None:
                dims[d] = dim.model_copy(update={"expr": _rename(dim.expr, cols)})
            else:
                dims[d] = dim
        measures = {
            m: meas.model_copy(
                update={
                    "expr": meas.expr and _rename(meas.expr, cols),
                    "filter": meas.filter and _rename(meas.filter, cols),
                }
            )
            for m, meas in src.measures.items()
        }
        checks = [c for c in src.checks if not mentions(c, cols)]
        sources[name] = src.model_copy(
            update={"dimensions": dims, "measures": measures, "checks": checks}
        )
    return project.model_copy(update={"sources": sources})


def schema_with_copies(
    schema_of: SchemaOf | None, registry: Registry, kept: Mapping[str, set[str]]
) -> SchemaOf | None:
    """The schema lookup, with the masked copies as columns of their tables (typed as masked)."""
    if schema_of is None or not any(kept.values()):
        return schema_of
    by_table = {
        (registry.table_name(s), registry.sources[s].database): cols
        for s, cols in kept.items()
        if cols
    }

    def lookup(table: str, database: str | None) -> dict[str, str] | None:
        cols = schema_of(table, database)
        extra = by_table.get((table, database))
        if cols is None or not extra:
            return cols
        copies = {
            PREFIX + c: str(masked_type(dt.dtype(cols[c]))) for c in sorted(extra) if c in cols
        }
        return {**cols, **copies}

    return lookup
