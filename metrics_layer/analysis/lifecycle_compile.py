"""Lifecycle and stickiness as ONE ibis expression each (portable relational algebra only).

Both start from the same pieces:

1. `activity`: the activity events with a non-NULL entity, as (entity, local time, period
   start).
2. `entity_groups` (with `by`): each entity's `by` values, looked up on its first activity
   event ever (the event at its earliest activity instant; ties: smallest values, NULLs last).
3. A spine of periods (start and end) from the first activity's period to the period of the
   latest row of the source; with `by`, each group's part of the grid starts at its own
   first active period. Periods carry an integer index (`Grain.index`), so "the previous
   period" is index - 1 on every backend. Calendar grains step with `ibis.range` over
   timestamps (unnested once).
4. The counts, left-joined onto the grid, so missing combinations are 0; the reported
   periods are those overlapping [start, end), compared with the bounds as given (they stay
   bind parameters of one compiled query).

Fiscal grains take the path of KPI queries (compile/fiscal.py `Fiscal`): a time is bucketed
by an equality join with the retail calendar's week table (which leaves out rows outside its
fiscal years), the spine is the calendar's period table, and the index is that table's
sequence number (joined on the period start), so the previous fiscal period (after a
14-week quarter, a 53-week year) is index - 1 too. Retention's per-period CASE expressions
(FiscalPeriod.bucket) would repeat every period start several times in the SQL: 150 KB of
text for six years of fiscal weeks.

Lifecycle: the distinct (entity, period) set with the previous and next active period of the
same entity (one LAG/LEAD window). An active row is `new` without a previous one (its first
activity ever: nothing filters the activity by time), `returning` when the previous is the
period before, else `resurrecting`; a row whose next active period is not the following
period marks the entity `dormant` in the following period (dropped by the grid beyond the
last observed period). Stickiness: distinct units per (entity, period), counted per n.
"""

from __future__ import annotations

import bisect
import datetime as _dt
from typing import TYPE_CHECKING

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pandas as pd

from metrics_layer.analysis.lifecycle import STATUSES
from metrics_layer.compile.fiscal import FiscalPeriod
from metrics_layer.compile.frames import Frame, build_frame
from metrics_layer.compile.timegrain import time_range, to_local
from metrics_layer.errors import QueryError
from metrics_layer.expressions import compile_expression, parse_expression
from metrics_layer.grain import Grain
from metrics_layer.registry import FieldRef

if TYPE_CHECKING:
    from metrics_layer.analysis.lifecycle import (
        ActivityQuery,
        LifecycleQuery,
        Period,
        StickinessQuery,
    )
    from metrics_layer.compile.kpi import Context

E, T, PS, PE, P, N = "__e", "__t", "__ps", "__pend", "__p", "__n"
FIRST, GROUP_FIRST = "__first", "__gfirst"


# ---------------------------------------------------------------------------------- lifecycle
def compile_lifecycle(ctx: Context, q: LifecycleQuery) -> ir.Table:
    """Columns <grain>, [by...], status, entities (dormant negative), one row per period x status."""
    g, by = q.grain, [out for out, _ in q.by]
    act = _activity(ctx, q)
    ep = _indexed(q, act.group_by([E, PS]).aggregate(**{FIRST: act[T].min()}))
    w = ibis.window(group_by=ep[E], order_by=ep[P])
    ep = ep.mutate(__prev=ep[P].lag().over(w), __next=ep[P].lead().over(w))
    status = ibis.cases(
        (ep["__prev"].isnull(), "new"),
        (ep["__prev"] == ep[P] - 1, "returning"),
        else_="resurrecting",
    )
    active = ep.select(E, P, status=status)
    gone = ep.filter(ep["__next"].isnull() | (ep["__next"] > ep[P] + 1))
    dormant = gone.select(E, **{P: gone[P] + 1, "status": ibis.literal("dormant")})
    marks = active.union(dormant)
    groups = None
    if by:
        firsts = ep.filter(ep["__prev"].isnull()).select(E, FIRST, **{GROUP_FIRST: ep[PS]})
        groups = entity_groups(ctx, q, firsts)
        marks = marks.join(groups, marks[E] == groups[E]).select(marks[P], marks.status, *by)
    counts = marks.group_by([P, *by, "status"]).aggregate(**{N: marks.count()})

    grid = _period_grid(ctx, q, act, groups)
    states = ibis.array(list(STATUSES)).unnest().name("status").as_table()
    grid = grid.cross_join(states)
    preds = [grid[P] == counts[P], grid["status"] == counts["status"]]
    preds += [grid[b].identical_to(counts[b]) for b in by]
    joined = grid.left_join(counts, preds)
    n = joined[N].coalesce(0).cast(dt.int64)
    is_dormant = joined["status"] == "dormant"
    out = joined.select(
        **{g.name: joined[PS]},
        **{b: joined[b] for b in by},
        status=joined["status"],
        entities=ibis.ifelse(is_dormant, -n, n),
    )
    rank = ibis.cases(*((out["status"] == s, i) for i, s in enumerate(STATUSES)), else_=9)
    return out.order_by([g.name, *by, rank])


