"""`metrics-layer schema-snapshot`: record the column types of the tables the definitions use.

With `PATH/schema-snapshot.json` in place, `ml.load(PATH)` and `metrics-layer sql PATH ...`
compile exact SQL with no connection (docs/sql-without-a-connection.md). `--check` compares
the snapshot with the database instead of writing it, for CI: exit 1 when they differ.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import typer

from metrics_layer.cli.common import PathArg, VarOpt, _connection, _fail, _vars, app, run
from metrics_layer.errors import SchemaError


@app.command("schema-snapshot")
def schema_snapshot(
    path: Path = PathArg,
    connection: str = typer.Option(
        ...,
        "--connection",
        "-c",
        envvar="METRICS_LAYER_CONNECTION",
        help="Connection URL (duckdb:///file.duckdb, postgres://...) or a .duckdb path",
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="File to write (default: PATH/schema-snapshot.json)"
    ),
    check: bool = typer.Option(
        False, "--check", help="Do not write: exit 1 if the snapshot differs from the database"
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite a file that is not a snapshot"),
    var: list[str] | None = VarOpt,
) -> None:
    """Write the column types of every table the definitions use (for SQL without a connection)."""

    def body() -> None:
        import metrics_layer as ml
        from metrics_layer.registry.schemas import snapshot_path, snapshot_text, used_tables

        layer = ml.load(path, con=_connection(connection), vars=_vars(var), check_schema=False)
        reg = layer.registry
        tables = {}
        for table, database in used_tables(reg):
            columns = reg.schemas.schema_of(table, database) if reg.schemas else None
            if columns is None:
                where = f"{database}.{table}" if database else table
                raise SchemaError(f"table {where!r} of the definitions is not in the connection")
            tables[(table, database)] = columns
        text = snapshot_text(tables, layer.backend)
        target = out or snapshot_path(path)
        if check:
            current = target.read_text(encoding="utf-8") if target.is_file() else ""
            if current != text:
                typer.echo(f"{target}: differs from the database; run without --check", err=True)
                raise typer.Exit(code=1)
            typer.echo(f"{target}: up to date ({len(tables)} tables)")
            return
        _write(target, text, force)
        typer.echo(f"wrote {target} ({len(tables)} tables)")

    run(body)


def _write(target: Path, text: str, force: bool) -> None:
    """Atomically, never through a symlink, and over an earlier snapshot only (or --force)."""
    if target.is_symlink():
        _fail(f"{target} is a symbolic link; write the snapshot to a regular file")
    if target.exists() and not force:
        head = (
            target.read_text(encoding="utf-8", errors="replace")[:200] if target.is_file() else ""
        )
        if '"format"' not in head:
            _fail(f"{target} exists and is not a schema snapshot; pass --force to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".schema-snapshot.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
