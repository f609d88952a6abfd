"""Definitions: the YAML vocabulary (pydantic models) and the loader that reads it."""

from metrics_layer.definitions.loader import Origins, load_project
from metrics_layer.definitions.models import (
    Dimension,
    Funnel,
    Join,
    Measure,
    Metric,
    Project,
    Retention,
    Source,
)

__all__ = [
    "Dimension",
    "Funnel",
    "Join",
    "Measure",
    "Metric",
    "Origins",
    "Project",
    "Retention",
    "Source",
    "load_project",
]
