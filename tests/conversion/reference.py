"""A plain-Python reading of MetricFlow's conversion rule (docs/metrics.md), sharing nothing
with metrics_layer: lists of events in, rows out, one loop per conversion event.

- Base events: the base rows with time in [start, end) (and the metric's filters).
- A conversion event matches a base event of the same non-NULL entity (and the same non-NULL
  constant property, when asked) with base time <= conversion time and, with a window,
  conversion time - window < base time.
- It counts for the latest matched base event; of equally late ones, the one with the
  smallest group (period, then dimension).
- A row per group (period at the grain, dimension) of base events: base = how many,
  conversions = the conversion measure over the events counted for the group's base events
  (NULL when none), rate = conversions / base.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    entity: str | None
    t: dt.datetime
    prop: str | None
    channel: str
    value: float = 1.0


def period_start(t: dt.datetime, grain: str | None) -> dt.datetime | None:
    if grain is None:
        return None
    day = dt.datetime(t.year, t.month, t.day)
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    raise ValueError(grain)


def conversion_rows(
    base: Sequence[Event],
    conversions: Sequence[Event],
    *,
    window: dt.timedelta | None,
    same_prop: bool,
    grain: str | None,
    by_channel: bool,
    start: dt.datetime | None,
    end: dt.datetime | None,
    aggregate: Callable[[list[float]], float],
    pick: Callable[[list[dt.datetime]], dt.datetime] = max,
) -> dict[tuple[Any, ...], tuple[int, float | None]]:
    """group -> (base events, conversions or None)."""

    def group(e: Event) -> tuple[Any, ...]:
        return (period_start(e.t, grain), e.channel if by_channel else None)

    kept = [e for e in base if (start is None or e.t >= start) and (end is None or e.t < end)]
    counts: dict[tuple[Any, ...], int] = {}
    for e in kept:
        counts[group(e)] = counts.get(group(e), 0) + 1
    found: dict[tuple[Any, ...], list[float]] = {}
    for c in conversions:
        matched = [
            b
            for b in kept
            if b.entity is not None
            and b.entity == c.entity
            and (not same_prop or (b.prop is not None and b.prop == c.prop))
            and b.t <= c.t
            and (window is None or c.t - window < b.t)
        ]
        if not matched:
            continue
        latest = pick([b.t for b in matched])
        chosen = min((b for b in matched if b.t == latest), key=lambda b: _order(group(b)))
        found.setdefault(group(chosen), []).append(c.value)
    return {g: (n, aggregate(found[g]) if g in found else None) for g, n in counts.items()}


def _order(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, v) for v in key)
