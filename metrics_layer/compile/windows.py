"""Metrics that look across periods: cumulative/rolling windows, offsets, shares, filled spines.

Each is built from the same pieces as a plain KPI (frames, filters, the merge) plus a period
spine generated in the expression, so the whole query stays one ibis expression.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from typing import Any

import ibis
import ibis.expr.types as ir

from metrics_layer.compile.periods import duration, grain_step, spine, truncate_literal
from metrics_layer.compile.timegrain import GRAIN_UNITS, bucket
from metrics_layer.errors import QueryError
from metrics_layer.planner.plan import MeasureNode, Offset, Plan, Planner, Share
from metrics_layer.planner.request import Request

TIME = "__t"
PERIOD = "__p"
_ORDER = ["hour", "day", "week", "month", "quarter", "year"]


def _lower(req: Request, grain: str) -> ir.Value | None:
    return ibis.literal(truncate_literal(req.start, grain)) if req.start else None


def cumulative_rows(rows: ir.Table, node: MeasureNode, req: Request) -> ir.Table:
    """Rows repeated once per output period whose window holds them (a range join to a spine).

    For the period starting at P the window is [P + grain - window, P + grain) for a rolling
    window, [start of P's to-date period, P + grain) for grain-to-date, and everything before
    P + grain for a running total. Distinct counts over it are therefore exact.
    """
    grain = req.grain or "day"
    step = grain_step(grain)
    if req.end is not None:
        rows = rows.filter(rows[TIME] < ibis.literal(req.end))
    if node.to_date and _ORDER.index(node.to_date) < _ORDER.index(grain):
        raise QueryError(f"{node.to_date}-to-date cannot be shown at the coarser grain {grain!r}")
    lo = _lower(req, grain)
    if lo is None:
        lo = bucket(rows[TIME].min(), grain)
    hi = ibis.literal(req.end) if req.end is not None else bucket(rows[TIME].max(), grain) + step
    periods = spine(rows, lo, hi, grain, PERIOD)
    preds = [rows[TIME] < periods[PERIOD] + step]
    if node.window:
        preds.append(rows[TIME] >= periods[PERIOD] + step - duration(node.window))
    elif node.to_date:
        preds.append(rows[TIME] >= periods[PERIOD].truncate(GRAIN_UNITS[node.to_date]))
    joined = rows.join(periods, preds)
    return joined.select(*rows.columns, PERIOD)


def snapshot_rows(
    rows: ir.Table, node: MeasureNode, groupings: list[ir.Value], by_period: bool
) -> ir.Table:
    """Keep the rows at the first/last time of each period (per grouping entity): semi-additive."""
    assert node.snapshot is not None
    part = ([rows[PERIOD]] if by_period else []) + groupings
    window = ibis.window(group_by=part) if part else ibis.window()
    edge = rows[TIME].max() if node.snapshot[0] == "last" else rows[TIME].min()
    marked = rows.mutate(__snap=edge.over(window))
    return marked.filter(marked[TIME] == marked["__snap"]).drop("__snap")


def _sub_plan(ctx: object, plan: Plan, **changes: Any) -> tuple[Plan, ir.Table]:
    from metrics_layer.compile.kpi import compile_plan

    req = dataclasses.replace(
        plan.request, **{"order_by": (), "limit": None, "fill": None, **changes}
    )
    sub = Planner(ctx.registry).plan(req)  # type: ignore[attr-defined]
    return sub, compile_plan(ctx, sub, final=False)  # type: ignore[arg-type]


def offset_part(ctx: object, plan: Plan, off: Offset) -> ir.Table:
    """The metric of the period holding P - offset, for each output period P (NULL if none).

    The shifted periods are computed whole (start/end only choose the output periods P), with
    the query's fill, so the offset of a period equals that period's own value.
    """
    from metrics_layer.compile.periods import check_offset, next_period, shift

    req = plan.request
    grain = req.grain or "month"
    check_offset(off.offset, grain, off.metric)
    start = end = None
    if req.start:
        start = truncate_literal(shift(truncate_literal(req.start, grain), off.offset, -1), grain)
    if req.end:
        last = truncate_literal(req.end - _dt.timedelta(microseconds=1), grain)
        end = next_period(truncate_literal(shift(last, off.offset, -1), grain), grain)
    sub_plan, sub = _sub_plan(ctx, plan, metrics=(off.metric,), start=start, end=end, fill=req.fill)
    value = sub_plan.metric_columns[0][0]
    iv = duration(off.offset)
    lo = _lower(req, grain)
    if lo is None:
        lo = sub[grain].min()
    hi = ibis.literal(req.end) if req.end is not None else sub[grain].max() + grain_step(grain)
    periods = spine(sub, lo, hi, grain, "__P")
    periods = periods.mutate(__Q=bucket(periods["__P"] - iv, grain))
    joined = periods.join(sub, periods["__Q"] == sub[grain])
    dims = [out for out, _ in plan.dim_columns]
    return joined.select(
        **{grain: joined["__P"]}, **{d: joined[d] for d in dims}, **{off.column: joined[value]}
    )


def _within(ref: str, within: tuple[str, ...]) -> bool:
    return any(ref == w or ref.endswith("." + w) or w.endswith("." + ref) for w in within)


def share_totals(ctx: object, plan: Plan, share: Share, merged: ir.Table) -> ir.Table:
    """Attach the metric's total within the `share_of` groups (same filters, same periods)."""
    req = plan.request
    kept = [(out, ref) for out, ref in plan.dim_columns if _within(ref, share.within)]
    sub_plan, sub = _sub_plan(ctx, plan, metrics=(share.metric,), by=tuple(ref for _, ref in kept))
    value = sub_plan.metric_columns[0][0]
    sub_outs = dict((ref, out) for out, ref in sub_plan.dim_columns)
    cols = {f"__sk{i}": sub[sub_outs[ref]] for i, (_, ref) in enumerate(kept)}
    if req.grain:
        cols["__skg"] = sub[req.grain]
    den = sub.select(**cols, __den=sub[value])
    preds = [merged[out].identical_to(den[f"__sk{i}"]) for i, (out, _) in enumerate(kept)]
    if req.grain:
        preds.append(merged[req.grain] == den["__skg"])
    joined = merged.left_join(den, preds) if preds else merged.cross_join(den)
    return joined.select(*merged.columns, **{share.column: joined["__den"]})


def fill_periods(merged: ir.Table, plan: Plan, keys: list[str], zero: list[str]) -> ir.Table:
    """Every period of the range (× the dimension values seen), zero or NULL where no data."""
    req = plan.request
    grain = req.grain or "day"
    lo = _lower(req, grain)
    if lo is None:
        lo = merged[grain].min()
    hi = ibis.literal(req.end) if req.end is not None else merged[grain].max() + grain_step(grain)
    frame = spine(merged, lo, hi, grain, "__fg")
    dims = keys[1:]
    if dims:
        combos = merged.select(**{f"__fd{i}": merged[d] for i, d in enumerate(dims)}).distinct()
        frame = frame.cross_join(combos)
    preds = [frame["__fg"] == merged[grain]]
    preds += [frame[f"__fd{i}"].identical_to(merged[d]) for i, d in enumerate(dims)]
    joined = frame.left_join(merged, preds)
    out: dict[str, ir.Value] = {grain: joined["__fg"]}
    out.update({d: joined[f"__fd{i}"] for i, d in enumerate(dims)})
    for col in merged.columns:
        if col in keys:
            continue
        value = joined[col]
        out[col] = value.fill_null(0) if col in zero else value
    return joined.select(**out)
