"""Render the data dictionary: sources, dimensions, measures, metrics, retention and funnels.

Pages are rendered with Jinja2 templates shipped in this package (HTML and Markdown side by
side: `index.html` / `index.md`, `sources/<name>.*`, `metrics/<name>.*`, `analyses.*`). Links
are relative, so the folder can be opened from disk or served anywhere. Lineage graphs are
Mermaid text in `<pre class="mermaid">` blocks: nothing is fetched from the network.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import markupsafe

from metrics_layer.catalog.materializations import materialization_entries
from metrics_layer.catalog.write import write_folder
from metrics_layer.checks import fmt
from metrics_layer.checks.metric_rules import rule_names
from metrics_layer.definitions.models import Metric
from metrics_layer.errors import MetricsLayerError
from metrics_layer.lineage import describe, impact, lineage, table_name

if TYPE_CHECKING:
    from metrics_layer.layer import Layer

TEMPLATES = Path(__file__).parent / "templates"
FORMATS = ("html", "md")


def _env(kind: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=kind == "html",
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_md_text if kind == "md" else None,
    )
    env.filters["md"] = lambda v: (
        str(v if v is not None else "").replace("|", "\\|").replace("\n", " ")
    )
    env.filters["code"] = _md_code
    env.filters["fence"] = _md_fence
    return env


def _md_text(value: Any) -> str:
    """Markdown renders raw HTML: text from definitions (descriptions, owners, labels) is
    shown as written, so its `<`, `>` and `&` become entities. Code spans and fences, where
    entities would show literally, are built by the `code` and `fence` filters instead."""
    if isinstance(value, markupsafe.Markup):
        return str(value)
    if value is None or isinstance(value, jinja2.Undefined):
        return ""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _md_code(value: Any, cell: bool = False) -> markupsafe.Markup:
    """An inline code span that no backtick in the value can close (CommonMark: the fence is
    longer than any run of backticks inside); in a table cell `|` is escaped."""
    text = "" if value is None else str(value).replace("\n", " ")
    if not text:
        return markupsafe.Markup("")
    if cell:
        text = text.replace("|", "\\|")
    ticks = "`" * (_longest_run(text, "`") + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return markupsafe.Markup(f"{ticks}{pad}{text}{pad}{ticks}")


def _md_fence(value: Any, lang: str) -> markupsafe.Markup:
    """A fenced code block that a run of backticks in the code (a string literal) cannot end."""
    text = "" if value is None else str(value).rstrip("\n")
    ticks = "`" * max(3, _longest_run(text, "`") + 1)
    return markupsafe.Markup(f"{ticks}{lang}\n{text}\n{ticks}")


def _longest_run(text: str, char: str) -> int:
    longest = run = 0
    for c in text:
        run = run + 1 if c == char else 0
        longest = max(longest, run)
    return longest


def build_catalog(
    layer: Layer,
    out: str | Path,
    formats: Sequence[str] = FORMATS,
    real_sql: bool | None = None,
    force: bool = False,
) -> Path:
    """Write the catalog into `out` and return the path of its index (HTML if rendered).

    `out` must be new, empty or a catalog written before (catalog/write.py): its pages are
    replaced as a whole, atomically; `force` replaces a folder holding other files.
    Each metric page shows the real compiler's SQL (real_sql is kept for compatibility: with or
    without a connection the SQL is compiled, from the types registry/schemas.py knows).
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise MetricsLayerError(
            f"unknown catalog format(s) {unknown or list(formats)}: use html and/or md"
        )
    model = _model(layer, real_sql)
    files: dict[str, str | bytes] = {}
    for kind in formats:
        env = _env(kind)
        pages: list[tuple[str, str, dict[str, Any]]] = [("index", "", {}), ("analyses", "", {})]
        pages += [("source", f"sources/{s['name']}", {"source": s}) for s in model["sources"]]
        pages += [("metric", f"metrics/{m['name']}", {"metric": m}) for m in model["metrics"]]
        for template, path, extra in pages:
            up = "../" if "/" in (path or template) else ""
            files[f"{path or template}.{kind}"] = env.get_template(f"{template}.{kind}.j2").render(
                **model, **extra, root=up, ext=kind
            )
        if kind == "html":
            files["style.css"] = (TEMPLATES / "style.css").read_bytes()
    root = write_folder(out, files, force=force)
    return root / ("index.html" if "html" in formats else "index.md")


