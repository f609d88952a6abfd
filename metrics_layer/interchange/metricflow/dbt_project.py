"""Reading a dbt project the way MetricFlow sees it: `dbt_project.yml`, every YAML file under
its model paths (semantic models, metrics, saved queries, time spine models), and the relation
each `ref()` names, from `target/manifest.json` when dbt has built the project.

Files are read as YAML with line numbers and are not rendered: MetricFlow's filters hold
`{{ Dimension(...) }}` templates that the converter translates, and a dbt Jinja expression
elsewhere is reported where it stands rather than guessed at.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metrics_layer.definitions.yaml_lines import Path_, YamlSyntaxError, line_of, load_with_lines
from metrics_layer.errors import DefinitionError, Location


@dataclass
class Item:
    """One YAML mapping of the project (a semantic model, a metric, ...) and where it is."""

    kind: str  # semantic_model, metric, saved_query, model
    name: str
    data: dict[str, Any]
    file: str
    path: Path_
    lines: dict[Path_, int]

    def line(self, *sub: str | int) -> int | None:
        return line_of(self.lines, (*self.path, *sub))


@dataclass
class DbtProject:
    root: Path
    name: str
    vars: dict[str, Any]
    semantic_models: list[Item] = field(default_factory=list)
    metrics: list[Item] = field(default_factory=list)
    saved_queries: list[Item] = field(default_factory=list)
    models: list[Item] = field(default_factory=list)
    relations: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    def relation(self, model: str) -> tuple[str, str | None]:
        """(table, schema) dbt built for a model; by name when there is no manifest."""
        return self.relations.get(model, (model, None))


SECTIONS = {
    "semantic_models": "semantic_model",
    "metrics": "metric",
    "saved_queries": "saved_query",
    "models": "model",
}


def read_project(root: str | Path) -> DbtProject:
    root = Path(root)
    config_file = root / "dbt_project.yml"
    if not config_file.is_file():
        raise DefinitionError(f"{str(root)!r} is not a dbt project: it has no dbt_project.yml")
    config, _ = _load(config_file, root)
    if not isinstance(config, dict):
        raise DefinitionError(
            "dbt_project.yml must be a mapping", Location(_display(config_file, root))
        )
    project = DbtProject(root, str(config.get("name", root.name)), dict(config.get("vars") or {}))
    paths = config.get("model-paths") or config.get("source-paths") or ["models"]
    for folder in paths:
        for file in sorted((root / str(folder)).rglob("*")):
            if file.suffix not in (".yml", ".yaml") or not file.is_file():
                continue
            data, lines = _load(file, root)
            if not isinstance(data, dict):
                continue
            for section, kind in SECTIONS.items():
                entries = data.get(section)
                if not isinstance(entries, list):
                    continue
                for i, entry in enumerate(entries):
                    if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                        item = Item(
                            kind, entry["name"], entry, _display(file, root), (section, i), lines
                        )
                        getattr(project, section).append(item)
    project.relations = _manifest_relations(root / "target" / "manifest.json", project.name)
    return project


def _load(file: Path, root: Path) -> tuple[Any, dict[Path_, int]]:
    try:
        return load_with_lines(file.read_text(encoding="utf-8"))
    except YamlSyntaxError as exc:
        raise DefinitionError(str(exc), Location(_display(file, root), exc.line)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(f"cannot read file: {exc}", Location(_display(file, root))) from None


def _display(file: Path, root: Path) -> str:
    try:
        return str(file.relative_to(root))
    except ValueError:
        return str(file)


def _manifest_relations(manifest: Path, project: str) -> dict[str, tuple[str, str | None]]:
    """model name -> (relation name, schema) of the models dbt built."""
    if not manifest.is_file():
        return {}
    try:
        nodes = json.loads(manifest.read_text(encoding="utf-8")).get("nodes", {})
    except (OSError, ValueError):
        return {}
    out: dict[str, tuple[str, str | None]] = {}
    for node in nodes.values():
        if node.get("resource_type") not in ("model", "seed", "snapshot"):
            continue
        name = node.get("name")
        table = node.get("alias") or name
        if isinstance(name, str) and isinstance(table, str):
            schema = node.get("schema")
            out.setdefault(name, (table, schema if isinstance(schema, str) else None))
    return out


_REF = re.compile(r"""^\s*ref\(\s*['"]([\w.-]+)['"]\s*(?:,\s*['"]([\w.-]+)['"]\s*)?\)\s*$""")


def ref_model(text: str) -> str | None:
    """The model named by `ref('name')` (or `ref('package', 'name')`)."""
    m = _REF.match(text or "")
    if m is None:
        return None
    return m.group(2) or m.group(1)
