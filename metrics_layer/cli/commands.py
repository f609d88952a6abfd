"""The core commands: validate, list, query, sql, retention, funnel, check, docs, demo."""

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
    _fail,
    _layer,
    app,
    emit,
    run,
)


@app.command()
def validate(
    path: Path = PathArg, connection: str | None = ConnOpt, var: list[str] | None = VarOpt
) -> None:
    """Check definitions (and, with --connection, their tables and columns)."""
    layer = run(lambda: _layer(path, connection, var))
    reg = layer.registry.project
    typer.echo(
        f"ok: {len(reg.sources)} sources, {len(reg.metrics)} metrics, "
        f"{len(reg.retention)} retention, {len(reg.funnels)} funnels"
    )


@app.command("list")
def list_(path: Path = PathArg, format: str = FormatOpt, var: list[str] | None = VarOpt) -> None:
    """List metrics with their type and description."""
    import pandas as pd

    layer = run(lambda: _layer(path, None, var))
    rows = [
        {"metric": n, "type": m.kind, "description": m.description or "", "owner": m.owner or ""}
        for n, m in layer.registry.project.metrics.items()
    ]
    emit(pd.DataFrame(rows, columns=["metric", "type", "description", "owner"]), format, "metrics")


def _query_args(
    by: list[str] | None,
    where: str | None,
    grain: str | None,
    start: str | None,
    end: str | None,
    limit: int | None,
) -> dict[str, Any]:
    return {
        "by": by or None,
        "where": where,
        "grain": grain,
        "start": start,
        "end": end,
        "limit": limit,
    }


@app.command()
def query(
    path: Path = PathArg,
    metrics: list[str] = typer.Argument(..., help="Metric names"),
    by: list[str] | None = typer.Option(None, "--by", help="Dimension (repeatable)"),
    grain: str | None = typer.Option(None, "--grain"),
    where: str | None = typer.Option(None, "--where"),
    start: str | None = typer.Option(None, "--start"),
    end: str | None = typer.Option(None, "--end"),
    limit: int | None = typer.Option(None, "--limit"),
    connection: str | None = ConnOpt,
    format: str = FormatOpt,
    var: list[str] | None = VarOpt,
    timezone: str = TzOpt,
    week_start: str | None = WeekOpt,
    explain: bool = typer.Option(False, "--explain", help="Print the plan before the result"),
) -> None:
    """Compute metrics by dimensions and grain."""

    def body() -> None:
        layer = _layer(path, connection, var, timezone, week_start=week_start)
        res = layer.query(metrics, **_query_args(by, where, grain, start, end, limit))
        if explain:
            typer.echo(res.explain(), err=format != "table")
        emit(res.to_pandas(), format, ", ".join(metrics))

    run(body)


@app.command()
def sql(
    path: Path = PathArg,
    metrics: list[str] = typer.Argument(..., help="Metric names"),
    by: list[str] | None = typer.Option(None, "--by"),
    grain: str | None = typer.Option(None, "--grain"),
    where: str | None = typer.Option(None, "--where"),
    start: str | None = typer.Option(None, "--start"),
    end: str | None = typer.Option(None, "--end"),
    limit: int | None = typer.Option(None, "--limit"),
    dialect: str = typer.Option("duckdb", "--dialect"),
    connection: str | None = ConnOpt,
    var: list[str] | None = VarOpt,
    timezone: str = TzOpt,
    week_start: str | None = WeekOpt,
) -> None:
    """Print the SQL of a query for a dialect (duckdb, postgres, bigquery, snowflake, trino, ...)."""

    def body() -> None:
        layer = _layer(path, connection, var, timezone, week_start=week_start)
        typer.echo(
            layer.query(metrics, **_query_args(by, where, grain, start, end, limit)).sql(dialect)
        )

    run(body)


@app.command()
def retention(
    path: Path = PathArg,
    name: str = typer.Argument(...),
    periods: int = typer.Option(12, "--periods"),
    mode: str = typer.Option("exact", "--mode"),
    by: list[str] | None = typer.Option(None, "--by"),
    cohort_type: str | None = typer.Option(None, "--cohort-type"),
    start: str | None = typer.Option(None, "--start"),
    end: str | None = typer.Option(None, "--end"),
    pivot: bool = typer.Option(False, "--pivot", help="Print the cohort triangle"),
    period_mode: str = typer.Option(
        "calendar", "--period-mode", help="calendar, or since_entry (elapsed days/weeks)"
    ),
    bracket: list[str] | None = typer.Option(
        None, "--bracket", help="An inclusive period range lo-hi (repeatable)"
    ),
    brackets: str | None = typer.Option(
        None, "--brackets", help='Period ranges at once: "0-0,1-1,2-7"'
    ),
    value: str | None = typer.Option(None, "--value", help="A measure: adds value columns"),
    connection: str | None = ConnOpt,
    format: str = FormatOpt,
    var: list[str] | None = VarOpt,
    timezone: str = TzOpt,
    week_start: str | None = WeekOpt,
) -> None:
    """Cohort retention curve."""

    def body() -> None:
        layer = _layer(path, connection, var, timezone, week_start=week_start)
        ranges = [*(bracket or []), *(brackets.split(",") if brackets else [])]
        res = layer.retention(
            name,
            periods=periods,
            mode=mode,
            by=by or None,
            cohort_type=cohort_type,
            start=start,
            end=end,
            period_mode=period_mode,
            brackets=ranges or None,
            value=value,
        )
        df = (
            res.pivot("value_retention" if value else "retention").reset_index()
            if pivot
            else res.to_pandas()
        )
        df.columns = [str(c) for c in df.columns]
        emit(df, format, f"retention {name}")

    run(body)