# ---------------------------------------------------------------------------------- stickiness
def compile_stickiness(ctx: Context, q: StickinessQuery) -> ir.Table:
    """Columns <grain>, [by...], n, entities (active on exactly n units of the period)."""
    g, u, by = q.grain, q.unit, [out for out, _ in q.by]
    act = _activity(ctx, q)
    if isinstance(u, FiscalPeriod):  # the start of the fiscal unit holding each time
        units = u.fiscal.bucket(act, T, u.name, "__u")
    else:
        units = act.mutate(__u=u.index(act[T]))
    per = units.group_by([E, PS]).aggregate(n=units["__u"].nunique().cast(dt.int64))
    groups = None
    if by:
        first = act.group_by(E).aggregate(**{FIRST: act[T].min(), GROUP_FIRST: act[PS].min()})
        groups = entity_groups(ctx, q, first)
        per = per.join(groups, per[E] == groups[E]).select(per[PS], per.n, *by)
    counts = per.group_by([PS, *by, "n"]).aggregate(**{N: per.count()})

    grid = _period_grid(ctx, q, act, groups)
    one, top = ibis.literal(1, type=dt.int64), ibis.literal(max_units(u, g) + 1, type=dt.int64)
    ns = ibis.range(one, top).unnest().name("n").as_table()  # no cast around it: Spark refuses
    if isinstance(g, FiscalPeriod):  # units per period from the calendar (a small table)
        sizes = _fiscal_sizes(u, g)
        grid = grid.join(sizes, PS)
        size = grid["__size"]
    else:
        size = u.index(grid[PE]) - u.index(grid[PS])
    grid = grid.mutate(__size=size).cross_join(ns)
    grid = grid.filter(grid["n"] <= grid["__size"])
    preds = [grid[PS] == counts[PS], grid["n"] == counts["n"]]
    preds += [grid[b].identical_to(counts[b]) for b in by]
    joined = grid.left_join(counts, preds)
    out = joined.select(
        **{g.name: joined[PS]},
        **{b: joined[b] for b in by},
        n=joined["n"],
        entities=joined[N].coalesce(0).cast(dt.int64),
    )
    return out.order_by([g.name, *by, "n"])


def max_units(unit: Period, grain: Period) -> int:
    """The most units one period of `grain` can hold (7 days a week, 31 days a month, 92 days
    a quarter, 366 a year, 24 hours a day in wall-clock time; for a fiscal grain, read from
    its calendar: 35 days in a 5-week fiscal month, 14 fiscal weeks in a 53-week year's last
    quarter); the grid keeps, per period, n up to that period's own count."""
    if isinstance(grain, FiscalPeriod):
        return max(fiscal_sizes(unit, grain).values())
    assert isinstance(unit, Grain)
    per_day = {"day": 1, "week": 7, "month": 31, "quarter": 92, "year": 366}
    if unit.name == "hour":
        return 24 * per_day[grain.name]
    if unit.name == "day":
        return per_day[grain.name]
    return grain.months // unit.months


def fiscal_sizes(unit: Period, grain: FiscalPeriod) -> dict[_dt.datetime, int]:
    """Units in each period of a fiscal grain (start -> count), from the calendar's periods:
    whole days (24 wall-clock hours each) or weeks of its length, or the fiscal unit periods
    starting inside it."""
    spans = grain.spans()
    if isinstance(unit, FiscalPeriod):
        starts = [s for s, _ in unit.spans()]
        return {
            lo: bisect.bisect_left(starts, hi) - bisect.bisect_left(starts, lo) for lo, hi in spans
        }
    per_day = {"hour": 24, "day": 1}
    return {
        lo: (hi - lo).days * per_day[unit.name] if unit.name in per_day else (hi - lo).days // 7
        for lo, hi in spans
    }


def _fiscal_sizes(unit: Period, grain: FiscalPeriod) -> ir.Table:
    sizes = fiscal_sizes(unit, grain)
    frame = pd.DataFrame({PS: list(sizes), "__size": list(sizes.values())})
    return ibis.memtable(frame, schema={PS: "timestamp", "__size": "int64"})


# ---------------------------------------------------------------------------------- shared
def _frame(ctx: Context, q: ActivityQuery, *extra: FieldRef) -> Frame:
    """The source with exactly the joins its entity/activity expressions (+ extra) need."""
    reg = ctx.registry
    names = {n for text in (q.entity, q.activity) for n in parse_expression(text).names}
    refs = [reg.resolve_field(q.source, n, prefer_columns=True) for n in sorted(names)]
    return build_frame(
        reg,
        ctx.table_of,
        q.source,
        [*refs, q.time_ref, *extra],
        backend=ctx.backend,
        timezone=ctx.timezone,
    )


