"""Compile a KPI Plan into one ibis table expression.

Each source is scanned once: its measures become filtered aggregates grouped by the request's
keys. Per-source results are then merged with UNION ALL + GROUP BY on the keys — a hash
aggregate in which NULL keys group together, so the merge is NULL-safe without any join
predicate. Metric formulas (ratios, derived expressions) are evaluated last, on aggregates.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from metrics_layer.compile.aggregates import reduce
from metrics_layer.compile.filters import where_names, where_predicate
from metrics_layer.compile.frames import Frame, TableOf, build_frame
from metrics_layer.compile.timegrain import bucket, time_range, to_local
from metrics_layer.errors import QueryError, unknown
from metrics_layer.expressions import compile_expression, parse_expression
from metrics_layer.planner.plan import (
    Col,
    Derived,
    Formula,
    Offset,
    Plan,
    Ratio,
    Share,
    SourceQuery,
)
from metrics_layer.registry import FieldRef, Registry

TIME = "__t"
PERIOD = "__p"
ADDITIVE = ("count", "count_distinct", "sum")


@dataclass
class Context:
    """What compilation needs from the layer: definitions, tables, backend and timezone."""

    registry: Registry
    table_of: TableOf
    backend: str
    timezone: str


def source_fields(
    ctx: Context, sq: SourceQuery, plan: Plan
) -> tuple[list[FieldRef], dict[str, FieldRef]]:
    """Every field the scan of one source needs, resolved once (dims, where, measures, time)."""
    reg, base = ctx.registry, sq.source
    by = {}
    for _, ref in plan.dim_columns:
        try:
            by[ref] = reg.resolve_field(base, ref)
        except QueryError as exc:
            needed = ", ".join(sorted({f"{n.source}.{n.measure}" for n in sq.nodes}))
            raise QueryError(f"cannot group {needed} by {ref!r}: {exc}") from None
    refs: list[FieldRef] = list(by.values())
    for ref in by.values():
        if ref.fans_out:
            raise QueryError(
                f"dimension {ref.full_name} is reached from {base!r} through a one_to_many join "
                f"({ref.describe_path()}), which would multiply {base!r} rows; ask it from a source "
                "that reaches it many-to-one"
            )
    refs += where_names(ctx, base, plan.request.where)
    for node in sq.nodes:
        for text in (node.expr, *node.filters):
            if text:
                refs += [
                    reg.resolve_field(base, n, prefer_columns=True)
                    for n in parse_expression(text).names
                ]
        if node.snapshot:
            refs += [reg.resolve_field(base, n, prefer_columns=True) for n in node.snapshot[1]]
    if sq.time:
        refs.append(reg.resolve_field(base, sq.time, prefer_columns=True))
    for ref in refs[len(by) :]:
        if ref.fans_out:  # a where or measure on it would repeat each base row per match
            raise QueryError(
                f"{ref.full_name} is reached from {base!r} through a one_to_many join "
                f"({ref.describe_path()}); filtering or aggregating {base!r} rows by it would "
                f"multiply them, so a where or a measure of {base!r} cannot use it"
            )
    return refs, by


def compile_source(ctx: Context, sq: SourceQuery, plan: Plan) -> ir.Table:
    """One scan of one source: filtered, grouped, every measure as a filtered aggregate."""
    from metrics_layer.compile.preagg import preaggregated
    from metrics_layer.compile.windows import cumulative_rows, snapshot_rows

    pre = preaggregated(ctx, sq, plan)
    if pre is not None:  # aggregated below its joins: the joins see partial rows only
        return pre
    reg, req, lead = ctx.registry, plan.request, sq.lead
    refs, by = source_fields(ctx, sq, plan)
    frame: Frame = build_frame(
        reg,
        ctx.table_of,
        sq.source,
        refs,
        as_of=req.as_of,
        backend=ctx.backend,
        timezone=ctx.timezone,
    )
    t = frame.table
    if sq.time:
        time_ref = reg.resolve_field(sq.source, sq.time, prefer_columns=True)
        t = t.mutate(**{TIME: to_local(frame.value(time_ref, t), ctx.timezone, ctx.backend)})
    preds: list[ir.BooleanValue] = []
    if req.where is not None:
        preds.append(where_predicate(ctx, frame, t, req.where))
    if sq.time and (req.grain or lead.cumulative):
        preds.append(t[TIME].notnull())  # a row without a time belongs to no period
    if lead.cumulative:
        t = cumulative_rows(t.filter(*preds) if preds else t, lead, req)
    else:
        if sq.time:
            preds += time_range(t[TIME], req.start, req.end)
        if preds:
            t = t.filter(*preds)
        if req.grain:
            t = t.mutate(**{PERIOD: bucket(t[TIME], req.grain)})
    if lead.snapshot:
        resolve = frame.resolver(t)
        t = snapshot_rows(t, lead, [resolve(n) for n in lead.snapshot[1]], bool(req.grain))
    keys: dict[str, ir.Value] = {}
    if req.grain:
        keys[req.grain] = t[PERIOD]
    for out, ref_text in plan.dim_columns:
        keys[out] = frame.value(by[ref_text], t)
    aggs: dict[str, ir.Scalar] = {}
    resolve = frame.resolver(t)
    for node in sq.nodes:
        value = compile_expression(parse_expression(node.expr), resolve) if node.expr else None
        conds = [compile_expression(parse_expression(f), resolve) for f in node.filters]
        where = functools.reduce(operator.and_, conds) if conds else None
        aggs[node.column] = reduce(node.agg, t, value, where, node.p)
    if keys:
        return t.group_by(**keys).aggregate(**aggs)
    return t.aggregate(**aggs)


def merge(parts: list[ir.Table], keys: list[str]) -> ir.Table:
    """Combine per-source aggregates on their keys: UNION ALL then GROUP BY (NULL-safe)."""
    if len(parts) == 1:
        return parts[0]
    key_types = {k: parts[0][k].type() for k in keys}
    measure_types: dict[str, dt.DataType] = {}
    for part in parts:
        for col in part.columns:
            if col not in key_types:
                measure_types[col] = part[col].type()
    aligned = []
    for part in parts:
        cols: dict[str, ir.Value] = {k: part[k].cast(key_types[k]) for k in keys}
        for col, typ in measure_types.items():
            cols[col] = part[col] if col in part.columns else ibis.null().cast(typ)
        aligned.append(part.select(**cols))
    unioned = ibis.union(*aligned, distinct=False)
    aggs = {col: unioned[col].max() for col in measure_types}
    if keys:
        return unioned.group_by(keys).aggregate(**aggs)
    return unioned.aggregate(**aggs)


def formula_value(table: ir.Table, f: Formula) -> ir.Value:
    """A metric's value on the merged aggregates."""
    if isinstance(f, Col):
        return table[f.node.column]
    if isinstance(f, Offset):
        return table[f.column]
    if isinstance(f, Ratio):
        num = formula_value(table, f.numerator).cast(dt.float64)
        den = formula_value(table, f.denominator).cast(dt.float64)
        return num / den.nullif(0)
    if isinstance(f, Share):
        num = formula_value(table, f.numerator).cast(dt.float64)
        return num / table[f.column].cast(dt.float64).nullif(0)
    if isinstance(f, Derived):
        inputs = dict(f.inputs)
        return compile_expression(f.parsed, lambda name: formula_value(table, inputs[name]))
    raise TypeError(f)


