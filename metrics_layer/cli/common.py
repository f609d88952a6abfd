"""What every command shares: the Typer app, options, one-line errors, output formats."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from metrics_layer.errors import MetricsLayerError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Declarative metrics compiled to ibis: exact KPIs, retention and funnels.",
)

PathArg = typer.Argument(..., help="Folder (or file) of metric definitions")
ConnOpt = typer.Option(
    None,
    "--connection",
    "-c",
    envvar="METRICS_LAYER_CONNECTION",
    help="Connection URL (duckdb:///file.duckdb, postgres://...) or a .duckdb path",
)
FormatOpt = typer.Option("table", "--format", "-f", help="table | csv | json")
VarOpt = typer.Option(None, "--var", help="Template variable NAME=VALUE (repeatable)")
TzOpt = typer.Option("UTC", "--timezone", help="Timezone for time buckets")


_VERBOSE = {"on": False}


@app.callback()
def _options(
    verbose: bool = typer.Option(
        False, "--verbose", help="After an error's one line, print what caused it"
    ),
) -> None:
    """Declarative metrics compiled to ibis: exact KPIs, retention and funnels."""
    _VERBOSE["on"] = verbose


def _details(exc: BaseException) -> list[str]:
    """The causes behind an error (the engine's full text, the library's exception)."""
    out: list[str] = []
    detail = getattr(exc, "detail", "")
    if detail and detail != str(exc):
        out.append(str(detail))
    cause = exc.__cause__ or exc.__context__
    while cause is not None and len(out) < 5:
        if str(cause) not in str(detail):
            out.append(f"caused by {type(cause).__name__}: {cause}")
        cause = cause.__cause__ or cause.__context__
    return out


def _fail(message: str) -> None:
    typer.echo(f"error: {message.splitlines()[0] if message else 'failed'}", err=True)
    rest = message.splitlines()[1:]
    for line in rest:
        typer.echo(f"  {line}", err=True)
    raise typer.Exit(code=2)


def run(fn: Callable[[], Any]) -> Any:
    """Run a command body; a MetricsLayerError is one clear line on stderr and exit code 2."""
    try:
        return fn()
    except MetricsLayerError as exc:
        from metrics_layer.connection import redact

        if _VERBOSE["on"]:
            for line in _details(exc):
                typer.echo(redact(line), err=True)
        _fail(redact(str(exc)))
    except FileNotFoundError as exc:
        _fail(str(exc))


def _connection(value: str | None, write: bool = False) -> Any:
    """A URL or a DuckDB file path (read-only unless the command writes); connect() redacts
    credentials in every message."""
    if value is None:
        return None
    if "://" not in value and Path(value).exists():
        value = f"duckdb:///{Path(value).resolve()}"
    from metrics_layer.connection import connect

    return connect(value, read_only=not write)


def _vars(items: list[str] | None) -> dict[str, str]:
    out = {}
    for item in items or []:
        if "=" not in item:
            _fail(f"--var takes NAME=VALUE, got {item!r}")
        k, _, v = item.partition("=")
        out[k.strip()] = v
    return out


def _layer(
    path: Path,
    connection: str | None,
    var: list[str] | None,
    timezone: str = "UTC",
    write: bool = False,
) -> Any:
    import metrics_layer as ml

    return ml.load(path, con=_connection(connection, write), vars=_vars(var), timezone=timezone)


def emit(df: Any, fmt: str, title: str | None = None) -> None:
    """Print a DataFrame as a rich table, CSV or JSON records."""
    if fmt == "csv":
        sys.stdout.write(df.to_csv(index=False))
    elif fmt == "json":
        sys.stdout.write(df.to_json(orient="records", date_format="iso", indent=2) + "\n")
    elif fmt == "table":
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, show_lines=False)
        for col in df.columns:
            table.add_column(str(col), justify="right" if _numeric(df[col]) else "left")
        for row in df.itertuples(index=False):
            table.add_row(*[_cell(v) for v in row])
        Console(width=max(100, int(os.environ.get("COLUMNS", "120")))).print(table)
    else:
        _fail(f"unknown format {fmt!r}: use table, csv or json")


def _numeric(series: Any) -> bool:
    """Numbers right-aligned, including decimal columns (pandas holds them as objects)."""
    from decimal import Decimal

    if series.dtype.kind in "iuf":
        return True
    values = series.dropna()
    return len(values) > 0 and all(isinstance(v, Decimal) for v in values.head(20))


def _cell(v: Any) -> str:
    import math

    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "NULL"
    if isinstance(v, float):
        return f"{v:,.4f}".rstrip("0").rstrip(".") if abs(v) < 1e15 else f"{v:.4g}"
    if hasattr(v, "isoformat"):
        text = str(v.isoformat())
        return text[:10] if text.endswith("T00:00:00") else text
    return str(v)
