"""Attempts of an unordered funnel (`order="any"`): one per step event.

Every event matching some step, with its local time in [start, end), anchors an attempt whose
window is [its time, its time + window] (inclusive). The attempt's depth is the number of
distinct steps done in that window by distinct events: the size of a maximum matching between
steps and the window's events (one event fills at most one step). An entity's depth is the
largest over its attempts; step k counts entities with depth >= k.

Computed with one RANGE window pass over the events. When no event can match two steps the
depth is the number of steps with at least one event in the window. Otherwise, per group of
steps whose filters may overlap, Hall's theorem gives the matching size:
min over subsets S of the group of (|group| - |S| + events in the window matching some step
of S). Times between steps are not defined without an order: median/avg seconds are NULL.
"""

from __future__ import annotations

import functools
import itertools
import operator
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from metrics_layer.analysis.funnel_events import (
    LT,
    E,
    K,
    T,
    any_step,
    held,
    hold_col,
    needs_local,
)
from metrics_layer.analysis.funnel_sequential import CLEAN, DEPTH, t_col, with_period
from metrics_layer.analysis.funnel_spec import FunnelQuery
from metrics_layer.compile.timegrain import time_range
from metrics_layer.errors import QueryError

MAX_GROUP = 10  # 2**10 window sums for one group of mutually overlapping steps


def any_attempts(ev: ir.Table, q: FunnelQuery) -> ir.Table:
    """Columns: __e, [__p], __t1 (anchor time), __t2..__tN (NULL), __depth, __clean."""
    fe = ev.filter(any_step(ev, q))
    holds = [fe[hold_col(i)] for i in range(len(q.hold))]
    # held dimensions: an attempt sees only the rows with its anchor's values
    w = ibis.window(group_by=[fe[E], *holds], order_by=fe[T], range=(0, q.window_us))
    scored = _bounded_depth(fe, q, w) if q.has_within else _matched_depth(fe, q, w)
    if holds:
        # a NULL held value equals nothing: the anchor alone
        alone = ibis.and_(*held(scored, q)).ifelse(scored[DEPTH], ibis.literal(1, type=dt.int64))
        scored = scored.mutate(**{DEPTH: alone})
    bounds = time_range(scored[LT], q.start, q.end) if needs_local(q) else []
    anchors = scored.filter(*bounds) if bounds else scored
    return anchors.select(
        E,
        **with_period(anchors, q),
        **{t_col(1): anchors[T]},
        **{t_col(k): ibis.null(dt.int64) for k in range(2, q.n_steps + 1)},
        **{DEPTH: anchors[DEPTH].cast(dt.int64), CLEAN: ibis.literal(True)},
    )


def _bounded_depth(fe: ir.Table, q: FunnelQuery, w: Any) -> ir.Table:
    """Depth with per-step `within` bounds (disjoint step filters only).

    The attempt's steps are taken in the order they are first done in the window (ties in
    step order); each step's event is its earliest in the window, and the step before it in
    that order is its previous step. The attempt stops at the first step farther than its
    own `within` after its previous step.
    """
    if not q.disjoint:
        raise QueryError(
            f"funnel {q.name!r}: order 'any' with per-step `within` needs step filters that "
            "no event can match twice (e.g. event_type = '...' for each step)"
        )
    n = q.n_steps
    fe = fe.mutate(
        **{
            _first(s): ibis.ifelse(fe[K] == s, fe[T], ibis.null(dt.int64)).min().over(w)
            for s in range(1, n + 1)
        }
    )
    first = {s: fe[_first(s)] for s in range(1, n + 1)}
    lowest = ibis.literal(-(2**62), type=dt.int64)

    def before(a: int, b: int, fa: ir.Value, fb: ir.Value) -> ir.BooleanValue:
        """Step a comes before step b in the attempt's order (both done)."""
        return (fa < fb) | ((fa == fb) & ibis.literal(a < b))

    prev = {}
    for s in range(1, n + 1):
        cands = [
            ibis.ifelse(first[o].notnull() & before(o, s, first[o], first[s]), first[o], lowest)
            for o in range(1, n + 1)
            if o != s
        ]
        best = ibis.greatest(*cands) if len(cands) > 1 else cands[0]
        prev[s] = best.nullif(lowest)
    fe = fe.mutate(**{_prev(s): prev[s] for s in range(1, n + 1)})
    first = {s: fe[_first(s)] for s in range(1, n + 1)}
    prev = {s: fe[_prev(s)] for s in range(1, n + 1)}
    fails = {}
    for s in range(1, n + 1):
        bound = q.within_us(s)
        if bound is not None:
            fails[s] = (first[s] - prev[s] > bound).fill_null(False)
    parts = []
    for s in range(1, n + 1):
        ok = first[s].notnull()
        for o, bad in fails.items():
            at_or_before = ibis.literal(o == s) | before(o, s, first[o], first[s])
            ok = ok & ~(bad & at_or_before.fill_null(False))
        parts.append(ok.ifelse(1, 0).cast(dt.int64))
    return fe.mutate(**{DEPTH: functools.reduce(operator.add, parts)})


def _first(s: int) -> str:
    return f"__f{s}"


def _prev(s: int) -> str:
    return f"__fp{s}"


def _matched_depth(fe: ir.Table, q: FunnelQuery, w: Any) -> ir.Table:
    """Depth as the size of a maximum matching of steps to the window's events."""

    def in_window(steps: tuple[int, ...]) -> ir.IntegerValue:
        hit = any_step(fe, q, steps)
        return hit.ifelse(1, 0).cast(dt.int64).sum().over(w)

    parts: list[ir.IntegerValue] = []
    for group in q.overlap_groups:
        if len(group) == 1:
            parts.append((in_window(group) > 0).ifelse(1, 0).cast(dt.int64))
            continue
        if len(group) > MAX_GROUP:
            raise QueryError(
                f"funnel {q.name!r}: order 'any' with {len(group)} steps whose "
                f"filters may overlap is not supported (at most {MAX_GROUP})"
            )
        bounds: list[ir.IntegerValue] = [ibis.literal(len(group), type=dt.int64)]
        for size in range(1, len(group) + 1):
            for subset in itertools.combinations(group, size):
                bounds.append(in_window(subset) + (len(group) - size))
        parts.append(ibis.least(*bounds))
    return fe.mutate(**{DEPTH: functools.reduce(operator.add, parts)})
