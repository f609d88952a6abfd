"""Sources -> MetricFlow semantic models (the first half of `export_metricflow`).

The mapping is the import's (convert.py) read backwards, so `import(export(x))` names the same
fields: a source is a semantic model of the same name whose `model` is `ref('<table>')`; its
primary key is its primary entity; a join is a foreign entity named after the join's role,
matched by an entity of that name on the joined source (its primary entity, or a `unique` one
when a second role reaches the same key); the source's and the measures' time columns are time
dimensions at day granularity; measures keep their aggregations.

MetricFlow has one namespace for the elements of all semantic models (an entity, a dimension
and a measure may not share a name) and allows only lower-case names without `__`: measures,
which no path names, are renamed when they would clash; a dimension or join that would clash
is reported. Whatever has no MetricFlow form is reported with its file and line, never guessed.
"""

from __future__ import annotations

import re
from typing import Any

from metrics_layer.definitions.models import Measure, Source
from metrics_layer.errors import MetricsLayerError
from metrics_layer.interchange.metricflow.export_filters import NotExportable, column_names
from metrics_layer.interchange.metricflow.state import Problem
from metrics_layer.registry import Registry

# MetricFlow's rule for element and metric names (dbt_semantic_interfaces UniqueAndValidNameRule)
VALID_NAME = re.compile(r"\A[a-z]((?!__)[a-z0-9_])*[a-z0-9]\Z")
RESERVED = {
    "metric_time",
    "nanosecond",
    "microsecond",
    "millisecond",
    "second",
    "minute",
    "hour",
    "day",
    "week",
    "month",
    "quarter",
    "year",
}
GRAINS = ("day", "week", "month", "quarter", "year")
AGGS = {
    "sum": "sum",
    "count": "count",
    "count_distinct": "count_distinct",
    "avg": "average",
    "min": "min",
    "max": "max",
    "median": "median",
    "percentile": "percentile",
}
_GRAIN_DIM = re.compile(r"\A(\w+?)__(day|week|month|quarter|year)\Z")
_TRUNC = re.compile(r"\A\s*DATE_TRUNC\(\s*'(\w+)'\s*,\s*(\w+)\s*\)\s*\Z", re.I)


def valid_name(name: str) -> bool:
    return bool(VALID_NAME.match(name)) and name not in RESERVED


