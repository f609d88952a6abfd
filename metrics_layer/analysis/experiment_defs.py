"""Checks of `experiments:` definitions against the registry, and which test each metric gets.

A metric can be read out per unit only when its value for one entity is a sum of that
entity's rows: sum and count measures (mean metrics), a distinct count of the entity itself
(a proportion: 1 when the unit has any row), a ratio of two such measures, or an avg measure
(the ratio of its per-unit sum and count). Anything else (derived, cumulative, offset, share,
percentiles, a distinct count of another column) has no per-unit decomposition that the
delta method can test, so it is refused: a DefinitionError at load, a QueryError when asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from metrics_layer.errors import (
    DefinitionError,
    MetricsLayerError,
    QueryError,
    SchemaError,
    unknown,
)
from metrics_layer.planner.scans import own_names
from metrics_layer.registry import FieldRef, MeasureRef, Registry

SECTION = "experiments"
MEAN, PROPORTION, RATIO = "mean", "proportion", "ratio"


@dataclass(frozen=True)
class MetricShape:
    """How a metric is tested: its kind and, per per-unit component, whether it is 0/1."""

    name: str
    kind: str  # mean | proportion | ratio
    binary: tuple[bool, ...]  # one entry (mean, proportion) or two (ratio: numerator, denominator)
    avg: bool = False  # an avg measure, read as sum(expr) / count(expr) per unit


def check_all_experiments(registry: Registry) -> None:
    """Check every experiment definition (at load: unknown names fail at their own line)."""
    for name in registry.project.experiments:
        check_experiment(registry, name)


def check_experiment(registry: Registry, name: str) -> None:
    """Raise a located DefinitionError for the first problem of experiment `name`."""
    d = registry.project.experiments[name]
    if d.source not in registry.sources:
        raise DefinitionError(
            unknown("source", d.source, registry.sources), registry.locate(SECTION, name, "source")
        )
    for field in ("entity", "variant", "time"):
        exposure_field(registry, name, field)
    for i, metric in enumerate(d.metrics):
        try:
            metric_shape(registry, metric, d.entity)
        except MetricsLayerError as exc:
            raise DefinitionError(
                f"metric {metric!r}: {exc}", registry.locate(SECTION, name, "metrics", i)
            ) from None


def exposure_field(registry: Registry, name: str, field: str) -> FieldRef:
    """The entity, variant or time column of the exposures, as a field of their own source."""
    d = registry.project.experiments[name]
    text = getattr(d, field)
    where = field
    if field == "time" and text is None:
        text, where = registry.sources[d.source].time, "source"
        if text is None:
            raise DefinitionError(
                f"experiment {name!r} needs the time of each exposure: set `time:` here or "
                f"on source {d.source!r}",
                registry.locate(SECTION, name, "source"),
            )
    try:
        ref = dict(own_names(registry, d.source, [text]))[text]
    except MetricsLayerError as exc:
        cls = SchemaError if registry.columns(d.source) is not None else DefinitionError
        raise cls(str(exc), registry.locate(SECTION, name, where)) from None
    except KeyError:
        raise DefinitionError(
            f"{field} must name one column of source {d.source!r}, got {text!r}",
            registry.locate(SECTION, name, where),
        ) from None
    if ref.path:
        raise DefinitionError(
            f"{field} {text!r} of experiment {name!r} must be a column of source {d.source!r} "
            "itself, not of a joined source",
            registry.locate(SECTION, name, where),
        )
    return ref


def entity_of(registry: Registry, source: str, entity: str) -> FieldRef:
    """The entity as reached from a metric's source: its own column, or through many-to-one joins."""
    try:
        ref = dict(own_names(registry, source, [entity]))[entity]
    except KeyError:
        raise QueryError(f"entity {entity!r} is not a column name") from None
    except MetricsLayerError as exc:
        raise QueryError(
            f"its source {source!r} cannot reach the entity {entity!r} "
            f"(no such column, nor a join leading to one): {exc}"
        ) from None
    if ref.fans_out:
        raise QueryError(
            f"its source {source!r} reaches the entity {entity!r} only through a one_to_many "
            f"join ({ref.describe_path()}), so a row would count for several units"
        )
    return ref


def metric_shape(registry: Registry, metric: str, entity: str) -> MetricShape:
    """The test a metric gets (see the module docstring); a QueryError says why not."""
    m = registry.metric(metric)
    if isinstance(m, MeasureRef):
        return _measure_shape(registry, metric, m, entity)
    kind = m.kind
    if kind == "simple":
        ref = registry.find_measure(m.measure or "")
        assert ref is not None  # checked by the registry
        return _measure_shape(registry, metric, ref, entity)
    if kind == "ratio":
        parts = []
        for side in (m.numerator or "", m.denominator or ""):
            shape = metric_shape(registry, side, entity)
            if shape.kind == RATIO:
                raise QueryError(
                    f"ratio {metric!r} uses {side!r}, itself a ratio; a ratio metric can be "
                    "tested when numerator and denominator are sums, counts or distinct counts "
                    "of the entity"
                )
            parts.append(shape.binary[0])
        return MetricShape(metric, RATIO, tuple(parts))
    raise QueryError(
        f"a {kind} metric has no per-unit value to test; experiments take sum, count and avg "
        "measures, distinct counts of the entity and ratios of those"
    )


def _measure_shape(registry: Registry, metric: str, ref: MeasureRef, entity: str) -> MetricShape:
    agg = ref.measure.agg
    src = registry.sources[ref.source]
    if ref.measure.non_additive is not None:
        raise QueryError(
            f"measure {ref.qualified} is semi-additive (a snapshot), not a sum of rows"
        )
    if (ref.measure.time or src.time) is None:
        raise QueryError(
            f"measure {ref.qualified} has no time column (source {ref.source!r} declares no "
            "`time:`), so its rows cannot be placed after each unit's exposure"
        )
    entity_ref = entity_of(registry, ref.source, entity)
    if agg in ("sum", "count"):
        return MetricShape(metric, MEAN, (False,))
    if agg == "avg":
        return MetricShape(metric, RATIO, (False, False), avg=True)
    if agg == "count_distinct":
        names = dict(own_names(registry, ref.source, [ref.measure.expr]))
        expr = (ref.measure.expr or "").strip()
        if names.get(expr) == entity_ref:
            return MetricShape(metric, PROPORTION, (True,))
        raise QueryError(
            f"measure {ref.qualified} counts distinct {ref.measure.expr!r}, not the entity "
            f"{entity!r}; per unit only a distinct count of the entity (a proportion) is testable"
        )
    raise QueryError(
        f"measure {ref.qualified} aggregates with {agg!r}, which has no per-unit sum to test; "
        "experiments take sum, count, avg and count_distinct of the entity"
    )
