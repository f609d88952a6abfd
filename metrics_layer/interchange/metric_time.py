"""`metric_time` in a query's `by`, as MetricFlow users write it.

MetricFlow groups by time with `metric_time__month`; here the grain is its own argument. A
`by` entry `metric_time__<grain>` is taken as `grain=<grain>` and names the result's time
column after it; a bare `metric_time` needs a grain (given with `grain=`), and anything else
starting with `metric_time` is an error that says what to write. Other names pass unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

from metrics_layer.errors import QueryError, suggest
from metrics_layer.grain import GRAIN_NAMES


def split_metric_time(
    by: str | Sequence[str] | None, grain: str | None
) -> tuple[str | list[str] | None, str | None, str | None]:
    """(by without metric_time, the grain, the name the time column should take or None)."""
    if by is None:
        return None, grain, None
    items = [by] if isinstance(by, str) else list(by)
    if not all(isinstance(b, str) for b in items):
        return by if isinstance(by, str) else items, grain, None  # the validator explains
    times = [b for b in items if b == "metric_time" or b.startswith("metric_time__")]
    if not times:
        return by if isinstance(by, str) else items, grain, None
    if len(times) > 1:
        raise QueryError(f"by names metric_time twice ({', '.join(times)}): a query has one grain")
    asked = times[0]
    rest = [b for b in items if b != asked]
    if asked == "metric_time":
        if grain is None:
            raise QueryError(
                "by 'metric_time' needs a grain: pass grain='day' (or 'week', 'month', ...), "
                "or write by=['metric_time__day']"
            )
        return rest, grain, asked
    wanted = asked.removeprefix("metric_time__")
    if wanted not in GRAIN_NAMES:
        raise QueryError(
            f"unknown grain {wanted!r} in {asked!r}{suggest(wanted, GRAIN_NAMES)}; "
            f"use metric_time__ with one of {', '.join(GRAIN_NAMES)}"
        )
    if grain is not None and grain != wanted:
        raise QueryError(f"by {asked!r} asks grain {wanted!r} but grain={grain!r} is given")
    return rest, wanted, asked
