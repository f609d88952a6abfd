"""`Layer.query()`: a KPI call's arguments made into a request, its compiled query and a Result.

A call whose exact arguments were seen before finds its request in the layer's call memo
(engine/calls.py) and its compiled query in the engine's cache by the key it was stored
under; any other call resolves aliases and metric_time, validates its request, is answered
from a period aggregation or a materialization when it should be, and is prepared by the
engine (compiled now, or taken from the cache by its shape).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis.expr.types as ir

from metrics_layer.compile.kpi import compile_plan
from metrics_layer.engine import Prepared, Shape, shape_of
from metrics_layer.engine.calls import call_key
from metrics_layer.engine.engine import Recall
from metrics_layer.engine.meta import LazyMeta
from metrics_layer.engine.params import limits_in_force
from metrics_layer.errors import guarded
from metrics_layer.planner import validate
from metrics_layer.planner.request import Request
from metrics_layer.result import Result

if TYPE_CHECKING:
    from metrics_layer.layer import Layer


@dataclass(frozen=True)
class BuiltQuery:
    """A query() call made into its request: what the engine prepares."""

    kind: str
    shape: Shape | None
    request: Request
    renames: Mapping[str, str]


def query(
    layer: Layer,
    arguments: tuple[Any, ...],
    *,
    timezone: str | None,
    week_start: str | int | None,
    fill_days: str | None,
    use_materializations: bool | None,
) -> Result:
    """The Result of `layer.query(...)`; `arguments` are its (metrics, by, grain, where,
    start, end, order_by, limit, fill, as_of) as given."""
    serve = layer.use_materializations if use_materializations is None else use_materializations
    settings = (timezone, week_start, fill_days, layer.timezone, layer.week_start)
    # served from a materialization depends on its state, not on the arguments alone
    key = None if serve else call_key(*arguments, *settings)
    if key is not None:
        key += (limits_in_force(),)
    seen: tuple[BuiltQuery, Recall] | None = None if key is None else layer._calls.get(key)
    if seen is None:
        found = build(layer, arguments, timezone, week_start, fill_days, serve)
        if isinstance(found, Result):
            return found
        built, again = found, None
    else:
        built, again = seen[0], layer.engine.prepare_again(seen[1])
    prepared = again or prepare(layer, built)
    if again is None and key is not None:
        recall = Recall.of(prepared)
        if recall is not None:
            layer._calls.put(key, (built, recall))
    request = built.request
    meta = LazyMeta(plan=lambda: layer.planner.plan(request))
    return Result(
        explain=lambda: meta["plan"].explain(),
        backend=layer.backend,
        kind="query",
        meta=meta,
        prepared=prepared,
        engine=layer.engine,
    )


def build(
    layer: Layer,
    arguments: tuple[Any, ...],
    timezone: str | None,
    week_start: str | int | None,
    fill_days: str | None,
    serve: bool,
) -> BuiltQuery | Result:
    """The validated request of a query() call, or its Result when it is answered
    otherwise (a period aggregation, a materialization)."""
    from metrics_layer.interchange.aliases import rename_order, resolve
    from metrics_layer.interchange.fill import query_fill
    from metrics_layer.interchange.metric_time import split_metric_time
    from metrics_layer.interchange.period_agg import period_agg_metrics, query_with_period_agg

    metrics, by, grain, where, start, end, order_by, limit, fill, as_of = arguments
    project = layer.registry.project
    metrics, renames = resolve(project, metrics)
    by, grain, time_name = split_metric_time(by, grain)
    if time_name is not None and grain is not None:
        renames = {**renames, time_name: grain}
    if renames and order_by is not None:
        order_by = rename_order(order_by, renames)
    fill = query_fill(project, metrics, grain, fill)

    special = period_agg_metrics(project, metrics, grain)
    if special and grain is not None:
        return query_with_period_agg(
            layer,
            metrics,
            special,
            by=by,
            grain=grain,
            where=where,
            start=start,
            end=end,
            order_by=order_by,
            limit=limit,
            fill=fill,
            as_of=as_of,
            renames=renames,
            timezone=timezone,
            week_start=week_start,
        )
    tz, ws = layer.time_settings(timezone, week_start)
    request = Request.build(
        metrics,
        by=by,
        grain=grain,
        where=where,
        start=start,
        end=end,
        order_by=order_by,
        limit=limit,
        fill=fill,
        as_of=as_of,
        timezone=tz,
        week_start=ws,
        fill_days=fill_days,
    )
    validate.spines(layer.registry, request)
    if serve and not renames:
        from metrics_layer.materialize.serve import answer

        served = answer(layer, layer.planner.plan(request))
        if served is not None:
            return served
    # the names asked (aliases, metric_time) are part of what a compiled query answers
    kind = f"query{sorted(renames.items())}" if renames else "query"
    return BuiltQuery(kind, shape_of(request), request, renames)


def prepare(layer: Layer, built: BuiltQuery) -> Prepared:
    """The compiled query of a built request: from the engine's cache, or compiled now."""
    from metrics_layer.interchange.fill import fill_nulls

    renames = built.renames

    def compile_request(request: Request) -> ir.Table:
        plan = layer.planner.plan(request)
        ctx = layer.context(request.timezone, request.week_start)
        expr = guarded(lambda: compile_plan(ctx, plan), "the query")
        expr = fill_nulls(layer.registry.project, expr, request.metrics)
        if renames:  # the result keeps the names that were asked
            expr = expr.rename({alias: target for alias, target in renames.items()})
        return expr

    return layer.engine.prepare(built.kind, built.shape, built.request, compile_request)
