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
from typing import Any

from metrics_layer.errors import suggest
from metrics_layer.interchange.metricflow.dbt_project import DbtProject, Item, ref_model
from metrics_layer.interchange.metricflow.filters import (
    GRAINS,
    Untranslatable,
)
from metrics_layer.interchange.metricflow.metrics import MetricConverter
from metrics_layer.interchange.metricflow.state import Model as Model
from metrics_layer.interchange.metricflow.state import Problem as Problem

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


class Converter(MetricConverter):
    """Semantic models -> sources (then metrics, by MetricConverter), and the report."""

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

    def _notes(self) -> None:
        for file, line, what in self.project.unreadable:
            self.problems.append(Problem(file, line, what, "skipped: every entry needs a name"))
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
