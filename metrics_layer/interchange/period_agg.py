"""Cumulative metrics with `period_agg` at a grain coarser than a day (MetricFlow's option).

By default a cumulative metric at a coarse grain is its value at the end of the period (a
7-day window at month grain covers the month's last 7 days). With `period_agg: first | last
| average` it is the first, last or mean of the metric's daily values over the days of the
period that have a value: the metric is asked at day grain, then each period's days are
reduced. The other metrics of the request are asked as usual and the two results are joined
on the period and the `by` columns (NULL-safe, so a NULL group meets its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir

from metrics_layer.definitions.models import Project
from metrics_layer.errors import QueryError
from metrics_layer.grain import GRAIN_NAMES

if TYPE_CHECKING:
    from metrics_layer.layer import Layer
    from metrics_layer.result import Result

_UNITS = {"week": "W", "month": "M", "quarter": "Q", "year": "Y"}


def period_agg_metrics(project: Project, metrics: Sequence[str], grain: str | None) -> list[str]:
    """The asked metrics whose period_agg applies at `grain`."""
    if grain is None or grain not in _UNITS:
        return []
    out = []
    for name in metrics:
        m = project.metrics.get(name) if isinstance(name, str) else None
        if m is not None and m.period_agg is not None:
            out.append(name)
    return out


def query_with_period_agg(
    layer: Layer,
    metrics: list[str],
    special: list[str],
    *,
    by: Any,
    grain: str,
    where: Any,
    start: Any,
    end: Any,
    order_by: Any,
    limit: int | None,
    fill: str | None,
    as_of: Any,
    renames: dict[str, str] | None = None,
) -> Result:
    """The request with `special` metrics reduced from their daily values (module docstring);
    `renames` maps asked names (aliases, metric_time__<grain>) to the columns planned."""
    from metrics_layer.result import Result

    common = dict(where=where, start=start, end=end, as_of=as_of)
    daily = layer.query(special, by=by, grain="day", **common)
    day = daily.expr
    keys = [c for c in day.columns if c not in special and c != "day"]
    periods = day.mutate(__period=day["day"].truncate(_UNITS[grain]))
    reduced = periods.group_by(["__period", *keys]).aggregate(
        **{
            name: _reduce(periods, name, layer.registry.project.metrics[name].period_agg)
            for name in special
        }
    )
    reduced = reduced.rename({grain: "__period"})
    rest = [m for m in metrics if m not in special]
    if rest:
        main = layer.query(rest, by=by, grain=grain, fill=fill, **common).expr
        joined = _outer_join(main, reduced, [grain, *keys])
    else:
        joined = reduced
    from metrics_layer.interchange.fill import fill_nulls

    expr = fill_nulls(layer.registry.project, joined.select(grain, *keys, *metrics), special)
    expr = expr.order_by(_order(order_by, [grain, *keys], expr.columns))
    if limit is not None:
        expr = expr.limit(limit)
    if renames:
        expr = expr.rename(renames)
    note = (
        f"{', '.join(special)}: daily values reduced per {grain} "
        f"({', '.join(str(layer.registry.project.metrics[s].period_agg) for s in special)})"
    )
    return Result(
        expr,
        explain=lambda: f"{daily.explain()}\n{note}",
        backend=layer.backend,
        kind="query",
    )


def _reduce(t: ir.Table, name: str, how: str | None) -> ir.Value:
    value = t[name]
    if how == "first":
        return value.argmin(t["day"])
    if how == "last":
        return value.argmax(t["day"])
    return value.mean()


def _outer_join(left: ir.Table, right: ir.Table, keys: list[str]) -> ir.Table:
    renamed = right.rename({f"__k{i}": k for i, k in enumerate(keys)})
    preds = [left[k].identical_to(renamed[f"__k{i}"]) for i, k in enumerate(keys)]
    j = left.outer_join(renamed, preds)
    return j.mutate(**{k: ibis.coalesce(j[k], j[f"__k{i}"]) for i, k in enumerate(keys)}).drop(
        *[f"__k{i}" for i in range(len(keys))]
    )


def _order(order_by: Any, default: list[str], columns: Sequence[str]) -> list[Any]:
    if order_by is None:
        return [ibis.asc(c) for c in default]
    items = [order_by] if isinstance(order_by, str) else list(order_by)
    out = []
    for item in items:
        desc = isinstance(item, str) and item.startswith("-")
        name = item[1:] if desc else item
        if name not in columns:
            raise QueryError(f"unknown order_by column {name!r}; columns: {', '.join(columns)}")
        out.append(ibis.desc(name) if desc else ibis.asc(name))
    return out


assert set(_UNITS) <= set(GRAIN_NAMES)