def aggregates(ctx: Context, plan: Plan) -> ir.Table:
    """Keys plus every measure column, offsets and share totals: the input of the formulas."""
    from metrics_layer.compile.windows import fill_periods, offset_part, share_totals

    req = plan.request
    keys = group_keys(plan)
    parts = [compile_source(ctx, sq, plan) for sq in plan.source_queries]
    parts += [offset_part(ctx, plan, off) for off in plan.offsets]
    merged = merge(parts, keys)
    if req.fill:
        zero = [n.column for sq in plan.source_queries for n in sq.nodes if n.agg in ADDITIVE]
        merged = fill_periods(merged, plan, keys, zero if req.fill == "zero" else [])
    for share in plan.shares:
        merged = share_totals(ctx, plan, share, merged)
    return merged


def group_keys(plan: Plan) -> list[str]:
    req = plan.request
    return ([req.grain] if req.grain else []) + [out for out, _ in plan.dim_columns]


def compile_plan(ctx: Context, plan: Plan, *, final: bool = True) -> ir.Table:
    """The whole KPI query as one ibis expression."""
    req = plan.request
    keys = group_keys(plan)
    merged = aggregates(ctx, plan)
    outputs: dict[str, ir.Value] = {k: merged[k] for k in keys}
    for out, name in plan.metric_columns:
        outputs[out] = formula_value(merged, plan.formulas[name])
    result = merged.select(**outputs)
    if not final:
        return result
    order = _order(plan, keys, list(outputs))
    if order:
        result = result.order_by(order)
    if req.limit is not None:
        result = result.limit(req.limit)
    return result


def _order(plan: Plan, keys: list[str], columns: list[str]) -> list[ir.Value]:
    if not plan.request.order_by:
        return [ibis.asc(k) for k in keys]
    out = []
    for item in plan.request.order_by:
        desc = item.startswith("-")
        name = item[1:] if desc else item
        if name not in columns:
            raise QueryError(
                unknown("order_by column", name, columns) + " (prefix with '-' for descending)"
            )
        out.append(ibis.desc(name) if desc else ibis.asc(name))
    return out
