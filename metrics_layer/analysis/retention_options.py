"""The depth options of a retention request, checked: period_mode, brackets and value.

Each is turned into a small hashable value stored on the RetentionQuery, so it is part of
the request's shape (engine/keys.py): two requests that differ in any of them never share a
compiled query. Every mistake is a one-line QueryError.
"""

from __future__ import annotations

import datetime as _dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from metrics_layer.errors import QueryError, suggest
from metrics_layer.grain import Grain
from metrics_layer.planner.nodes import Names
from metrics_layer.planner.scans import own_names
from metrics_layer.registry import Registry

PERIOD_MODES = ("calendar", "since_entry")
# elapsed length of one period in microseconds (since_entry): 24-hour days, 7-day weeks
_ELAPSED_US = {"hour": 3_600_000_000, "day": 86_400_000_000, "week": 7 * 86_400_000_000}


@dataclass(frozen=True)
class RetentionValue:
    """The measure a retention sums per period (`value=`), with its names resolved."""

    measure: str  # source.measure
    agg: str
    expr: str | None
    filters: tuple[str, ...]
    p: float | None
    names: Names


def period_mode(mode: Any, period: Any, name: str) -> str:
    """'calendar' or 'since_entry'; elapsed periods exist only for hours, days and weeks.

    A month has no fixed length (Amplitude counts 30 days, PostHog 30 days, a calendar month
    28-31): rather than pick one silently, since_entry refuses months, quarters, years and
    fiscal periods.
    """
    if mode not in PERIOD_MODES:
        raise QueryError(
            f"unknown period_mode {mode!r}{suggest(str(mode), PERIOD_MODES)}: use 'calendar' "
            "(calendar periods) or 'since_entry' (elapsed 24-hour days / 7-day weeks from entry)"
        )
    if mode == "since_entry" and elapsed_us(period) is None:
        raise QueryError(
            f"period_mode='since_entry' needs a day or week period (elapsed 24-hour days or "
            f"7-day weeks); retention {name!r} has period {period}, whose length varies: use "
            "period_mode='calendar' or a day/week retention"
        )
    return str(mode)


def elapsed_us(period: Any) -> int | None:
    """Microseconds of one elapsed period, None for calendar-only periods."""
    return _ELAPSED_US.get(period.name) if isinstance(period, Grain) else None


def brackets(value: Any) -> tuple[tuple[int, int], ...] | None:
    """Inclusive period ranges: sorted, non-overlapping, non-negative, lo <= hi.

    Accepts pairs ((0, 0), [2, 7]) or "lo-hi" strings ("2-7", "8"), as the CLI passes them.
    """
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise QueryError(
            f"brackets must be a non-empty list of (lo, hi) period ranges, got {value!r}"
        )
    out = [_bracket(item) for item in value]
    for (lo, hi), (next_lo, next_hi) in zip(out, out[1:], strict=False):
        if next_lo <= hi:
            raise QueryError(
                f"brackets must be sorted and must not overlap: {lo}-{hi} then {next_lo}-{next_hi}"
            )
    return tuple(out)


def _bracket(item: Any) -> tuple[int, int]:
    if isinstance(item, str):
        lo_text, _, hi_text = item.strip().partition("-")
        try:
            pair: tuple[Any, ...] = (int(lo_text), int(hi_text or lo_text))
        except ValueError:
            raise QueryError(f"bracket {item!r} is not a range such as '2-7'") from None
    elif isinstance(item, Sequence) and len(item) == 2:
        pair = tuple(item)
    else:
        raise QueryError(f"bracket {item!r} is not a (lo, hi) pair")
    lo, hi = pair
    if any(isinstance(v, bool) or not isinstance(v, int) for v in pair):
        raise QueryError(f"bracket {item!r} must hold whole period numbers")
    if lo < 0 or hi < lo:
        raise QueryError(f"bracket {lo}-{hi} must have 0 <= lo <= hi")
    return lo, hi


def label(lo: int, hi: int) -> str:
    return f"{lo}-{hi}"


def value_measure(reg: Registry, source: str, time: str, name: str, value: Any) -> RetentionValue:
    """The measure `value` of the retention's own source (bare name or source.measure)."""
    if not isinstance(value, str) or not value.strip():
        raise QueryError(f"value must be the name of a measure of source {source!r}")
    text = value.strip()
    own = reg.sources[source].measures
    mname = text.partition(".")[2] if text.startswith(source + ".") else text
    if mname not in own:
        raise QueryError(
            f"unknown measure {text!r} for the value of retention {name!r}"
            f"{suggest(mname, list(own))}: it must be a measure of its source {source!r}"
            + (f" ({', '.join(own)})" if own else " (which has none)")
        )
    m = own[mname]
    if m.non_additive is not None:
        raise QueryError(
            f"measure {source}.{mname} is semi-additive (a snapshot), not an amount of rows; "
            "a retention value needs a measure of the rows themselves"
        )
    if m.time is not None and m.time != time:
        raise QueryError(
            f"measure {source}.{mname} is dated by {m.time!r} but retention {name!r} by "
            f"{time!r}; give the retention `time: {m.time}` so both place rows alike"
        )
    filters = (m.filter,) if m.filter else ()
    names = own_names(reg, source, [m.expr, *filters])
    for _, ref in names:
        if ref.fans_out:
            raise QueryError(
                f"{ref.full_name} is reached from {source!r} through a one_to_many join, so "
                f"measure {source}.{mname} cannot use it without multiplying rows"
            )
    return RetentionValue(f"{source}.{mname}", m.agg, m.expr, filters, m.p, names)


def end_us(as_of: _dt.datetime, timezone: str) -> int:
    """Microseconds since the epoch (UTC) of a naive local `as_of` in `timezone`."""
    aware = as_of.replace(tzinfo=zoneinfo.ZoneInfo(timezone))
    delta = aware.astimezone(_dt.UTC) - _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