def _values(ctx: Context, q: ActivityQuery, frame: Frame) -> tuple[ir.Value, ir.Value, ir.Value]:
    """(entity, local time, activity condition) of the frame's rows."""
    t = frame.table
    resolve = frame.resolver(t)
    ent = compile_expression(parse_expression(q.entity, what="retention entity"), resolve)
    local = to_local(frame.value(q.time_ref, t), ctx.timezone, ctx.backend)
    cond = compile_expression(parse_expression(q.activity), resolve)
    if not cond.type().is_boolean():
        raise QueryError(
            f"the activity filter of retention {q.name!r} must be a condition (true/false), "
            f"got a {cond.type()} expression"
        )
    return ent, local, cond


def _activity(ctx: Context, q: ActivityQuery) -> ir.Table:
    """(entity, local time, period start) of every activity event with a non-NULL entity (at
    a fiscal grain, only those inside the retail calendar's fiscal years)."""
    frame = _frame(ctx, q)
    ent, local, cond = _values(ctx, q, frame)
    act = frame.table.filter(ent.notnull(), cond).select(**{E: ent, T: local})
    g = q.grain
    if not isinstance(g, FiscalPeriod):
        return act.mutate(**{PS: g.bucket(act[T])})
    spans = g.spans()
    act = act.filter(*time_range(act[T], spans[0][0], spans[-1][1]))
    return g.fiscal.bucket(act, T, g.name, PS)


def _indexed(q: ActivityQuery, table: ir.Table) -> ir.Table:
    """`table` with P, the index of its period start PS (fiscal: the period table's number)."""
    g = q.grain
    if not isinstance(g, FiscalPeriod):
        return table.mutate(**{P: g.index(table[PS])})
    numbers = g.fiscal.periods(g.name)
    return table.join(numbers.select(PS, **{P: numbers["__seq"]}), PS)


def entity_groups(ctx: Context, q: ActivityQuery, firsts: ir.Table) -> ir.Table:
    """(entity, first period start, by values...) from `firsts` (entity, first instant,
    first period start): the values on the entity's first activity event."""
    frame = _frame(ctx, q, *(ref for _, ref in q.by_refs))
    ent, local, cond = _values(ctx, q, frame)
    t = frame.table
    by_values = {out: frame.value(ref, t) for out, ref in q.by_refs}
    cands = t.filter(ent.notnull(), cond).select(**{"__ce": ent, "__ct": local}, **by_values)
    looked = firsts.join(cands, [firsts[E] == cands["__ce"], firsts[FIRST] == cands["__ct"]])
    looked = looked.select(E, GROUP_FIRST, *by_values)
    order = [ibis.asc(looked[b], nulls_first=False) for b in by_values]
    ranked = looked.mutate(__rank=ibis.row_number().over(group_by=looked[E], order_by=order))
    return ranked.filter(ranked["__rank"] == 0).drop("__rank")


def _period_grid(
    ctx: Context, q: ActivityQuery, act: ir.Table, groups: ir.Table | None
) -> ir.Table:
    """(period start, end, index[, by...]) from the first active period to the last observed
    one, restricted to the periods overlapping [start, end); per group from its first period."""
    g = q.grain
    src = ctx.table_of(q.source)
    src_time = Frame(ctx.registry, q.source, src, {}).value(q.time_ref, src)
    latest = to_local(src_time, ctx.timezone, ctx.backend).max()
    if isinstance(g, FiscalPeriod):
        ends = act.aggregate(__lo=act[T].min()).cross_join(src.aggregate(__hi=latest))
        lo, hi = ends["__lo"].min(), ends["__hi"].max()
        periods = g.fiscal.spine(ends, lo, hi, g.name, PS, closed=True)
        spine = periods.select(PS, PE, **{P: periods["__seq"]})
    else:
        ends = act.aggregate(__lo=g.bucket(act[T].min())).cross_join(
            src.aggregate(__hi=g.bucket(latest))
        )
        starts = ibis.range(ends["__lo"], ends["__hi"] + g.interval(), g.interval())
        spine = ends.select(**{PS: starts.unnest()})
        spine = spine.mutate(**{PE: spine[PS] + g.interval(), P: g.index(spine[PS])})
    keep = []
    if q.start is not None:
        keep.append(spine[PE] > ibis.literal(q.start, type=dt.timestamp))
    if q.end is not None:
        keep.append(spine[PS] < ibis.literal(q.end, type=dt.timestamp))
    spine = spine.filter(*keep) if keep else spine
    if groups is None:
        return spine
    by = [out for out, _ in q.by]
    starts = groups.group_by(by).aggregate(**{GROUP_FIRST: groups[GROUP_FIRST].min()})
    grid = starts.cross_join(spine)
    return grid.filter(grid[PS] >= grid[GROUP_FIRST]).select(PS, PE, P, *by)