def _model(layer: Layer, real_sql: bool | None) -> dict[str, Any]:
    reg = layer.registry
    project = reg.project
    sources = [_source(layer, name) for name in project.sources]
    metrics = [_metric(layer, name, real_sql) for name in project.metrics]
    used_by: dict[str, list[str]] = {m["name"]: [] for m in metrics}
    for m in metrics:
        for dep in m["depends"]:
            if dep["kind"] == "metric" and dep["name"] in used_by:
                used_by[dep["name"]].append(m["name"])
    for m in metrics:
        m["used_by"] = used_by[m["name"]]
    return {
        "title": f"Metrics catalog — {Path(layer.path or 'definitions').name}",
        "generated": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "backend": layer.backend,
        "sources": sources,
        "metrics": metrics,
        "retention": [_retention(name, r) for name, r in project.retention.items()],
        "funnels": [_funnel(name, f) for name, f in project.funnels.items()],
        "materializations": materialization_entries(layer),
    }


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, list | tuple):
        return ", ".join(map(str, v))
    return str(v)


def _source(layer: Layer, name: str) -> dict[str, Any]:
    reg = layer.registry
    src = reg.sources[name]
    measures_used: dict[str, list[str]] = {}
    for metric in reg.project.metrics:
        for n in lineage(reg, metric).nodes:
            if n.kind == "measure" and n.name.startswith(f"{name}."):
                measures_used.setdefault(n.name.split(".", 1)[1], []).append(metric)
    try:
        dependents = impact(reg, name)
    except MetricsLayerError:
        dependents = []
    return {
        "name": name,
        "table": table_name(reg, name),
        "generated": src.calendar is not None,
        "label": src.label or name,
        "description": src.description or "",
        "owner": src.owner or "",
        "time": src.time or "",
        "primary_key": _text(src.primary_key),
        "scd": (
            f"key {_text(src.scd.key)}, valid from {src.scd.valid_from} to {src.scd.valid_to}"
            if src.scd
            else ""
        ),
        "dimensions": [
            {
                "name": d,
                "expr": dim.expr or d,
                "type": dim.type or "",
                "description": dim.description or dim.label or "",
            }
            for d, dim in src.dimensions.items()
        ],
        "measures": [
            {
                "name": m,
                "agg": ms.agg + (f" (p={ms.p})" if ms.p else ""),
                "expr": ms.expr or "*",
                "filter": ms.filter or "",
                "time": ms.time or src.time or "",
                "description": ms.description or ms.label or "",
                "used_by": measures_used.get(m, []),
            }
            for m, ms in src.measures.items()
        ],
        "joins": [
            {
                "role": role,
                "source": j.source or role,
                "relationship": j.relationship,
                "keys": ", ".join(f"{a} = {b}" for a, b in j.key_pairs()),
            }
            for role, j in src.joins.items()
        ],
        "checks": [_check_text(c) for c in src.checks],
        "metrics": dependents,
    }


def _check_text(check: Any) -> dict[str, str]:
    spec = check.model_dump(exclude={"severity", "where"}, exclude_none=True)
    ((_, value),) = spec.items()
    if isinstance(value, list):
        text = ", ".join(map(str, value))
    elif isinstance(value, dict):
        text = ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    else:
        text = str(value)
    return {
        "kind": check.kind,
        "spec": text,
        "where": check.where or "",
        "severity": check.severity,
    }


def _metric(layer: Layer, name: str, real_sql: bool | None) -> dict[str, Any]:
    reg = layer.registry
    m = reg.project.metrics[name]
    graph = lineage(reg, name)
    depends = []
    for dep in reg.metric_dependencies(name):
        target = reg.metric(dep)
        if isinstance(target, Metric):
            depends.append({"kind": "metric", "name": dep, "source": ""})
        else:
            depends.append(
                {
                    "kind": "measure",
                    "name": target.qualified,
                    "source": target.source,
                    "measure": target.name,
                }
            )
    sql, sql_kind = _sql(layer, name, m, real_sql)
    v = m.validation
    return {
        "name": name,
        "label": m.label or name,
        "type": m.kind,
        "description": m.description or "",
        "owner": m.owner or "",
        "format": m.format or "",
        "grains": ", ".join(m.grains) if m.grains else "any (hour … year)",
        "formula": describe(reg, name),
        "depends": depends,
        "sql": sql,
        "sql_kind": sql_kind,
        "validation": _validation_text(v) if v else [],
        "mermaid": graph.to_mermaid(),
        "tables": [{"name": t, "source": _source_of_table(reg, t)} for t in graph.tables],
        "columns": graph.columns,
        "joins": [e.label for e in graph.joins],
    }


