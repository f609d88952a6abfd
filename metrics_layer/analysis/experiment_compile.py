"""One ibis expression per experiment: per-unit metric values in the engine, per-arm sums out.

    units      exposures in [start, end) grouped by entity: first time t0, min and max arm
               (an entity whose min and max arm differ saw two arms: its arm becomes NULL)
    per scan   the KPI plan's scan of each metric source (same frame, joins, filters and
               aggregations as a KPI query), inner-joined to the single-arm units on the
               entity, rows kept in [t0 - lookback, t0 + window), grouped by unit: each
               measure once over [t0, t0 + window) and, with CUPED, once over [t0 - lookback, t0)
    per unit   units LEFT JOIN every scan's groups; a unit without rows has 0
    per arm    GROUP BY arm: n, Σc_i and Σc_i·c_j of each metric's components c (the value;
               numerator and denominator for ratios; their pre-exposure copies with CUPED)

Only the per-arm rows come back (the NULL-arm row counts the dropped multi-arm entities), so
the readout costs one round trip however many units there are.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from metrics_layer.analysis.experiment import ExperimentQuery
from metrics_layer.analysis.experiment_defs import RATIO, MetricShape
from metrics_layer.compile.aggregates import reduce
from metrics_layer.compile.frames import Frame, build_frame
from metrics_layer.compile.kpi import Context
from metrics_layer.compile.timegrain import time_range, to_local
from metrics_layer.errors import QueryError
from metrics_layer.expressions import compile_expression
from metrics_layer.planner.nodes import Col, Formula, MeasureNode, Ratio, Scan
from metrics_layer.registry import FieldRef

UNIT, ARM, T0, N = "__unit", "__arm", "__t0", "n"
PRE = "__pre"


@dataclass(frozen=True)
class Layout:
    """Where each metric's components live: column names of the per-unit table, in order."""

    components: tuple[tuple[str, ...], ...]  # per metric

    def sum_column(self, k: int, i: int) -> str:
        return f"s{k}_{i}"

    def product_column(self, k: int, i: int, j: int) -> str:
        return f"p{k}_{i}_{j}"


def compile_experiment(ctx: Context, q: ExperimentQuery) -> ir.Table:
    """The per-arm sums of every metric of `q` (columns: arm, n, s{k}_{i}, p{k}_{i}_{j})."""
    return per_arm_sums(per_unit(ctx, q), layout(q))


def layout(q: ExperimentQuery) -> Layout:
    """The per-unit columns of each metric: [y] or [num, den], then their pre-period copies."""
    out = []
    for shape in q.metrics:
        post = _components(shape, q.plan.formulas[shape.name])
        out.append(post + (tuple(c + PRE for c in post) if q.lookback else ()))
    return Layout(tuple(out))


def _components(shape: MetricShape, f: Formula) -> tuple[str, ...]:
    if shape.kind == RATIO and shape.avg and isinstance(f, Col):
        return (f.node.column + "__sum", f.node.column + "__count")
    if shape.kind == RATIO and isinstance(f, Ratio):
        num, den = f.numerator, f.denominator
        if isinstance(num, Col) and isinstance(den, Col):
            return (num.node.column, den.node.column)
    if shape.kind != RATIO and isinstance(f, Col):
        return (f.node.column,)
    raise QueryError(f"internal: metric {shape.name!r} was planned as {type(f).__name__}")


def units(ctx: Context, q: ExperimentQuery) -> ir.Table:
    """Exposed entities: UNIT, ARM (NULL for an entity seen in two or more arms), T0."""
    frame = build_frame(
        ctx.registry,
        ctx.table_of,
        q.source,
        [q.entity_ref, q.variant_ref, q.time_ref],
        backend=ctx.backend,
        timezone=ctx.timezone,
    )
    t = frame.table
    ts = frame.value(q.time_ref, t)
    rows = t.select(
        **{
            UNIT: frame.value(q.entity_ref, t),
            ARM: frame.value(q.variant_ref, t).cast(dt.string),
            "__ts": ts,
            "__local": to_local(ts, ctx.timezone, ctx.backend),
        }
    )
    preds = [rows[UNIT].notnull(), rows[ARM].notnull(), rows["__ts"].notnull()]
    preds += time_range(rows["__local"], q.start, q.end)
    rows = rows.filter(*preds)
    grouped = rows.group_by(UNIT).aggregate(
        __lo=rows[ARM].min(), __hi=rows[ARM].max(), **{T0: rows["__ts"].min()}
    )
    arm = ibis.ifelse(grouped["__lo"] == grouped["__hi"], grouped["__lo"], ibis.null(dt.string))
    return grouped.select(UNIT, T0, **{ARM: arm})


