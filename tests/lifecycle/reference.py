"""A plain-Python reading of CONTRACT.md §12 (lifecycle, stickiness) and docs/lifecycle.md.

Written from the rules, sharing nothing with the ibis implementation: no period indexes, no
windows, no joins. Periods are pandas timestamps stepped with DateOffset / Timedelta; an
entity's activity is a Python set of period starts.

- local time: UTC timestamps converted to the zone's wall clock;
- the last observed period holds the latest time of ANY row (NULL entities and other events
  included); activity = rows of the activity events with an entity;
- periods run from the first activity's period to the last observed one; with `by`, each
  group from its own first activity's period; the group value is the value on the entity's
  first activity event (ties: smallest, NULL last);
- lifecycle at t: new = first active period is t; returning = active at t and t-1;
  resurrecting = active at t, not at t-1, first before t; dormant = -(active at t-1, not t);
- stickiness at t: entities whose activity covers exactly n distinct units of t, for
  n = 1 .. the number of units in t;
- reported periods: those with start < end and next start > start (bounds as given);
- fiscal grains (fiscal_week ... fiscal_year) are periods of the NRF 4-5-4 retail calendar of
  tests/lifecycle/support.py, read day by day from tests/time/reference.py (which walks dates
  and is checked against published calendars): the period start is the first day of the
  holding fiscal period, the previous period is the one holding the day before, the next
  the first whole week whose period differs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from tests.time.reference import retail_attributes

WEEKDAY = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
           "saturday": 5, "sunday": 6}  # fmt: skip


# pattern, year_end_month, weekday (5 = Saturday), rule: support.RETAIL
RETAIL = ("4-5-4", 1, 5, "nearest")
FISCAL = {"fiscal_week": "week_start", "fiscal_month": "month_start",
          "fiscal_quarter": "quarter_start", "fiscal_year": "year_start"}  # fmt: skip


def floor(x: pd.Timestamp, grain: str, week_start: int = 0) -> pd.Timestamp:
    if grain in FISCAL:
        return pd.Timestamp(retail_attributes(x.date(), *RETAIL)[FISCAL[grain]])
    if grain == "hour":
        return x.floor("h")
    if grain == "day":
        return x.normalize()
    if grain == "week":
        return (x - pd.Timedelta(days=(x.weekday() - week_start) % 7)).normalize()
    if grain == "month":
        return pd.Timestamp(x.year, x.month, 1)
    if grain == "quarter":
        return pd.Timestamp(x.year, 3 * ((x.month - 1) // 3) + 1, 1)
    return pd.Timestamp(x.year, 1, 1)


def step(start: pd.Timestamp, grain: str, n: int = 1) -> pd.Timestamp:
    if grain in FISCAL:
        for _ in range(abs(n)):
            if n < 0:
                start = floor(start - pd.Timedelta(days=1), grain)
            else:
                day = start + pd.Timedelta(days=7)
                while floor(day, grain) == start:
                    day += pd.Timedelta(days=7)
                start = floor(day, grain)
        return start
    fixed = {"hour": pd.Timedelta(hours=1), "day": pd.Timedelta(days=1),
             "week": pd.Timedelta(days=7)}  # fmt: skip
    if grain in fixed:
        return start + n * fixed[grain]
    return start + pd.DateOffset(months=n * {"month": 1, "quarter": 3, "year": 12}[grain])


def local(ev: pd.DataFrame, tz: str) -> pd.DataFrame:
    ev = ev.copy()
    if tz != "UTC":
        ev["ts"] = ev["ts"].dt.tz_localize("UTC").dt.tz_convert(tz).dt.tz_localize(None)
    return ev


def _groups(acts: pd.DataFrame, by: Callable[[pd.DataFrame], object] | None) -> dict:
    """entity -> group value on its first activity event (ties: smallest, NULL last)."""
    out = {}
    for user, g in acts.groupby("user_id"):
        if by is None:
            out[user] = "-"
            continue
        at_first = g[g["ts"] == g["ts"].min()]
        values = [by(row) for _, row in at_first.iterrows()]
        out[user] = sorted(values, key=lambda v: (v is None, v or ""))[0]
    return out


def _setup(ev, activity, grain, tz, week_start, by):
    ev = local(ev, tz)
    if ev.empty:
        return None
    last = floor(ev["ts"].max(), grain, week_start)
    acts = ev[ev["user_id"].notna() & ev["event_type"].isin(activity)]
    if acts.empty:
        return None
    groups = _groups(acts, by)
    periods = {}
    for user, g in acts.groupby("user_id"):
        periods[user] = {floor(t, grain, week_start) for t in g["ts"]}
    firsts = {}
    for user, value in groups.items():
        p = min(periods[user])
        firsts[value] = min(firsts.get(value, p), p)
    return acts, last, groups, periods, firsts


def _reported(t, grain, start, end) -> bool:
    return (end is None or t < end) and (start is None or step(t, grain) > start)


def lifecycle(
    ev: pd.DataFrame,
    *,
    activity: Sequence[str],
    grain: str,
    tz: str = "UTC",
    week_start: int = 0,
    by: Callable[[pd.Series], object] | None = None,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> list[tuple]:
    """(period start, group, status, entities) rows, sorted; group '-' without `by`."""
    setup = _setup(ev, activity, grain, tz, week_start, by)
    if setup is None:
        return []
    _, last, groups, periods, firsts = setup
    out = []
    for value, first in firsts.items():
        members = [u for u, v in groups.items() if v == value]
        t = first
        while t <= last:
            prev = step(t, grain, -1)
            if _reported(t, grain, start, end):
                counts = dict.fromkeys(("new", "returning", "resurrecting", "dormant"), 0)
                for u in members:
                    s = periods[u]
                    if t in s and min(s) == t:
                        counts["new"] += 1
                    elif t in s and prev in s:
                        counts["returning"] += 1
                    elif t in s:
                        counts["resurrecting"] += 1
                    elif prev in s:
                        counts["dormant"] -= 1
                out += [(t, value, status, n) for status, n in counts.items()]
            t = step(t, grain)
    return sorted(out, key=_key)


def stickiness(
    ev: pd.DataFrame,
    *,
    activity: Sequence[str],
    grain: str,
    unit: str,
    tz: str = "UTC",
    week_start: int = 0,
    by: Callable[[pd.Series], object] | None = None,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> list[tuple]:
    """(period start, group, n, entities) rows, sorted; group '-' without `by`."""
    setup = _setup(ev, activity, grain, tz, week_start, by)
    if setup is None:
        return []
    acts, last, groups, _, firsts = setup
    units: dict[tuple, set] = {}
    for _, row in acts.iterrows():
        t = floor(row["ts"], grain, week_start)
        units.setdefault((row["user_id"], t), set()).add(floor(row["ts"], unit, week_start))
    out = []
    for value, first in firsts.items():
        t = first
        while t <= last:
            if _reported(t, grain, start, end):
                size, u = 0, t
                while u < step(t, grain):
                    size, u = size + 1, step(floor(u, unit, week_start), unit)
                counts = dict.fromkeys(range(1, size + 1), 0)
                for (user, p), seen in units.items():
                    if p == t and groups[user] == value:
                        counts[len(seen)] += 1
                out += [(t, value, n, c) for n, c in counts.items()]
            t = step(t, grain)
    return sorted(out, key=_key)


def _key(row: tuple) -> tuple:
    order = {"new": 0, "returning": 1, "resurrecting": 2, "dormant": 3}
    return tuple((v is None, order.get(v, v) if isinstance(v, str) else v) for v in row)