def _source_of_table(reg: Any, table: str) -> str:
    return next((s for s in reg.sources if table_name(reg, s) == table), "")


def _sql(layer: Layer, name: str, m: Metric, real_sql: bool | None) -> tuple[str, str]:
    """The real compiler's SQL of a metric, at the first grain it accepts (totals, else its
    grains, month or day). It needs no tables: without a connection the column types come from
    a schema snapshot or the definitions (registry/schemas.py), and the note says which.
    `real_sql` is kept for compatibility: the SQL is always compiled."""
    grains: list[str | None] = [None, *(m.grains or []), "month", "day"]
    last: Exception | None = None
    for grain in dict.fromkeys(grains):
        try:
            text = layer.query([name], grain=grain).sql()
        except MetricsLayerError as exc:
            last = exc
            continue
        at = f" at grain {grain}" if grain else " (totals)"
        return text, f"compiled for {layer.backend}{at}; {_types_note(layer, name)}"
    reason = str(last).splitlines()[0] if last else "no grain fits"
    return f"-- cannot compile {name}: {reason}", "not compiled"


def _types_note(layer: Layer, metric: str) -> str:
    """Where the column types of the metric's tables came from (connection, snapshot, ...)."""
    reg = layer.registry
    origins = set()
    for table in lineage(reg, metric).tables:
        source = _source_of_table(reg, table)
        if source and reg.sources[source].calendar is None:
            origins.add(layer.schemas.origin(table, reg.sources[source].database) or "connection")
    words = {
        "connection": "the connection",
        "snapshot": "the schema snapshot",
        "definitions": "the definitions (declared or inferred)",
    }
    found = [words[o] for o in ("connection", "snapshot", "definitions") if o in origins]
    return "column types from " + (" and ".join(found) or "the connection")


def _validation_text(v: Any) -> list[str]:
    out = []
    names = rule_names(v)
    if "range" in names:
        lo = "-∞" if v.min is None else fmt.value(v.min)
        hi = "+∞" if v.max is None else fmt.value(v.max)
        out.append(f"range: every value within [{lo}, {hi}]")
    if v.not_null:
        out.append("not_null: no period without a value")
    if v.max_change is not None:
        what = f"{v.max_change:.0%}" if v.change == "relative" else str(v.max_change)
        out.append(f"max_change: {v.change} change from the previous period at most {what}")
    if v.anomaly is not None:
        a = v.anomaly
        out.append(
            f"anomaly: {'robust z-score (MAD)' if a.method == 'mad' else 'z-score'} within "
            f"±{a.threshold} of the trailing {a.window} periods"
            + (f", every {a.seasonality}th" if a.seasonality else "")
        )
    for r in v.reconciles:
        tol = (
            "exactly"
            if r.tolerance == 0
            else (f"within {r.tolerance:.1%}" if r.relative else f"within {r.tolerance}")
        )
        out.append(f"reconcile: equals {r.target} {tol}")
    if v.by:
        out.append(f"evaluated per {', '.join(v.by)}")
    if v.grain:
        out.append(f"evaluated at grain {v.grain}")
    if v.severity == "warn":
        out.append("severity: warn (reported, not gating)")
    return out


def _retention(name: str, r: Any) -> dict[str, Any]:
    return {
        "name": name,
        "label": r.label or name,
        "description": r.description or "",
        "owner": r.owner or "",
        "source": r.source,
        "entity": r.entity,
        "cohort": r.cohort,
        "activity": r.activity,
        "period": r.period,
        "by": _text(r.by),
        "cohort_type": r.cohort_type,
    }


def _funnel(name: str, f: Any) -> dict[str, Any]:
    return {
        "name": name,
        "label": f.label or name,
        "description": f.description or "",
        "owner": f.owner or "",
        "source": f.source,
        "entity": f.entity,
        "window": f.window,
        "order": f.order,
        "by": _text(f.by),
        "steps": [
            {"name": s.name, "filter": s.filter, "source": s.source or f.source} for s in f.steps
        ],
        "exclusions": [
            {
                "name": e.name,
                "filter": e.filter,
                "between": " → ".join(e.between) if e.between else "any steps",
            }
            for e in f.exclusions
        ],
    }