@app.command()
def funnel(
    path: Path = PathArg,
    name: str = typer.Argument(...),
    by: list[str] | None = typer.Option(None, "--by"),
    window: str | None = typer.Option(None, "--window"),
    order: str | None = typer.Option(None, "--order"),
    start: str | None = typer.Option(None, "--start"),
    end: str | None = typer.Option(None, "--end"),
    grain: str | None = typer.Option(None, "--grain", help="Conversion over time by step-1 period"),
    within: list[str] | None = typer.Option(
        None, "--within", help="STEP=DURATION: at most this long after the previous step"
    ),
    hold: list[str] | None = typer.Option(
        None, "--hold", help="Dimension every step shares with step 1 (repeatable)"
    ),
    connection: str | None = ConnOpt,
    format: str = FormatOpt,
    var: list[str] | None = VarOpt,
    timezone: str = TzOpt,
    week_start: str | None = WeekOpt,
) -> None:
    """Conversion funnel."""

    def body() -> None:
        from metrics_layer.analysis.funnel import within_option

        layer = _layer(path, connection, var, timezone, week_start=week_start)
        res = layer.funnel(
            name,
            by=by or None,
            window=window,
            order=order,
            start=start,
            end=end,
            grain=grain,
            within=within_option(within) if within else None,
            hold=hold or None,
        )
        emit(res.to_pandas(), format, f"funnel {name}")

    run(body)


@app.command()
def check(
    path: Path = PathArg,
    metrics: list[str] | None = typer.Option(None, "--metric"),
    sources: list[str] | None = typer.Option(None, "--source"),
    grain: str = typer.Option("day", "--grain"),
    start: str | None = typer.Option(None, "--start"),
    end: str | None = typer.Option(None, "--end"),
    as_of: str | None = typer.Option(None, "--as-of"),
    connection: str | None = ConnOpt,
    format: str = FormatOpt,
    var: list[str] | None = VarOpt,
    quarantine: bool = typer.Option(
        False, "--quarantine", help="Write failing rows to <table>__quarantine"
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress on stderr"),
    timezone: str = TzOpt,
) -> None:
    """Run metric validation rules and source data checks: exit 0 when all pass, 1 when any
    fails, 2 when a rule cannot be evaluated."""
    from metrics_layer.checks import run_checks
    from metrics_layer.checks.console import progress_on_stderr, quiet_backend, render

    if format not in ("table", "json", "csv"):
        _fail(f"unknown format {format!r}: use table, json or csv")

    def body() -> bool:
        layer = _layer(path, connection, var, timezone, write=quarantine)
        quiet_backend(layer.con)
        with progress_on_stderr(progress) as report_progress:
            report = run_checks(
                layer,
                metrics=metrics or None,
                sources=sources or None,
                grain=grain,
                start=start,
                end=end,
                as_of=as_of,
                quarantine=quarantine,
                progress=report_progress,
            )
        render(report, format)
        return bool(report.ok)

    ok = run(body)
    raise typer.Exit(code=0 if ok else 1)


@app.command()
def docs(
    path: Path = PathArg,
    out: Path = typer.Option(Path("catalog"), "--out", "-o", help="Output folder"),
    format: list[str] = typer.Option(
        ["html", "md"], "--format", "-f", help="html and/or md (repeatable)"
    ),
    connection: str | None = ConnOpt,
    var: list[str] | None = VarOpt,
    timezone: str = TzOpt,
    force: bool = typer.Option(
        False, "--force", help="Replace a folder that holds files the catalog did not write"
    ),
) -> None:
    """Render the data dictionary (static HTML and Markdown): sources, metrics, SQL, lineage.

    The folder must be new, empty or a catalog written before; it is replaced as a whole."""

    def body() -> None:
        layer = _layer(path, connection, var, timezone)
        index = layer.docs(out, formats=format, real_sql=bool(connection), force=force)
        typer.echo(f"catalog written to {index}")

    run(body)


@app.command()
def demo(
    db: Path = typer.Option(
        Path("data/marketplace.duckdb"), "--db", help="DuckDB file to (re)build"
    ),
    events: int = typer.Option(1_000_000, "--events", help="Number of app events to generate"),
    defs: Path = typer.Option(Path("metric_defs"), "--defs", help="Definitions folder"),
    rebuild: bool = typer.Option(True, "--rebuild/--reuse", help="Regenerate the data set"),
    force: bool = typer.Option(
        False, "--force", help="Rebuild a DuckDB file the demo did not create (its tables are lost)"
    ),
) -> None:
    """Build the gig-marketplace demo data set and run the main KPI job on it."""
    from metrics_layer.demo.job import run_demo

    run(
        lambda: run_demo(
            db=db, events=events, defs=defs, rebuild=rebuild, echo=typer.echo, force=force
        )
    )
