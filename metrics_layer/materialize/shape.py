"""What a materialization stores, and whether each metric can be stored exactly at its grain.

A period's row holds `layer.query(metrics, by=by, grain=grain)`'s answer for that period. A
metric whose value for one period depends on rows of other periods (cumulative, offset) is
refused: an incremental run replaces only recent periods and would leave the others stale.
Besides each value, ratios of re-aggregatable measures keep their numerator and denominator,
so coarser answers (fewer by-dimensions) stay exact; sums, counts, min and max re-aggregate
from the value itself; every other metric (distinct counts, averages, percentiles, derived,
share, snapshots) is served only at exactly the stored grain and by.
"""

from __future__ import annotations

from dataclasses import dataclass

from metrics_layer.errors import DefinitionError, MetricsLayerError, unknown
from metrics_layer.planner.plan import Plan, Planner
from metrics_layer.planner.request import Request
from metrics_layer.registry import MeasureRef, Registry

SECTION = "materializations"
RUNS_TABLE = "metrics_layer_runs"
_ROLLUP = {"sum": "sum", "count": "sum", "min": "min", "max": "max"}
_HISTORY_KINDS = ("cumulative", "offset")


@dataclass(frozen=True)
class Stored:
    """One metric of a materialization: its column, how it re-aggregates, its components.

    rollup: 'sum' | 'min' | 'max' (the value re-aggregates itself), 'ratio' (sum of stored
    numerator / sum of stored denominator, each re-aggregated by its own rollup) or None
    (served only at the stored grain and by).
    """

    name: str
    column: str
    rollup: str | None
    components: tuple[tuple[str, str, str], ...] = ()  # (column, query name, rollup)


@dataclass(frozen=True)
class Shape:
    """A materialization resolved against the registry: its stored columns and their meaning."""

    name: str
    grain: str
    by: tuple[str, ...]
    by_columns: tuple[str, ...]
    metrics: tuple[Stored, ...]
    table: str
    database: str | None
    schema: str | None
    plan: Plan  # the plan of the whole (unbounded) query, for its scans and time columns
    select: tuple[tuple[str, str], ...]  # (stored column, layer.query output column), in order

    @property
    def query_names(self) -> list[str]:
        """What one layer.query asks: the metrics, then the components not asked already."""
        return _query_names(list(self.metrics))

    @property
    def columns(self) -> list[str]:
        """The table's columns in order: grain, by columns, metric values, components."""
        return [c for c, _ in self.select]


def check_all_materializations(registry: Registry) -> None:
    """Check every materialization at load: unknown or unstorable metrics fail at their line."""
    tables: dict[str, str] = {}
    for name, d in registry.project.materializations.items():
        shape_of(registry, name)
        key = ".".join(p for p in (d.database, d.db_schema, d.table) if p)
        if key in tables:
            raise DefinitionError(
                f"table {d.table!r} is also the table of materialization {tables[key]!r}",
                registry.locate(SECTION, name, "table"),
            )
        tables[key] = name


def shape_of(registry: Registry, name: str) -> Shape:
    """The resolved shape of materialization `name`; a located DefinitionError says why not."""
    d = registry.project.materializations[name]
    for i, metric in enumerate(d.metrics):
        problem = _history_problem(registry, metric)
        if problem:
            raise DefinitionError(
                f"metric {metric!r} cannot be stored per {d.grain}: {problem}",
                registry.locate(SECTION, name, "metrics", i),
            )
    stored = [_stored(registry, m) for m in d.metrics]
    asked = _query_names(stored)
    try:
        plan = Planner(registry).plan(Request.build(asked, by=d.by or None, grain=d.grain))
    except MetricsLayerError as exc:
        raise DefinitionError(
            f"materialization {name!r}: {exc}", registry.locate(SECTION, name)
        ) from None
    column_of = {n: c for c, n in plan.metric_columns}
    stored = [Stored(m.name, column_of[m.name], m.rollup, m.components) for m in stored]
    by_columns = tuple(c for c, _ in plan.dim_columns)
    _check_table(registry, name, [d.grain, *by_columns], stored)
    select = [(c, c) for c in (d.grain, *by_columns)] + [(m.column, m.column) for m in stored]
    select += [(c, column_of[q]) for m in stored for c, q, _ in m.components]
    return Shape(
        name, d.grain, tuple(d.by), by_columns, tuple(stored), d.table, d.database,
        d.db_schema, plan, tuple(select),
    )  # fmt: skip


