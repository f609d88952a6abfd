"""What the HTTP API and the MCP tools do, written once: catalog answers and analyses.

Each function takes the caller's layer (restricted or not), so everything it can name or read
is already what that caller may see.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from metrics_layer.errors import MetricsLayerError, QueryError, unknown
from metrics_layer.layer import Layer
from metrics_layer.result import Result as Result


class NotFound(QueryError):
    """A name in a path that the caller cannot see (unknown or not visible: the same answer)."""


def metric_sources(layer: Layer, name: str) -> list[str]:
    """Sources of the measures a metric is built from (transitively)."""
    reg = layer.registry
    seen: list[str] = []
    stack = [name]
    visited: set[str] = set()
    while stack:
        n = stack.pop()
        if n in visited:
            continue
        visited.add(n)
        if n in reg.project.metrics:
            stack.extend(reg.metric_dependencies(n))
            continue
        ref = reg.find_measure(n)
        if ref is not None and ref.source not in seen:
            seen.append(ref.source)
    return seen


def metric_dimensions(layer: Layer, name: str) -> list[str]:
    """Dimensions every source of the metric reaches (what `by` accepts for it)."""
    sets = [set(_declared(layer, s)) for s in metric_sources(layer, name)]
    return sorted(set.intersection(*sets)) if sets else []


def _declared(layer: Layer, source: str) -> list[str]:
    reg = layer.registry
    out = []
    for path, target in reg.join_paths(source):
        roles = [s.role for s in path]
        for dname in reg.sources[target].dimensions:
            out.append(".".join([*roles, dname]) if roles else dname)
    return out


def list_metrics(layer: Layer) -> list[dict[str, Any]]:
    reg = layer.registry
    return [
        {
            "name": name,
            "type": m.kind,
            "label": m.label,
            "description": m.description,
            "format": m.format,
            "dimensions": metric_dimensions(layer, name),
        }
        for name, m in reg.project.metrics.items()
    ]


def describe_metric(layer: Layer, name: str) -> dict[str, Any]:
    reg = layer.registry
    if name not in reg.project.metrics:
        raise NotFound(unknown("metric", name, reg.project.metrics))
    m = reg.project.metrics[name]
    return {
        "name": name,
        "type": m.kind,
        "definition": m.model_dump(mode="json", exclude_none=True, exclude_defaults=True),
        "sources": metric_sources(layer, name),
        "dimensions": metric_dimensions(layer, name),
    }


def list_dimensions(layer: Layer, source: str) -> dict[str, Any]:
    reg = layer.registry
    if source not in reg.sources:
        raise NotFound(unknown("source", source, reg.sources))
    dims = []
    for path, target in reg.join_paths(source):
        roles = [s.role for s in path]
        for dname, dim in reg.sources[target].dimensions.items():
            dims.append(
                {
                    "name": ".".join([*roles, dname]) if roles else dname,
                    "source": target,
                    "type": dim.type,
                    "description": dim.description,
                    "pii": bool(getattr(dim, "pii", False)),
                }
            )
    return {"source": source, "dimensions": dims}


def _named(layer: Layer, section: str, name: str, in_path: bool) -> None:
    items = getattr(layer.registry.project, section, None) or {}
    if name not in items:
        kind = {"retention": "retention", "funnels": "funnel", "experiments": "experiment"}[section]
        err = unknown(kind, name, items)
        raise NotFound(err) if in_path else QueryError(err)


def run(layer: Layer, operation: str, args: Mapping[str, Any], *, in_path: bool = True) -> Result:
    """An analysis as a lazy Result: query, retention, funnel, experiment, dimension_values."""
    args = dict(args)
    if operation == "query":
        return layer.query(args.pop("metrics"), **args)
    if operation == "dimension_values":
        dim = args.pop("dimension")
        source, _, rest = dim.partition(".")
        if source not in layer.registry.sources:
            err = unknown("source", source, layer.registry.sources)
            raise NotFound(err) if in_path else QueryError(err)
        if in_path:
            try:
                layer.registry.resolve_field(source, rest, declared_only=True)
            except QueryError as exc:
                raise NotFound(str(exc)) from None
        return layer.dimension_values(dim, **args)
    name = args.pop("name")
    if operation == "retention":
        _named(layer, "retention", name, in_path)
        return layer.retention(name, **args)
    if operation == "funnel":
        _named(layer, "funnels", name, in_path)
        return layer.funnel(name, **args)
    if operation == "experiment":
        if not hasattr(layer, "experiment"):
            raise QueryError("experiments are not available in this version")
        _named(layer, "experiments", name, in_path)
        return layer.experiment(name, **args)
    raise QueryError(f"unknown operation {operation!r}")


def sql_text(layer: Layer, args: Mapping[str, Any]) -> str:
    args = dict(args)
    dialect = args.pop("dialect", None)
    return layer.query(args.pop("metrics"), **args).sql(dialect=dialect)


def safe_sql(result: Any) -> str | None:
    """The SQL a result runs, for the audit hash (None when it has none)."""
    try:
        return str(result.sql())
    except (MetricsLayerError, AttributeError, NotImplementedError):
        return None
