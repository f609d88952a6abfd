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
from metrics_layer.compile.frames import Frame, TableOf, build_frame, read_columns
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
    KeyIn,
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

    def __init__(self, ctx: Context, root: Node) -> None:
        self.ctx = ctx
        # the fields every scan of a source reads: each frame of that source carries their
        # columns, so frames joined alike are equal (one subquery) whatever their own fields
        self.reads: dict[str, list[FieldRef]] = {}
        for s in scans(root):
            self.reads.setdefault(s.source, []).extend(s.fields)

    def visit(self, node: Node) -> ir.Table:
        method: Callable[[Any], ir.Table] = getattr(self, _METHODS[type(node)])
        return method(node)

    def scan(self, scan: Scan) -> ir.Table:
        """One pass over one source: joined, filtered, grouped, each measure a filtered aggregate."""
        t, keys, aggs = self._aggregates(scan)
        if keys:
            return t.group_by(**keys).aggregate(**aggs)
        return t.aggregate(**aggs)

    def _aggregates(self, scan: Scan) -> tuple[ir.Table, dict[str, ir.Value], dict[str, ir.Scalar]]:
        """The scan's filtered rows, its group keys and one aggregate per measure node."""
        from metrics_layer.compile.windows import (
            UTC_TIME,
            cumulative_rows,
            elapsed_window,
            snapshot_rows,
        )

        ctx, lead = self.ctx, scan.lead
        fields = list(scan.fields)
        deferred = []
        if scan.where is not None and not isinstance(scan.where, str):
            deferred = _deferred_fields(ctx, scan)  # the same where in every scan of the query
        carry = self.reads[scan.source] + deferred
        frame: Frame = build_frame(
            ctx.registry,
            ctx.table_of,
            scan.source,
            fields + deferred,
            as_of=scan.as_of,
            backend=ctx.backend,
            timezone=ctx.timezone,
            carry=carry,
        )
        t = frame.table
        periods = scan.grain or scan.start or scan.end or lead.cumulative or lead.snapshot
        if scan.time is not None and periods:  # else no step reads the row's time
            raw = frame.value(scan.time, t)
            local = to_local(raw, ctx.timezone, ctx.backend)
            kept = (
                None if frame.columns else read_columns(ctx.registry, scan.source, carry, t.columns)
            )
            # without joins, the SELECT adding the time lists only the columns read (as a join does)
            t = t.mutate(**{TIME: local}) if kept is None else t.select(*kept, **{TIME: local})
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
            if scan.time is not None and periods:
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
        shared: tuple[str, ...] = ()
        if not (keys or lead.cumulative or lead.snapshot):
            shared = tuple(f for f in shared_filters(scan.nodes) if f not in scan.implied)
        if shared:  # one total row either way; filtered rows are not joined nor aggregated
            t = t.filter(*measure_conditions(frame, t, scan.nodes[0], shared))
        aggs = {
            node.column: (
                measure(frame, t, node, shared + scan.implied)
                if node.key_in is None
                else key_in_count(ctx, frame, t, node.key_in)
            )
            for node in scan.nodes
        }
        return t, keys, aggs

    def eager_aggregate(self, node: EagerAggregate) -> ir.Table:
        from metrics_layer.compile.preagg import eager_aggregate

        return eager_aggregate(self.ctx, node)

    def merge(self, node: Merge) -> ir.Table:
        return merge([self.visit(p) for p in node.parts], list(node.keys))

    def formulas(self, node: Formulas) -> ir.Table:
        scan = single_scan(node)
        if scan is not None:  # the formulas computed in the scan's own SELECT, on its aggregates
            t, keys, aggs = self._aggregates(scan)
            values = {out: formula_value(aggs.__getitem__, f) for out, f in node.outputs}
            return t.group_by(**keys).aggregate(**values) if keys else t.aggregate(**values)
        if isinstance(node.input, Merge) and all(_on_columns(f, True) for _, f in node.outputs):
            # the formulas computed in the merge's GROUP BY, on the merged aggregates
            parts = [self.visit(p) for p in node.input.parts]
            return merge(parts, list(node.input.keys), node.outputs)
        merged = self.visit(node.input)
        outputs: dict[str, ir.Value] = {k: merged[k] for k in node.keys}
        for out, f in node.outputs:
            outputs[out] = formula_value(merged.__getitem__, f)
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


