"""Metrics that look across periods: cumulative/rolling windows, offsets, shares, filled spines.

Each is built from the same pieces as a plain KPI (frames, filters, the merge) plus a period
spine generated in the expression, so the whole query stays one ibis expression. The plan
says which of them a query needs and with which bounds; these functions only build them.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pandas as pd

from metrics_layer.compile.fiscal import Fiscal, is_fiscal
from metrics_layer.compile.periods import duration, spine
from metrics_layer.definitions.durations import parse_duration, parse_offset
from metrics_layer.dialects import dialect
from metrics_layer.grain import Grain
from metrics_layer.planner.nodes import Fill, MeasureNode, Scan, ShareTotal, Shift

if TYPE_CHECKING:
    from metrics_layer.compile.kpi import Context

TIME = "__t"
PERIOD = "__p"
UTC_TIME = "__u"  # the row's time as naive UTC, for windows of elapsed time
ELAPSED_UNITS = ("second", "minute", "hour")


def _lower(start: _dt.datetime | None, grain: Grain) -> ir.Value | None:
    return ibis.literal(grain.floor_literal(start), type=dt.timestamp) if start else None


def elapsed_window(window: str | None, timezone: str) -> bool:
    """Whether a rolling window counts real elapsed time rather than local calendar time.

    Windows in seconds, minutes or hours are elapsed time: in a zone with daylight saving a
    '24 hours' window is 24 real hours even across the change. Days, weeks and months are
    calendar units of local time, like the periods themselves (a day may hold 23 or 25 hours).
    In UTC both readings agree, so nothing extra is computed.
    """
    if not window or timezone == "UTC":
        return False
    return parse_duration(window)[1] in ELAPSED_UNITS


def cumulative_rows(rows: ir.Table, scan: Scan, ctx: Context) -> ir.Table:
    """Rows repeated once per output period whose window holds them (a range join to a spine).

    For the period starting at P the window is [P + grain - window, P + grain) for a rolling
    window, [start of P's to-date period, P + grain) for grain-to-date, and everything before
    P + grain for a running total. Distinct counts over it are therefore exact. A window of
    elapsed time (`elapsed_window`) compares the rows' UTC instants with the UTC instant of
    P + grain, so it spans real hours in every zone. Fiscal grains take P + grain (the
    period's end) and to-date starts from the retail calendar's tables.
    """
    node = scan.lead
    name = scan.grain or "day"
    fiscal = ctx.fiscal(scan.source) if is_fiscal(name) or is_fiscal(node.to_date) else None
    if scan.end is not None:
        rows = rows.filter(rows[TIME] < _literal(scan.end))
    step = None
    if fiscal is not None and is_fiscal(name):
        lo = _literal(fiscal.floor_literal(scan.start, name)) if scan.start else rows[TIME].min()
        if scan.end is not None:
            periods = fiscal.spine(rows, lo, _literal(scan.end), name, PERIOD)
        else:
            periods = fiscal.spine(rows, lo, rows[TIME].max(), name, PERIOD, closed=True)
        periods = periods.select(PERIOD, "__pend")
    else:
        grain = ctx.grain(name)
        step = grain.interval()
        low = _lower(scan.start, grain)
        if low is None:
            low = grain.bucket(rows[TIME].min())
        hi = _literal(scan.end) if scan.end is not None else grain.bucket(rows[TIME].max()) + step
        periods = spine(rows, low, hi, grain, PERIOD)
    if fiscal is not None and is_fiscal(node.to_date):
        periods = fiscal.bucket(periods, PERIOD, node.to_date or "", "__td")
    end = periods[PERIOD] + step if step is not None else periods["__pend"]  # P + grain
    preds = [rows[TIME] < end]
    if node.window and UTC_TIME in rows.columns:
        edge = dialect(ctx.backend).utc_of(end, ctx.timezone)
        preds.append(rows[UTC_TIME] >= edge - duration(node.window))
    elif node.window:
        preds.append(rows[TIME] >= end - duration(node.window))
    elif "__td" in periods.columns:
        preds.append(rows[TIME] >= periods["__td"])
    elif node.to_date:
        preds.append(rows[TIME] >= ctx.grain(node.to_date).floor(periods[PERIOD]))
    joined = rows.join(periods, preds)
    return joined.select(*(c for c in rows.columns if c != UTC_TIME), PERIOD)


def _literal(moment: _dt.datetime) -> ir.Value:
    return ibis.literal(moment, type=dt.timestamp)


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


def shifted(node: Shift, sub: ir.Table, g: Grain | None, fiscal: Fiscal | None) -> ir.Table:
    """The sub-plan's value of the period holding P - offset, for each output period P.

    At a fiscal grain P - offset is the period n periods back, or for an offset in fiscal
    years the period in the same place of the year n years back (Fiscal.shifted_start).
    """
    grain = node.grain
    if node.to_grain is not None:
        return _to_grain_shifted(node, sub, g)
    if fiscal is not None:
        lo = _literal(fiscal.floor_literal(node.start, grain)) if node.start else sub[grain].min()
        if node.end is not None:
            periods = fiscal.spine(sub, lo, _literal(node.end), grain, "__P")
        else:
            periods = fiscal.spine(sub, lo, sub[grain].max(), grain, "__P", closed=True)
        n, unit = parse_offset(node.offset)
        periods = fiscal.shifted_start(periods, grain, n, unit)
    else:
        assert g is not None
        low = _lower(node.start, g)
        if low is None:
            low = sub[grain].min()
        hi = _literal(node.end) if node.end is not None else sub[grain].max() + g.interval()
        periods = spine(sub, low, hi, g, "__P")
        periods = periods.mutate(__Q=g.bucket(periods["__P"] - duration(node.offset)))
    joined = periods.join(sub, periods["__Q"] == sub[grain])
    return joined.select(
        **{grain: joined["__P"]},
        **{d: joined[d] for d in node.dims},
        **{node.column: joined[node.value]},
    )


def _to_grain_shifted(node: Shift, sub: ir.Table, g: Grain | None) -> ir.Table:
    """offset_to_grain: for each output period P, the sub-plan's row (at its own, finer or
    equal grain) starting at the start of the `to_grain` period holding P."""
    assert g is not None and node.to_grain is not None and node.input_grain is not None
    at = sub[node.input_grain]
    low = _lower(node.start, g)
    if low is None:
        low = g.bucket(at.min())
    hi = _literal(node.end) if node.end is not None else g.bucket(at.max()) + g.interval()
    periods = spine(sub, low, hi, g, "__P")
    first = Grain.of(node.to_grain, g.week_start)
    periods = periods.mutate(__Q=first.bucket(periods["__P"]))
    joined = periods.join(sub, periods["__Q"] == at)
    return joined.select(
        **{node.grain: joined["__P"]},
        **{d: joined[d] for d in node.dims},
        **{node.column: joined[node.value]},
    )


def business_days(calendar: Any) -> ir.Table:
    """The calendar's business days (column `__bd`, midnight timestamps) as a small table."""
    from metrics_layer.calendar import calendar_frame

    frame = calendar_frame(calendar)
    days = pd.to_datetime(frame.loc[frame["is_business_day"], "date"]).astype("datetime64[us]")
    return ibis.memtable(pd.DataFrame({"__bd": days}), schema={"__bd": "timestamp"})


def share_totals(merged: ir.Table, node: ShareTotal, sub: ir.Table) -> ir.Table:
    """Attach the metric's total within the `share_of` groups (same filters, same periods)."""
    cols = {f"__sk{i}": sub[theirs] for i, (_, theirs) in enumerate(node.on)}
    if node.grain:
        cols["__skg"] = sub[node.grain]
    den = sub.select(**cols, __den=sub[node.value])
    preds = [merged[ours].identical_to(den[f"__sk{i}"]) for i, (ours, _) in enumerate(node.on)]
    if node.grain:
        preds.append(merged[node.grain] == den["__skg"])
    joined = merged.left_join(den, preds) if preds else merged.cross_join(den)
    return joined.select(*merged.columns, **{node.column: joined["__den"]})


def fill_periods(
    merged: ir.Table,
    node: Fill,
    g: Grain | None,
    fiscal: Fiscal | None = None,
    calendar: Any = None,
) -> ir.Table:
    """Every period of the range (× the dimension values seen), zero or NULL where no data."""
    grain = node.grain
    if fiscal is not None:
        lo = (
            _literal(fiscal.floor_literal(node.start, grain)) if node.start else merged[grain].min()
        )
        if node.end is not None:
            frame = fiscal.spine(merged, lo, _literal(node.end), grain, "__fg")
        else:
            frame = fiscal.spine(merged, lo, merged[grain].max(), grain, "__fg", closed=True)
        frame = frame.select("__fg")
    else:
        assert g is not None
        low = _lower(node.start, g)
        if low is None:
            low = merged[grain].min()
        hi = _literal(node.end) if node.end is not None else merged[grain].max() + g.interval()
        frame = spine(merged, low, hi, g, "__fg")
        if node.business_days and calendar is not None:
            days = business_days(calendar)
            frame = frame.join(days, frame["__fg"] == days["__bd"]).select("__fg")
    dims = list(node.dims)
    if dims:
        combos = merged.select(**{f"__fd{i}": merged[d] for i, d in enumerate(dims)}).distinct()
        frame = frame.cross_join(combos)
    preds = [frame["__fg"] == merged[grain]]
    preds += [frame[f"__fd{i}"].identical_to(merged[d]) for i, d in enumerate(dims)]
    joined = frame.left_join(merged, preds)
    out: dict[str, ir.Value] = {grain: joined["__fg"]}
    out.update({d: joined[f"__fd{i}"] for i, d in enumerate(dims)})
    keys = {grain, *dims}
    for col in merged.columns:
        if col in keys:
            continue
        value = joined[col]
        out[col] = value.fill_null(0) if col in node.zero else value
    return joined.select(**out)
