"""A/B readouts: `layer.experiment(name, ...)` (CONTRACT.md §7, docs/experiments.md).

This module turns an `experiments:` definition plus the call's arguments into a checked
ExperimentQuery. experiment_compile builds the one ibis expression that returns per-arm sums,
experiment_stats holds GrowthBook's frequentist formulas, experiment_readout applies them to
the sums, and ExperimentResult (experiment_result) shows the table, SRM, SQL and plot.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from metrics_layer.analysis.experiment_defs import (
    MetricShape,
    check_experiment,
    entity_of,
    exposure_field,
    metric_shape,
)
from metrics_layer.definitions.durations import duration_seconds
from metrics_layer.definitions.experiments import check_duration
from metrics_layer.engine import shape_of
from metrics_layer.errors import MetricsLayerError, QueryError, guarded, unknown
from metrics_layer.planner import validate
from metrics_layer.planner.plan import Plan
from metrics_layer.planner.request import Request
from metrics_layer.registry import FieldRef

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from metrics_layer.analysis.experiment_result import ExperimentResult
    from metrics_layer.layer import Layer


@dataclass(frozen=True)
class ExperimentQuery:
    """An experiment definition with the call's choices applied, every name resolved.

    Frozen and hashable: it is the key of its compiled query in the layer's cache (with
    `start`/`end` slotted as bound values, engine/keys.py). `plan` is left out of equality
    and hashing: it is planned from `metrics` and `timezone` (both in the key) on the
    layer's own registry, so it adds nothing to the key and is not hashable itself.
    """

    name: str
    source: str
    entity: str
    entity_ref: FieldRef
    variant_ref: FieldRef
    time_ref: FieldRef
    control: str
    weights: tuple[tuple[str, float], ...] | None  # (arm, weight) as defined
    metrics: tuple[MetricShape, ...]
    # the KPI plan of the metrics (their scans and measure nodes); see the docstring
    plan: Plan = field(compare=False)
    entity_refs: tuple[tuple[str, FieldRef], ...]  # metric source -> entity reached from it
    window: str | None
    lookback: str | None  # CUPED on when set
    start: _dt.datetime | None
    end: _dt.datetime | None
    alpha: float
    relative: bool
    timezone: str

    @property
    def window_seconds(self) -> int | None:
        return None if self.window is None else duration_seconds(self.window)

    @property
    def lookback_seconds(self) -> int | None:
        return None if self.lookback is None else duration_seconds(self.lookback)

    def explain(self) -> str:
        """The computation in words (what `Result.explain()` prints)."""
        bounds = ", ".join(
            f"{k} {'>=' if k == 'start' else '<'} {v:%Y-%m-%d %H:%M:%S}"
            for k, v in (("start", self.start), ("end", self.end))
            if v
        )
        rows = f"[t0, t0 + {self.window})" if self.window else "from t0 on"
        lines = [
            f"experiment {self.name!r}: exposures from source {self.source!r}, "
            f"entity {self.entity}, arm {self.variant_ref.name}, time {self.time_ref.name}"
            + (f", exposures with {bounds} ({self.timezone})" if bounds else ""),
            "  units: each entity's first exposure t0 and its arm; entities seen in two or more "
            "arms are dropped from every arm and counted (multiple_exposures)",
            f"  per unit: each metric over the unit's rows in {rows}; a unit without rows is 0",
        ]
        if self.lookback:
            lines.append(
                f"  CUPED: covariate = the same metric over [t0 - {self.lookback}, t0); "
                "theta pooled over control and each arm"
            )
        for m in self.metrics:
            how = {
                "mean": "mean of per-unit values (sample variance)",
                "proportion": "share of units with any row (variance p(1 - p))",
                "ratio": "ratio of per-unit sums, delta method with their covariance",
            }[m.kind]
            lines.append(f"  metric {m.name}: {how}")
        diff = "relative (treatment - control) / |control|" if self.relative else "absolute"
        lines.append(
            f"  test: Welch t, Welch-Satterthwaite dof, two-sided, {1 - self.alpha:.0%} CI, "
            f"{diff}; each arm against control {self.control!r}; SRM chi-squared against "
            + (
                ", ".join(f"{a} {w:g}" for a, w in self.weights)
                if self.weights
                else "equal weights"
            )
        )
        lines.append(
            "  plan: units = exposures grouped by entity; each metric source scanned once, "
            "joined to the units on the entity and grouped by unit; units left-joined to "
            "those; only per-arm sums (n, sums, sums of squares and products) are returned"
        )
        return "\n".join(lines)


def experiment(
    layer: Layer,
    name: str,
    start: Any = None,
    end: Any = None,
    metrics: str | Sequence[str] | None = None,
    alpha: float = 0.05,
    relative: bool = True,
    cuped: Any = None,
) -> ExperimentResult:
    """The readout of experiment `name` as a lazy ExperimentResult (one ibis expression)."""
    from metrics_layer.analysis.experiment_compile import compile_experiment
    from metrics_layer.analysis.experiment_result import ExperimentResult

    q = build_query(
        layer,
        name,
        start=start,
        end=end,
        metrics=metrics,
        alpha=alpha,
        relative=relative,
        cuped=cuped,
    )

    def build(query: ExperimentQuery) -> ir.Table:
        ctx = layer.context(query.timezone)
        return guarded(lambda: compile_experiment(ctx, query), f"experiment {name!r}")

    # start and end are only compared with exposure times: bound as parameters
    shape = shape_of(q, bounds=("start", "end"), where=False)
    return ExperimentResult(
        explain=q.explain(),
        backend=layer.backend,
        kind="experiment",
        meta={"query": q},
        prepared=layer.engine.prepare("experiment", shape, q, build),
        engine=layer.engine,
    )


def build_query(
    layer: Layer,
    name: str,
    *,
    start: Any,
    end: Any,
    metrics: str | Sequence[str] | None,
    alpha: float,
    relative: bool,
    cuped: Any,
) -> ExperimentQuery:
    """Check the arguments against the definition; every mistake is a QueryError."""
    reg = layer.registry
    defs = reg.project.experiments
    if name not in defs:
        raise QueryError(unknown("experiment", name, defs))
    check_experiment(reg, name)
    d = defs[name]
    names = validate.names(metrics, "metrics", "metric") if metrics is not None else ()
    names = names or tuple(d.metrics)
    shapes = []
    for metric in names:
        try:
            shapes.append(metric_shape(reg, metric, d.entity))
        except MetricsLayerError as exc:
            raise QueryError(f"metric {metric!r} cannot be tested: {exc}") from None
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise QueryError(f"alpha must be a number between 0 and 1 (e.g. 0.05), got {alpha!r}")
    if not isinstance(relative, bool):
        raise QueryError(f"relative must be true or false, got {relative!r}")
    b_start, b_end = validate.bounds(start, end, layer.timezone)
    plan = layer.planner.plan(Request.build(names, timezone=layer.timezone))
    sources = sorted({scan.source for scan in plan.scans})
    return ExperimentQuery(
        name=name,
        source=d.source,
        entity=d.entity,
        entity_ref=exposure_field(reg, name, "entity"),
        variant_ref=exposure_field(reg, name, "variant"),
        time_ref=exposure_field(reg, name, "time"),
        control=d.control,
        weights=tuple(d.weights.items()) if d.weights else None,
        metrics=tuple(shapes),
        plan=plan,
        entity_refs=tuple((s, entity_of(reg, s, d.entity)) for s in sources),
        window=d.window,
        lookback=_lookback(cuped, d.cuped.lookback if d.cuped else None),
        start=b_start,
        end=b_end,
        alpha=float(alpha),
        relative=relative,
        timezone=layer.timezone,
    )


def _lookback(cuped: Any, defined: str | None) -> str | None:
    """cuped=None follows the definition, False turns it off, True/{lookback: ...} turns it on."""
    if cuped is None:
        return defined
    if cuped is False:
        return None
    if cuped is True:
        if defined is None:
            raise QueryError(
                "cuped=True needs a lookback: the experiment defines none, so pass "
                "cuped={'lookback': '14 days'}"
            )
        return defined
    value = cuped.get("lookback") if isinstance(cuped, Mapping) else cuped
    if isinstance(cuped, Mapping) and set(cuped) - {"lookback"}:
        raise QueryError(f"cuped takes only 'lookback', got {sorted(cuped)}")
    if isinstance(value, _dt.timedelta):
        seconds = value.total_seconds()
        if seconds <= 0 or not math.isfinite(seconds) or seconds != int(seconds):
            raise QueryError(f"cuped lookback must be a positive whole number of seconds: {value}")
        value = f"{int(seconds)} seconds"
    if not isinstance(value, str):
        raise QueryError(
            f"cuped must be None, False, True or {{'lookback': '14 days'}}, got {cuped!r}"
        )
    try:
        return check_duration(value, "lookback")
    except ValueError as exc:
        raise QueryError(f"cuped lookback: {exc}") from None
