"""Period series in ibis: a complete spine of periods, and comparison with trailing windows.

Shared by metric rules (anomaly, max_change) and the source volume check. Everything stays an
ibis expression; the caller executes one query per target and reads the flags.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from metrics_layer.checks.models import TrailingWindow
from metrics_layer.grain import Grain

GID, RN = "__gid", "__rn"
MAD_SCALE = 1.4826  # MAD × 1.4826 estimates the standard deviation of normal data
MEANAD_SCALE = 1.2533  # mean absolute deviation × 1.2533, the fallback when the MAD is 0


def step(grain: str | Grain) -> ir.IntervalScalar:
    return Grain.of(grain).interval()


def floor(ts: _dt.datetime, grain: str | Grain) -> _dt.datetime:
    """Start of the period holding `ts`, in Python."""
    return Grain.of(grain).floor_literal(ts)


def shift(ts: _dt.datetime, grain: str | Grain, n: int) -> _dt.datetime:
    """`ts` moved by n periods (n may be negative)."""
    return Grain.of(grain).shift(ts, n)


def spine(
    series: ir.Table,
    period: str,
    groups: Sequence[str],
    grain: str | Grain,
    start: _dt.datetime | None,
    end: _dt.datetime | None,
) -> ir.Table:
    """Every period from start (or the first period with data) to end (or the last one), per
    group seen in the series, with the series' other columns (NULL where a period is missing)."""
    typ = series[period].type()
    bounds = series.aggregate(__lo=series[period].min(), __hi=series[period].max())
    lo = (
        ibis.literal(floor(start, grain), type=dt.timestamp)
        if start is not None
        else bounds["__lo"].cast(dt.timestamp)
    )
    stop = (
        ibis.literal(end, type=dt.timestamp)
        if end is not None
        else bounds["__hi"].cast(dt.timestamp) + step(grain)
    )
    periods = bounds.select(**{period: ibis.range(lo, stop, step(grain)).unnest().cast(typ)})
    if groups:
        keys = series.select(*groups).distinct()
        periods = periods.cross_join(keys)
    preds = [periods[period] == series[period]]
    preds += [periods[g].identical_to(series[g]) for g in groups]
    joined = periods.left_join(series, preds)
    others = [c for c in series.columns if c != period and c not in groups]
    return joined.select(
        periods[period], *[periods[g] for g in groups], *[series[c] for c in others]
    )


def numbered(t: ir.Table, period: str, groups: Sequence[str]) -> ir.Table:
    """Add a group id and the period's position within its group (1, 2, ... in time order)."""
    gid = ibis.dense_rank().over(order_by=[t[g] for g in groups]) if groups else ibis.literal(0)
    rn = ibis.row_number().over(group_by=[t[g] for g in groups] or None, order_by=t[period])
    return t.mutate(**{GID: gid, RN: rn})


def previous(t: ir.Table, value: str, period: str, groups: Sequence[str]) -> ir.Value:
    """The value of the previous period of the same group (the spine makes it the previous one)."""
    return t[value].lag().over(group_by=[t[g] for g in groups] or None, order_by=t[period])


def trailing(t: ir.Table, value: str, spec: TrailingWindow, prefix: str) -> ir.Table:
    """Add `<prefix>expected`, `<prefix>score`, `<prefix>n` and `<prefix>flag` to a numbered table.

    The reference of period i is the non-NULL values of periods i - k, i - 2k, ... i - window·k
    (k = seasonality, default 1) of the same group. A period is judged only with at least
    `min_periods` (default: window) reference values; when the spread is 0 any deviation fails.
    """
    k = spec.seasonality or 1
    cur = t.select(GID, RN).view()
    ref = t.select(**{"__g": t[GID], "__r": t[RN], "__x": t[value].cast(dt.float64)})
    ref = ref.filter(ref["__x"].notnull())
    preds = [cur[GID] == ref["__g"], ref["__r"] < cur[RN], ref["__r"] >= cur[RN] - k * spec.window]
    if k > 1:
        preds.append((cur[RN] - ref["__r"]) % k == 0)
    pairs = cur.join(ref, preds).select(cur[GID], cur[RN], ref["__x"])
    x = pairs["__x"]
    if spec.method == "zscore":
        stats = pairs.group_by([GID, RN]).aggregate(
            __c=x.mean(), __s=x.std(how="sample"), __n=x.count()
        )
    else:
        center = pairs.group_by([GID, RN]).aggregate(__c=x.median(), __n=x.count())
        dev = pairs.join(center, [GID, RN]).select(
            GID, RN, "__c", "__n", __d=(x - center["__c"]).abs()
        )
        stats = dev.group_by([GID, RN, "__c", "__n"]).aggregate(
            __mad=dev["__d"].median(), __mean=dev["__d"].mean()
        )
        stats = stats.mutate(
            __s=(stats["__mad"] * MAD_SCALE).nullif(0).fill_null(stats["__mean"] * MEANAD_SCALE)
        ).drop("__mad", "__mean")
    out = t.left_join(stats, [GID, RN]).select(t, stats["__c"], stats["__s"], stats["__n"])
    v = out[value].cast(dt.float64)
    c, s, n = out["__c"], out["__s"], out["__n"].fill_null(0)
    score = (v - c) / s.nullif(0)
    constant = s.fill_null(0) == 0
    up = (score > spec.threshold) | (constant & (v > c))
    down = (score < -spec.threshold) | (constant & (v < c))
    hit = {"both": up | down, "up": up, "down": down}[spec.direction]
    judged = v.notnull() & (n >= spec.needed) & c.notnull()
    return out.mutate(
        **{
            f"{prefix}expected": c,
            f"{prefix}score": score,
            f"{prefix}n": n,
            f"{prefix}flag": (judged & hit).fill_null(False),
        }
    ).drop("__c", "__s", "__n")
