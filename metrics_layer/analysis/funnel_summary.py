"""From attempts to the funnel table: one counted attempt per entity, first-touch breakdowns,
then one row per (period, by values, step).

- An entity counts once (per period of step 1 with `grain`), at the furthest step of its clean
  attempts. Its times are those of the counted attempt: the one that reached that step first;
  among attempts reaching it at the same instant, the one that started last (the shortest),
  which is also what PostHog reports.
- `entities` at step k = entities whose furthest step is k or beyond; `conversion` =
  entities / entities at step 1; `step_conversion` = entities / entities at step k-1 (1.0 at
  step 1, always); NULL when the divisor is 0.
- `median_seconds` / `avg_seconds` at step k >= 2: step k time minus step k-1 time on the
  counted attempt, over entities that reached step k; zero durations (ties) are included.
  With `times=False` they are left out, and the counted attempt reduces to the furthest step
  (a GROUP BY instead of a row_number() ranking of every attempt).
- A breakdown value is first-touch: the value on the entity's earliest step event (at or after
  start, before end + window) with a non-NULL value; ties at one instant take the smallest.
"""

from __future__ import annotations

import datetime as _dt

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from metrics_layer.analysis.funnel_events import LT, E, T, any_step, by_col
from metrics_layer.analysis.funnel_sequential import CLEAN, DEPTH, P, t_col
from metrics_layer.analysis.funnel_spec import FunnelQuery

_RN = "__rn"


def counted(attempts: ir.Table, q: FunnelQuery) -> ir.Table:
    """The counted attempt of each entity (and period): columns of `attempts`; without
    times only the entity, [period] and its furthest step (a grouped maximum)."""
    a = attempts.filter(attempts[CLEAN])
    if not q.times:
        keys = [E, *([P] if q.grain else [])]
        return a.group_by(keys).aggregate(**{DEPTH: a[DEPTH].max()})
    times = [a[t_col(k)] for k in range(q.n_steps, 0, -1)]
    last = ibis.coalesce(*times) if len(times) > 1 else times[0]
    order = [ibis.desc(a[DEPTH]), ibis.asc(last)]
    # With disjoint steps an attempt's later steps are a function of its step-1 time (each is
    # the next match after the previous one), so the start time alone breaks the ties.
    order += [ibis.desc(a[t_col(k)]) for k in range(1, 2 if q.disjoint else q.n_steps)]
    part = [a[E], *([a[P]] if q.grain else [])]
    ranked = a.mutate(**{_RN: ibis.row_number().over(group_by=part, order_by=order)})
    return ranked.filter(ranked[_RN] == 0).drop(_RN)


def first_touch(ev: ir.Table, q: FunnelQuery) -> ir.Table:
    """One row per entity: its first-touch value of every `by` column (named by its output)."""
    preds = [any_step(ev, q)]
    if q.start is not None:
        preds.append(ev[LT] >= ibis.literal(q.start, type=dt.timestamp))
    if q.end is not None:
        horizon = q.end + _dt.timedelta(seconds=q.window_seconds)
        preds.append(ev[LT] < ibis.literal(horizon, type=dt.timestamp))
    fe = ev.filter(*preds)
    out: ir.Table | None = None
    for i, (name, _) in enumerate(q.by):
        b = fe[by_col(i)]
        rn = ibis.row_number().over(group_by=fe[E], order_by=[b.isnull(), fe[T], b])
        one = fe.mutate(**{_RN: rn})
        one = one.filter(one[_RN] == 0).select(E, **{name: one[by_col(i)]})
        if out is None:
            out = one
        else:
            joined = out.join(one, out[E] == one[E])
            out = joined.select(out[E], *(out[c] for c in out.columns if c != E), one[name])
    assert out is not None
    return out


def summarize(best: ir.Table, ev: ir.Table, q: FunnelQuery) -> ir.Table:
    """The result table: [grain], by columns, step, step_name, entities, conversion, ..."""
    keys: dict[str, ir.Value] = {}
    if q.grain:
        keys[q.grain] = best[P]
    if q.by:
        ft = first_touch(ev, q)
        joined = best.left_join(ft, best[E] == ft[E])
        best = joined.select(*(best[c] for c in best.columns), *(ft[n] for n, _ in q.by))
        if q.grain:
            keys[q.grain] = best[P]
        keys.update({n: best[n] for n, _ in q.by})
    aggs: dict[str, ir.Scalar] = {}
    for k in range(1, q.n_steps + 1):
        aggs[f"__n{k}"] = best.count(where=best[DEPTH] >= k).fill_null(
            0
        )  # Spark: SUM, NULL if empty
        if k >= 2 and q.order != "any" and q.times:
            secs = (best[t_col(k)] - best[t_col(k - 1)]).cast(dt.float64) / 1_000_000
            aggs[f"__med{k}"] = secs.median()
            aggs[f"__avg{k}"] = secs.mean()
    grouped = best.group_by(**keys).aggregate(**aggs) if keys else best.aggregate(**aggs)
    n = q.n_steps
    wide = grouped.select(*keys, *aggs, step=ibis.array(list(range(1, n + 1))).unnest())
    step = wide["step"].cast(dt.int64)

    def pick(values: dict[int, ir.Value], typ: dt.DataType) -> ir.Value:
        if not values:
            return ibis.null(typ)
        return ibis.cases(
            *[(step == k, v.cast(typ)) for k, v in values.items()], else_=ibis.null(typ)
        )

    count = {k: wide[f"__n{k}"] for k in range(1, n + 1)}
    prev = {k: wide[f"__n{max(k - 1, 1)}"] for k in range(1, n + 1)}
    timed = range(2, n + 1) if q.order != "any" else range(0)
    entities = pick(count, dt.int64)
    first = wide["__n1"].cast(dt.float64).nullif(0)
    times = {}
    if q.times:
        times = {
            "median_seconds": pick({k: wide[f"__med{k}"] for k in timed}, dt.float64),
            "avg_seconds": pick({k: wide[f"__avg{k}"] for k in timed}, dt.float64),
        }
    table = wide.select(
        *keys,
        step=step,
        step_name=pick(
            {k: ibis.literal(name) for k, name in enumerate(q.step_names, 1)}, dt.string
        ),
        entities=entities,
        conversion=entities.cast(dt.float64) / first,
        # step 1 is its own previous step: 1 even when no entity started (CONTRACT.md §12)
        step_conversion=ibis.ifelse(
            step == 1,
            ibis.literal(1.0, type=dt.float64),
            entities.cast(dt.float64) / pick(prev, dt.float64).nullif(0),
        ),
        **times,
    )
    return table.order_by([*keys, "step"])
