"""An independent pandas reference for the modeling features, written from CONTRACT §5.

Plain Python loops over periods, pandas for the per-period arithmetic; nothing here is shared
with metrics_layer. Rows are a DataFrame with a naive `ts` column (already local time).

Rules taken from the contract (and docs/modeling.md where the contract is silent):
- A period starts at its first instant; weeks are ISO weeks (Monday); one grain later is the
  next period start, computed with calendar arithmetic (months clamp to the month's end).
- Output periods are those of [start, end) (the first one is the period holding `start`), or,
  without bounds, those from the first to the last period holding data.
- Rolling window at grain G: the period starting at P covers [P + G - window, P + G); inputs
  reach back before `start` but never reach `end`. Grain-to-date covers [start of the to-date
  period holding P, P + G). A period whose window holds no rows has no value (no row).
- Offset: the value at P is the metric of the whole period holding P - offset (NULL when it
  has no rows); P ranges over the output periods only.
- Semi-additive: within each period (and [start, end)), per entity, the rows at the entity's
  last (first) time; their amounts are summed.
- Fill: every output period x every combination of dimension values seen in [start, end);
  count, count_distinct and sum give 0 on empty cells ("zero") and avg gives NULL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pandas as pd

_STEP = {
    "day": pd.DateOffset(days=1),
    "week": pd.DateOffset(days=7),
    "month": pd.DateOffset(months=1),
    "quarter": pd.DateOffset(months=3),
    "year": pd.DateOffset(years=1),
}


def period_start(ts: pd.Timestamp, grain: str) -> pd.Timestamp:
    day = pd.Timestamp(ts).normalize()
    if grain == "day":
        return day
    if grain == "week":
        return day - pd.Timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    if grain == "year":
        return day.replace(month=1, day=1)
    raise ValueError(grain)


def step(grain: str) -> pd.DateOffset:
    return _STEP[grain]


def duration(n: int, unit: str) -> pd.DateOffset:
    """'n unit' as calendar arithmetic: weeks are 7 days, quarters 3 months, years 12 months."""
    if unit == "week":
        return pd.DateOffset(days=7 * n)
    if unit == "quarter":
        return pd.DateOffset(months=3 * n)
    if unit == "year":
        return pd.DateOffset(months=12 * n)
    return pd.DateOffset(**{f"{unit}s": n})


def output_periods(
    times: pd.Series, grain: str, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> Iterator[pd.Timestamp]:
    """[start, end) in periods; without a bound, the data's first/last period bounds it."""
    if start is not None:
        lo = period_start(start, grain)
    elif len(times):
        lo = period_start(times.min(), grain)
    else:
        return
    if end is not None:
        hi = pd.Timestamp(end)
    elif len(times):
        hi = period_start(times.max(), grain) + step(grain)
    else:
        return
    p = lo
    while p < hi:
        yield p
        p = p + step(grain)


def _in_range(
    rows: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> pd.DataFrame:
    keep = pd.Series(True, index=rows.index)
    if start is not None:
        keep &= rows["ts"] >= start
    if end is not None:
        keep &= rows["ts"] < end
    return rows[keep]


def cumulative_distinct(
    rows: pd.DataFrame,
    entity: str,
    grain: str,
    *,
    window: pd.DateOffset | None = None,
    to_date: str | None = None,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> dict[pd.Timestamp, int]:
    """Distinct entities per output period over its rolling / to-date / all-time window."""
    inputs = rows if end is None else rows[rows["ts"] < end]
    out: dict[pd.Timestamp, int] = {}
    for p in output_periods(inputs["ts"], grain, start, end):
        upper = p + step(grain)
        if window is not None:
            lower = upper - window
        elif to_date is not None:
            lower = period_start(p, to_date)
        else:
            lower = pd.Timestamp.min
        inside = inputs[(inputs["ts"] >= lower) & (inputs["ts"] < upper)]
        if len(inside):
            out[p] = int(inside[entity].nunique())
    return out


def offset_sums(
    rows: pd.DataFrame,
    value: str,
    grain: str,
    offset: pd.DateOffset,
    *,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> dict[pd.Timestamp, float]:
    """sum(value) of the whole period holding P - offset, for each output period P."""
    out: dict[pd.Timestamp, float] = {}
    for p in output_periods(rows["ts"], grain, start, end):
        q = period_start(p - offset, grain)
        inside = rows[(rows["ts"] >= q) & (rows["ts"] < q + step(grain))]
        if len(inside):
            out[p] = float(inside[value].sum())
    return out


def snapshot_sums(
    rows: pd.DataFrame,
    value: str,
    grain: str | None,
    window: str,
    groupings: Sequence[str],
    *,
    by: Sequence[str] = (),
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> dict[tuple, float]:
    """Per (period, *by): sum of the rows at each entity's last/first time in the period."""
    rows = _in_range(rows, start, end).copy()
    rows["_p"] = rows["ts"].map(lambda t: period_start(t, grain)) if grain else 0
    part = ["_p", *groupings]
    edge = rows.groupby(part, dropna=False)["ts"].transform("max" if window == "last" else "min")
    snap = rows[rows["ts"] == edge]
    out: dict[tuple, float] = {}
    for key, group in snap.groupby(["_p", *by], dropna=False):
        out[key if isinstance(key, tuple) else (key,)] = float(group[value].sum())
    return out


def filled(
    rows: pd.DataFrame,
    grain: str,
    dims: Sequence[str],
    *,
    entity: str,
    value: str,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    fill: str = "zero",
) -> pd.DataFrame:
    """count, count_distinct(entity), sum(value), avg(value) on every period x seen values."""
    inside = _in_range(rows, start, end)
    periods = list(output_periods(inside["ts"], grain, start, end))
    combos = (
        inside[list(dims)].drop_duplicates().itertuples(index=False, name=None) if dims else [()]
    )
    combos = list(combos)
    empty = 0 if fill == "zero" else None
    records = []
    for p in periods:
        in_p = inside[(inside["ts"] >= p) & (inside["ts"] < p + step(grain))]
        for combo in combos:
            cell = in_p
            for d, v in zip(dims, combo, strict=True):
                cell = cell[cell[d] == v]
            if len(cell):
                rec = (
                    len(cell),
                    cell[entity].nunique(),
                    float(cell[value].sum()),
                    float(cell[value].mean()),
                )
            else:
                rec = (empty, empty, None if empty is None else 0.0, None)
            records.append((p, *combo, *rec))
    return pd.DataFrame(records, columns=[grain, *dims, "n", "users", "amount", "avg_amount"])