def _query_names(stored: list[Stored]) -> list[str]:
    names = [m.name for m in stored]
    for m in stored:
        names += [q for _, q, _ in m.components if q not in names]
    return names


def _history_problem(registry: Registry, metric: str) -> str | None:
    """Why a metric's per-period value depends on other periods (or None); unknown names fail."""
    try:
        m = registry.metric(metric)
    except MetricsLayerError:
        return unknown("metric", metric, registry.queryable_names()).removeprefix("unknown ")
    if isinstance(m, MeasureRef):
        return None
    if m.kind == "conversion":
        return (
            "a conversion metric's value for a period changes when later conversion events "
            "arrive (a buy counts for the visit before it), so stored periods would go stale"
        )
    if m.kind in _HISTORY_KINDS:
        what = "a running total" if m.kind == "cumulative" else "a shifted period"
        distinct = ""
        ref = registry.find_measure(m.measure or "") if m.kind == "cumulative" else None
        if ref is not None and ref.measure.agg == "count_distinct":
            distinct = " (a cumulative distinct count cannot be rebuilt from stored periods)"
        return (
            f"a {m.kind} metric is {what}: its value for one period depends on rows of other "
            f"periods, so replacing only the periods that changed would leave the others "
            f"stale{distinct}"
        )
    for dep in registry.metric_dependencies(metric):
        inner = _history_problem(registry, dep)
        if inner:
            return f"it uses {dep!r}: {inner}"
    return None


def _rollup(registry: Registry, name: str) -> str | None:
    """How a metric's stored value re-aggregates over coarser groups (module docstring)."""
    m = registry.metric(name)
    if not isinstance(m, MeasureRef):
        if m.kind != "simple" or m.measure is None:
            return None
        found = registry.find_measure(m.measure)
        if found is None:
            return None
        m = found
    if m.measure.non_additive is not None:
        return None  # a snapshot: the last value per period, not a sum of rows
    return _ROLLUP.get(m.measure.agg)


def _stored(registry: Registry, name: str) -> Stored:
    m = registry.metric(name)
    if not isinstance(m, MeasureRef) and m.kind == "ratio":
        parts = [(m.numerator or "", "numerator"), (m.denominator or "", "denominator")]
        rollups = [_rollup(registry, q) for q, _ in parts]
        if all(r is not None for r in rollups):
            comps = tuple(
                (f"{name}__{side}", q, str(r)) for (q, side), r in zip(parts, rollups, strict=True)
            )
            return Stored(name, name, "ratio", comps)
        return Stored(name, name, None)
    return Stored(name, name, _rollup(registry, name))


def _check_table(registry: Registry, name: str, keys: list[str], stored: list[Stored]) -> None:
    d = registry.project.materializations[name]
    taken = {registry.table_name(s): s for s in registry.sources}
    if d.table == RUNS_TABLE or d.table in taken:
        what = "the run log" if d.table == RUNS_TABLE else f"source {taken[d.table]!r}"
        raise DefinitionError(
            f"table {d.table!r} is already used by {what}; a materialization needs its own table",
            registry.locate(SECTION, name, "table"),
        )
    seen: set[str] = set()
    for col in keys + [m.column for m in stored] + [c for m in stored for c, _, _ in m.components]:
        if col in seen:
            raise DefinitionError(
                f"materialization {name!r} would store two columns named {col!r}",
                registry.locate(SECTION, name),
            )
        seen.add(col)
