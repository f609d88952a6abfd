"""Conversion metrics -> MetricFlow `type: conversion` metrics (part of export_metrics.py).

The import's mapping (metrics.py `_conversion`) read backwards: `base` and `conversion` name
the measures, `entity` is the MetricFlow entity whose column is our entity column on each
side, `window` is `<n> <grain>`, `constant_properties` are the dimensions (or entities) of
those names, the metric's and the base measure's filters are the metric's `filter` (both
narrow the base events, here and in MetricFlow) and `fill_nulls_with` of a `conversions`
metric sits on the conversion measure. MetricFlow compares the two times at its time
dimension's granularity, day in the export: `time_grain: day` is that, no time_grain is that
on date columns (reported), any other grain has no MetricFlow form. MetricFlow takes only
counts, count_distincts and sums of 1 as conversion measures.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from metrics_layer.definitions.conversion import Conversion
from metrics_layer.interchange.metricflow.export_filters import NotExportable
from metrics_layer.interchange.metricflow.export_models import valid_name

if TYPE_CHECKING:
    from metrics_layer.definitions.models import Metric
    from metrics_layer.interchange.metricflow.export_metrics import MetricExporter

_WINDOW = re.compile(r"\A\s*(\d+)\s*(day|week|month|quarter|year)s?\s*\Z", re.I)
SIDES = ("base", "conversion")


def conversion_metric(ex: MetricExporter, name: str, m: Metric) -> dict[str, Any]:
    """The MetricFlow body (type, type_params, filter) of conversion metric `name`."""
    conv: Conversion = m.conversion  # type: ignore[assignment]
    base = ex._measure_ref(conv.base)
    target = ex._measure_ref(conv.conversion)
    for ref, side in ((base, "base"), (target, "conversion")):
        agg, expr = ref.measure.agg, (ref.measure.expr or "").strip()
        if agg not in ("count", "count_distinct") and not (agg == "sum" and expr == "1"):
            raise NotExportable(
                f"the {side} measure {ref.qualified} is a {agg}; MetricFlow's conversion "
                "measures are counts, count_distincts or sums of 1"
            )
    if target.measure.filter:
        raise NotExportable(
            "the conversion measure has a filter; MetricFlow filters only the base events"
        )
    if m.join_to_timespine:
        raise NotExportable("join_to_timespine on a conversion metric has no MetricFlow form")
    if conv.time_grain not in (None, "day"):
        raise NotExportable(
            f"time_grain {conv.time_grain!r}: MetricFlow compares the two times at the time "
            "dimension's granularity (day in the export)"
        )
    if conv.time_grain is None:
        ex.report(
            "metrics",
            name,
            "exported at MetricFlow's day granularity: the two times are compared as days there "
            "(the same numbers when the time columns are dates)",
            "conversion",
        )
    sources = (base.source, target.source)
    entities = conv.entities
    params: dict[str, Any] = {
        "base_measure": {"name": ex.measures[(base.source, base.name)]},
        "conversion_measure": {"name": ex.measures[(target.source, target.name)]},
        "entity": _entity(ex, sources, (entities.base, entities.conversion)),
    }
    if conv.window:
        match = _WINDOW.match(conv.window)
        if match is None:
            raise NotExportable(
                f"window {conv.window!r}: MetricFlow windows are <n> day|week|month|quarter|year"
            )
        n, unit = match.groups()
        params["window"] = f"{n} {unit.lower()}{'s' if n != '1' else ''}"
    params["calculation"] = conv.calculation
    if m.fill_nulls_with is not None:
        if conv.calculation != "conversions":
            raise NotExportable(
                "fill_nulls_with on a conversion_rate has no MetricFlow form (it fills the "
                "conversion measure of calculation: conversions)"
            )
        fill = m.fill_nulls_with
        params["conversion_measure"]["fill_nulls_with"] = (
            int(fill) if float(fill).is_integer() else fill
        )
    props = []
    for pair in conv.constant_properties:
        names = [
            _property(ex, source, column)
            for source, column in zip(sources, (pair.base, pair.conversion), strict=True)
        ]
        props.append({"base_property": names[0], "conversion_property": names[1]})
    if props:
        params["constant_properties"] = props
    out: dict[str, Any] = {"type": "conversion", "type_params": {"conversion_type_params": params}}
    texts = []
    own = ex.measure_filters.get((base.source, base.name))
    if own:
        texts.append(ex.filter_text(base.source, own))
    if m.filter:
        texts.append(ex.filter_text(base.source, m.filter))
    if texts:
        out["filter"] = texts[0] if len(texts) == 1 else " AND ".join(f"({t})" for t in texts)
    return out


def _column(ex: MetricExporter, source: str, name: str) -> str:
    """The column a dimension name (or a raw column) of `source` reads."""
    dim = ex.project.sources[source].dimensions.get(name)
    return (dim.expr or name).strip() if dim is not None else name


def _entity(ex: MetricExporter, sources: tuple[str, str], names: tuple[str, str]) -> str:
    """The MetricFlow entity on both semantic models whose columns are our entity's; a new
    foreign entity of the column's name when none is and the name is free."""
    columns = [_column(ex, s, n) for s, n in zip(sources, names, strict=True)]
    found = [
        {e["name"] for e in ex.entities[s] if e.get("expr", e["name"]) == c}
        for s, c in zip(sources, columns, strict=True)
    ]
    common = sorted(found[0] & found[1])
    if common:
        return str(common[0])
    name = columns[0]
    taken = {d for dims in ex.dims.values() for d in dims} | ex.measure_names() | ex.entity_names
    if columns[0] != columns[1] or not valid_name(name) or name in taken or any(found):
        raise NotExportable(
            f"entity {names[0]!r} / {names[1]!r} is no entity of both semantic models "
            "(a join key of the same entity on both sides)"
        )
    for source in dict.fromkeys(sources):
        entry = {"name": name, "type": "foreign"}
        ex.entities[source].append(entry)
        ex.models[source]["entities"] = ex.entities[source]
    ex.entity_names.add(name)
    return name


def _property(ex: MetricExporter, source: str, name: str) -> str:
    """A constant property as the MetricFlow dimension or entity of `source` it names."""
    kind = ex.dims.get(source, {}).get(name)
    if kind is not None:
        return str(kind[1]) if kind[0] == "entity" and kind[1] else name
    column = _column(ex, source, name)
    entity = next(
        (e["name"] for e in ex.entities[source] if e.get("expr", e["name"]) == column), None
    )
    if entity is not None:
        return str(entity)
    if name in ex.project.sources[source].dimensions:
        raise NotExportable(f"constant property {name!r} of {source} is not exported")
    return ex.add_column_dimension(source, name)
