"""Compile a ConversionEvents node: conversion events matched to their latest base event.

Base events and conversion events are each read as a frame of their source (joined as their
fields need), narrowed to the rows that count, and inner-joined on the entity and constant
properties (equality: a NULL never matches) with base time <= conversion time and, with a
window, base time > conversion time - window (MetricFlow's join condition). Of the base
events a conversion event matches, a window function keeps the latest one (ties: the one
with the smallest group keys, so the answer is deterministic); the conversion measure is then
aggregated by that event's group keys. One ibis expression, no ASOF join, so it runs the same
on DuckDB, PostgreSQL and Spark.
"""

from __future__ import annotations

import functools
import operator
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir

from metrics_layer.compile.aggregates import reduce
from metrics_layer.compile.filters import where_predicate
from metrics_layer.compile.frames import Frame, build_frame
from metrics_layer.compile.periods import duration
from metrics_layer.compile.timegrain import bucket, time_range, to_local
from metrics_layer.expressions import compile_expression
from metrics_layer.planner.nodes import ConversionEvents, MeasureNode, Scan

if TYPE_CHECKING:
    from metrics_layer.compile.kpi import Context

BASE_TIME = "__bt"
CONVERSION_TIME = "__ct"
CONVERSION_ID = "__cid"
VALUE = "__cv"


def conversion_events(ctx: Context, node: ConversionEvents) -> ir.Table:
    """The conversions of `node` per group of its base scan's keys."""
    base, keys = _base_events(ctx, node)
    conv, value = _conversion_events(ctx, node)
    preds = [base[f"__k{i}"] == conv[f"__k{i}"] for i in range(1 + len(node.properties))]
    preds.append(base[BASE_TIME] <= conv[CONVERSION_TIME])
    if node.window:
        preds.append(base[BASE_TIME] > conv[CONVERSION_TIME] - duration(node.window))
    joined = base.join(conv, preds).select(
        *keys, BASE_TIME, CONVERSION_ID, *([VALUE] if VALUE in conv.columns else [])
    )
    order = [ibis.desc(joined[BASE_TIME]), *(joined[k] for k in keys)]
    latest = ibis.row_number().over(group_by=joined[CONVERSION_ID], order_by=order)
    attributed = joined.mutate(__rank=latest).filter(lambda t: t["__rank"] == 0)
    lead = node.conversion.lead
    if value is not None and not isinstance(value, ir.Scalar):
        value = attributed[VALUE]
    aggregate = reduce(lead.agg, attributed, value, None, lead.p).name(node.column)
    if keys:
        return attributed.group_by(keys).aggregate(aggregate)
    return attributed.aggregate(aggregate)


def _compared(ctx: Context, node: ConversionEvents, time: ir.Value) -> ir.Value:
    """An event's time as the matching compares it: truncated to `time_grain` when set."""
    return bucket(time, ctx.grain(node.time_grain)) if node.time_grain else time


def _frame(ctx: Context, scan: Scan) -> tuple[Frame, ir.Table]:
    from metrics_layer.compile.kpi import _deferred_fields

    fields = list(scan.fields)
    if scan.where is not None and not isinstance(scan.where, str):
        fields += _deferred_fields(ctx, scan)  # an ibis Deferred where: known once applied
    frame = build_frame(
        ctx.registry,
        ctx.table_of,
        scan.source,
        fields,
        as_of=scan.as_of,
        backend=ctx.backend,
        timezone=ctx.timezone,
    )
    assert scan.time is not None  # checked at load: both measures have a time column
    raw = frame.value(scan.time, frame.table)
    from metrics_layer.compile.kpi import TIME

    return frame, frame.table.mutate(**{TIME: to_local(raw, ctx.timezone, ctx.backend)})


def _conditions(frame: Frame, t: ir.Table, node: MeasureNode) -> list[ir.BooleanValue]:
    names = dict(node.names)
    return [compile_expression(c, lambda n: frame.value(names[n], t)) for c in node.conditions]


def _base_events(ctx: Context, node: ConversionEvents) -> tuple[ir.Table, list[str]]:
    """The base events (the rows the base measure aggregates): group keys, time, match keys."""
    from metrics_layer.compile.kpi import PERIOD, TIME, period_column

    scan = node.base
    frame, t = _frame(ctx, scan)
    preds = [t[TIME].notnull(), *_conditions(frame, t, scan.lead)]
    if scan.where is not None:
        preds.append(where_predicate(ctx, frame, t, scan.where))
    preds += time_range(t[TIME], scan.start, scan.end)
    t = t.filter(*preds)
    cols: dict[str, ir.Value] = {}
    if scan.grain:
        t = period_column(ctx, scan, t)
        cols[scan.grain] = t[PERIOD]
    for out, ref in scan.keys:
        cols[out] = frame.value(ref, t)
    keys = list(cols)
    cols[BASE_TIME] = _compared(ctx, node, t[TIME])
    refs = [node.entity[0], *(b for b, _ in node.properties)]
    for i, ref in enumerate(refs):
        cols[f"__k{i}"] = frame.value(ref, t)
    return t.select(**cols), keys


def _conversion_events(ctx: Context, node: ConversionEvents) -> tuple[ir.Table, ir.Value | None]:
    """The conversion events: a row id, time, match keys and the conversion measure's value."""
    from metrics_layer.compile.kpi import TIME

    scan = node.conversion
    lead = scan.lead
    frame, t = _frame(ctx, scan)
    preds = [t[TIME].notnull(), *_conditions(frame, t, lead)]
    t = t.filter(functools.reduce(operator.and_, preds))
    names = dict(lead.names)
    value = (
        compile_expression(lead.value, lambda n: frame.value(names[n], t))
        if lead.value is not None
        else None
    )
    cols: dict[str, ir.Value] = {CONVERSION_TIME: _compared(ctx, node, t[TIME])}
    refs = [node.entity[1], *(c for _, c in node.properties)]
    for i, ref in enumerate(refs):
        cols[f"__k{i}"] = frame.value(ref, t)
    if value is not None and not isinstance(value, ir.Scalar):
        cols[VALUE] = value
    rows = t.select(**cols)
    order = [rows[c] for c in rows.columns]
    return rows.mutate(**{CONVERSION_ID: ibis.row_number().over(order_by=order)}), value