class ModelExporter:
    """Builds the semantic models; keeps what the metrics need (entity names, dimension kinds,
    exported measures) and the report."""

    def __init__(self, registry: Registry) -> None:
        self.reg = registry
        self.project = registry.project
        self.problems: list[Problem] = []
        self.models: dict[str, dict[str, Any]] = {}  # source -> semantic model (YAML structure)
        self.primary: dict[str, str] = {}  # source -> its primary entity's name
        self.key_entity: dict[tuple[str, str], str] = {}  # (source, key column) -> entity
        self.entities: dict[str, list[dict[str, Any]]] = {}  # source -> entity entries
        self.joins: dict[tuple[str, str], str] = {}  # (source, role) exported -> target
        self.dims: dict[str, dict[str, tuple[str, str | None]]] = {}  # kind, entity name
        self.measures: dict[tuple[str, str], str] = {}  # (source, measure) -> MetricFlow name
        self.measure_filters: dict[tuple[str, str], str] = {}
        self.entity_names: set[str] = set()

    # ------------------------------------------------------------------ report
    def report(self, section: str, name: str, message: str, *fields: str | int) -> None:
        where = self.reg.locate(section, name, *fields)
        item = f"{section[:-1] if section.endswith('s') else section} {name}"
        if fields:
            item += "." + ".".join(map(str, fields))
        self.problems.append(Problem(where.file or "<definitions>", where.line, item, message))

    # ------------------------------------------------------------------ semantic models
    def export_models(self) -> list[dict[str, Any]]:
        sources = {n: s for n, s in self.project.sources.items() if self._exportable(n, s)}
        self._plan_entities(sources)
        for name, src in sources.items():
            self.dims[name] = {}
            self.models[name] = self._model(name, src)
        for name, src in sources.items():
            measures = [
                m for m in (self._measure(name, src, k, v) for k, v in src.measures.items()) if m
            ]
            if measures:
                self.models[name]["measures"] = measures
        return list(self.models.values())

    def _exportable(self, name: str, src: Source) -> bool:
        why = None
        if src.calendar is not None:
            why = "a generated calendar has no table in the warehouse; MetricFlow's time spine has only its days, not fiscal or holiday columns"
        elif src.scd is not None:
            why = "SCD Type 2 sources (point-in-time joins on valid_from/valid_to) have no MetricFlow form that gives the same numbers"
        elif not valid_name(name):
            why = "MetricFlow names are lower-case letters, digits and single underscores"
        if why:
            self.report("sources", name, f"not exported: {why}")
            return False
        if src.checks:
            self.report(
                "sources", name, "checks are not exported (write them as dbt tests)", "checks"
            )
        return True

    def _plan_entities(self, sources: dict[str, Source]) -> None:
        """Entity names: each exported join's role names the joined key; then primaries."""
        taken_keys: dict[str, tuple[str, str]] = {}  # entity name -> (source, key column)
        for name in sources:
            self.entities[name] = []
        for name, src in sources.items():
            for role, join in src.joins.items():
                target = join.source or role
                pairs = join.key_pairs()
                why = None
                if target not in sources:
                    why = f"the joined source {target!r} is not exported"
                elif join.relationship == "one_to_many":
                    why = "it is one_to_many; MetricFlow joins only to a unique key (many_to_one or one_to_one)"
                elif len(pairs) != 1:
                    why = "MetricFlow entities are single keys; this join has several columns"
                elif not valid_name(role):
                    why = "MetricFlow names are lower-case letters, digits and single underscores"
                elif role in taken_keys and taken_keys[role] != (target, pairs[0][1]):
                    other = taken_keys[role]
                    why = f"the entity {role!r} already names {other[0]}.{other[1]}; MetricFlow entities are global"
                elif any(e["name"] == role for e in self.entities[name]):
                    why = f"{name} already has an entity named {role!r}"
                if why:
                    self.report("sources", name, f"join not exported: {why}", "joins", role)
                    continue
                left, right = pairs[0]
                if (target, right) not in self.key_entity:
                    self.key_entity[(target, right)] = role
                    kind = "primary" if sources[target].primary_key == right else "unique"
                    if kind == "primary":
                        self.primary[target] = role
                    self.entities[target].append(_entity(role, kind, right))
                elif self.key_entity[(target, right)] != role:
                    self.entities[target].append(_entity(role, "unique", right))
                taken_keys[role] = (target, right)
                self.entities[name].append(_entity(role, "foreign", left))
                self.joins[(name, role)] = target
        self.entity_names = set(taken_keys)
        self._grouping_entities(sources)
        for name, src in sources.items():
            if name in self.primary:
                continue
            entity = self._fresh(name, src)
            self.primary[name] = entity
            self.entity_names.add(entity)
            if isinstance(src.primary_key, str):
                self.key_entity[(name, src.primary_key)] = entity
                self.entities[name].insert(0, _entity(entity, "primary", src.primary_key))

    def _grouping_entities(self, sources: dict[str, Source]) -> None:
        """A non-additive measure's window groupings are entities in MetricFlow: a grouping
        column that is no key or join column yet becomes a foreign entity of its name."""
        for name, src in sources.items():
            for m in src.measures.values():
                for column in m.non_additive.groupings if m.non_additive else []:
                    known = {e.get("expr", e["name"]) for e in self.entities[name]}
                    if column in known or column == src.primary_key:
                        continue
                    if valid_name(column) and column not in self.entity_names:
                        self.entities[name].append(_entity(column, "foreign", column))
                        self.entity_names.add(column)

    def _fresh(self, name: str, src: Source) -> str:
        """An entity name for a source no join names: its name, unless an element has it."""
        used = self.entity_names | {d for s in self.project.sources.values() for d in s.dimensions}
        used |= {m for s in self.project.sources.values() for m in s.measures}
        for candidate in (name, f"{name}_key", f"{name}_entity"):
            if candidate not in used and valid_name(candidate):
                return candidate
        return f"{name}_id_entity"

    def _model(self, name: str, src: Source) -> dict[str, Any]:
        model: dict[str, Any] = {"name": name}
        for key in ("label", "description"):
            if getattr(src, key):
                model[key] = " ".join(str(getattr(src, key)).split())
        model["model"] = f"ref('{src.table or name}')"
        if src.database:
            self.report(
                "sources",
                name,
                f"database {src.database!r} is not written: the dbt model ref('{src.table}') "
                "decides where its table is",
                "database",
            )
        times = self._time_columns(name, src)
        if src.time and src.time in times:
            model["defaults"] = {"agg_time_dimension": src.time}
        if not any(e["type"] == "primary" for e in self.entities[name]):
            model["primary_entity"] = self.primary[name]
        if self.entities[name]:
            model["entities"] = self.entities[name]
        dims = self._dimensions(name, src, times)
        if dims:
            model["dimensions"] = dims
        return model

    def _time_columns(self, name: str, src: Source) -> list[str]:
        """The time columns MetricFlow needs as time dimensions: the source's and measures'."""
        out = []
        for column in [src.time, *(meas.time for meas in src.measures.values())]:
            if column is None or column in out:
                continue
            if "." in column or not valid_name(column):
                continue  # reported where the measure is exported
            out.append(column)
        return out

    def _dimensions(self, name: str, src: Source, times: list[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        time_names = set(times) | {
            d for d, dim in src.dimensions.items() if dim.type in ("time", "date")
        }
        own_entities = {e["name"]: e.get("expr", e["name"]) for e in self.entities[name]}
        for dname, dim in src.dimensions.items():
            grain = _GRAIN_DIM.match(dname)
            if grain and grain.group(1) in time_names and _is_trunc(dim.expr, grain.group(2)):
                continue  # `<time>__<grain>`: every time field has it, in MetricFlow and here
            column = dim.expr or dname
            if dname in own_entities and own_entities[dname] == column:
                self.dims[name][dname] = ("entity", dname)  # the entity is this column
                continue
            why = None
            if not valid_name(dname):
                why = "MetricFlow names are lower-case letters, digits and single underscores"
            elif dname in self.entity_names:
                why = f"{dname!r} is also an entity (a join role); MetricFlow has one namespace for both"
            elif dim.expr:
                why = self._own_sql(name, dim.expr)
            if why:
                self.report("sources", name, f"dimension not exported: {why}", "dimensions", dname)
                continue
            if dim.pii:
                self.report(
                    "sources", name, "pii masking is not exported", "dimensions", dname, "pii"
                )
            out.append(self._dimension(name, dname, dim.expr, dname in time_names, dim))
        for column in times:
            if column not in self.dims[name]:
                out.append(self._dimension(name, column, None, True, None))
        return out

    def _dimension(
        self, source: str, dname: str, expr: str | None, time: bool, dim: Any
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": dname, "type": "time" if time else "categorical"}
        if expr and expr.strip() != dname:
            entry["expr"] = " ".join(expr.split())
        for key in ("label", "description"):
            if dim is not None and getattr(dim, key):
                entry[key] = " ".join(str(getattr(dim, key)).split())
        if time:
            entry["type_params"] = {"time_granularity": "day"}
        self.dims[source][dname] = ("time" if time else "categorical", None)
        return entry

    def add_column_dimension(self, source: str, column: str) -> str:
        """A raw column a filter uses, as a categorical dimension of its semantic model."""
        if column in self.dims[source]:
            return column
        if not valid_name(column) or column in self.entity_names or column in self.measure_names():
            raise NotExportable(
                f"column {column!r} of {source} cannot be a MetricFlow dimension (its name)"
            )
        self.models[source].setdefault("dimensions", []).append(
            self._dimension(source, column, None, False, None)
        )
        return column

    def measure_names(self) -> set[str]:
        return set(self.measures.values())

    def _own_sql(self, source: str, text: str) -> str | None:
        """Why `text` cannot run as SQL on the source's table in MetricFlow (None if it can)."""
        try:
            names = column_names(text)
        except NotExportable as exc:
            return str(exc)
        for n in names:
            try:
                ref = self.reg.resolve_field(source, n, prefer_columns=True)
            except MetricsLayerError:
                continue  # a column the schema does not list: left to the warehouse
            if ref.path:
                return f"it refers to {n!r} through a join; MetricFlow expressions see the model's columns only"
            if ref.kind == "dimension":
                dim = self.project.sources[source].dimensions[ref.name]
                if dim.expr and dim.expr.strip() != ref.name:
                    return (
                        f"it refers to the dimension {n!r}; MetricFlow expressions see columns only"
                    )
        return None

    # ------------------------------------------------------------------ measures
    def _measure(self, source: str, src: Source, mname: str, m: Measure) -> dict[str, Any] | None:
        def skip(why: str, *fields: str) -> None:
            self.report(
                "sources", source, f"measure not exported: {why}", "measures", mname, *fields
            )

        time = m.time or src.time
        if time is None:
            skip("it has no time column (MetricFlow needs an agg_time_dimension)")
            return None
        if "." in time:
            skip(
                "its time column is on a joined source; MetricFlow's agg_time_dimension is the model's own",
                "time",
            )
            return None
        if not valid_name(time) or self.dims[source].get(time, ("", None))[0] != "time":
            skip(f"its time column {time!r} cannot be a MetricFlow time dimension", "time")
            return None
        for text, field in ((m.expr, "expr"),):
            why = self._own_sql(source, text) if text else None
            if why:
                skip(why, field)
                return None
        out: dict[str, Any] = {"name": self._measure_name(source, mname), "agg": AGGS[m.agg]}
        if m.agg == "count" and m.expr is None:
            out["expr"] = "1"
        elif m.expr is not None and m.expr.strip() != out["name"]:
            out["expr"] = " ".join(m.expr.split())
        elif m.expr is not None and out["name"] != mname:
            out["expr"] = m.expr
        if m.agg == "percentile":
            out["agg_params"] = {"percentile": m.p, "use_discrete_percentile": False}
        if m.time and m.time != src.time:
            out["agg_time_dimension"] = m.time
        if m.non_additive is not None:
            nad = m.non_additive
            if nad.dimension not in ("time", time):
                skip(
                    "a non-additive dimension other than the measure's time column has no MetricFlow form",
                    "non_additive",
                )
                return None
            groupings = []
            for column in nad.groupings:
                entity = self.key_entity.get((source, column)) or next(
                    (
                        e["name"]
                        for e in self.entities[source]
                        if e.get("expr", e["name"]) == column
                    ),
                    None,
                )
                if entity is None:
                    skip(
                        f"window grouping {column!r} is not an entity (a key or join column) of {source}",
                        "non_additive",
                    )
                    return None
                groupings.append(entity)
            spec: dict[str, Any] = {
                "name": time,
                "window_choice": "min" if nad.window == "first" else "max",
            }
            if groupings:
                spec["window_groupings"] = groupings
            out["non_additive_dimension"] = spec
        if m.filter:
            self.measure_filters[(source, mname)] = m.filter
        for key in ("label", "description"):
            if getattr(m, key):
                out[key] = " ".join(str(getattr(m, key)).split())
        self.measures[(source, mname)] = out["name"]
        return out

    def _measure_name(self, source: str, mname: str) -> str:
        """The measure's name, or `<source>_<measure>` when MetricFlow would refuse it."""
        taken = self.measure_names() | self.entity_names
        taken |= {d for dims in self.dims.values() for d in dims}
        for candidate in (
            mname,
            f"{source}_{mname}".replace("__", "_"),
            f"{source}_{mname}_measure",
        ):
            if valid_name(candidate) and candidate not in taken:
                if candidate != mname:
                    self.report(
                        "sources",
                        source,
                        f"exported as measure {candidate!r} (MetricFlow measure names are global and share one namespace with entities and dimensions)",
                        "measures",
                        mname,
                    )
                return candidate
        raise NotExportable(f"no MetricFlow name for measure {mname!r}")


def _entity(name: str, kind: str, column: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "type": kind}
    if column != name:
        out["expr"] = column
    return out


def _is_trunc(expr: str | None, grain: str) -> bool:
    m = _TRUNC.match(expr or "")
    return m is not None and m.group(1).lower() == grain
