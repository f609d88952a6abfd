"""Lifecycle and stickiness: `layer.lifecycle(...)` and `layer.stickiness(...)` (CONTRACT.md §12).

Both read one `retention:` definition for what an entity is and what counts as activity (its
source, entity and activity; the cohort event is not used) and ask a different question of
the same activity: lifecycle sorts each entity into new / returning / resurrecting / dormant
per period, stickiness counts on how many units (days of a week, hours of a day, ...) each
entity was active in a period. This module checks the arguments into a frozen query;
lifecycle_compile builds the one ibis expression, lifecycle_result wraps it.

Rules shared by both (docs/lifecycle.md):
- Activity = rows of the source matching `activity` with a non-NULL entity, bucketed in the
  call's timezone (weeks start on its week start). A fiscal grain (fiscal_week ...
  fiscal_year) is a period of the source's retail calendar (compile/fiscal.py FiscalPeriod,
  as retention's fiscal periods): activity outside the calendar's fiscal years is left out,
  as in KPI queries, and "the previous period" is the previous fiscal period.
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
from metrics_layer.compile.fiscal import FiscalPeriod
from metrics_layer.compile.timegrain import grain_of
from metrics_layer.engine import shape_of
from metrics_layer.errors import QueryError, guarded, unknown
from metrics_layer.grain import WEEKDAYS, Grain
from metrics_layer.planner import validate
from metrics_layer.planner.validate import output_names
from metrics_layer.registry import FieldRef
from metrics_layer.retail import FISCAL_GRAINS, is_fiscal

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from metrics_layer.layer import Layer

R = TypeVar("R", LifecycleResult, StickinessResult)

STATUSES: tuple[str, ...] = ("new", "returning", "resurrecting", "dormant")
LIFECYCLE_COLUMNS = ("status", "entities")
STICKINESS_COLUMNS = ("n", "entities")

# unit -> the grains whose periods are whole numbers of that unit (weeks do not nest in
# months; fiscal periods are whole fiscal weeks, so whole days and hours too)
NESTS: dict[str, tuple[str, ...]] = {
    "hour": ("day", "week", "month", "quarter", "year", *FISCAL_GRAINS),
    "day": ("week", "month", "quarter", "year", *FISCAL_GRAINS),
    "month": ("quarter", "year"),
    "quarter": ("year",),
    "fiscal_week": FISCAL_GRAINS[1:],
    "fiscal_month": ("fiscal_quarter", "fiscal_year"),
    "fiscal_quarter": ("fiscal_year",),
}
Period = Grain | FiscalPeriod


@dataclass(frozen=True)
class ActivityQuery:
    """A retention definition's activity with the call's choices applied, names resolved."""

    name: str
    source: str
    entity: str
    activity: str
    time: str
    time_ref: FieldRef
    grain: Period  # a calendar Grain (weeks on the call's week start) or a fiscal period
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
        if isinstance(self.grain, FiscalPeriod):
            lines.append(
                "  fiscal periods of the retail calendar (previous period = previous fiscal "
                f"{self.grain.name.removeprefix('fiscal_')}); activity outside its fiscal "
                "years is left out"
            )
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
    unit: Period = Grain.of("day")

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
    ws = layer.time_settings(timezone, week_start)[1]
    q = StickinessQuery(**base, unit=_unit(unit, base["grain"], ws))
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


def _grain(layer: Layer, source: str, value: Any, week_start: int) -> Period:
    """A calendar grain, or a fiscal grain of the retail calendar the source's queries use
    (the same FiscalPeriod as retention's fiscal periods; a QueryError without a calendar)."""
    name = value.strip().lower() if isinstance(value, str) else value
    if is_fiscal(name):
        return FiscalPeriod(layer.context().fiscal(source), name)
    return grain_of(value, week_start)


def _unit(value: Any, grain: Period, week_start: int) -> Period:
    """The unit counted per period: it must divide every period of `grain` into whole units.
    At a fiscal grain, weeks do so only when they start on the retail calendar's week start
    (then they are its fiscal weeks)."""
    name = value.strip().lower() if isinstance(value, str) else value
    if isinstance(grain, FiscalPeriod) and name == "week":
        rules = grain.fiscal.rules
        if week_start == rules.week_start and grain.name != "fiscal_week":
            return grain_of("week", week_start)
        raise QueryError(
            f"weeks starting {WEEKDAYS[week_start]} do not divide {grain.name} periods, whose "
            f"weeks start on {WEEKDAYS[rules.week_start]}: use unit 'fiscal_week' "
            "(at a fiscal_month, fiscal_quarter or fiscal_year grain) or 'day'"
        )
    unit: Period
    if is_fiscal(name):
        if not isinstance(grain, FiscalPeriod):
            raise QueryError(
                f"unit {name!r} is a fiscal period, which divides only fiscal grains; at grain "
                f"{grain.name!r} use unit " + " or ".join(repr(u) for u in _fits(grain.name))
            )
        unit = FiscalPeriod(grain.fiscal, name)
    else:
        unit = grain_of(value)
    if grain.name not in NESTS.get(unit.name, ()):
        fits = _fits(grain.name)
        hint = f"at grain {grain.name!r} use unit " + (
            " or ".join(repr(u) for u in fits) if fits else "... none (choose a coarser grain)"
        )
        raise QueryError(
            f"unit {unit.name!r} does not divide {grain.name} periods into whole units; {hint}"
        )
    return unit


def _fits(grain: str) -> list[str]:
    return [u for u, grains in NESTS.items() if grain in grains]


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
    g = _grain(layer, d.source, d.period if grain is None else grain, ws)
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
