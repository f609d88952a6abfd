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

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from metrics_layer.analysis.funnel_events import LT, E, T, any_step, needs_local
from metrics_layer.analysis.funnel_sequential import CLEAN, DEPTH, t_col, with_period
from metrics_layer.analysis.funnel_spec import FunnelQuery
from metrics_layer.compile.timegrain import time_range
from metrics_layer.errors import QueryError

MAX_GROUP = 10  # 2**10 window sums for one group of mutually overlapping steps


def any_attempts(ev: ir.Table, q: FunnelQuery) -> ir.Table:
    """Columns: __e, [__p], __t1 (anchor time), __t2..__tN (NULL), __depth, __clean."""
    fe = ev.filter(any_step(ev, q))
    w = ibis.window(group_by=fe[E], order_by=fe[T], range=(0, q.window_us))

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
    depth = functools.reduce(operator.add, parts)
    scored = fe.mutate(**{DEPTH: depth})
    bounds = time_range(scored[LT], q.start, q.end) if needs_local(q) else []
    anchors = scored.filter(*bounds) if bounds else scored
    return anchors.select(
        E,
        **with_period(anchors, q),
        **{t_col(1): anchors[T]},
        **{t_col(k): ibis.null(dt.int64) for k in range(2, q.n_steps + 1)},
        **{DEPTH: anchors[DEPTH].cast(dt.int64), CLEAN: ibis.literal(True)},
    )
