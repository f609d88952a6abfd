"""The JSON Schema of definition files, generated from the pydantic models.

Editors (the YAML language server behind VS Code, JetBrains, Neovim) read it to complete keys,
show descriptions and flag misspelt fields while a definition is typed. The pydantic models
stay the one home of the vocabulary: the schema is derived from them, and this module only
adds what JSON Schema needs and pydantic cannot say (descriptions of fields, YAML's bare
`country:` meaning an empty mapping, names of a mapping's keys being closed).

The schema can tell shapes, names, types and enumerations; cross-references (a metric naming
a measure), expressions and Jinja are checked by `ml.load` only.
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA_ID = "https://metrics-layer.dev/schema/definitions-v1.json"

# (model title, field) -> description. Class docstrings already describe each model.
FIELD_DOCS: dict[tuple[str, str], str] = {
    ("Project", "version"): "Format version of the definition files (always 1).",
    ("Project", "sources"): "Tables (or views) and what can be asked of them, by source name.",
    (
        "Project",
        "metrics",
    ): "Named KPIs built from measures: simple, ratio, derived, cumulative, offset or share.",
    ("Project", "retention"): "Cohort retention analyses, by name.",
    ("Project", "funnels"): "Ordered conversion funnels, by name.",
    (
        "Source",
        "table",
    ): "Catalog table name (`table`, `schema.table` or `catalog.schema.table`); default: the source's name.",
    ("Source", "calendar"): "Generate this source as a date spine instead of reading a table.",
    ("Source", "database"): "Schema (optionally `catalog.schema`) holding the table.",
    ("Source", "time"): "Default time column of the source's measures.",
    ("Source", "primary_key"): "Column (or columns) identifying a row.",
    (
        "Source",
        "columns",
    ): "Declared column types (ibis type strings), for SQL without a connection.",
    (
        "Source",
        "dimensions",
    ): "Columns or expressions to group and filter by; `name: {}` is the column of that name.",
    ("Source", "measures"): "Aggregations over the source's rows.",
    ("Source", "joins"): "Sources joined to this one, keyed by role name.",
    ("Source", "checks"): "Data checks of the source's rows (docs/checks.md).",
    (
        "Source",
        "scd",
    ): "SCD Type 2: one row per version of an entity, valid in [valid_from, valid_to).",
    (
        "Dimension",
        "expr",
    ): "SQL expression over the source's columns (default: the column of the dimension's name).",
    ("Dimension", "type"): "Declared type of the dimension's values.",
    ("Measure", "agg"): "Aggregation function.",
    ("Measure", "expr"): "Column or SQL expression to aggregate (not needed for count).",
    ("Measure", "filter"): "SQL condition: only rows matching it are aggregated.",
    ("Measure", "p"): "Fraction for agg percentile (0 < p < 1).",
    ("Measure", "time"): "Time column of this measure when it differs from the source's.",
    (
        "Measure",
        "non_additive",
    ): "Semi-additive measure: aggregate only the first/last snapshot of each period.",
    (
        "Join",
        "keys",
    ): "Join key: one column of both sides, a list of them, or {left_col: right_col}.",
    ("Join", "source"): "The joined source when it differs from the role name.",
    ("Join", "relationship"): "Cardinality from this source to the joined one.",
    ("Metric", "type"): "Kind of metric; inferred from its fields when omitted.",
    ("Metric", "measure"): "`source.measure` aggregated by a simple or cumulative metric.",
    ("Metric", "numerator"): "Measure (or metric) summed in the numerator of a ratio.",
    ("Metric", "denominator"): "Measure (or metric) summed in the denominator of a ratio.",
    ("Metric", "expr"): "Expression of other metrics (derived metric).",
    ("Metric", "filter"): "SQL condition on dimensions applied to the measure's rows.",
    ("Metric", "metric"): "The metric an offset or share metric is computed from.",
    ("Metric", "window"): "Rolling window of a cumulative metric, e.g. `7 days`.",
    ("Metric", "grain_to_date"): "Cumulative from the start of this grain (month-to-date, ...).",
    ("Metric", "offset"): "How far back an offset metric looks, e.g. `1 month`.",
    ("Metric", "share_of"): "Dimensions the share metric's total is taken over.",
    ("Metric", "grains"): "Grains at which the metric may be asked.",
    ("Metric", "format"): "How the metric's values are shown.",
    ("Metric", "validation"): "Rules on the metric's values (docs/checks.md).",
    ("Metric", "aliases"): "Former names of the metric: queries by them still work and warn.",
    (
        "Metric",
        "deprecated",
    ): "Why the metric should no longer be used; queries warn with this text.",
    ("Retention", "source"): "Source holding the events.",
    ("Retention", "entity"): "Expression identifying the entity (user, account, ...).",
    ("Retention", "cohort"): "Condition of the cohort (entry) event.",
    ("Retention", "activity"): "Condition of the returning activity event.",
    ("Retention", "period"): "Length of a retention period.",
    ("Funnel", "source"): "Source holding the events.",
    ("Funnel", "entity"): "Expression identifying the entity that converts.",
    ("Funnel", "window"): "Every step must be within this long after step 1 (inclusive).",
    ("Funnel", "steps"): "Ordered steps, each an event condition.",
    ("Funnel", "order"): "sequential (other events may occur between steps), strict or any.",
    (
        "Funnel",
        "window_boundary",
    ): "inclusive (default) or exclusive: whether a step exactly `window` after step 1 counts.",
}

_HEADER = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "metrics_layer definitions",
    "description": (
        "A metrics_layer definition file (YAML): sources with dimensions, measures and joins, "
        "and the metrics, retention analyses and funnels built on them."
    ),
}


def definitions_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one definition file."""
    from metrics_layer.definitions.models import Project

    schema = Project.model_json_schema(mode="validation")
    defs: dict[str, Any] = schema.get("$defs", {})
    for title, model in [("Project", schema), *defs.items()]:
        _describe_fields(title, model)
    _walk(schema)
    _nullable_dimensions(defs)
    defs.get("Measure", {})["allOf"] = MEASURE_RULES
    for title, field in ONE_OR_MANY:
        _one_or_many(defs.get(title, {}).get("properties", {}), field)
    return {**_HEADER, **{k: v for k, v in schema.items() if k not in _HEADER}}


