"""Compile a KPI Plan into one ibis table expression: a visitor over the plan tree.

Every decision (which scans, joins, pre-aggregations, shifts, fills) is in the plan; this
module only translates each node. Each scan: its measures become filtered aggregates grouped by the request's
keys. Per-source results are then merged with UNION ALL + GROUP BY on the keys — a hash
aggregate in which NULL keys group together, so the merge is NULL-safe without any join
predicate. Metric formulas (ratios, derived expressions) are evaluated last, on aggregates.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from metrics_layer.compile.aggregates import reduce
from metrics_layer.compile.filters import where_names, where_predicate
from metrics_layer.compile.fiscal import Fiscal, is_fiscal
from metrics_layer.compile.frames import Frame, TableOf, build_frame
from metrics_layer.compile.timegrain import bucket, grain_of, time_range, to_local
from metrics_layer.errors import QueryError
from metrics_layer.expressions import compile_expression
from metrics_layer.grain import Grain
from metrics_layer.planner.nodes import (
    Col,
    ConversionEvents,
    Conversions,
    Derived,
    EagerAggregate,
    Fill,
    Formula,
    Formulas,
    MeasureNode,
    Merge,
    Node,
    Offset,
    Output,
    Ratio,
    Scan,
    Share,
    ShareTotal,
    Shift,
    scans,
)
from metrics_layer.planner.plan import Plan
from metrics_layer.registry import FieldRef, Registry
from metrics_layer.retail import find_calendar, find_retail

TIME = "__t"
PERIOD = "__p"


@dataclass
class Context:
    """What compilation needs from the layer: definitions, tables, backend, and the call's
    effective timezone and week start."""

    registry: Registry
    table_of: TableOf
    backend: str
    timezone: str
    week_start: int = 0

    def grain(self, name: str | Grain) -> Grain:
        """The Grain named `name`, its weeks starting on this call's week start."""
        return grain_of(name, self.week_start)

    def fiscal(self, source: str | None) -> Fiscal:
        """The retail calendar a query on `source` uses for fiscal grains."""
        return Fiscal(find_retail(self.registry.sources, source)[1])


class _Compiler:
    """Translates plan nodes into ibis tables: one method per node type, nothing decided here."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def visit(self, node: Node) -> ir.Table:
        method: Callable[[Any], ir.Table] = getattr(self, _METHODS[type(node)])
        return method(node)

    def scan(self, scan: Scan) -> ir.Table:
        """One pass over one source: joined, filtered, grouped, each measure a filtered aggregate."""
        from metrics_layer.compile.windows import (
            UTC_TIME,
            cumulative_rows,
            elapsed_window,
            snapshot_rows,
        )

        ctx, lead = self.ctx, scan.lead
        fields = list(scan.fields)
        if scan.where is not None and not isinstance(scan.where, str):
            fields += _deferred_fields(ctx, scan)
        frame: Frame = build_frame(
            ctx.registry,
            ctx.table_of,
            scan.source,
            fields,
            as_of=scan.as_of,
            backend=ctx.backend,
            timezone=ctx.timezone,
        )
        t = frame.table
        if scan.time is not None:
            raw = frame.value(scan.time, t)
            t = t.mutate(**{TIME: to_local(raw, ctx.timezone, ctx.backend)})
            if elapsed_window(lead.window, ctx.timezone) and raw.type().is_timestamp():
                t = t.mutate(**{UTC_TIME: to_local(raw, "UTC", ctx.backend)})
        preds: list[ir.BooleanValue] = []
        if scan.where is not None:
            preds.append(where_predicate(ctx, frame, t, scan.where))
        if scan.time is not None and (scan.grain or lead.cumulative):
            preds.append(t[TIME].notnull())  # a row without a time belongs to no period
        if lead.cumulative:
            t = cumulative_rows(t.filter(*preds) if preds else t, scan, ctx)
        else:
            if scan.time is not None:
                preds += time_range(t[TIME], scan.start, scan.end)
            if preds:
                t = t.filter(*preds)
            if scan.grain:
                t = period_column(ctx, scan, t)
        if lead.snapshot:
            groupings = [frame.value(ref, t) for ref in scan.snapshot_by]
            t = snapshot_rows(t, lead, groupings, bool(scan.grain))
        keys: dict[str, ir.Value] = {}
        if scan.grain:
            keys[scan.grain] = t[PERIOD]
        for out, ref in scan.keys:
            keys[out] = frame.value(ref, t)
        shared = () if keys or lead.cumulative or lead.snapshot else shared_filters(scan.nodes)
        if shared:  # one total row either way; filtered rows are not joined nor aggregated
            t = t.filter(*measure_conditions(frame, t, scan.nodes[0], shared))
        aggs = {node.column: measure(frame, t, node, shared) for node in scan.nodes}
        if keys:
            return t.group_by(**keys).aggregate(**aggs)
        return t.aggregate(**aggs)

    def eager_aggregate(self, node: EagerAggregate) -> ir.Table:
        from metrics_layer.compile.preagg import eager_aggregate

        return eager_aggregate(self.ctx, node)

    def merge(self, node: Merge) -> ir.Table:
        return merge([self.visit(p) for p in node.parts], list(node.keys))

    def formulas(self, node: Formulas) -> ir.Table:
        merged = self.visit(node.input)
        outputs: dict[str, ir.Value] = {k: merged[k] for k in node.keys}
        for out, f in node.outputs:
            outputs[out] = formula_value(merged, f)
        return merged.select(**outputs)

    def shift(self, node: Shift) -> ir.Table:
        from metrics_layer.compile.windows import shifted

        if is_fiscal(node.grain):
            fiscal = self.ctx.fiscal(scans(node.input)[0].source)
            return shifted(node, self.visit(node.input), None, fiscal)
        return shifted(node, self.visit(node.input), self.ctx.grain(node.grain), None)

    def fill(self, node: Fill) -> ir.Table:
        from metrics_layer.compile.windows import fill_periods

        if is_fiscal(node.grain):
            fiscal = self.ctx.fiscal(scans(node.input)[0].source)
            return fill_periods(self.visit(node.input), node, None, fiscal)
        calendar = None
        if node.business_days:
            calendar = find_calendar(self.ctx.registry.sources, scans(node.input)[0].source)[1]
        return fill_periods(
            self.visit(node.input), node, self.ctx.grain(node.grain), calendar=calendar
        )

    def share_total(self, node: ShareTotal) -> ir.Table:
        from metrics_layer.compile.windows import share_totals

        return share_totals(self.visit(node.input), node, self.visit(node.totals))

    def conversion_events(self, node: ConversionEvents) -> ir.Table:
        from metrics_layer.compile.conversion import conversion_events

        return conversion_events(self.ctx, node)

    def output(self, node: Output) -> ir.Table:
        result = self.visit(node.input)
        if node.order:
            result = result.order_by([ibis.desc(c) if d else ibis.asc(c) for c, d in node.order])
        if node.limit is not None:
            result = result.limit(node.limit)
        return result


_METHODS: dict[type, str] = {
    Scan: "scan",
    EagerAggregate: "eager_aggregate",
    Merge: "merge",
    Formulas: "formulas",
    Shift: "shift",
    Fill: "fill",
    ShareTotal: "share_total",
    Output: "output",
    ConversionEvents: "conversion_events",
}


def period_column(ctx: Context, scan: Scan, t: ir.Table) -> ir.Table:
    """`t` with PERIOD, the start of the scan's grain period holding TIME."""
    assert scan.grain is not None
    if is_fiscal(scan.grain):
        return ctx.fiscal(scan.source).bucket(t, TIME, scan.grain, PERIOD)
    return t.mutate(**{PERIOD: bucket(t[TIME], ctx.grain(scan.grain))})


