"""Attempts of an ordered funnel (sequential or strict): one row per step-1 event.

Every step-1 event with its local time in [start, end) starts an attempt. Step k+1 is the
earliest event matching step k+1 at or after step k's time, other than the events already
used by the attempt; it counts when it is within `window` of the attempt's step 1 (inclusive)
and, in strict order, when no other row of the entity lies strictly between the two steps'
times. Each step is one `next_match` (an ASOF join, or a window pass): no self-join of the
events, no per-entity loop.

Ties. When no event can match two steps (`q.disjoint`), candidates at the same time are
interchangeable and matching on time alone is exact. Otherwise rows are totally ordered by
(time, steps matched) (`__seq`; `__g` = first row of the row's equal-time group): step k+1
is sought from the first row of step k's time group, and up to L candidates (L = earlier
steps whose filter may overlap step k+1's) are carried as leads so that used rows are
skipped — the first unused one is the earliest.

Exclusion m between steps lo and hi disqualifies an attempt that reached step lo when an
exclusion event lies strictly after step lo, strictly before step hi (or the attempt never
reaches hi) and within the window of step 1.
"""

from __future__ import annotations

import functools
import operator

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from metrics_layer.analysis.funnel_events import (
    DR,
    LT,
    SEQ,
    E,
    G,
    K,
    T,
    excl_col,
    held,
    hold_col,
    is_step,
    needs_local,
)
from metrics_layer.analysis.funnel_match import Get, next_match
from metrics_layer.analysis.funnel_overlap import may_overlap
from metrics_layer.analysis.funnel_spec import FunnelQuery
from metrics_layer.compile.timegrain import bucket, time_range

P, DEPTH, CLEAN = "__p", "__depth", "__clean"
_C = "__c"
_NK, _NT = "__nk", "__nt"


def t_col(k: int) -> str:
    return f"__t{k}"


def _col(name: str, k: int) -> str:
    return f"{name}{k}"


def starts(ev: ir.Table, q: FunnelQuery) -> ir.Table:
    """Step-1 events with their local time in [start, end): the attempts (or anchors)."""
    bounds = time_range(ev[LT], q.start, q.end) if needs_local(q) else []
    return ev.filter(is_step(ev, q, 1), *bounds)


def with_period(rows: ir.Table, q: FunnelQuery) -> dict[str, ir.Value]:
    return {P: bucket(rows[LT], q.period)} if q.period else {}


def sequential_attempts(ev: ir.Table, q: FunnelQuery) -> ir.Table:
    """Columns: __e, [__p], __t1..__tN (microseconds, NULL past the attempt's depth), __depth,
    __clean."""
    strict = q.order == "strict"
    first = starts(ev, q)
    cols: dict[str, ir.Value] = {E: first[E], t_col(1): first[T], **with_period(first, q)}
    cols.update({h: first[h] for h in hold_cols(q)})
    if strict:
        cols[_col(DR, 1)] = first[DR]
    if not q.disjoint:
        cols[_col(SEQ, 1)] = first[SEQ]
        cols[_col(G, 1)] = first[G]
    if prunable(q):
        a, first_k = _last_starts(ev, q), 3
    else:
        a, first_k = first.select(**cols), 2
    stopped = None
    if sets_aside(q):
        # counts only: attempts without a step 2 reach no later step; they skip the joins
        stopped = a.filter(a[t_col(2)].isnull())
        a = a.filter(a[t_col(2)].notnull())
    for k in range(first_k, q.n_steps + 1):
        a = _fast_step(a, ev, q, k) if q.disjoint else _tied_step(a, ev, q, k)
    for m, x in enumerate(q.exclusions, 1):
        a = _exclusion(a, ev, q, m, x.lo, x.hi)
    depth = functools.reduce(
        operator.add,
        [a[t_col(k)].notnull().ifelse(1, 0).cast(dt.int64) for k in range(2, q.n_steps + 1)],
        ibis.literal(1, type=dt.int64),
    )
    tainted = [a[f"__bad{m}"] for m in range(1, len(q.exclusions) + 1)]
    clean = ~functools.reduce(operator.or_, tainted) if tainted else ibis.literal(True)
    keep = [E, *([P] if q.grain else []), *(t_col(k) for k in range(1, q.n_steps + 1))]
    out = a.select(*keep, **{DEPTH: depth, CLEAN: clean})
    if stopped is None:
        return out
    nulls = {t_col(k): ibis.null(dt.int64) for k in range(2, q.n_steps + 1)}
    one = {DEPTH: ibis.literal(1, type=dt.int64), CLEAN: ibis.literal(True)}
    rest = stopped.select(E, t_col(1), **nulls, **one)
    return out.union(rest, distinct=False)