def schema_text() -> str:
    return json.dumps(definitions_schema(), indent=2, sort_keys=False) + "\n"


def _describe_fields(title: str, model: dict[str, Any]) -> None:
    for name, prop in model.get("properties", {}).items():
        doc = FIELD_DOCS.get((title, name))
        if doc is not None and isinstance(prop, dict):
            prop["description"] = doc


def _walk(node: Any) -> None:
    """Close mappings keyed by name: a key that is not a valid name is an error, as in pydantic."""
    if isinstance(node, dict):
        if "patternProperties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _walk(value)
    elif isinstance(node, list):
        for value in node:
            _walk(value)


# What Measure's validator checks, as far as JSON Schema can say it.
MEASURE_RULES = [
    {
        "if": {"properties": {"agg": {"const": "percentile"}}, "required": ["agg"]},
        "then": {"required": ["p"]},
        "else": {"not": {"required": ["p"]}},
    },
    {
        "if": {"properties": {"agg": {"not": {"const": "count"}}}, "required": ["agg"]},
        "then": {"required": ["expr"]},
    },
]

# Lists of names whose loader also takes a single name (`unique: event_id`, `by: country`).
ONE_OR_MANY = (
    ("NotNull", "not_null"),
    ("Unique", "unique"),
    ("Relationships", "relationships"),
    ("Validation", "by"),
    ("Columns", "columns"),
)


def _one_or_many(props: dict[str, Any], field: str) -> None:
    prop = props.get(field)
    if prop is not None and prop.get("type") == "object":  # columns: [a, b] lists names only
        keep = {k: prop.pop(k) for k in ("title", "description", "default") if k in prop}
        names = {"type": "array", "items": {"type": "string"}}
        props[field] = {"anyOf": [names, prop], **keep}
    elif prop is not None and prop.get("type") == "array":
        keep = {k: prop.pop(k) for k in ("title", "description", "default") if k in prop}
        props[field] = {"anyOf": [{"type": "string"}, prop], **keep}


def _nullable_dimensions(defs: dict[str, Any]) -> None:
    """`country:` (null) means `country: {}`, as the loader reads it."""
    dims = defs.get("Source", {}).get("properties", {}).get("dimensions", {})
    for key, ref in list(dims.get("patternProperties", {}).items()):
        dims["patternProperties"][key] = {"anyOf": [ref, {"type": "null"}]}
