"""MetricFlow filters and metrics -> metrics_layer filters and metrics (convert.py reads the
semantic models first; this part translates what refers to them)."""

from __future__ import annotations

import re
from typing import Any

from metrics_layer.errors import suggest
from metrics_layer.interchange.metricflow.dbt_project import Item
from metrics_layer.interchange.metricflow.filters import (
    GRAINS,
    FieldCall,
    Untranslatable,
    combine,
    translate_filter,
)
from metrics_layer.interchange.metricflow.state import ConverterState, Model

SIDES = ("base", "conversion")


class MetricConverter(ConverterState):
    """Filters (`{{ Dimension(...) }}` and friends) and simple / ratio / derived / cumulative
    metrics, once the semantic models are known."""

    # ------------------------------------------------------------------ filters
    def field(self, model_name: str, call: FieldCall, time_dim: str | None) -> str:
        """Our dimension path from `model_name` for one MetricFlow field reference."""
        model = self.models[model_name]
        if call.name == "metric_time" and not call.entities:
            if call.kind == "Entity" or time_dim is None:
                raise Untranslatable("metric_time with no time dimension")
            return self._time_name(model, time_dim, call.grain)
        roles: list[str] = []
        cur = model
        for i, entity in enumerate(call.entities):
            if i == 0 and entity == cur.primary:
                continue
            if entity not in cur.entities:
                raise Untranslatable(
                    f"entity {entity!r} is not reachable from {cur.name}{suggest(entity, cur.entities)}"
                )
            targets = [
                m
                for m in self.models.values()
                if m.name != cur.name
                and m.entities.get(entity, {}).get("type") in ("primary", "unique")
            ]
            if not targets:
                raise Untranslatable(f"no semantic model has entity {entity!r} as primary")
            roles.append(entity)
            cur = targets[0]
        if call.kind == "Entity":
            if call.name not in cur.entity_dims:
                raise Untranslatable(
                    f"unknown entity {call.name!r} in {cur.name}{suggest(call.name, cur.entities)}"
                )
            return ".".join([*roles, cur.entity_dims[call.name]])
        if call.name not in cur.dimensions:
            raise Untranslatable(
                f"unknown dimension {call.name!r} in {cur.name}{suggest(call.name, cur.dimensions)}"
            )
        if call.name in cur.time_dims:
            return ".".join([*roles, self._time_name(cur, call.name, call.grain)])
        return ".".join([*roles, call.name])

    def _time_name(self, model: Model, dim: str, grain: str | None) -> str:
        own = model.time_dims.get(dim, "day")
        if grain is None or grain == own:
            return dim
        if GRAINS.index(grain) < GRAINS.index(own):
            raise Untranslatable(f"{dim} has granularity {own}; {grain} is finer")
        return f"{dim}__{grain}"

    def filter_for(self, measure: str, text: Any) -> str | None:
        texts = text if isinstance(text, list) else [text]
        model = self.measure_model[measure]
        time_dim = self.measure_time.get(measure)
        return combine(
            [
                translate_filter(str(t), lambda call: self.field(model, call, time_dim))
                for t in texts
                if t
            ]
        )

    # ------------------------------------------------------------------ metrics
    def _metric(self, item: Item) -> None:
        data, name = item.data, item.name
        kind = str(data.get("type", "")).lower()
        params = data.get("type_params") or {}
        out: dict[str, Any]
        if kind == "simple":
            out = self._simple(name, params.get("measure"), data.get("filter"))
        elif kind == "ratio":
            out = self._ratio(name, params, data.get("filter"))
        elif kind == "derived":
            out = self._derived(name, params, data.get("filter"))
        elif kind == "cumulative":
            out = self._cumulative(item, params, data.get("filter"))
        elif kind == "conversion":
            out = self._conversion(name, params, data.get("filter"))
        else:
            raise Untranslatable(f"metric type {kind!r} is not translated")
        for key in ("label", "description"):
            if isinstance(data.get(key), str):
                out[key] = " ".join(data[key].split())
        self.metrics[name] = out

    def _conversion(self, name: str, params: dict[str, Any], metric_filter: Any) -> dict[str, Any]:
        """A conversion metric: the same kind here (definitions/conversion.py), with MetricFlow's
        matching rule; the metric's filter narrows the base events, as in MetricFlow."""
        conv = params.get("conversion_type_params") or {}
        base, base_spec = self._conversion_input(conv, "base")
        target, target_spec = self._conversion_input(conv, "conversion")
        entity = conv.get("entity")
        models = (self.models[self.measure_model[base]], self.models[self.measure_model[target]])
        block: dict[str, Any] = {
            "base": f"{models[0].name}.{base}",
            "conversion": f"{models[1].name}.{target}",
        }
        names = [self._conversion_property(m, str(entity), "entity") for m in models]
        block["entity"] = names[0] if names[0] == names[1] else dict(zip(SIDES, names, strict=True))
        if conv.get("window"):
            block["window"] = str(conv["window"])
        # MetricFlow compares the two times at the metric's time granularity (truncated)
        grains = [
            m.time_dims.get(self.measure_time.get(measure) or "", "day")
            for m, measure in zip(models, (base, target), strict=True)
        ]
        known = [g for g in grains if g in GRAINS]
        if known:
            block["time_grain"] = max(known, key=GRAINS.index)
        calculation = str(conv.get("calculation", "conversion_rate")).lower()
        if calculation not in ("conversion_rate", "conversions"):
            raise Untranslatable(f"conversion calculation {calculation!r} is not translated")
        if calculation != "conversion_rate":
            block["calculation"] = calculation
        props = []
        for prop in conv.get("constant_properties") or []:
            pair = [
                self._conversion_property(m, str(prop.get(f"{side}_property")), "constant property")
                for m, side in zip(models, SIDES, strict=True)
            ]
            props.append(dict(zip(SIDES, pair, strict=True)))
        if props:
            block["constant_properties"] = props
        if target_spec.get("filter"):
            raise Untranslatable("a filter on the conversion measure is not translated")
        if base_spec.get("join_to_timespine") or target_spec.get("join_to_timespine"):
            raise Untranslatable("join_to_timespine on a conversion input is not translated")
        if base_spec.get("fill_nulls_with") is not None:
            raise Untranslatable("fill_nulls_with on the base measure is not translated")
        out: dict[str, Any] = {"type": "conversion", "conversion": block}
        fill = target_spec.get("fill_nulls_with")
        if fill is not None:
            if calculation != "conversions":
                raise Untranslatable(
                    "fill_nulls_with on the conversion measure of a conversion_rate is not "
                    "translated (it is for calculation: conversions)"
                )
            if isinstance(fill, bool) or not isinstance(fill, int | float):
                raise Untranslatable(f"fill_nulls_with {fill!r} is not a number")
            out["fill_nulls_with"] = fill
        text = combine(
            [
                self.filter_for(base, base_spec.get("filter")) or "",
                self.filter_for(base, metric_filter) or "",
            ]
        )
        if text:
            out["filter"] = text
        return out

    def _conversion_input(self, conv: dict[str, Any], side: str) -> tuple[str, dict[str, Any]]:
        """The base or conversion measure: `<side>_measure`, or the measure of the simple
        metric `<side>_metric` (MetricFlow accepts both)."""
        if conv.get(f"{side}_measure") is not None:
            return self._measure_ref(conv[f"{side}_measure"])
        spec = conv.get(f"{side}_metric")
        metric = spec.get("name") if isinstance(spec, dict) else spec
        measure = self._base_measure(str(metric)) if metric else None
        if measure is None:
            raise Untranslatable(
                f"{side}_metric {metric!r} is not a simple metric"
                if metric
                else f"conversion metric without {side}_measure"
            )
        item = self.mf_metrics[str(metric)]
        name, mspec = self._measure_ref((item.data.get("type_params") or {}).get("measure"))
        extra = spec if isinstance(spec, dict) else {}
        filters = [f for f in (item.data.get("filter"), extra.get("filter")) if f]
        return name, {**mspec, **({"filter": filters} if filters else {})}

    def _conversion_property(self, model: Model, name: str, what: str) -> str:
        """Our dimension name, in `model`'s source, of a MetricFlow entity or dimension."""
        if name in model.entities:
            return model.entity_dims.get(name, str(model.entities[name]["column"]))
        if name in model.dimensions and what != "entity":
            return name
        known = list(model.entities) + (list(model.dimensions) if what != "entity" else [])
        raise Untranslatable(
            f"{what} {name!r} is not in semantic model {model.name}{suggest(name, known)}"
        )

    def _measure_ref(self, measure: Any) -> tuple[str, dict[str, Any]]:
        if isinstance(measure, dict):
            spec = measure
            name = measure.get("name")
        else:
            spec, name = {}, measure
        if not isinstance(name, str) or name not in self.measure_model:
            raise Untranslatable(
                f"unknown measure {name!r}{suggest(str(name), self.measure_model)}"
            )
        return name, spec

    def _simple(self, name: str, measure: Any, metric_filter: Any) -> dict[str, Any]:
        mname, spec = self._measure_ref(measure)
        out: dict[str, Any] = {"measure": f"{self.measure_model[mname]}.{mname}"}
        text = combine(
            [
                self.filter_for(mname, spec.get("filter")) or "",
                self.filter_for(mname, metric_filter) or "",
            ]
        )
        if text:
            out["filter"] = text
        params = (
            (self.mf_metrics[name].data.get("type_params") or {}) if name in self.mf_metrics else {}
        )
        fill = spec.get("fill_nulls_with", params.get("fill_nulls_with"))
        if fill is not None:
            if isinstance(fill, bool) or not isinstance(fill, int | float):
                raise Untranslatable(f"fill_nulls_with {fill!r} is not a number")
            out["fill_nulls_with"] = fill
        if spec.get("join_to_timespine", params.get("join_to_timespine")):
            out["join_to_timespine"] = True
        return out

    def _base_measure(self, metric: str) -> str | None:
        """The measure of a simple MetricFlow metric (None for other kinds)."""
        item = self.mf_metrics.get(metric)
        if item is None or str(item.data.get("type", "")).lower() != "simple":
            return None
        measure = (item.data.get("type_params") or {}).get("measure")
        return measure.get("name") if isinstance(measure, dict) else measure

    def _input(self, owner: str, spec: Any, extra_filter: Any, role: str) -> str:
        """A metric input (name or {name, filter, alias, offset_window}) as one of our metric
        names: the metric itself, or a helper metric carrying the input's own settings."""
        if isinstance(spec, str):
            spec = {"name": spec}
        base = spec.get("name")
        if not isinstance(base, str) or base not in self.mf_metrics:
            raise Untranslatable(f"unknown metric {base!r}{suggest(str(base), self.mf_metrics)}")
        filters = [f for f in (spec.get("filter"), extra_filter) if f]
        name = base
        if filters:
            measure = self._base_measure(base)
            if measure is None:
                raise Untranslatable(
                    f"a filter on input {base!r} that is not a simple metric is not translated"
                )
            helper = (
                f"{owner}__{spec.get('alias') or base}_{role}"
                if role
                else f"{owner}__{spec.get('alias') or base}"
            )
            item = self.mf_metrics[base]
            merged = [item.data.get("filter"), *filters]
            params = item.data.get("type_params") or {}
            self.metrics[helper] = self._simple(
                helper, params.get("measure"), [f for f in merged if f]
            )
            name = helper
        window = spec.get("offset_window")
        to_grain = spec.get("offset_to_grain")
        if window and to_grain:
            raise Untranslatable(f"input {base!r} has both offset_window and offset_to_grain")
        if to_grain:
            grain = str(to_grain).lower()
            if grain not in GRAINS:
                raise Untranslatable(
                    f"offset_to_grain {to_grain!r} is not one of {', '.join(GRAINS)}"
                )
            helper = f"{owner}__{spec.get('alias') or base}"
            if helper == name:
                helper += "_offset"
            self.metrics[helper] = {"type": "offset", "metric": name, "offset_to_grain": grain}
            name = helper
        elif window:
            helper = f"{owner}__{spec.get('alias') or base}"
            if helper == name:
                helper += "_offset"
            self.metrics[helper] = {"type": "offset", "metric": name, "offset": str(window)}
            name = helper
        return name

    def _ratio(self, name: str, params: dict[str, Any], metric_filter: Any) -> dict[str, Any]:
        num = self._input(
            name, params.get("numerator"), metric_filter, "numerator" if metric_filter else ""
        )
        den = self._input(
            name, params.get("denominator"), metric_filter, "denominator" if metric_filter else ""
        )
        return {"type": "ratio", "numerator": num, "denominator": den}

    def _derived(self, name: str, params: dict[str, Any], metric_filter: Any) -> dict[str, Any]:
        expr = str(params.get("expr", ""))
        names: dict[str, str] = {}
        for spec in params.get("metrics") or []:
            spec = {"name": spec} if isinstance(spec, str) else spec
            ours = self._input(name, spec, metric_filter, "")
            names[spec.get("alias") or spec["name"]] = ours
        renamed = re.sub(
            r"\b[A-Za-z_][A-Za-z0-9_]*\b", lambda m: names.get(m.group(0), m.group(0)), expr
        )
        return {"type": "derived", "expr": " ".join(renamed.split())}

    def _cumulative(self, item: Item, params: dict[str, Any], metric_filter: Any) -> dict[str, Any]:
        cparams = params.get("cumulative_type_params") or {}
        window = cparams.get("window", params.get("window"))
        to_date = cparams.get("grain_to_date", params.get("grain_to_date"))
        period_agg = str(cparams.get("period_agg", "first")).lower()
        out = self._simple(item.name, params.get("measure"), metric_filter)
        out = {"type": "cumulative", **out}
        if window:
            out["window"] = str(window)
        if to_date:
            out["grain_to_date"] = str(to_date).lower()
        if period_agg not in ("first", "last", "average"):
            raise Untranslatable(f"period_agg {period_agg!r} is not translated")
        out["period_agg"] = period_agg  # MetricFlow's default is first
        return out