def hold_cols(q: FunnelQuery) -> tuple[str, ...]:
    return tuple(hold_col(i) for i in range(len(q.hold)))


def prunable(q: FunnelQuery) -> bool:
    """Whether attempts dominated by a later one may be dropped (see `_last_starts`)."""
    return (
        q.disjoint
        and q.order == "sequential"
        and not q.exclusions
        and not q.grain
        and q.n_steps >= 2
    )


def sets_aside(q: FunnelQuery) -> bool:
    """Whether counts-only attempts without a step 2 bypass the joins of steps 3.. (then they
    are added back with depth 1 by a UNION ALL).

    Such an attempt finds no later step (each step is sought from the previous one's time),
    so its depth is 1 whatever the joins find; without the times nothing else of it is read.
    An ASOF join sorts every left row, NULL keys included, so on the product events (1.5M of
    2.0M attempts have a step 2) this saves 5-10% of the funnel's CPU. It applies where the
    step-2 times come from the pruning pass (`_last_starts`: no exclusions, which would read
    the attempt's times, and no grain) and the later steps are ASOF joins; the window
    formulation would read the step-2 rows twice on engines that inline common table
    expressions (Spark).
    """
    return not q.times and prunable(q) and q.n_steps >= 3 and q.strategy == "asof"


def _last_starts(ev: ir.Table, q: FunnelQuery) -> ir.Table:
    """Attempts with their step 2, keeping only the step-1 events not followed by another
    step-1 event before the next step-2 event: one window pass instead of an ASOF join.

    Why it gives the same table: take step-1 events t1 < t1' of an entity with no step-2
    event in [t1, t1'). Both attempts find the same step 2 (the earliest at or after t1'),
    hence the same later steps, and t1' is nearer to them, so the window accepts at least as
    many steps of t1' as of t1. Then t1 is never the counted attempt of `counted` (deeper,
    or equally deep with the same last time and a later start), except when both stop at
    step 1, where the count is the same and no time is reported. With repeated step-1
    events (many views before one add-to-cart) this keeps a fraction of the attempts, and
    every later join is smaller. Valid for disjoint steps in sequential order without
    exclusions (an exclusion depends on t1) or grains (t1 and t1' may fall in two periods).

    Per-step `within` bounds keep it valid: t1' is nearer to the shared step 2, so step 2's
    bound accepts it whenever it accepts t1, and the later steps' bounds compare the same
    times. Held dimensions too, read per (entity, held values): both attempts then share
    step 1's values and find the same step 2 among the rows with those values; rows with a
    NULL held value are never a step 2, so such an attempt keeps no step 2.

    Rows ordered by (time, step) per entity: a step-1 event is kept when the next row is
    not step 1; that next row, when it is step 2, is its step 2 (the earliest at or after,
    ties included since step 1 sorts first at equal times).
    """
    bounds = time_range(ev[LT], q.start, q.end) if needs_local(q) else []
    one = is_step(ev, q, 1)
    two = ibis.and_(is_step(ev, q, 2), *held(ev, q))
    holds = hold_cols(q)
    rows = ev.filter(ibis.and_(one, *bounds) | two).select(E, T, K, *holds)
    w = ibis.window(group_by=[rows[E], *(rows[h] for h in holds)], order_by=[rows[T], rows[K]])
    rows = rows.mutate(**{_NK: rows[K].lead().over(w), _NT: rows[T].lead().over(w)})
    kept = rows.filter(rows[K] == 1, rows[_NK].isnull() | (rows[_NK] != 1))
    t1, nt = kept[T], kept[_NT]
    ok = (kept[_NK] == 2) & ((nt - t1) <= q.window_us)
    bound = q.within_us(2)
    if bound is not None:
        ok = ok & ((nt - t1) <= bound)
    t2 = ibis.ifelse(ok, nt, ibis.null(dt.int64))
    return kept.select(**{E: kept[E], t_col(1): t1, t_col(2): t2}, **{h: kept[h] for h in holds})