def key_in_count(ctx: Context, frame: Frame, table: ir.Table, key_in: KeyIn) -> ir.Scalar:
    """A KeyIn node: the rows of `table` whose key is among the keys of the other source's
    rows passing the measure's filters (`key IN (SELECT column FROM source WHERE ...)`, a
    semi-join: each row counted once however many rows hold its key). With
    `none_if_unmatched`, NULL where no row of the source holds a key of the group."""
    rows = ctx.table_of(key_in.source)
    own = Frame(ctx.registry, key_in.source, rows, {})
    names = dict(key_in.names)
    conds = [
        compile_expression(c, lambda name: own.value(names[name], rows)) for c in key_in.conditions
    ]
    key = frame.value(key_in.key, table)
    keys = rows.filter(*conds) if conds else rows
    count = table.count(where=key.isin(keys[key_in.column]))
    if not key_in.none_if_unmatched:
        return count
    if not conds:  # the same keys: no match is a count of 0
        return count.nullif(0)
    matched = table.count(where=key.isin(rows[key_in.column]))
    return ibis.ifelse(matched > 0, count, ibis.null().cast(dt.int64))


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


def merge(
    parts: list[ir.Table],
    keys: list[str],
    outputs: Sequence[tuple[str, Formula]] | None = None,
) -> ir.Table:
    """Combine per-source aggregates on their keys: UNION ALL then GROUP BY (NULL-safe).

    With `outputs`, the GROUP BY computes those formulas of the merged aggregates (each
    merged column is the MAX of its one non-NULL value per group) instead of the merged
    columns, so no SELECT around it is needed for them."""
    if len(parts) == 1:
        if outputs is None:
            return parts[0]
        t = parts[0]
        return t.select(*keys, **{out: formula_value(t.__getitem__, f) for out, f in outputs})
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
    aggs: dict[str, ir.Value] = {col: unioned[col].max() for col in measure_types}
    if outputs is not None:
        aggs = {out: formula_value(aggs.__getitem__, f) for out, f in outputs}
    if keys:
        return unioned.group_by(keys).aggregate(**aggs)
    return unioned.aggregate(**aggs)


def formula_value(column: Callable[[str], ir.Value], f: Formula) -> ir.Value:
    """A metric's value from the aggregates, `column(name)` giving each aggregate column: a
    column of the merged table, or the aggregate itself when the formulas sit in the scan."""
    if isinstance(f, Col):
        return column(f.node.column)
    if isinstance(f, Offset | Conversions):
        return column(f.column)
    if isinstance(f, Ratio):
        num = formula_value(column, f.numerator).cast(dt.float64)
        den = formula_value(column, f.denominator).cast(dt.float64)
        return num / den.nullif(0)
    if isinstance(f, Share):
        num = formula_value(column, f.numerator).cast(dt.float64)
        return num / column(f.column).cast(dt.float64).nullif(0)
    if isinstance(f, Derived):
        inputs = dict(f.inputs)
        return compile_expression(f.parsed, lambda name: formula_value(column, inputs[name]))
    raise TypeError(f)


def single_scan(node: Formulas) -> Scan | None:
    """The one scan the formulas read when they need nothing else (no merge of several
    sources, no offset, share or fill): then they are computed in that scan's SELECT, on its
    aggregates, instead of in a SELECT around it (one nesting level less for the backend to
    plan; the values are the same expressions of the same aggregates)."""
    parts = node.input.parts if isinstance(node.input, Merge) else ()
    if len(parts) != 1 or not isinstance(parts[0], Scan):
        return None
    return parts[0] if all(_on_columns(f) for _, f in node.outputs) else None


def _on_columns(f: Formula, offsets: bool = False) -> bool:
    """True when the formula reads measure columns only (and, with `offsets`, the columns of
    shifted sub-plans and conversion counts, which are merged like measure columns), no share
    total."""
    if isinstance(f, Col):
        return True
    if isinstance(f, Offset | Conversions):
        return offsets
    if isinstance(f, Ratio):
        return _on_columns(f.numerator, offsets) and _on_columns(f.denominator, offsets)
    if isinstance(f, Derived):
        return all(_on_columns(g, offsets) for _, g in f.inputs)
    return False


def compile_plan(ctx: Context, plan: Plan, *, final: bool = True) -> ir.Table:
    """The whole KPI query as one ibis expression (without order/limit unless `final`)."""
    root = plan.root
    if not final and isinstance(root, Output):
        root = root.input
    return _Compiler(ctx, root).visit(root)
