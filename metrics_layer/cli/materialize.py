"""`metrics-layer materialize`: run a materialization (CONTRACT.md §8)."""

from __future__ import annotations

from pathlib import Path

import typer

from metrics_layer.cli.common import ConnOpt, PathArg, TzOpt, VarOpt, _fail, _layer, app, run


@app.command()
def materialize(
    path: Path = PathArg,
    name: str | None = typer.Argument(None, help="Materialization (default: every one)"),
    connection: str | None = ConnOpt,
    start: str | None = typer.Option(None, "--start", help="Backfill from (inclusive)"),
    end: str | None = typer.Option(None, "--end", help="Backfill to (exclusive)"),
    full_refresh: bool = typer.Option(
        False, "--full-refresh", "--full", help="Replace every period"
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress on stderr"),
    var: list[str] | None = VarOpt,
    timezone: str = TzOpt,
) -> None:
    """Replace the periods of a materialization: incremental by default (from the stored
    watermark minus its lookback), a backfill of [--start, --end), or --full-refresh."""
    if connection is None:
        _fail("materialize writes tables: give the connection with -c URL")

    def body() -> None:
        layer = _layer(path, connection, var, timezone=timezone, write=True)
        reports = layer.materialize(name, start=start, end=end, full_refresh=full_refresh,
                                    progress=progress)  # fmt: skip
        for report in reports if isinstance(reports, list) else [reports]:
            typer.echo(str(report))

    run(body)
