"""`value=`: a measure of the retention's source per cohort and period (revenue retention).

The measure is aggregated over ALL source rows of the cohort's entities (not only activity
events; the measure's own filter applies) at or after each entity's entry, placed in period k
by the same rule as activity (calendar period difference, or elapsed periods since entry) and
in the bracket holding k. Entries are joined on the entity, so a recurring entity's rows count
in each of its cohorts, as its activity does. The aggregate is the declared one (sum, count,
count_distinct, avg, ...) over the pooled rows of the cohort's period, so non-additive
aggregations stay exact.
"""

from __future__ import annotations

import functools
import operator
from typing import TYPE_CHECKING

import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from metrics_layer.analysis import retention_buckets as buckets
from metrics_layer.analysis.retention_options import elapsed_us
from metrics_layer.analysis.retention_periods import period_index
from metrics_layer.compile.aggregates import reduce
from metrics_layer.compile.frames import Frame
from metrics_layer.compile.timegrain import bucket, time_range
from metrics_layer.expressions import compile_expression, parse_expression

if TYPE_CHECKING:
    from metrics_layer.analysis.retention import RetentionQuery

VALUE = "__value"


def vcol(name: str) -> str:
    """The name a key column takes in the value table (kept apart from the grid's own)."""
    return "__v" + name


def value_table(
    frame: Frame,
    rows: ir.Table,
    v: dict[str, ir.Value],
    seen: list[ir.BooleanValue],
    entries: ir.Table,
    q: RetentionQuery,
    by: list[str],
) -> ir.Table:
    """One row per (cohort, by..., row index) with rows: the measure in VALUE."""
    from metrics_layer.analysis.retention_compile import CI, ENTRY, ENTRY_US, E, T, U

    m = q.value
    assert m is not None
    names = dict(m.names)

    def resolve(name: str) -> ir.Value:
        return frame.value(names[name], rows)

    expr = compile_expression(parse_expression(m.expr), resolve) if m.expr else None
    conds = [compile_expression(parse_expression(f), resolve) for f in m.filters]
    elapsed = q.period_mode == "since_entry"
    cols: dict[str, ir.Value] = {"__ve": v[E]}
    cols["__vu" if elapsed else "__vt"] = v[U] if elapsed else v[T]
    if expr is not None:
        cols["__vx"] = expr
    keep = [*seen, *conds, *time_range(v[T], q.start, None)]
    src = rows.filter(functools.reduce(operator.and_, keep)).select(**cols)
    cap = buckets.cap(q, per_period=True)
    preds = [entries[E] == src["__ve"]]
    if elapsed:
        length = elapsed_us(q.period)
        assert length is not None
        preds.append(src["__vu"] >= entries[ENTRY_US])
        if cap is not None:
            preds.append(src["__vu"] < entries[ENTRY_US] + cap * length)
        j = entries.join(src, preds)
        k = ((j["__vu"] - j[ENTRY_US]) // length).cast(dt.int64)
    else:
        src = src.mutate(__vp=period_index(bucket(src["__vt"], q.period), q.period))
        preds.append(src["__vt"] >= entries[ENTRY])
        if cap is not None:
            preds.append(src["__vp"] < entries[CI] + cap)
        j = entries.join(src, preds)
        k = j["__vp"] - j[CI]
    row = buckets.exact_index(k, q)
    t = j.select(CI, *by, **{"__vk": row}, **({"__vx": j["__vx"]} if expr is not None else {}))
    if q.brackets is not None:
        t = t.filter(t["__vk"].notnull())
    value = reduce(m.agg, t, t["__vx"] if expr is not None else None, None, m.p)
    out = t.group_by([CI, *by, "__vk"]).aggregate(**{VALUE: value})
    return out.select(
        **{vcol(CI): out[CI], vcol("__k"): out["__vk"]},
        **{vcol(b): out[b] for b in by},
        **{VALUE: out[VALUE]},
    )
