"""Lifecycle and stickiness: `layer.lifecycle(...)` and `layer.stickiness(...)` (CONTRACT.md §12).

Both read one `retention:` definition for what an entity is and what counts as activity (its
source, entity and activity; the cohort event is not used) and ask a different question of
the same activity: lifecycle sorts each entity into new / returning / resurrecting / dormant
per period, stickiness counts on how many units (days of a week, hours of a day, ...) each
entity was active in a period. This module checks the arguments into a frozen query;
lifecycle_compile builds the one ibis expression, lifecycle_result wraps it.

Rules shared by both (docs/lifecycle.md):
- Activity = rows of the source matching `activity` with a non-NULL entity, bucketed in the
  call's timezone (weeks start on its week start).
- Periods run from the first activity to the last observed period (the one holding the
  latest time of any row of the source), zero-filled; with `by`, each group's rows start at
  the group's own first activity.
- `by` values are those of the entity's FIRST activity event ever (ties at that instant:
  smallest value, NULL last), as retention takes them from the entry event: an entity stays
  in one group, so the groups add up to the ungrouped answer.
- `start` / `end` choose which periods are reported: those overlapping [start, end). A
  reported period is always computed from all activity (a period cut by `end` is reported
  whole, and `new` means first activity EVER, also before `start`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from metrics_layer.analysis.lifecycle_result import LifecycleResult, StickinessResult
from metrics_layer.analysis.retention_defs import check_retention, time_field
from metrics_layer.compile.timegrain import grain_of
from metrics_layer.engine import shape_of
from metrics_layer.errors import QueryError, guarded, unknown
from metrics_layer.grain import GRAIN_NAMES, WEEKDAYS, Grain
from metrics_layer.planner import validate
from metrics_layer.planner.validate import output_names
from metrics_layer.registry import FieldRef
from metrics_layer.retail import is_fiscal

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from metrics_layer.layer import Layer

R = TypeVar("R", LifecycleResult, StickinessResult)

STATUSES: tuple[str, ...] = ("new", "returning", "resurrecting", "dormant")
LIFECYCLE_COLUMNS = ("status", "entities")
STICKINESS_COLUMNS = ("n", "entities")

# unit -> the grains whose periods are whole numbers of that unit (weeks do not nest in months)
NESTS: dict[str, tuple[str, ...]] = {
    "hour": ("day", "week", "month", "quarter", "year"),
    "day": ("week", "month", "quarter", "year"),
    "month": ("quarter", "year"),
    "quarter": ("year",),
}


@dataclass(frozen=True)
class ActivityQuery:
    """A retention definition's activity with the call's choices applied, names resolved."""

    name: str
    source: str
    entity: str
    activity: str
    time: str
    time_ref: FieldRef
    grain: Grain
    by: tuple[tuple[str, str], ...]  # (output column, dimension reference)
    by_refs: tuple[tuple[str, FieldRef], ...]
    start: _dt.datetime | None
    end: _dt.datetime | None
    timezone: str

    def _lines(self, what: str) -> list[str]:
        bounds = ", ".join(
            f"{k} {'>=' if k == 'start' else '<'} {v:%Y-%m-%d %H:%M:%S}"
            for k, v in (("start", self.start), ("end", self.end))
            if v
        )
        week = (
            f", weeks starting {WEEKDAYS[self.grain.week_start]}"
            if self.grain.name == "week" and self.grain.week_start
            else ""
        )
        lines = [
            f"{what} of retention {self.name!r} on source {self.source!r}, "
            f"{self.grain.name} periods in {self.timezone}{week}",
            f"  entity: {self.entity} (rows with a NULL entity ignored)",
            f"  activity event: {self.activity}",
            "  periods: from the first activity to the period of the latest "
            f"{self.time} of any {self.source!r} row, zero-filled",
        ]
        if bounds:
            lines.append(f"  reported: periods overlapping {bounds} (computed from all activity)")
        if self.by:
            lines.append(
                "  by (values of the entity's first activity event): "
                + ", ".join(r for _, r in self.by)
            )
        return lines


@dataclass(frozen=True)
class LifecycleQuery(ActivityQuery):
    def explain(self) -> str:
        return "\n".join(
            [
                *self._lines("lifecycle"),
                "  status per entity and period: new = first activity ever; returning = active "
                "in the previous period too; resurrecting = active, not in the previous period, "
                "active before; dormant = active in the previous period, not now (negative)",
                "  plan: distinct (entity, period) activity; previous/next active period by a "
                "window per entity; counts on a zero-filled period x status grid",
            ]
        )


@dataclass(frozen=True)
class StickinessQuery(ActivityQuery):
    unit: Grain = Grain.of("day")

    def explain(self) -> str:
        return "\n".join(
            [
                *self._lines("stickiness"),
                f"  n = distinct {self.unit.name}s with activity of an entity in a "
                f"{self.grain.name}; entities counted per n = 1 .. {self.unit.name}s in that "
                f"{self.grain.name}",
                f"  plan: distinct {self.unit.name}s per (entity, {self.grain.name}); counts on "
                f"a zero-filled {self.grain.name} x n grid",
            ]
        )


def lifecycle(
    layer: Layer,
    name: str,
    grain: str | None = None,
    start: Any = None,
    end: Any = None,
    by: str | Sequence[str] | None = None,
    timezone: Any = None,
    week_start: Any = None,
) -> LifecycleResult:
    """Lifecycle of the activity of retention `name` as a lazy LifecycleResult."""
    from metrics_layer.analysis.lifecycle_compile import compile_lifecycle

    base = _base(layer, name, grain, start, end, by, timezone, week_start, LIFECYCLE_COLUMNS)
    q = LifecycleQuery(**base)
    return _lazy(layer, "lifecycle", name, q, compile_lifecycle, LifecycleResult)


def stickiness(
    layer: Layer,
    name: str,
    grain: str = "week",
    unit: str = "day",
    start: Any = None,
    end: Any = None,
    by: str | Sequence[str] | None = None,
    timezone: Any = None,
    week_start: Any = None,
) -> StickinessResult:
    """Stickiness of the activity of retention `name` as a lazy StickinessResult."""
    from metrics_layer.analysis.lifecycle_compile import compile_stickiness

    if grain is None:
        raise QueryError("stickiness needs a grain such as 'week'")
    base = _base(layer, name, grain, start, end, by, timezone, week_start, STICKINESS_COLUMNS)
    q = StickinessQuery(**base, unit=_unit(unit, base["grain"]))
    return _lazy(layer, "stickiness", name, q, compile_stickiness, StickinessResult)


def _lazy(
    layer: Layer,
    kind: str,
    name: str,
    q: Any,
    compile_query: Callable[[Any, Any], ir.Table],
    result_type: type[R],
) -> R:
    """The lazy result of one request, compiled once per shape through the layer's engine."""

    def build(query: Any) -> ir.Table:
        ctx = layer.context(query.timezone, query.grain.week_start)
        return guarded(lambda: compile_query(ctx, query), f"{kind} of {name!r}")

    return result_type(
        explain=q.explain,
        backend=layer.backend,
        kind=kind,
        meta={"query": q},
        prepared=layer.engine.prepare(kind, _shape(q), q, build),
        engine=layer.engine,
    )


