"""The funnel's event table: one row per event that matches a step or an exclusion.

Columns: `__e` entity, `__t` time as integer microseconds since the epoch (UTC, so windows
are absolute durations whatever the layer's timezone), `__lt` local wall-clock time (for
start/end and grains), `__s{k}` / `__x{m}` booleans (matches step k / exclusion m), `__b{i}`
breakdown values, `__h{i}` held values. Steps and exclusions from other sources are UNION ALL-ed in, keyed on their
own entity and time. Optional columns: `__dr` (dense rank of the time over every row of the
entity, for strict order), `__seq` / `__g` (a total order of rows and the first row of each
equal-time group, for funnels whose step filters may overlap).
"""

from __future__ import annotations

import datetime as _dt
import functools
import operator
from typing import TYPE_CHECKING

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from metrics_layer.analysis.funnel_overlap import part_key
from metrics_layer.analysis.funnel_spec import EventKind, FunnelQuery
from metrics_layer.compile.frames import build_frame
from metrics_layer.compile.timegrain import epoch_us, to_local
from metrics_layer.errors import DefinitionError
from metrics_layer.expressions import compile_expression, parse_expression

if TYPE_CHECKING:
    from metrics_layer.compile.kpi import Context

E, T, LT, DR, SEQ, G, K = "__e", "__t", "__lt", "__dr", "__seq", "__g", "__k"
PRUNE_SLACK = _dt.timedelta(days=1)  # local vs absolute time differ by less than a day


def step_col(k: int) -> str:
    return f"__s{k}"


def is_step(ev: ir.Table, q: FunnelQuery, k: int) -> ir.BooleanValue:
    """Whether a row matches step k: a step number (disjoint filters) or a boolean column."""
    return ev[K] == k if q.disjoint else ev[step_col(k)]


def any_step(ev: ir.Table, q: FunnelQuery, steps: tuple[int, ...] | None = None) -> ir.BooleanValue:
    """Whether a row matches one of `steps` (default: any step)."""
    chosen = steps or tuple(range(1, q.n_steps + 1))
    if q.disjoint:
        return ev[K].isin(chosen) if steps else ev[K] != 0
    return functools.reduce(operator.or_, [ev[step_col(k)] for k in chosen])


def excl_col(m: int) -> str:
    return f"__x{m}"


def by_col(i: int) -> str:
    return f"__b{i}"


def hold_col(i: int) -> str:
    return f"__h{i}"


def held(ev: ir.Table, q: FunnelQuery) -> list[ir.BooleanValue]:
    """Conditions that every hold value of a row is non-NULL (a NULL value equals nothing, so
    such a row can neither be a later step nor lead an attempt past step 1); none without
    held dimensions."""
    return [ev[hold_col(i)].notnull() for i in range(len(q.hold))]


def build_events(ctx: Context, q: FunnelQuery, *, ordered: bool) -> ir.Table:
    """The event table of `q` (see the module docstring); `ordered` adds __seq and __g."""
    kinds: list[tuple[str, EventKind]] = [(step_col(k), s) for k, s in enumerate(q.steps, 1)]
    kinds += [(excl_col(m), x.kind) for m, x in enumerate(q.exclusions, 1)]
    parts: dict[tuple[str, str, str, bool], list[tuple[str, EventKind]]] = {}
    for col, kind in kinds:
        parts.setdefault(part_key(kind), []).append((col, kind))
    main_key = (q.source, q.entity, q.time, True)
    strict = q.order == "strict"
    main = _part(ctx, q, main_key, parts.get(main_key, []), strict, None)
    tables = [main] if main_key in parts or strict else []
    for key, members in parts.items():
        if key != main_key:
            tables.append(_part(ctx, q, key, members, False, main))
    ev = functools.reduce(lambda a, b: a.union(b, distinct=False), tables)
    if strict:
        ev = ev.mutate(**{DR: ibis.dense_rank().over(group_by=ev[E], order_by=ev[T])})
        excl = [ev[excl_col(m)] for m in range(1, len(q.exclusions) + 1)]
        ev = ev.filter(functools.reduce(operator.or_, excl, any_step(ev, q)))
    if ordered:
        mask = functools.reduce(
            operator.add,
            [
                is_step(ev, q, k).ifelse(2 ** (k - 1), 0).cast(dt.int64)
                for k in range(1, q.n_steps + 1)
            ],
        )
        ev = ev.mutate(
            **{
                SEQ: ibis.row_number().over(group_by=ev[E], order_by=[ev[T], mask]),
                G: ibis.rank().over(group_by=ev[E], order_by=ev[T]),
            }
        )
    return ev


