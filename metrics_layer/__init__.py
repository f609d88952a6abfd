"""metrics_layer: declarative metrics compiled to ibis — exact KPIs, retention and funnels."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from metrics_layer import limits  # ml.limits.MAX_...: the bounds on work, set at start-up
from metrics_layer.errors import (
    ConnectionError,
    DefinitionError,
    ExecutionError,
    ExpressionError,
    MetricsLayerError,
    QueryError,
    SchemaError,
)

if TYPE_CHECKING:
    from metrics_layer.interchange.metricflow import import_metricflow
    from metrics_layer.interchange.metricflow.export import export_metricflow
    from metrics_layer.layer import Layer
    from metrics_layer.loading import load
    from metrics_layer.result import Result

__version__ = "0.1.0"

__all__ = [
    "ConnectionError",
    "DefinitionError",
    "ExecutionError",
    "ExpressionError",
    "Layer",
    "MetricsLayerError",
    "QueryError",
    "Result",
    "SchemaError",
    "__version__",
    "export_metricflow",
    "import_metricflow",
    "limits",
    "load",
]


def __getattr__(name: str) -> Any:
    # ibis is imported on first use, so `import metrics_layer` stays cheap for CLIs and errors.
    if name == "Layer":
        from metrics_layer.layer import Layer

        return Layer
    if name == "load":
        from metrics_layer.loading import load

        return load
    if name == "import_metricflow":
        from metrics_layer.interchange.metricflow import import_metricflow

        return import_metricflow
    if name == "export_metricflow":
        from metrics_layer.interchange.metricflow.export import export_metricflow

        return export_metricflow
    if name == "Result":
        from metrics_layer.result import Result

        return Result
    raise AttributeError(f"module 'metrics_layer' has no attribute {name!r}")
