"""The `metrics-layer` command line.

`common` holds the Typer app and what every command shares; each module below registers its
commands on that app when imported (a new feature adds its own module and one import here).
"""

from __future__ import annotations

from metrics_layer.cli import (
    commands,  # noqa: F401 - registers the core commands
    experiment,  # noqa: F401 - experiment
    interchange,  # noqa: F401 - schema, diff, import metricflow
    lifecycle,  # noqa: F401 - lifecycle, stickiness
    materialize,  # noqa: F401 - materialize
    schema,  # noqa: F401 - schema-snapshot
    service,  # noqa: F401 - serve, mcp
)
from metrics_layer.cli.common import app, emit

__all__ = ["app", "emit", "main"]


def main() -> None:  # pragma: no cover
    app()
