"""A plain-Python reading of CONTRACT.md §12 (retention depth), sharing nothing with the
ibis implementation: per entity loops, datetime arithmetic, no period indexes or joins.

- observation ends at `as_of` (later rows unseen), else at the latest time of any row;
  rows with a NULL entity are dropped;
- entry: first_time = first signup; recurring = first signup of every calendar period;
  cohort = calendar period (day, or week starting Monday) holding the entry;
- k: calendar = calendar periods between entry and activity; since_entry = whole elapsed
  24-hour days / 7-day weeks from the entry instant; only activity at or after entry;
- rows: periods 0 … N-1 (or the brackets) whose first period some member has reached;
- active: exact = a k inside the row's periods; rolling = a k at or after the row's first;
- complete: the row's last period has ended for every member by the end of observation;
- value: the measure over all rows of the cohort's entities at or after entry whose k lies in
  the row's periods (0 with no rows; a sum of only NULLs is NULL); value_retention = value /
  value of row 0 (NULL when that is 0 or NULL).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

DAY = dt.timedelta(days=1)


def _start(t: dt.datetime, period: str) -> dt.datetime:
    day = dt.datetime(t.year, t.month, t.day)
    return day if period == "day" else day - dt.timedelta(days=day.weekday())


def _length(period: str) -> dt.timedelta:
    return DAY if period == "day" else 7 * DAY


def _k(t: dt.datetime, entry: dt.datetime, period: str, period_mode: str) -> int:
    if period_mode == "since_entry":
        return (t - entry) // _length(period)
    return (_start(t, period) - _start(entry, period)) // _length(period)


def retention(
    events: list[dict[str, Any]],
    *,
    period: str,
    period_mode: str = "calendar",
    mode: str = "exact",
    cohort_type: str = "first_time",
    periods: int | None = None,
    brackets: list[tuple[int, int]] | None = None,
    as_of: dt.datetime | None = None,
    value: Callable[[list[dict[str, Any]]], Any] | None = None,
) -> list[tuple[Any, ...]]:
    """Rows (cohort, row, cohort_size, active, complete[, value, value_retention]), sorted."""
    if not events:
        return []
    end = as_of if as_of is not None else max(e["ts"] for e in events)
    seen = [e for e in events if e["ts"] <= end and e["user_id"] is not None]
    entries: list[tuple[Any, dt.datetime]] = []
    for user in sorted({e["user_id"] for e in seen}):
        signups = sorted(
            e["ts"] for e in seen if e["user_id"] == user and e["event_type"] == "signup"
        )
        if not signups:
            continue
        if cohort_type == "first_time":
            entries.append((user, signups[0]))
        else:
            firsts: dict[dt.datetime, dt.datetime] = {}
            for t in signups:
                firsts.setdefault(_start(t, period), t)
            entries.extend((user, t) for t in firsts.values())
    ranges = None if brackets is None else list(brackets)
    cohorts: dict[dt.datetime, list[tuple[Any, dt.datetime]]] = {}
    for user, entry in entries:
        cohorts.setdefault(_start(entry, period), []).append((user, entry))
    out = []
    for cohort, members in sorted(cohorts.items()):
        first = min(e for _, e in members)
        last = max(e for _, e in members)
        step = _length(period)
        reached = 0
        while (first if period_mode == "since_entry" else cohort) + reached * step <= end:
            reached += 1
        if ranges is None:
            rows = [(k, k) for k in range(reached if periods is None else min(reached, periods))]
        else:
            rows = [(lo, hi) for lo, hi in ranges if lo < reached]
        ks = {}
        own_rows = {}
        for user, entry in members:
            mine = [e for e in seen if e["user_id"] == user and e["ts"] >= entry]
            ks[(user, entry)] = {
                _k(e["ts"], entry, period, period_mode)
                for e in mine
                if e["event_type"] == "session"
            }
            own_rows[(user, entry)] = [(e, _k(e["ts"], entry, period, period_mode)) for e in mine]
        values = []
        for i, (lo, hi) in enumerate(rows):
            if mode == "exact":
                active = sum(any(lo <= k <= hi for k in s) for s in ks.values())
            else:
                active = sum(any(k >= lo for k in s) for s in ks.values())
            base = last if period_mode == "since_entry" else cohort
            complete = base + (hi + 1) * step <= end
            row: tuple[Any, ...] = (cohort, i, len(members), active, complete)
            if value is not None:
                pooled = [e for rs in own_rows.values() for e, k in rs if lo <= k <= hi]
                values.append(value(pooled))
                row += (values[-1],)
            out.append(row)
        if value is not None:
            base_value = values[0] if values else None
            n = len(rows)
            for j in range(len(out) - n, len(out)):
                v = out[j][5]
                ratio = None if not base_value or v is None else v / base_value
                out[j] = (*out[j], ratio)
    return out


def amount_sum(rows: list[dict[str, Any]]) -> Any:
    """sum(amount) over purchase rows: 0 without rows, NULL when every amount is NULL."""
    picked = [r["amount"] for r in rows if r["event_type"] == "purchase"]
    if not picked:
        return 0
    known = [a for a in picked if a is not None]
    return sum(known) if known else None
