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
    T,
    excl_col,
    is_step,
    needs_local,
)
from metrics_layer.analysis.funnel_match import Get, next_match
from metrics_layer.analysis.funnel_overlap import may_overlap
from metrics_layer.analysis.funnel_spec import FunnelQuery
from metrics_layer.compile.timegrain import bucket, time_range

P, DEPTH, CLEAN = "__p", "__depth", "__clean"
_C = "__c"


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
    if strict:
        cols[_col(DR, 1)] = first[DR]
    if not q.disjoint:
        cols[_col(SEQ, 1)] = first[SEQ]
        cols[_col(G, 1)] = first[G]
    a = first.select(**cols)
    for k in range(2, q.n_steps + 1):
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
    return a.select(*keep, **{DEPTH: depth, CLEAN: clean})


def _accept(get: Get, q: FunnelQuery, k: int, t: ir.Value, dr: ir.Value | None) -> ir.BooleanValue:
    """Within the window of step 1 and, in strict order, no other row in between."""
    ok = (t - get(t_col(1))) <= q.window_us
    if q.order == "strict" and dr is not None:
        ok = ok & ((dr - get(_col(DR, k - 1))) <= 1)
    return ok


def _fast_step(a: ir.Table, ev: ir.Table, q: FunnelQuery, k: int) -> ir.Table:
    strict = q.order == "strict"
    cand = ev.filter(is_step(ev, q, k)).select(E, T, *([DR] if strict else []))
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
    )


def _tied_step(a: ir.Table, ev: ir.Table, q: FunnelQuery, k: int) -> ir.Table:
    """Step k on the total row order, skipping rows the attempt already used."""
    strict = q.order == "strict"
    fields = [SEQ, T, G, *([DR] if strict else [])]
    cand = ev.filter(is_step(ev, q, k)).select(E, *fields)
    leads = sum(1 for j in range(1, k) if may_overlap(q.overlap_groups, j, k))
    if leads:
        w = ibis.window(group_by=cand[E], order_by=cand[SEQ])
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
