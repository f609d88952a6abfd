"""Interchange commands: `schema` (JSON Schema of definition files), `diff` (what changed
between two versions of a definitions folder) and `import metricflow` (dbt semantic models
to definitions)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from metrics_layer.cli.common import app, run


@app.command("schema")
def schema(
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to this file, not stdout"),
    force: bool = typer.Option(False, "--force", help="Overwrite a file that is not a schema"),
) -> None:
    """Print the JSON Schema of definition files (for editors: docs/json-schema.md)."""

    def body() -> None:
        from metrics_layer.interchange.json_schema import schema_text

        text = schema_text()
        if out is None:
            sys.stdout.write(text)
            return
        from metrics_layer.interchange.files import write_text
        from metrics_layer.interchange.json_schema import SCHEMA_ID

        write_text(out, text, force=force, ours=lambda head: SCHEMA_ID in head)
        typer.echo(f"wrote {out}")

    run(body)