def _accept(get: Get, q: FunnelQuery, k: int, t: ir.Value, dr: ir.Value | None) -> ir.BooleanValue:
    """Within the window of step 1, within step k's own bound of step k-1 and, in strict
    order, no other row in between."""
    ok = (t - get(t_col(1))) <= q.window_us
    bound = q.within_us(k)
    if bound is not None:
        ok = ok & ((t - get(t_col(k - 1))) <= bound)
    if q.order == "strict" and dr is not None:
        ok = ok & ((dr - get(_col(DR, k - 1))) <= 1)
    return ok


def _fast_step(a: ir.Table, ev: ir.Table, q: FunnelQuery, k: int) -> ir.Table:
    strict = q.order == "strict"
    holds = hold_cols(q)
    cand = ev.filter(is_step(ev, q, k), *held(ev, q)).select(
        E, T, *([DR] if strict else []), *holds
    )
    payload = {T: f"{_C}t", **({DR: f"{_C}dr"} if strict else {})}

    def derive(get: Get) -> dict[str, ir.Value]:
        t, dr = get(f"{_C}t"), (get(f"{_C}dr") if strict else None)
        ok = _accept(get, q, k, t, dr)
        new = {t_col(k): ibis.ifelse(ok, t, ibis.null(dt.int64))}
        if dr is not None:
            new[_col(DR, k)] = ibis.ifelse(ok, dr, ibis.null(dt.int64))
        return new

    return next_match(
        a,
        cand,
        left_key=t_col(k - 1),
        right_key=T,
        payload=payload,
        strategy=q.strategy,
        derive=derive,
        keys=holds,
    )


def _tied_step(a: ir.Table, ev: ir.Table, q: FunnelQuery, k: int) -> ir.Table:
    """Step k on the total row order, skipping rows the attempt already used."""
    strict = q.order == "strict"
    fields = [SEQ, T, G, *([DR] if strict else [])]
    holds = hold_cols(q)
    cand = ev.filter(is_step(ev, q, k), *held(ev, q)).select(E, *fields, *holds)
    leads = sum(1 for j in range(1, k) if may_overlap(q.overlap_groups, j, k))
    if leads:
        # the rows an attempt used share its held values: leads are read among those rows
        w = ibis.window(group_by=[cand[E], *(cand[h] for h in holds)], order_by=cand[SEQ])
        cand = cand.mutate(
            **{f"{f}_n{m}": cand[f].lead(m).over(w) for m in range(1, leads + 1) for f in fields}
        )
    payload = {f: f"{_C}{f}_0" for f in fields}
    payload.update({f"{f}_n{m}": f"{_C}{f}_{m}" for m in range(1, leads + 1) for f in fields})

    def derive(get: Get) -> dict[str, ir.Value]:
        used = [get(_col(SEQ, j)) for j in range(1, k)]
        branches = []
        for m in range(leads + 1):
            seq = get(f"{_C}{SEQ}_{m}")
            branches.append(
                functools.reduce(operator.and_, [seq != u for u in used], seq.notnull())
            )
        pick = {
            f: ibis.cases(
                *[(cond, get(f"{_C}{f}_{m}")) for m, cond in enumerate(branches)],
                else_=ibis.null(dt.int64),
            )
            for f in fields
        }
        ok = _accept(get, q, k, pick[T], pick.get(DR))
        return {
            t_col(k) if f == T else _col(f, k): ibis.ifelse(ok, pick[f], ibis.null(dt.int64))
            for f in fields
        }

    return next_match(
        a,
        cand,
        left_key=_col(G, k - 1),
        right_key=SEQ,
        payload=payload,
        strategy=q.strategy,
        derive=derive,
        keys=holds,
    )


def _exclusion(a: ir.Table, ev: ir.Table, q: FunnelQuery, m: int, lo: int, hi: int) -> ir.Table:
    cand = ev.filter(ev[excl_col(m)]).select(E, T)

    def derive(get: Get) -> dict[str, ir.Value]:
        x, hi_t = get(f"{_C}x"), get(t_col(hi))
        bad = x.notnull() & ((x - get(t_col(1))) <= q.window_us) & (hi_t.isnull() | (x < hi_t))
        return {f"__bad{m}": bad.fill_null(False)}

    return next_match(
        a,
        cand,
        left_key=t_col(lo),
        right_key=T,
        payload={T: f"{_C}x"},
        strategy=q.strategy,
        derive=derive,
        strict=True,
    )
