"""What the MetricFlow converter keeps while it reads a dbt project, and how it reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from metrics_layer.interchange.metricflow.dbt_project import DbtProject, Item


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


class ConverterState:
    """The converted definitions so far, the semantic models read, and the problems found."""

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
