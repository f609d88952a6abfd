"""Planning a conversion metric: its formula and the ConversionEvents node computing it.

The base measure is an ordinary measure of the query (one more aggregate of its source's
scan, with the metric's filters), so `conversion_rate` is a sum-level ratio like any other.
The conversions are a part of their own beside the scans: the base events (the same rows the
base measure aggregates: the query's where, bounds and keys, the metric's filters) matched
to the conversion events (the conversion measure's rows, its own filter only: a conversion
may fall after `end`). MetricFlow's rule, which this reproduces, is in docs/metrics.md.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from metrics_layer.definitions.models import Metric
from metrics_layer.errors import QueryError
from metrics_layer.expressions import parse_expression
from metrics_layer.planner.nodes import ConversionEvents, MeasureNode, Scan
from metrics_layer.planner.request import Request
from metrics_layer.planner.scans import build_scan, own_names
from metrics_layer.registry import FieldRef, JoinStep, MeasureRef, Registry
from metrics_layer.registry.conversion import conversion_field


@dataclass(frozen=True)
class ConversionSpec:
    """What one ConversionEvents node computes (metrics with the same spec share it)."""

    column: str
    metric: str
    definition: Metric
    filters: tuple[str, ...]  # the metric's filters (and those a ratio or derived passes on)


def spec_key(m: Metric, filters: tuple[str, ...]) -> tuple[object, ...]:
    conv = m.conversion
    assert conv is not None
    return (
        conv.base,
        conv.conversion,
        conv.time_grain,
        conv.entities,
        tuple(conv.constant_properties),
        conv.window,
        filters,
    )


def measures(registry: Registry, m: Metric) -> tuple[MeasureRef, MeasureRef]:
    """The base and conversion measures (checked by the registry at load)."""
    conv = m.conversion
    assert conv is not None
    base = registry.find_measure(conv.base)
    conversion = registry.find_measure(conv.conversion)
    assert base is not None and conversion is not None
    for ref in (base, conversion):
        if ref.measure.non_additive is not None:
            raise QueryError(
                f"conversion metric: measure {ref.qualified} is semi-additive (non_additive), "
                "which a conversion metric cannot aggregate"
            )
    return base, conversion


def events_node(
    registry: Registry, request: Request, spec: ConversionSpec, dims: list[tuple[str, str]]
) -> ConversionEvents:
    """The ConversionEvents node of `spec` for `request` grouped by `dims`."""
    m = spec.definition
    conv = m.conversion
    assert conv is not None
    base_ref, conv_ref = measures(registry, m)
    base_filters = ((base_ref.measure.filter,) if base_ref.measure.filter else ()) + spec.filters
    base_scan = build_scan(
        registry, request, (_node(registry, base_ref, base_filters, "__b"),), dims
    )
    own = (conv_ref.measure.filter,) if conv_ref.measure.filter else ()
    conv_request = dataclasses.replace(request, where=None, start=None, end=None, grain=None)
    conv_scan = build_scan(registry, conv_request, (_node(registry, conv_ref, own, "__v"),), [])
    pairs = [conv.entities, *conv.constant_properties]
    refs = [
        (
            conversion_field(registry, base_ref.source, p.base),
            conversion_field(registry, conv_ref.source, p.conversion),
        )
        for p in pairs
    ]
    return ConversionEvents(
        column=spec.column,
        metric=spec.metric,
        base=_with_fields(base_scan, [b for b, _ in refs]),
        conversion=_with_fields(conv_scan, [c for _, c in refs]),
        entity=refs[0],
        properties=tuple(refs[1:]),
        window=conv.window,
        time_grain=conv.time_grain,
    )


def _node(
    registry: Registry, ref: MeasureRef, filters: tuple[str, ...], column: str
) -> MeasureNode:
    m = ref.measure
    src = registry.sources[ref.source]
    return MeasureNode(
        column,
        ref.source,
        ref.name,
        m.agg,
        m.expr,
        filters,
        m.time or src.time,
        m.p,
        value=parse_expression(m.expr) if m.expr else None,
        conditions=tuple(parse_expression(f) for f in filters),
        names=own_names(registry, ref.source, [m.expr, *filters]),
    )


def _with_fields(scan: Scan, extra: list[FieldRef]) -> Scan:
    """`scan` also carrying `extra` fields (the entity and constant properties) and their joins."""
    fields = tuple(dict.fromkeys([*scan.fields, *extra]))
    steps: dict[tuple[JoinStep, ...], None] = dict.fromkeys(scan.joins)
    for ref in extra:
        for depth in range(1, len(ref.path) + 1):
            steps.setdefault(ref.path[:depth], None)
    return dataclasses.replace(
        scan,
        fields=fields,
        joins=tuple(steps),
        row_fields=tuple(dict.fromkeys([*scan.row_fields, *extra])),
    )
