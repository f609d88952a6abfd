"""`metrics-layer lifecycle` and `metrics-layer stickiness` (docs/lifecycle.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from metrics_layer.cli.common import (
    ConnOpt,
    FormatOpt,
    PathArg,
    TzOpt,
    VarOpt,
    WeekOpt,
    _layer,
    app,
    emit,
    run,
)


@app.command()
def lifecycle(
    path: Path = PathArg,
    name: str = typer.Argument(..., help="Retention definition whose activity is used"),
    grain: str | None = typer.Option(
        None, "--grain", help="Period, calendar or fiscal (default: the retention's)"
    ),
    start: str | None = typer.Option(None, "--start"),
    end: str | None = typer.Option(None, "--end"),
    by: list[str] | None = typer.Option(None, "--by", help="Dimension (repeatable)"),
    pivot: bool = typer.Option(False, "--pivot", help="One row per period, a column per status"),
    connection: str | None = ConnOpt,
    format: str = FormatOpt,
    var: list[str] | None = VarOpt,
    timezone: str = TzOpt,
    week_start: str | None = WeekOpt,
) -> None:
    """New, returning, resurrecting and dormant (negative) entities per period."""

    def body() -> None:
        layer = _layer(path, connection, var, timezone, week_start=week_start)
        _emit(
            layer.lifecycle(name, grain=grain, start=start, end=end, by=by or None),
            pivot,
            format,
            f"lifecycle {name}",
        )

    run(body)


@app.command()
def stickiness(
    path: Path = PathArg,
    name: str = typer.Argument(..., help="Retention definition whose activity is used"),
    grain: str = typer.Option("week", "--grain", help="Period whose units are counted"),
    unit: str = typer.Option("day", "--unit", help="Unit counted in each period"),
    start: str | None = typer.Option(None, "--start"),
    end: str | None = typer.Option(None, "--end"),
    by: list[str] | None = typer.Option(None, "--by", help="Dimension (repeatable)"),
    pivot: bool = typer.Option(False, "--pivot", help="One row per period, a column per n"),
    connection: str | None = ConnOpt,
    format: str = FormatOpt,
    var: list[str] | None = VarOpt,
    timezone: str = TzOpt,
    week_start: str | None = WeekOpt,
) -> None:
    """Entities active on exactly n units (days of a week, hours of a day, ...) per period."""

    def body() -> None:
        layer = _layer(path, connection, var, timezone, week_start=week_start)
        _emit(
            layer.stickiness(name, grain=grain, unit=unit, start=start, end=end, by=by or None),
            pivot,
            format,
            f"stickiness {name}",
        )

    run(body)


def _emit(res: Any, pivot: bool, format: str, title: str) -> None:
    """Print a lifecycle or stickiness result, long or pivoted (column names as text)."""
    df = res.pivot().reset_index() if pivot else res.to_pandas()
    df.columns = [str(c) for c in df.columns]
    emit(df, format, title)
