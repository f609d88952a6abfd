"""Prune the definitions to what a grant shows, so a restricted layer's registry knows nothing else.

A hidden dimension, an invisible source and everything built on them (a join into the source,
a measure or dimension reading a hidden column, a metric on such a measure, a retention or
funnel over such a source, a source check on a hidden column) are removed from the Project the
restricted registry is built from. Names that are not there cannot appear in results, SQL,
the catalog, lineage or error suggestions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

import ibis.expr.types as ir

from metrics_layer.access.keys import structural_columns
from metrics_layer.definitions.models import Project, Source
from metrics_layer.errors import MetricsLayerError
from metrics_layer.expressions import parse_expression
from metrics_layer.registry import Registry

Field = tuple[str, str]


def hidden_columns(registry: Registry, hidden: Iterable[Field]) -> dict[str, set[str]]:
    """Per source, the names a hidden dimension is or reads (its column, its expr's columns)."""
    out: dict[str, set[str]] = {}
    for source, dim in hidden:
        src = registry.sources.get(source)
        if src is None or dim not in src.dimensions:
            continue
        expr = src.dimensions[dim].expr
        out.setdefault(source, set()).update({dim, *(parse_expression(expr).names if expr else ())})
    return out


def drop_hidden(
    registry: Registry, source: str, table: ir.Table, hidden: frozenset[Field]
) -> ir.Table:
    """The table without the columns of hidden dimensions, except those the definitions need
    to join, date or key its rows (keys.structural_columns)."""
    secret = hidden_columns(registry, [h for h in hidden if h[0] == source]).get(source, set())
    needed = structural_columns(registry, source)
    drop = [c for c in table.columns if c in secret and c not in needed]
    # a select of the kept columns, not a drop: `EXCLUDE (name)` would show the name in SQL
    return table.select(*[c for c in table.columns if c not in drop]) if drop else table


def prune_project(registry: Registry, visible: frozenset[str], hidden: frozenset[Field]) -> Project:
    """The Project restricted to `visible` sources without `hidden` dimensions (see module doc)."""
    project = registry.project
    secret = hidden_columns(registry, hidden)
    sources: dict[str, Source] = {}
    for name in project.sources:
        if name not in visible:
            continue
        src = project.sources[name]
        cols = secret.get(name, set())
        dims = {
            d: dim
            for d, dim in src.dimensions.items()
            if d not in cols and not (dim.expr and set(parse_expression(dim.expr).names) & cols)
        }
        joins = {r: j for r, j in src.joins.items() if (j.source or r) in visible}
        checks = [c for c in src.checks if not mentions(c, cols)]
        sources[name] = src.model_copy(
            update={"dimensions": dims, "joins": joins, "checks": checks}
        )
    shell = Project(sources=sources)
    probe = Registry(shell, registry.origins, registry._schema_of)

    def reads(base: str, text: str | None) -> bool:
        return text is None or _expression_ok(probe, registry, base, text, secret)

    for name, src in sources.items():
        measures = {
            m: meas
            for m, meas in src.measures.items()
            if reads(name, meas.expr) and reads(name, meas.filter) and reads(name, meas.time)
        }
        sources[name] = src.model_copy(update={"measures": measures})
    shell = Project(sources=sources)
    probe = Registry(shell, registry.origins, registry._schema_of)
    metrics = _metrics(registry, probe)
    retention = {
        n: r
        for n, r in project.retention.items()
        if r.source in sources
        and all(reads(r.source, t) for t in (r.entity, r.cohort, r.activity, r.time))
        and all(_name_ok(probe, r.source, b) for b in r.by)
    }
    funnels = {n: f for n, f in project.funnels.items() if _funnel_ok(f, sources, reads, probe)}
    update: dict[str, Any] = {
        "sources": sources,
        "metrics": metrics,
        "retention": retention,
        "funnels": funnels,
    }
    update.update(_other_sections(project, sources, metrics))
    return Project.model_validate(
        {**{k: getattr(project, k) for k in type(project).model_fields if k != "access"}, **update}
    )


def _expression_ok(
    probe: Registry, full: Registry, base: str, text: str, secret: dict[str, set[str]]
) -> bool:
    """The expression's names resolve among visible things and read no hidden column."""
    try:
        names = parse_expression(text).names
        for n in names:
            ref = probe.resolve_field(base, n, prefer_columns=True)
            if ref.name in secret.get(ref.source, set()):
                return False
    except MetricsLayerError:
        return False
    return True


def _name_ok(probe: Registry, base: str, name: str) -> bool:
    try:
        probe.resolve_field(base, name, declared_only=True)
    except MetricsLayerError:
        return False
    return True


def _funnel_ok(
    f: Any, sources: dict[str, Source], reads: Callable[..., bool], probe: Registry
) -> bool:
    if f.source not in sources or not reads(f.source, f.entity) or not reads(f.source, f.time):
        return False
    for step in f.steps:
        base = step.source or f.source
        if base not in sources or not reads(base, step.filter):
            return False
    if not all(reads(f.source, x.filter) for x in f.exclusions):
        return False
    return all(_name_ok(probe, f.source, b) for b in f.by)


def _metrics(full: Registry, probe: Registry) -> dict[str, Any]:
    """Metrics whose every dependency (transitively) is still defined."""
    metrics = dict(full.project.metrics)
    changed = True
    while changed:
        changed = False
        for name in list(metrics):
            for dep in full.metric_dependencies(name):
                if dep in metrics:
                    continue
                try:
                    found = probe.find_measure(dep)
                except MetricsLayerError:
                    found = None
                if found is None:
                    del metrics[name]
                    changed = True
                    break
    return metrics


def _other_sections(
    project: Project, sources: dict[str, Source], metrics: dict[str, Any]
) -> dict[str, Any]:
    """Sections this module does not know item by item (experiments, materializations, ...):
    an item is kept only when every source and metric it names is still visible."""
    out: dict[str, Any] = {}
    known = {"version", "sources", "metrics", "retention", "funnels", "access"}
    for key in type(project).model_fields:
        value = getattr(project, key)
        if key in known or not isinstance(value, dict):
            continue
        kept = {}
        for name, item in value.items():
            data = item.model_dump() if hasattr(item, "model_dump") else item
            src = data.get("source") if isinstance(data, dict) else None
            names = data.get("metrics") if isinstance(data, dict) else None
            if src is not None and src not in sources:
                continue
            if names and any(m not in metrics and "." not in m for m in names):
                continue
            kept[name] = item
        out[key] = kept
    return out


def mentions(check: Any, columns: set[str]) -> bool:
    """Whether a source check names any of the columns (in its fields or its `where`)."""
    if not columns:
        return False
    text = json.dumps(check.model_dump(mode="json") if hasattr(check, "model_dump") else check)
    return any(re.search(rf"\b{re.escape(c)}\b", text) for c in columns)
