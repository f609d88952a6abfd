"""Conversion funnels: `layer.funnel(name, ...)` (semantics in CONTRACT.md §3, docs/funnels.md).

This module turns a `funnels:` definition plus the query's arguments into a checked
FunnelQuery and compiles it into ONE ibis expression:

    events (funnel_events) -> attempts (funnel_sequential | funnel_any)
        -> counted attempt per entity -> counts per step (funnel_summary)

The ordered-funnel compiler picks a strategy per backend: ASOF joins where the backend has
them (DuckDB), a window-function formulation elsewhere (PostgreSQL, PySpark); both give the
same numbers and `strategy=` forces one (tests compare them).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from metrics_layer import limits
from metrics_layer.analysis.funnel_defs import check_funnel, event_kinds, hold_refs, steps_sources
from metrics_layer.analysis.funnel_events import build_events
from metrics_layer.analysis.funnel_overlap import overlap_groups
from metrics_layer.analysis.funnel_result import FunnelResult
from metrics_layer.analysis.funnel_spec import ORDERS, RESULT_COLUMNS, STRATEGIES, FunnelQuery
from metrics_layer.analysis.funnel_summary import counted, summarize
from metrics_layer.definitions.durations import duration_seconds
from metrics_layer.dialects import dialect
from metrics_layer.engine import shape_of
from metrics_layer.errors import MetricsLayerError, QueryError, guarded, suggest, unknown
from metrics_layer.planner import validate
from metrics_layer.planner.validate import output_names

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from metrics_layer.compile.kpi import Context
    from metrics_layer.layer import Layer


def funnel(
    layer: Layer,
    name: str,
    by: str | Sequence[str] | None = None,
    start: Any = None,
    end: Any = None,
    order: str | None = None,
    window: Any = None,
    grain: str | None = None,
    strategy: str | None = None,
    overlap: str = "auto",
    timezone: Any = None,
    week_start: Any = None,
    times: bool = True,
    within: Any = None,
    hold: str | Sequence[str] | None = None,
) -> FunnelResult:
    """The funnel `name` as a lazy FunnelResult (one ibis expression).

    `times=False` leaves out `median_seconds` / `avg_seconds`: an entity's furthest step is
    then a grouped maximum, not a ranking of its attempts, and attempts that found no step 2
    skip the later steps' joins (`funnel_sequential.sets_aside`), which is cheaper on large
    event tables. `strategy` ("asof" | "window") overrides the per-backend choice; `overlap="assume"`
    forces the plan for step filters that may share events (a test hook: it must give the
    same numbers as the fast plan whenever the filters are disjoint). `within` maps step
    names to durations (None removes a step's bound) over the definition's; `hold` replaces
    the definition's held dimensions.
    """
    q = build_query(
        layer,
        name,
        by=by,
        start=start,
        end=end,
        order=order,
        window=window,
        grain=grain,
        strategy=strategy,
        overlap=overlap,
        timezone=timezone,
        week_start=week_start,
        times=times,
        within=within,
        hold=hold,
    )

    def build(query: FunnelQuery) -> ir.Table:
        ctx = layer.context(query.timezone, query.week_start)
        return guarded(lambda: compile_funnel(ctx, query), f"funnel {name!r}")

    # `end` is compiled in: the horizon end + window is computed from it in Python
    shape = shape_of(q, bounds=("start",), where=False)
    return FunnelResult(
        explain=q.explain,
        backend=layer.backend,
        kind="funnel",
        meta={"query": q},
        prepared=layer.engine.prepare("funnel", shape, q, build),
        engine=layer.engine,
    )


def compile_funnel(ctx: Context, q: FunnelQuery) -> ir.Table:
    """The funnel table of `q`."""
    from metrics_layer.analysis.funnel_any import any_attempts
    from metrics_layer.analysis.funnel_sequential import sequential_attempts

    ev = build_events(ctx, q, ordered=q.order != "any" and not q.disjoint)
    attempts = any_attempts(ev, q) if q.order == "any" else sequential_attempts(ev, q)
    return summarize(counted(attempts, q), ev, q)


def build_query(
    layer: Layer,
    name: str,
    *,
    by: str | Sequence[str] | None,
    start: Any,
    end: Any,
    order: str | None,
    window: Any,
    grain: str | None,
    strategy: str | None,
    overlap: str = "auto",
    timezone: Any = None,
    week_start: Any = None,
    times: bool = True,
    within: Any = None,
    hold: str | Sequence[str] | None = None,
) -> FunnelQuery:
    """Check the arguments against the definition; every mistake is a QueryError."""
    reg = layer.registry
    tz, ws = layer.time_settings(timezone, week_start)
    defs = reg.project.funnels
    if name not in defs:
        raise QueryError(unknown("funnel", name, defs))
    d = defs[name]
    steps, exclusions, auto_groups = _definition(reg, name)
    chosen_order = order or d.order
    if chosen_order not in ORDERS:
        raise QueryError(
            f"unknown funnel order {chosen_order!r}{suggest(str(chosen_order), ORDERS)}: "
            "use 'sequential', 'strict' or 'any'"
        )
    if chosen_order == "any" and exclusions:
        raise QueryError(
            f"funnel {name!r} has exclusions, which need an ordered funnel: "
            "order='any' has no 'between' steps"
        )
    win_text, win_seconds = _window(d.window if window is None else window)
    validate.grain(grain, fiscal=False)
    by_cols = output_names(validate.names(d.by if by is None else by, "by", "dimension"))
    validate.no_clash(
        (c for c, _ in by_cols),
        (*RESULT_COLUMNS, grain),
        "a funnel result column",
        f"name the dimension by its path (e.g. {d.source}.{{column}})",
    )
    by_refs = validate.single_valued(reg, d.source, by_cols)
    b_start, b_end = validate.bounds(start, end, tz)
    if not isinstance(times, bool):
        raise QueryError(f"times must be True or False, got {times!r}")
    if overlap not in ("auto", "assume"):
        raise QueryError(f"overlap must be 'auto' or 'assume', got {overlap!r}")
    within_text = _withins(d, within)
    held = validate.names(d.hold if hold is None else hold, "hold", "dimension")
    for ref in held:
        try:
            hold_refs(reg, steps_sources(d), ref)
        except MetricsLayerError as exc:  # an unknown name suggests the close ones
            raise QueryError(str(exc)) from None
    groups = auto_groups
    if overlap == "assume":
        groups = (tuple(range(1, len(steps) + 1)),)
    if chosen_order == "any" and any(within_text) and not all(len(g) == 1 for g in groups):
        raise QueryError(
            f"funnel {name!r}: order 'any' with per-step `within` needs step filters that no "
            "event can match twice (e.g. event_type = '...' for each step)"
        )
    return FunnelQuery(
        name=name,
        source=d.source,
        entity=d.entity,
        time=d.time or reg.sources[d.source].time or "",
        steps=steps,
        exclusions=exclusions,
        window=win_text,
        window_seconds=win_seconds,
        exclusive=d.window_boundary == "exclusive",
        order=chosen_order,
        by=tuple(by_cols),
        by_refs=tuple(by_refs),
        start=b_start,
        end=b_end,
        grain=grain,
        timezone=tz,
        week_start=ws,
        backend=layer.backend,
        strategy=_strategy(strategy, layer.backend),
        disjoint=all(len(g) == 1 for g in groups),
        overlap_groups=groups,
        times=times,
        within=tuple(None if w is None else _window(w, "within")[1] for w in within_text),
        within_text=within_text,
        hold=tuple(held),
    )


def within_option(pairs: Sequence[str]) -> dict[str, str]:
    """`--within STEP=DURATION` options as the `within=` mapping."""
    out: dict[str, str] = {}
    for pair in pairs:
        step, sep, duration = pair.partition("=")
        if not sep or not step.strip() or not duration.strip():
            raise QueryError(f"--within takes STEP=DURATION (e.g. activate='1 day'), got {pair!r}")
        if step.strip() in out:
            raise QueryError(f"--within names step {step.strip()!r} twice")
        out[step.strip()] = duration.strip()
    return out


def _withins(d: Any, within: Any) -> tuple[str | None, ...]:
    """Each step's `within` text: the definition's, overridden by the call's {step: duration}."""
    names = [s.name for s in d.steps]
    out: list[str | None] = [s.within for s in d.steps]
    if within is None:
        return tuple(out)
    if not isinstance(within, dict):
        raise QueryError(
            f"within must map step names to durations (e.g. {{{names[1]!r}: '1 hour'}}), "
            f"got {within!r}"
        )
    for step, value in within.items():
        if step not in names:
            raise QueryError(
                unknown("funnel step", str(step), names) + f" in within; steps: {names}"
            )
        if step == names[0] and value is not None:
            raise QueryError(
                f"within: {step!r} is the first step; `within` bounds the time from the "
                "previous step, so it belongs on a later step"
            )
        if value is not None:
            value = _window(value, "within")[0]
        out[names.index(step)] = value
    return tuple(out)


def _definition(reg: Any, name: str) -> tuple[Any, Any, tuple[tuple[int, ...], ...]]:
    """The checked steps, exclusions and overlap groups of a funnel definition: they depend
    on the definitions only, so they are worked out once per registry (a warm request then
    costs microseconds, not the milliseconds of re-checking every step)."""
    parts: dict[str, Any] = reg.__dict__.setdefault("_funnel_parts", {})
    found = parts.get(name)
    if found is None:
        check_funnel(reg, name)
        steps, exclusions = event_kinds(reg, name)
        found = parts[name] = (steps, exclusions, overlap_groups(steps))
    return found


def _strategy(strategy: str | None, backend: str) -> str:
    if strategy is None:
        return "asof" if dialect(backend).asof_join else "window"
    if strategy not in STRATEGIES:
        raise QueryError(
            f"unknown funnel strategy {strategy!r}{suggest(str(strategy), STRATEGIES)}: "
            "use 'asof' or 'window'"
        )
    if strategy == "asof" and not dialect(backend).asof_join:
        raise QueryError(
            f"strategy='asof' needs ASOF joins, which the {backend} backend lacks; "
            "use strategy='window' (the default there)"
        )
    return strategy


def _window(value: Any, what: str = "window") -> tuple[str, int]:
    """A window as text ('7 days'), a timedelta or a number of seconds -> (text, seconds)."""
    if isinstance(value, _dt.timedelta):
        seconds = value.total_seconds()
        if seconds != int(seconds):
            raise QueryError(f"{what} {value!r} must be a whole number of seconds")
        value = int(seconds)
    if isinstance(value, bool):
        raise QueryError(f"{what} must be a duration such as '7 days', got {value!r}")
    if isinstance(value, int):
        if value <= 0:
            raise QueryError(f"{what} must be longer than 0 seconds, got {value}")
        limits.check_window(value, f"{value} seconds")
        return f"{value} seconds", value
    if not isinstance(value, str):
        raise QueryError(f"{what} must be a duration such as '7 days', got {value!r}")
    try:
        seconds = duration_seconds(value)
    except ValueError as exc:
        raise QueryError(f"{what}: {exc}") from None
    if seconds <= 0:
        raise QueryError(f"{what} {value!r} must be longer than 0 seconds")
    limits.check_window(seconds, value)
    return value, seconds