def _deferred_fields(ctx: Context, scan: Scan) -> list[FieldRef]:
    """The fields of an ibis Deferred where: known only once it is applied to the tables."""
    refs = where_names(ctx, scan.source, scan.where)
    for ref in refs:
        if ref.fans_out:
            raise QueryError(
                f"{ref.full_name} is reached from {scan.source!r} through a one_to_many join "
                f"({ref.describe_path()}); filtering or aggregating {scan.source!r} rows by it "
                f"would multiply them, so a where or a measure of {scan.source!r} cannot use it"
            )
    return refs


def measure(
    frame: Frame, table: ir.Table, node: MeasureNode, applied: tuple[str, ...] = ()
) -> ir.Scalar:
    """A measure node as a filtered reduction over `table` (its names resolved by the planner);
    the filters in `applied` have been applied to `table` already."""
    names = dict(node.names)

    def resolve(name: str) -> ir.Value:
        return frame.value(names[name], table)

    value = compile_expression(node.value, resolve) if node.value is not None else None
    conds = measure_conditions(
        frame, table, node, tuple(f for f in node.filters if f not in applied)
    )
    where = functools.reduce(operator.and_, conds) if conds else None
    return reduce(node.agg, table, value, where, node.p)


def measure_conditions(
    frame: Frame, table: ir.Table, node: MeasureNode, filters: tuple[str, ...]
) -> list[ir.BooleanValue]:
    """The named filters of a measure node as predicates on `table`."""
    names = dict(node.names)

    def resolve(name: str) -> ir.Value:
        return frame.value(names[name], table)

    return [
        compile_expression(c, resolve)
        for f, c in zip(node.filters, node.conditions, strict=True)
        if f in filters
    ]


def shared_filters(nodes: Sequence[MeasureNode]) -> tuple[str, ...]:
    """The filters every measure of an ungrouped scan has: applied once as the scan's WHERE
    instead of a FILTER clause on each aggregate. With no group keys the result is one row
    either way, and each aggregate sees the same rows, so the values are the same; the rows
    filtered out are neither joined nor aggregated (about a fifth of the time of a totals
    query whose measures all count completed rows)."""
    if not nodes:
        return ()
    rest = [set(n.filters) for n in nodes[1:]]
    return tuple(f for f in nodes[0].filters if all(f in r for r in rest))


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
    if isinstance(f, Offset | Conversions):
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


def compile_plan(ctx: Context, plan: Plan, *, final: bool = True) -> ir.Table:
    """The whole KPI query as one ibis expression (without order/limit unless `final`)."""
    root = plan.root
    if not final and isinstance(root, Output):
        root = root.input
    return _Compiler(ctx).visit(root)