def _part(
    ctx: Context,
    q: FunnelQuery,
    key: tuple[str, str, str, bool],
    members: list[tuple[str, EventKind]],
    keep_all: bool,
    main: ir.Table | None,
) -> ir.Table:
    """Rows of one source read with one entity and time: its steps and exclusions matched."""
    reg = ctx.registry
    source, entity, time, is_main = key
    texts = [entity, time, *(k.filter for _, k in members)]
    refs = [
        reg.resolve_field(source, n, prefer_columns=True)
        for text in texts
        for n in parse_expression(text).names
    ]
    if is_main:
        refs += [ref for _, ref in q.by_refs]
    holds = [reg.resolve_field(source, h) for h in q.hold]
    refs += holds
    frame = build_frame(reg, ctx.table_of, source, refs, backend=ctx.backend, timezone=ctx.timezone)
    t = frame.table
    resolve = frame.resolver(t)
    ent = compile_expression(parse_expression(entity), resolve)
    when = compile_expression(parse_expression(time), resolve)
    if main is not None:
        ent = ent.cast(main[E].type())
    local = to_local(when, ctx.timezone, ctx.backend)
    if local.type().is_date():
        local = local.cast(dt.timestamp)
    cols: dict[str, ir.Value] = {E: ent, T: epoch_us(when, ctx.backend)}
    if needs_local(q):
        cols[LT] = local
    conds: dict[str, ir.BooleanValue] = {}
    for c, kind in members:
        cond = compile_expression(parse_expression(kind.filter), resolve)
        if not cond.type().is_boolean():
            raise DefinitionError(
                f"filter of {kind.name!r} must be a condition (true/false), got a "
                f"{cond.type()} value",
                reg.locate("funnels", q.name, *kind.path, "filter"),
            )
        conds[c] = cond
    # NULL conditions need no COALESCE: every use is a WHERE, an OR or a CASE, where NULL
    # behaves as false.
    steps = [(k, conds[step_col(k)]) for k in range(1, q.n_steps + 1) if step_col(k) in conds]
    if q.disjoint:
        cols[K] = (
            ibis.cases(*[(cond, k) for k, cond in steps], else_=0) if steps else ibis.literal(0)
        ).cast(dt.int16)
    else:
        for k in range(1, q.n_steps + 1):
            cols[step_col(k)] = conds.get(step_col(k), ibis.literal(False))
    for m in range(1, len(q.exclusions) + 1):
        cols[excl_col(m)] = conds.get(excl_col(m), ibis.literal(False))
    for i, ref in enumerate(holds):
        value = frame.value(ref, t)
        cols[hold_col(i)] = value if main is None else value.cast(main[hold_col(i)].type())
    for i, (_, ref) in enumerate(q.by_refs):
        if main is None:
            cols[by_col(i)] = frame.value(ref, t)
        else:
            cols[by_col(i)] = ibis.null().cast(main[by_col(i)].type())
    # Filter on the raw columns before computing the event columns: the scan keeps only the
    # rows of some step (e.g. `event_type IN (...)`), and the masks are computed on those.
    preds = [ent.notnull(), when.notnull()]
    if q.start is not None:
        preds.append(local >= ibis.literal(q.start, type=dt.timestamp))
    if q.end is not None:
        horizon = q.end + _dt.timedelta(seconds=q.window_seconds) + PRUNE_SLACK
        preds.append(local < ibis.literal(horizon, type=dt.timestamp))
    if not keep_all:
        preds.append(functools.reduce(operator.or_, conds.values()))
    return t.filter(*preds).select(**cols)


def needs_local(q: FunnelQuery) -> bool:
    """Local wall-clock time is needed for start/end bounds and grains only."""
    return q.start is not None or q.end is not None or q.grain is not None
