"""An EagerAggregate node: the facts grouped below their many-to-one joins, then re-aggregated.

The planner decides when this is exact and worth it (planner/scans.py `eager`); here the node
becomes two GROUP BYs around the joins: partial groups by (period, own keys, join keys), the
joins looking up each partial group, then the re-aggregation to the output keys.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import ibis.expr.types as ir

from metrics_layer.compile.filters import where_predicate
from metrics_layer.compile.fiscal import is_fiscal
from metrics_layer.compile.frames import Frame, build_frame
from metrics_layer.compile.timegrain import bucket, time_range, to_local

if TYPE_CHECKING:
    from metrics_layer.compile.kpi import Context
    from metrics_layer.planner.nodes import EagerAggregate, MeasureNode


def eager_aggregate(ctx: Context, node: EagerAggregate) -> ir.Table:
    """The source's aggregate computed below its joins (the joins see partial rows only)."""
    from metrics_layer.compile.kpi import PERIOD, TIME, measure, period_column

    reg, scan = ctx.registry, node.scan
    how = dict(node.reaggregate)
    base_t = ctx.table_of(scan.source)
    own = Frame(reg, scan.source, base_t, {})
    t = base_t
    if scan.time is not None:
        t = t.mutate(**{TIME: to_local(own.value(scan.time, t), ctx.timezone, ctx.backend)})
    preds: list[ir.BooleanValue] = []
    if scan.where is not None:
        preds.append(where_predicate(ctx, own, t, scan.where))
    if scan.time is not None:
        if scan.grain:
            preds.append(t[TIME].notnull())
        preds += time_range(t[TIME], scan.start, scan.end)
    if preds:
        t = t.filter(*preds)
    if scan.grain and is_fiscal(scan.grain):
        t = period_column(ctx, scan, t)  # a join to the retail calendar's weeks
    pkeys: dict[str, ir.Value] = {k: t[k] for k in node.join_keys}
    if scan.grain:
        pkeys[PERIOD] = t[PERIOD] if PERIOD in t.columns else bucket(t[TIME], ctx.grain(scan.grain))
    own_dims = {}
    for i, (out, ref) in enumerate(scan.keys):
        if not ref.path:
            own_dims[out] = f"__o{i}"
            pkeys[f"__o{i}"] = own.value(ref, t)
    paggs: dict[str, ir.Scalar] = {}
    for m in scan.nodes:
        if m.agg == "count_distinct":
            if m.conditions:  # rows of the key passing the filter
                paggs[m.column] = measure(own, t, _as_count(m), scan.implied)
        else:
            paggs[m.column] = measure(own, t, m, scan.implied)
    partial = t.group_by(**pkeys).aggregate(**paggs) if paggs else t.select(**pkeys).distinct()

    def table_of(source: str) -> ir.Table:
        return partial if source == scan.source else ctx.table_of(source)

    joined = [ref for _, ref in scan.keys if ref.path]
    frame = build_frame(
        reg, table_of, scan.source, joined, backend=ctx.backend, timezone=ctx.timezone
    )
    f = frame.table
    gkeys: dict[str, ir.Value] = {}
    if scan.grain:
        gkeys[scan.grain] = f[PERIOD]
    for out, ref in scan.keys:
        gkeys[out] = frame.value(ref, f) if ref.path else f[own_dims[out]]
    aggs: dict[str, ir.Scalar] = {}
    for m in scan.nodes:
        if m.agg == "count_distinct":
            key = f[(m.expr or "").strip()]
            flag = f[m.column] > 0 if m.column in f.columns else None
            # with a single join key, each key value occurs once per output group: count it
            aggs[m.column] = (
                key.count(where=flag) if how[m.column] == "count" else key.nunique(where=flag)
            )
        else:
            aggs[m.column] = getattr(f[m.column], how[m.column])()
    return f.group_by(**gkeys).aggregate(**aggs)


def _as_count(m: MeasureNode) -> MeasureNode:
    """A distinct count's filter as a row count (its partial group holds one key value)."""
    return dataclasses.replace(m, agg="count", value=None)
