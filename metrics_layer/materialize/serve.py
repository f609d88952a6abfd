"""Aggregate awareness: answer a KPI request from a materialization when that is exact.

Exact means the stored rows hold the request's answer, or can be re-aggregated into it:
- the same grain, the layer's own timezone and week start (tables are built in them), no
  `where`, `fill` or `as_of`, and start/end (if any) on period boundaries;
- every asked metric stored; by the same dimensions (any metric), or by a subset of them when
  every metric re-aggregates: sums and counts by sum, min/max by min/max, ratios by the sums
  (or min/max) of their stored numerator and denominator. Distinct counts, averages,
  percentiles, derived and share metrics are served only at exactly the stored grain and by.
Anything else returns None and the layer answers from raw data.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir

from metrics_layer.grain import Grain
from metrics_layer.materialize import runlog
from metrics_layer.materialize.run import built_with
from metrics_layer.materialize.shape import Shape, shape_of
from metrics_layer.planner.nodes import Output
from metrics_layer.planner.plan import Plan

if TYPE_CHECKING:
    from metrics_layer.layer import Layer
    from metrics_layer.result import Result

_UNSERVED = ("where", "fill", "as_of")


def answer(layer: Layer, plan: Plan) -> Result | None:
    """A Result computed from a materialization's table, or None when none is exact."""
    r = plan.request
    if r.grain is None or any(getattr(r, f) is not None for f in _UNSERVED):
        return None
    if r.timezone != layer.timezone or r.week_start != layer.week_start:
        return None
    grain = Grain.of(r.grain, r.week_start)
    for bound in (r.start, r.end):
        if bound is not None and grain.floor_literal(bound) != bound:
            return None  # a partial period: the stored period holds more rows than asked
    candidates = []
    for name, d in layer.registry.project.materializations.items():
        if d.grain != grain.name or not set(r.by) <= set(d.by):
            continue
        if not set(r.metrics) <= set(d.metrics):
            continue
        shape = shape_of(layer.registry, name)
        if _sources(plan) != _sources(shape.plan):
            continue  # its rows exist where other sources had rows: groups the raw query lacks
        exact = set(r.by) == set(d.by)
        if exact or all(m.rollup for m in shape.metrics if m.name in r.metrics):
            candidates.append((not exact, len(d.by), name, shape))
    for _, _, name, shape in sorted(candidates):
        last = runlog.last_success(layer.con, name)
        if last is None or not runlog.exists(layer.con, shape.table):
            continue  # never ran: nothing stored to answer from
        if built_with(last) != (layer.timezone, layer.week_start):
            continue  # its periods are another timezone's or week start's
        if list(layer.con.table(shape.table).columns) != shape.columns:
            continue  # built for another version of the definition
        return _from_table(layer, plan, shape, last["watermark_after"])
    return None


def _sources(plan: Plan) -> set[str]:
    return {scan.source for scan in plan.scans}


def _from_table(layer: Layer, plan: Plan, shape: Shape, mark: _dt.datetime) -> Result:
    from metrics_layer.result import Result

    r = plan.request
    t = layer.con.table(shape.table)
    grain_col = shape.grain
    if r.start is not None:
        t = t.filter(t[grain_col] >= ibis.literal(r.start, type="timestamp"))
    if r.end is not None:
        t = t.filter(t[grain_col] < ibis.literal(r.end, type="timestamp"))
    stored_by = dict(zip(shape.by, shape.by_columns, strict=True))
    keys = {out: t[stored_by[ref]] for out, ref in plan.dim_columns}
    stored = {m.name: m for m in shape.metrics}
    exact = set(r.by) == set(shape.by)
    if exact:
        values = {out: t[stored[name].column] for out, name in plan.metric_columns}
        expr = t.select(**{grain_col: t[grain_col]}, **keys, **values)
        how = "stored rows as they are"
    else:
        aggs = {out: _rollup(t, stored[name]) for out, name in plan.metric_columns}
        expr = t.group_by(**{grain_col: t[grain_col]}, **keys).aggregate(**aggs)
        expr = expr.select(grain_col, *keys, *aggs)
        how = f"re-aggregated from by {list(shape.by)} to by {list(r.by)}"
    root = plan.root
    if isinstance(root, Output):
        if root.order:
            expr = expr.order_by([ibis.desc(c) if d else ibis.asc(c) for c, d in root.order])
        if root.limit is not None:
            expr = expr.limit(root.limit)
    d = layer.registry.project.materializations[shape.name]
    text = (
        f"Answered from materialization {shape.name!r} (table {d.table!r}, grain {d.grain}, "
        f"watermark {mark:%Y-%m-%d %H:%M:%S}): {how}. Values are those of the raw query as "
        f"of the last run.\nThe raw query would be:\n{plan.explain()}"
    )
    meta = {"plan": plan, "materialization": shape.name, "watermark": mark}
    return Result(expr, explain=text, backend=layer.backend, kind="query", meta=meta)


def _rollup(t: ir.Table, m: Any) -> ir.Value:
    """The coarser value of one stored metric (shape.py says which metrics have one)."""
    if m.rollup == "ratio":
        (num, _, num_how), (den, _, den_how) = m.components
        n = _agg(t[num], num_how).cast("float64")
        dd = _agg(t[den], den_how).cast("float64")
        return ibis.ifelse(dd == 0, ibis.null("float64"), n / dd)
    return _agg(t[m.column], m.rollup)


def _agg(col: ir.Value, how: str) -> ir.Value:
    if how == "sum":
        return col.sum()
    if how == "min":
        return col.min()
    return col.max()