def _shape(q: ActivityQuery) -> Any:
    """start/end are only compared with period starts, so they are bound, never compiled in."""
    return shape_of(q, bounds=("start", "end"), where=False)


def _grain(value: Any, default: str, week_start: int) -> Grain:
    name = default if value is None else value
    if isinstance(name, str) and is_fiscal(name):
        raise QueryError(
            f"grain {name!r} is a fiscal period; lifecycle and stickiness use calendar grains "
            f"({', '.join(GRAIN_NAMES)}): pass grain="
        )
    return grain_of(name, week_start)


def _unit(value: Any, grain: Grain) -> Grain:
    unit = grain_of(value)
    if grain.name not in NESTS.get(unit.name, ()):
        fits = [u for u, grains in NESTS.items() if grain.name in grains]
        hint = f"at grain {grain.name!r} use unit " + (
            " or ".join(repr(u) for u in fits) if fits else "... none (choose a coarser grain)"
        )
        raise QueryError(
            f"unit {unit.name!r} does not divide {grain.name} periods into whole units; {hint}"
        )
    return unit


def _base(
    layer: Layer,
    name: str,
    grain: Any,
    start: Any,
    end: Any,
    by: Any,
    timezone: Any,
    week_start: Any,
    columns: tuple[str, ...],
) -> dict[str, Any]:
    """The fields both queries share; every mistake is a one-line QueryError."""
    reg = layer.registry
    tz, ws = layer.time_settings(timezone, week_start)
    defs = reg.project.retention
    if not isinstance(name, str) or name not in defs:
        raise QueryError(unknown("retention", str(name), defs))
    check_retention(reg, name)
    d = defs[name]
    g = _grain(grain, d.period, ws)
    by_cols = output_names(validate.names(by, "by", "dimension"))
    validate.no_clash(
        (c for c, _ in by_cols),
        (g.name, *columns),
        "a result column",
        f"name the dimension by its path (e.g. {d.source}.{{column}})",
    )
    by_refs = validate.single_valued(reg, d.source, by_cols)
    b_start, b_end = validate.bounds(start, end, tz)
    time, time_ref = time_field(reg, name)
    return {
        "name": name,
        "source": d.source,
        "entity": d.entity,
        "activity": d.activity,
        "time": time,
        "time_ref": time_ref,
        "grain": g,
        "by": tuple(by_cols),
        "by_refs": tuple(by_refs),
        "start": b_start,
        "end": b_end,
        "timezone": tz,
    }