def per_unit(ctx: Context, q: ExperimentQuery) -> ir.Table:
    """One row per exposed entity: ARM and every metric column (0 for a unit without rows)."""
    all_units = units(ctx, q).alias("experiment_units")
    single = all_units.filter(all_units[ARM].notnull()).select(UNIT, T0)
    out = all_units.select(UNIT, ARM)
    refs = dict(q.entity_refs)
    columns: list[str] = []
    for scan in q.plan.scans:
        grouped = _scan_per_unit(ctx, q, scan, single, refs[scan.source])
        columns += [c for c in grouped.columns if c != "__key"]
        out = out.left_join(grouped, out[UNIT] == grouped["__key"]).drop("__key")
    return out.select(
        UNIT,
        ARM,
        **{c: ibis.coalesce(out[c].cast(dt.float64), ibis.literal(0.0)) for c in columns},
    )


def _scan_per_unit(
    ctx: Context, q: ExperimentQuery, scan: Scan, single: ir.Table, entity: FieldRef
) -> ir.Table:
    """The scan's measures per unit, after (and with CUPED before) each unit's exposure."""
    if scan.time is None:
        raise QueryError(f"source {scan.source!r} has no time column for its measures")
    frame = build_frame(
        ctx.registry,
        ctx.table_of,
        scan.source,
        [*scan.fields, entity],
        backend=ctx.backend,
        timezone=ctx.timezone,
    )
    t = frame.table
    ts = frame.value(scan.time, t)
    if ts.type().is_date():
        ts = ts.cast(dt.timestamp)
    t = t.mutate(__key=frame.value(entity, t), __mt=ts)
    j = t.inner_join(single, t["__key"] == single[UNIT])
    lookback, window = q.lookback_seconds, q.window_seconds
    lower = j[T0] - ibis.interval(seconds=lookback) if lookback else j[T0]
    keep = [j["__mt"] >= lower]
    if window:
        keep.append(j["__mt"] < j[T0] + ibis.interval(seconds=window))
    j = j.filter(*keep)  # conditions below are built on the filtered table (IBIS-NOTES)
    t0, mt = j[T0], j["__mt"]
    post = mt >= t0
    aggs: dict[str, ir.Scalar] = {}
    for node in scan.nodes:
        aggs.update(_unit_values(frame, j, node, post, ""))
        if lookback:
            aggs.update(_unit_values(frame, j, node, mt < t0, PRE))
    return j.group_by("__key").aggregate(**aggs)


def _unit_values(
    frame: Frame, table: ir.Table, node: MeasureNode, when: ir.BooleanValue, suffix: str
) -> dict[str, ir.Scalar]:
    """The node's aggregate per unit over rows matching `when` (and the measure's filters)."""
    names = dict(node.names)

    def resolve(name: str) -> ir.Value:
        return frame.value(names[name], table)

    value = compile_expression(node.value, resolve) if node.value is not None else None
    conds = [compile_expression(c, resolve) for c in node.conditions]
    where = functools.reduce(operator.and_, [when, *conds])
    col = node.column
    if node.agg == "avg":
        return {
            f"{col}__sum{suffix}": reduce("sum", table, value, where),
            f"{col}__count{suffix}": reduce("count", table, value, where),
        }
    if node.agg == "count_distinct":
        # a distinct count of the entity within one unit's rows: 1 when any row matches
        # (the entity is the group key, never NULL here), cheaper than a distinct count
        hit = where & value.notnull() if value is not None else where
        return {f"{col}{suffix}": ibis.ifelse(hit, 1, 0).max()}  # PG cannot cast bool to int8
    return {f"{col}{suffix}": reduce(node.agg, table, value, where, node.p)}


def per_arm_sums(unit_table: ir.Table, lay: Layout) -> ir.Table:
    """GROUP BY arm: n and, per metric, the sums and sums of products of its components."""
    t = unit_table
    aggs: dict[str, ir.Scalar] = {N: t.count()}
    for k, comps in enumerate(lay.components):
        for i, a in enumerate(comps):
            aggs[lay.sum_column(k, i)] = t[a].sum()
            for j in range(i, len(comps)):
                aggs[lay.product_column(k, i, j)] = (t[a] * t[comps[j]]).sum()
    return t.group_by(arm=t[ARM]).aggregate(**aggs)
