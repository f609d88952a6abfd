"""Interchange commands: `schema` (JSON Schema of definition files), `diff` (what changed
between two versions of a definitions folder) and `import metricflow` (dbt semantic models
to definitions) and `export metricflow` (definitions to dbt semantic models)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from metrics_layer.cli.common import VarOpt, _fail, _vars, app, run


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


@app.command("diff")
def diff(
    old: Path = typer.Argument(..., help="Definitions before (folder or file)"),
    new: Path = typer.Argument(..., help="Definitions after (folder or file)"),
    fmt: str = typer.Option("text", "--format", "-f", help="text | json"),
    var: list[str] | None = VarOpt,
) -> None:
    """List what changed between two versions of the definitions; exit 1 on a breaking change."""

    def body() -> bool:
        from metrics_layer.definitions import load_project
        from metrics_layer.interchange.diff import diff_projects

        if fmt not in ("text", "json"):
            _fail(f"unknown format {fmt!r}: use text or json")
        variables = _vars(var)
        changes = diff_projects(load_project(old, variables)[0], load_project(new, variables)[0])
        breaking = sum(c.breaking for c in changes)
        if fmt == "json":
            payload = {"breaking": breaking, "changes": [c.as_dict() for c in changes]}
            sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        else:
            for change in changes:
                typer.echo(str(change))
            typer.echo(
                f"{len(changes)} change{'s' if len(changes) != 1 else ''}, {breaking} breaking"
                if changes
                else "no changes"
            )
        return breaking > 0

    if run(body):
        raise typer.Exit(code=1)


import_app = typer.Typer(no_args_is_help=True, help="Import definitions from another tool.")
app.add_typer(import_app, name="import")


@import_app.command("metricflow")
def import_metricflow_cmd(
    project: Path = typer.Argument(..., help="dbt project folder (with dbt_project.yml)"),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the definitions into"),
    force: bool = typer.Option(False, "--force", help="Write into a folder with other files"),
) -> None:
    """Convert dbt / MetricFlow semantic models and metrics into definitions."""

    def body() -> None:
        import metrics_layer as ml
        from metrics_layer.interchange.metricflow import import_metricflow

        result = import_metricflow(project, out, force=force)
        layer = ml.load(out)  # what was written loads
        typer.echo(
            f"wrote {len(result.files)} files to {out}: {len(layer.registry.sources)} sources, "
            f"{len(layer.metrics())} metrics"
        )
        for problem in result.problems:
            typer.echo(f"not translated: {problem}", err=True)

    run(body)


export_app = typer.Typer(no_args_is_help=True, help="Export definitions to another tool.")
app.add_typer(export_app, name="export")


@export_app.command("metricflow")
def export_metricflow_cmd(
    defs: Path = typer.Argument(..., help="Definitions folder or file"),
    out: Path = typer.Option(..., "--out", "-o", help="New or empty folder for the dbt files"),
    force: bool = typer.Option(False, "--force", help="Write into a folder that is not empty"),
    var: list[str] | None = VarOpt,
) -> None:
    """Write dbt semantic models and MetricFlow metrics; list what has no MetricFlow form."""

    def body() -> None:
        from metrics_layer.interchange.metricflow.export import export_metricflow

        result = export_metricflow(defs, out, force=force, vars=_vars(var))
        typer.echo(
            f"wrote {len(result.files)} files to {out}: "
            f"{len(result.definitions['semantic_models'])} semantic models, "
            f"{len(result.definitions['metrics'])} metrics; {len(result.problems)} notes in "
            f"{out / 'export-report.txt'}"
        )
        for problem in result.problems:
            typer.echo(f"note: {problem}", err=True)

    run(body)
