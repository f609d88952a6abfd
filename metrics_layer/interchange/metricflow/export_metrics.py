"""Metrics and filters -> MetricFlow metrics (the second half of `export_metricflow`).

Simple and cumulative metrics name their measure; a measure's `filter` (MetricFlow measures
have none) joins the metric's filter, and both are WHERE conditions there, conditions inside
the aggregation here: the same rows are aggregated. Ratio and derived metrics name metrics;
a measure used directly becomes a helper simple metric `<metric>_<measure>`. An offset metric
is a derived metric over its base with `offset_window` or `offset_to_grain`, as MetricFlow
writes offsets. Conversion metrics are MetricFlow conversion metrics (export_conversion.py).
Filters are rewritten to `{{ Dimension(...) }}` / `{{ TimeDimension(...) }}` /
`{{ Entity(...) }}` templates (export_filters.py). Metric names MetricFlow refuses (`__`,
capitals) are renamed and reported; anything else without a MetricFlow form is reported.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import replace
from typing import Any

from metrics_layer.definitions.models import Metric
from metrics_layer.errors import MetricsLayerError
from metrics_layer.interchange.metricflow.export_conversion import conversion_metric
from metrics_layer.interchange.metricflow.export_filters import (
    NotExportable,
    column_names,
    dimension_template,
    rewrite,
)
from metrics_layer.interchange.metricflow.export_models import GRAINS, ModelExporter, valid_name
from metrics_layer.registry.fields import FieldRef
from metrics_layer.registry.registry import MeasureRef

_GRAIN_NAME = re.compile(r"\A(\w+?)__(day|week|month|quarter|year)\Z")
_OFFSET = re.compile(r"\A\s*(\d+)\s+(day|week|month|quarter|year)s?\s*\Z", re.I)
# fields with no MetricFlow counterpart that change no number (reported, not exported)
_METADATA = ("format", "owner", "validation", "aliases", "deprecated", "grains")


class MetricExporter(ModelExporter):
    """Metrics, once the semantic models are built."""

    def export_metrics(self) -> list[dict[str, Any]]:
        self.out: dict[str, dict[str, Any]] = {}
        self.names: dict[str, str] = {}  # our metric -> MetricFlow metric
        self.failed: dict[str, str] = {}
        self.needs_spine = False
        for name in self.project.metrics:
            with contextlib.suppress(NotExportable):  # recorded in self.failed, reported below
                self._metric(name)
        for name, why in self.failed.items():
            self.report("metrics", name, f"not exported: {why}")
        for name in self.project.metrics:
            if name not in self.failed and self._counts_filtered(name, ()):
                self.report(
                    "metrics",
                    name,
                    "a filtered count: in a group where no row matches the filter MetricFlow "
                    "has no value (NULL, or no row), metrics_layer 0 (and so what is built on it)",
                )
        return list(self.out.values())

    def _counts_filtered(self, ref: str, stack: tuple[str, ...]) -> bool:
        """Whether a metric is, or is built on, a count whose measure or metric has a filter."""
        if ref not in self.project.metrics:
            measure = self.reg.find_measure(ref)
            return measure is not None and _filtered_count(
                measure.measure.agg, measure.measure.filter
            )
        if ref in stack:
            return False
        m = self.project.metrics[ref]
        if m.kind in ("simple", "cumulative"):
            measure = self.reg.find_measure(str(m.measure))
            return measure is not None and _filtered_count(
                measure.measure.agg, measure.measure.filter or m.filter
            )
        return any(
            self._counts_filtered(dep, (*stack, ref)) for dep in self.reg.metric_dependencies(ref)
        )

    # ------------------------------------------------------------------ names
    def _name(self, ours: str) -> str:
        if ours in self.names:
            return self.names[ours]
        base = re.sub(r"_+", "_", re.sub(r"[^a-z0-9_]", "_", ours.lower())).strip("_") or "metric"
        taken = set(self.names.values()) | (set(self.project.metrics) - {ours})
        candidate = ours if valid_name(ours) else base
        n = 2
        while candidate in taken or not valid_name(candidate):
            candidate = f"{base}_{n}"
            n += 1
        if candidate != ours and ours in self.project.metrics:
            self.report(
                "metrics",
                ours,
                f"exported as {candidate!r} (MetricFlow metric names have no __ or capitals)",
            )
        self.names[ours] = candidate
        return candidate

    # ------------------------------------------------------------------ metrics
    def _metric(self, name: str, stack: tuple[str, ...] = ()) -> str:
        """Export metric `name` (and what it uses) once; its MetricFlow name, or NotExportable."""
        if name in self.names and self.names[name] in self.out:
            return self.names[name]
        if name in self.failed:
            raise NotExportable(f"it uses {name!r}, which is not exported")
        if name in stack:
            raise NotExportable(f"metric {name!r} refers to itself")
        m = self.project.metrics[name]
        before = set(self.out)
        try:
            body = self._body(name, m, (*stack, name))
        except (NotExportable, MetricsLayerError) as exc:
            self.failed[name] = str(exc)
            metrics = {self.names.get(n) for n in self.project.metrics}
            for helper in set(self.out) - before - metrics:  # helpers made for it alone
                del self.out[helper]
            raise NotExportable(f"it uses {name!r}, which is not exported") from None
        mf = self._name(name)
        entry: dict[str, Any] = {"name": mf, **body, "label": m.label or name}
        if m.description:
            entry["description"] = " ".join(m.description.split())
        set_fields = [f for f in _METADATA if f in m.model_fields_set]
        if set_fields:
            self.report(
                "metrics", name, f"{', '.join(set_fields)}: no MetricFlow counterpart, not exported"
            )
        self.out[mf] = entry
        return mf

    def _body(self, name: str, m: Metric, stack: tuple[str, ...]) -> dict[str, Any]:
        kind = m.kind
        if kind in ("simple", "cumulative"):
            return self._measure_metric(name, m, kind)
        if kind == "conversion":
            return conversion_metric(self, name, m)
        if m.fill_nulls_with is not None or m.join_to_timespine:
            raise NotExportable(
                f"MetricFlow fills only simple and cumulative metrics, not a {kind} metric"
            )
        if kind == "ratio":
            return {
                "type": "ratio",
                "type_params": {
                    "numerator": self._input(name, str(m.numerator), "numerator", stack),
                    "denominator": self._input(name, str(m.denominator), "denominator", stack),
                },
            }
        if kind == "derived":
            return self._derived(name, str(m.expr), stack)
        if kind == "offset":
            return self._offset(name, m, stack)
        if kind == "share":
            raise NotExportable(
                "share metrics (a value over its total across groups) have no MetricFlow form"
            )
        raise NotExportable(f"{kind} metrics are not exported")

    def _measure_ref(self, ref: str) -> MeasureRef:
        found = self.reg.find_measure(ref)
        if found is None:
            raise NotExportable(f"unknown measure {ref!r}")
        if (found.source, found.name) not in self.measures:
            raise NotExportable(f"its measure {found.qualified} is not exported")
        return found

    def _measure_metric(self, name: str, m: Metric, kind: str) -> dict[str, Any]:
        ref = self._measure_ref(str(m.measure))
        measure: Any = self.measures[(ref.source, ref.name)]
        if m.fill_nulls_with is not None or m.join_to_timespine:
            measure = {"name": measure}
            if m.fill_nulls_with is not None:
                fill = m.fill_nulls_with
                measure["fill_nulls_with"] = int(fill) if float(fill).is_integer() else fill
            if m.join_to_timespine:
                measure["join_to_timespine"] = True
                self.needs_spine = True
        params: dict[str, Any] = {"measure": measure}
        out: dict[str, Any] = {"type": kind, "type_params": params}
        texts = []
        own = self.measure_filters.get((ref.source, ref.name))
        if own:
            texts.append(self.filter_text(ref.source, own))
        if m.filter:
            texts.append(self.filter_text(ref.source, m.filter))
        if texts:
            out["filter"] = texts[0] if len(texts) == 1 else " AND ".join(f"({t})" for t in texts)
        if kind == "cumulative":
            self.needs_spine = True
            cparams: dict[str, Any] = {}
            if m.window:
                cparams["window"] = m.window
            if m.grain_to_date:
                if m.grain_to_date not in GRAINS:
                    raise NotExportable(
                        f"grain_to_date {m.grain_to_date!r}: MetricFlow has no fiscal grains"
                    )
                cparams["grain_to_date"] = m.grain_to_date
            if m.period_agg is None:
                self.report(
                    "metrics",
                    name,
                    "exported with period_agg: last; at grains coarser than a day MetricFlow "
                    "takes the last day with data, here the window ending at the period's end "
                    "(they differ only when the period's last days have no data)",
                )
            cparams["period_agg"] = m.period_agg or "last"
            params["cumulative_type_params"] = cparams
        return out

    def _helper(self, owner: str, ref: str, role: str) -> str:
        """A simple metric for a measure a ratio or derived metric uses directly."""
        helper = f"{owner}_{role}"
        mf = self._name(helper)
        if mf not in self.out:
            body = self._measure_metric(helper, Metric(measure=ref), "simple")
            self.out[mf] = {"name": mf, **body, "label": helper}
        return mf

    def _input(self, owner: str, ref: str, role: str, stack: tuple[str, ...]) -> str:
        if ref in self.project.metrics:
            return self._metric(ref, stack)
        return self._helper(owner, ref, role)

    def _derived(self, name: str, expr: str, stack: tuple[str, ...]) -> dict[str, Any]:
        inputs: dict[str, str] = {}
        for ref in column_names(expr):
            if ref not in inputs:
                helper_role = ref.replace(".", "_")
                inputs[ref] = self._input(name, ref, helper_role, stack)
        text = rewrite(expr, lambda ref: inputs[ref])
        return {
            "type": "derived",
            "type_params": {
                "expr": text,
                "metrics": [{"name": n} for n in dict.fromkeys(inputs.values())],
            },
        }

    def _offset(self, name: str, m: Metric, stack: tuple[str, ...]) -> dict[str, Any]:
        base = self._input(name, str(m.metric), "base", stack)
        alias = self._name(f"{name}_offset_input")
        spec: dict[str, Any] = {"name": base, "alias": alias}
        if m.offset_to_grain:
            if m.offset_to_grain not in GRAINS:
                raise NotExportable(f"offset_to_grain {m.offset_to_grain!r} is finer than a day")
            spec["offset_to_grain"] = m.offset_to_grain
        else:
            match = _OFFSET.match(str(m.offset))
            if match is None:
                raise NotExportable(
                    f"offset {m.offset!r}: MetricFlow offsets are <n> day|week|month|quarter|year"
                )
            n, unit = match.groups()
            spec["offset_window"] = f"{n} {unit.lower()}{'s' if n != '1' else ''}"
        self.needs_spine = True
        return {"type": "derived", "type_params": {"expr": alias, "metrics": [spec]}}

    # ------------------------------------------------------------------ filters
    def filter_text(self, base: str, text: str) -> str:
        return rewrite(text, lambda ref: self._field(base, ref))

    def _field(self, base: str, ref: str) -> str:
        # as the planner reads a source's own expressions (planner/scans.py own_names)
        try:
            found = self.reg.resolve_field(base, ref, prefer_columns=True)
        except MetricsLayerError as exc:
            if "." in ref or self.reg.columns(base) is not None:
                raise NotExportable(str(exc)) from None
            found = FieldRef(base, (), base, ref, "column")
        for step in found.path:
            if (step.left, step.role) not in self.joins:
                raise NotExportable(
                    f"the filter uses the join {step.left}.{step.role}, which is not exported"
                )
        roles = found.roles
        target = found.source
        if target not in self.dims:
            raise NotExportable(f"the filter uses {target}, which is not exported")
        at_grain = _GRAIN_NAME.match(found.name)
        if (
            found.kind == "column"
            and at_grain
            and self.dims[target].get(at_grain.group(1), ("", None))[0] == "time"
        ):
            # `<time>__<grain>` read as a column only because no schema says otherwise: with a
            # connection the registry reads it as the time field at that grain
            found = replace(
                found, name=at_grain.group(1), kind="dimension", grain=at_grain.group(2)
            )
        if found.kind == "column":
            declared = self.project.sources[target].dimensions.get(found.name)
            if declared is not None and (declared.expr or found.name).strip() != found.name:
                raise NotExportable(
                    f"the filter uses the column {ref!r}, and the dimension of that name is another expression"
                )
            self.add_column_dimension(target, found.name)
        if found.name not in self.dims[target]:
            raise NotExportable(f"the filter uses the dimension {ref!r}, which is not exported")
        kind, entity = self.dims[target][found.name]
        if kind == "entity":
            if found.grain:
                raise NotExportable(f"{ref!r}: a key column has no time grain")
            return dimension_template("Entity", roles, str(entity))
        entities = roles or (self.primary[target],)
        if kind == "time":
            return dimension_template("TimeDimension", entities, found.name, found.grain or "day")
        if found.grain:
            raise NotExportable(f"{ref!r}: {found.name} is not a time dimension in MetricFlow")
        return dimension_template("Dimension", entities, found.name)


def _filtered_count(agg: str, text: str | None) -> bool:
    return agg in ("count", "count_distinct") and bool(text)
