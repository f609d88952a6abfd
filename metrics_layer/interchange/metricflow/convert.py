"""MetricFlow semantic models and metrics -> metrics_layer definitions (the YAML structure).

The mapping (docs/coming-from-metricflow.md):
- a semantic model is a source named after it; its table is the relation dbt built for the
  model it `ref()`s; its primary entity's column is the primary key; the default
  `agg_time_dimension` is the source's time column;
- a foreign entity is a join whose role is the entity's name, to the semantic model that has
  that entity as primary (or unique); every entity is also a dimension (its key column);
- a categorical dimension is a dimension; a time dimension is a dimension plus one
  `<name>__<grain>` dimension per grain from its granularity up, so `customer__ds__month`
  becomes `customer.ds__month`;
- measures keep their names and aggregations (`sum_boolean` sums the condition as 0/1, a
  count of a constant counts rows, `average` is avg); non-additive dimensions are `non_additive`;
- metric names stay MetricFlow's; simple, ratio, derived (with offsets) and cumulative
  metrics map onto the same kinds; an input with its own filter, alias or offset becomes a
  helper metric named `<metric>__<input>`.

Anything it cannot express is reported (file, line, what, why) and left out, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from metrics_layer.errors import suggest
from metrics_layer.interchange.metricflow.dbt_project import DbtProject, Item, ref_model
from metrics_layer.interchange.metricflow.filters import (
    GRAINS,
    FieldCall,
    Untranslatable,
    combine,
    translate_filter,
)

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
AGGS = {
    "sum": "sum",
    "count": "count",
    "count_distinct": "count_distinct",
    "average": "avg",
    "avg": "avg",
    "min": "min",
    "max": "max",
    "median": "median",
    "percentile": "percentile",
    "sum_boolean": "sum",
}
DEFAULT_SCHEMAS = ("main", "public")


@dataclass(frozen=True)
class Problem:
    """Something of the dbt project the import did not translate, and where it is."""

    file: str
    line: int | None
    item: str
    message: str

    def __str__(self) -> str:
        at = f"{self.file}:{self.line}" if self.line else self.file
        return f"{at}: {self.item}: {self.message}"


@dataclass
class Model:
    """What the converter needs to know of one semantic model."""

    item: Item
    name: str
    primary: str | None = None
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> type, column
    dimensions: dict[str, dict[str, Any]] = field(default_factory=dict)
    entity_dims: dict[str, str] = field(default_factory=dict)  # entity -> dimension name
    time_dims: dict[str, str] = field(default_factory=dict)  # time dimension -> granularity
    default_time: str | None = None


class Converter:
    def __init__(self, project: DbtProject) -> None:
        self.project = project
        self.problems: list[Problem] = []
        self.sources: dict[str, Any] = {}
        self.metrics: dict[str, Any] = {}
        self.models: dict[str, Model] = {}
        self.measure_model: dict[str, str] = {}
        self.measure_time: dict[str, str | None] = {}
        self.mf_metrics = {m.name: m for m in project.metrics}

    def report(self, item: Item, what: str, message: str, *sub: str | int) -> None:
        self.problems.append(Problem(item.file, item.line(*sub), what, message))

    # ------------------------------------------------------------------ semantic models
    def convert(self) -> dict[str, Any]:
        for item in self.project.semantic_models:
            self._scan_model(item)
        for model in self.models.values():
            self._source(model)
        for item in self.project.metrics:
            try:
                self._metric(item)
            except Untranslatable as exc:
                self.report(item, f"metric {item.name}", str(exc))
                for helper in [n for n in self.metrics if n.startswith(f"{item.name}__")]:
                    del self.metrics[helper]
        for model in self.models.values():
            self._created_metrics(model)
        self._notes()
        return {"version": 1, "sources": self.sources, "metrics": self.metrics}

    def _scan_model(self, item: Item) -> None:
        data = item.data
        model = Model(item, item.name)
        for i, ent in enumerate(data.get("entities") or []):
            name, kind = ent.get("name"), str(ent.get("type", "")).lower()
            column = ent.get("expr") or name
            if not isinstance(name, str):
                continue
            model.entities[name] = {"type": kind, "column": column, "index": i}
            if kind == "primary":
                model.primary = name
            if kind == "natural":
                self.report(
                    item,
                    f"entity {name}",
                    "natural entities (SCD keys) are not translated; declare `scd:` on the source",
                    "entities",
                    i,
                )
        for i, dim in enumerate(data.get("dimensions") or []):
            name = dim.get("name")
            if isinstance(name, str):
                model.dimensions[name] = {**dim, "index": i}
                if str(dim.get("type", "")).lower() == "time":
                    params = dim.get("type_params") or {}
                    model.time_dims[name] = str(params.get("time_granularity", "day")).lower()
        defaults = data.get("defaults") or {}
        model.default_time = defaults.get("agg_time_dimension")
        self.models[item.name] = model
        for measure in data.get("measures") or []:
            if isinstance(measure.get("name"), str):
                self.measure_model[measure["name"]] = item.name

    def _source(self, model: Model) -> None:
        item, data = model.item, model.item.data
        src: dict[str, Any] = {}
        ref = ref_model(str(data.get("model", "")))
        if ref is None:
            self.report(
                item,
                f"semantic model {model.name}",
                f"model {data.get('model')!r} is not a ref('...'); the table is taken as {model.name!r}",
                "model",
            )
            ref = model.name
        table, schema = self.project.relation(ref)
        src["table"] = table
        if schema and schema not in DEFAULT_SCHEMAS:
            src["database"] = schema
        if model.default_time:
            column = self._time_column(model, model.default_time)
            if column:
                src["time"] = column
        if model.primary:
            src["primary_key"] = model.entities[model.primary]["column"]
        for key in ("label", "description"):
            if isinstance(data.get(key), str):
                src[key] = " ".join(data[key].split())
        src["dimensions"] = self._dimensions(model)
        measures = self._measures(model)
        if measures:
            src["measures"] = measures
        joins = self._joins(model)
        if joins:
            src["joins"] = joins
        self.sources[model.name] = src

    def _time_column(self, model: Model, name: str) -> str | None:
        dim = model.dimensions.get(name)
        if dim is None:
            self.report(
                model.item,
                f"semantic model {model.name}",
                f"agg_time_dimension {name!r} is not a dimension{suggest(name, model.dimensions)}",
                "defaults",
            )
            return None
        column = dim.get("expr") or name
        if not _IDENT.match(str(column)):
            self.report(
                model.item,
                f"dimension {name}",
                "a time dimension used as agg_time_dimension must be a column, not an expression",
                "dimensions",
                dim["index"],
            )
            return None
        return str(column)

    def _dimensions(self, model: Model) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, ent in model.entities.items():
            column = str(ent["column"])
            dim_name = column if _IDENT.match(column) else name
            model.entity_dims[name] = dim_name
            out[dim_name] = {} if dim_name == column else {"expr": column}
        for name, dim in model.dimensions.items():
            item_dim: dict[str, Any] = {}
            expr = dim.get("expr")
            if expr is not None and str(expr).strip() != name:
                item_dim["expr"] = " ".join(str(expr).split())
            for key in ("label", "description"):
                if isinstance(dim.get(key), str):
                    item_dim[key] = " ".join(dim[key].split())
            if (dim.get("type_params") or {}).get("validity_params"):
                self.report(
                    model.item,
                    f"dimension {name}",
                    "validity_params (SCD) are not translated; declare `scd:` on the source",
                    "dimensions",
                    dim["index"],
                )
            out[name] = item_dim
            if name in model.time_dims:
                base = item_dim.get("expr", name)
                start = model.time_dims[name]
                if start not in GRAINS:
                    self.report(
                        model.item,
                        f"dimension {name}",
                        f"time granularity {start!r} is not translated (day and coarser are)",
                        "dimensions",
                        dim["index"],
                    )
                    continue
                for grain in GRAINS[GRAINS.index(start) :]:
                    out[f"{name}__{grain}"] = {
                        "expr": f"DATE_TRUNC('{grain}', {base})",
                        "description": f"{name} at {grain} grain (the period's first day)",
                    }
        return out

    def _measures(self, model: Model) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for i, measure in enumerate(model.item.data.get("measures") or []):
            name = measure.get("name")
            if not isinstance(name, str):
                continue
            try:
                out[name] = self._measure(model, measure, i)
            except Untranslatable as exc:
                self.report(model.item, f"measure {name}", str(exc), "measures", i)
        return out

    def _measure(self, model: Model, measure: dict[str, Any], index: int) -> dict[str, Any]:
        name = measure["name"]
        agg = str(measure.get("agg", "")).lower()
        if agg not in AGGS:
            raise Untranslatable(f"aggregation {agg!r} is not translated")
        expr = measure.get("expr", name)
        expr = " ".join(str(expr).split()) if expr is not None else name
        out: dict[str, Any] = {"agg": AGGS[agg]}
        if agg == "count" and _constant(expr):
            pass  # COUNT(1): every row
        elif agg == "sum_boolean":
            out["expr"] = f"CAST(({expr}) AS INTEGER)"
        else:
            out["expr"] = expr
        if agg == "percentile":
            params = measure.get("agg_params") or {}
            if params.get("use_discrete_percentile") or params.get("use_approximate_percentile"):
                raise Untranslatable("discrete or approximate percentiles are not translated")
            out["p"] = params.get("percentile")
        time = measure.get("agg_time_dimension") or model.default_time
        column = self._time_column(model, time) if time else None
        self.measure_time[name] = time
        default = (
            model.dimensions.get(model.default_time or "", {}).get("expr") or model.default_time
        )
        if column and column != default:
            out["time"] = column
        nad = measure.get("non_additive_dimension")
        if nad:
            choice = str(nad.get("window_choice", "max")).lower()
            groupings = []
            for entity in nad.get("window_groupings") or []:
                if entity not in model.entities:
                    raise Untranslatable(
                        f"window grouping {entity!r} is not an entity of {model.name}"
                    )
                groupings.append(str(model.entities[entity]["column"]))
            nad_dim = nad.get("name")
            if nad_dim != time:
                raise Untranslatable(
                    "a non-additive dimension other than the measure's time dimension is not translated"
                )
            out["non_additive"] = {
                "window": "first" if choice == "min" else "last",
                "groupings": groupings,
            }
        for key in ("label", "description"):
            if isinstance(measure.get(key), str):
                out[key] = " ".join(measure[key].split())
        return out

    def _joins(self, model: Model) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, ent in model.entities.items():
            if ent["type"] != "foreign":
                continue
            targets = [
                m
                for m in self.models.values()
                if m.name != model.name
                and m.entities.get(name, {}).get("type") in ("primary", "unique")
            ]
            if not targets:
                continue  # an entity only this model has: a dimension, nothing to join
            if len(targets) > 1:
                self.report(
                    model.item,
                    f"entity {name}",
                    f"several semantic models have it as primary ({', '.join(t.name for t in targets)}); joined to {targets[0].name}",
                    "entities",
                    ent["index"],
                )
            target = targets[0]
            left, right = str(ent["column"]), str(target.entities[name]["column"])
            if not (_IDENT.match(left) and _IDENT.match(right)):
                self.report(
                    model.item,
                    f"entity {name}",
                    "an entity joined on an expression is not translated (keys must be columns)",
                    "entities",
                    ent["index"],
                )
                continue
            join: dict[str, Any] = {"keys": left if left == right else {left: right}}
            if target.name != name:
                join["source"] = target.name
            kind = target.entities[name]["type"]
            join["relationship"] = "many_to_one" if kind in ("primary", "unique") else "many_to_one"
            out[name] = join
        return out

    def _created_metrics(self, model: Model) -> None:
        for measure in model.item.data.get("measures") or []:
            name = measure.get("name")
            if measure.get("create_metric") and name not in self.metrics:
                self.metrics[name] = {"measure": f"{model.name}.{name}"}

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
            raise Untranslatable(
                "conversion metrics are not translated; define a funnel (docs/funnels.md)"
            )
        else:
            raise Untranslatable(f"metric type {kind!r} is not translated")
        for key in ("label", "description"):
            if isinstance(data.get(key), str):
                out[key] = " ".join(data[key].split())
        self.metrics[name] = out

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
        if spec.get("offset_to_grain"):
            raise Untranslatable("offset_to_grain is not translated")
        window = spec.get("offset_window")
        if window:
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

    def _notes(self) -> None:
        for item in self.project.saved_queries:
            self.report(
                item,
                f"saved query {item.name}",
                "saved queries are requests, not definitions: ask layer.query(...) with its metrics and group_by",
            )
        for item in self.project.models:
            if item.data.get("time_spine"):
                self.report(
                    item,
                    f"time spine {item.name}",
                    "not needed: metrics_layer builds the periods of a query itself (fill='zero' / 'null')",
                )


def _constant(expr: str) -> bool:
    return bool(re.fullmatch(r"\s*\(?\s*[0-9]+\s*\)?\s*", expr))


def convert(project: DbtProject) -> tuple[dict[str, Any], list[Problem]]:
    converter = Converter(project)
    return converter.convert(), converter.problems
