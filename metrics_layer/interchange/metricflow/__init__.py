"""Import a dbt / MetricFlow project as metrics_layer definitions.

`import_metricflow(project_dir)` reads the project (dbt_project.py), converts its semantic
models and metrics (convert.py, filters.py) and returns the definitions with the report of
everything it did not translate; with `out=` it writes them as YAML files that `ml.load`
reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from metrics_layer.interchange.files import MARKER, write_tree
from metrics_layer.interchange.metricflow.convert import Problem, convert
from metrics_layer.interchange.metricflow.dbt_project import read_project

__all__ = ["Imported", "Problem", "import_metricflow"]


@dataclass
class Imported:
    """The converted definitions, what was not translated, and the files written (if any)."""

    definitions: dict[str, Any]
    problems: list[Problem]
    files: list[Path]

    def report(self) -> str:
        if not self.problems:
            return "everything was translated"
        lines = [f"{len(self.problems)} item(s) not translated:"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


def import_metricflow(
    project_dir: str | Path, out: str | Path | None = None, *, force: bool = False
) -> Imported:
    """Convert the dbt project at `project_dir`; write `sources.yml`, `metrics.yml` and
    `import-report.txt` into `out` (a new or empty folder, or one an import wrote) if given."""
    project = read_project(project_dir)
    definitions, problems = convert(project)
    files: list[Path] = []
    if out is not None:
        files = write_tree(
            Path(out), render_files(project.name, definitions, problems), force=force
        )
    return Imported(definitions, problems, files)


def render_files(name: str, definitions: dict[str, Any], problems: list[Problem]) -> dict[str, str]:
    head = f"{MARKER} metricflow from dbt project {name!r}; see import-report.txt\n"
    sources = {"version": 1, "sources": definitions["sources"]}
    metrics = {"version": 1, "metrics": definitions["metrics"]}
    report = "\n".join(str(p) for p in problems) or "everything was translated"
    return {
        "sources.yml": head + _dump(sources),
        "metrics.yml": head + _dump(metrics),
        "import-report.txt": f"{MARKER} metricflow: items not translated\n{report}\n",
    }


def _dump(data: dict[str, Any]) -> str:
    return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100))
