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
    """Print a DataFrame as a rich table, CSV or JSON records, NULL, NaN and ±inf distinct.

    JSON: NULL is `null`; NaN and infinities are the strings "NaN", "Infinity" and
    "-Infinity" (as protobuf's JSON mapping writes doubles), numbers keep their digits
    (decimals as written, integers exact). CSV: NULL is an empty field, the others
    NaN / Infinity / -Infinity. Table: NULL, NaN, Infinity, -Infinity.
    """
    if fmt not in ("csv", "json", "table"):
        _fail(f"unknown format {fmt!r}: use table, csv or json")
    columns = [str(c) for c in df.columns]
    values = [_column_values(df[c]) for c in df.columns]
    rows = list(zip(*values, strict=True)) if values else []
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_csv_cell(v) for v in row] for row in rows])
        sys.stdout.write(buf.getvalue())
    elif fmt == "json":
        sys.stdout.write(_json_records(columns, rows) + "\n")
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, show_lines=False)
        for col in df.columns:
            table.add_column(str(col), justify="right" if _numeric(df[col]) else "left")
        for row in rows:
            table.add_row(*[_cell(v) for v in row])
        Console(width=max(100, int(os.environ.get("COLUMNS", "120")))).print(table)


_NULL = object()  # a NULL cell, whatever the column type holds it as


def _column_values(series: Any) -> list[Any]:
    """The cells of a column with NULL as `_NULL`: NaN is a value only in float columns (in
    other columns pandas uses NaN, NaT or NA as its missing marker)."""
    import math

    import pandas as pd

    floating = series.dtype.kind == "f" or str(series.dtype) in ("Float64", "Float32")

    def missing(v: Any) -> bool:
        if v is None or v is pd.NA or v is pd.NaT:
            return True
        return isinstance(v, float) and math.isnan(v) and not floating

    return [_NULL if missing(v) else v for v in series.tolist()]


def _special(v: Any) -> str | None:
    """NaN / Infinity / -Infinity for a float or Decimal that is one, else None."""
    import math
    from decimal import Decimal

    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
    if isinstance(v, Decimal) and not v.is_finite():
        return "NaN" if v.is_nan() else ("Infinity" if v > 0 else "-Infinity")
    return None


def _json_value(v: Any) -> str:
    import json
    from decimal import Decimal

    if v is _NULL:
        return "null"
    special = _special(v)
    if special is not None:
        return json.dumps(special)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | Decimal):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if hasattr(v, "isoformat"):
        return json.dumps(v.isoformat())
    if hasattr(v, "item"):  # a numpy scalar
        return _json_value(v.item())
    return json.dumps(str(v))


def _json_records(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    import json

    if not rows:
        return "[]"
    records = []
    for row in rows:
        fields = ",\n".join(
            f"    {json.dumps(c)}: {_json_value(v)}" for c, v in zip(columns, row, strict=True)
        )
        records.append("  {\n" + fields + "\n  }")
    return "[\n" + ",\n".join(records) + "\n]"


def _csv_cell(v: Any) -> str:
    if v is _NULL:
        return ""
    special = _special(v)
    if special is not None:
        return special
    if hasattr(v, "isoformat"):
        return str(v.isoformat())
    return str(v)


def _numeric(series: Any) -> bool:
    """Numbers right-aligned, including decimal columns (pandas holds them as objects)."""
    from decimal import Decimal

    if series.dtype.kind in "iuf":
        return True
    values = series.dropna()
    return len(values) > 0 and all(isinstance(v, Decimal) for v in values.head(20))


def _cell(v: Any) -> str:
    if v is _NULL or v is None:
        return "NULL"
    special = _special(v)
    if special is not None:
        return special
    if isinstance(v, float):
        return f"{v:,.4f}".rstrip("0").rstrip(".") if abs(v) < 1e15 else f"{v:.4g}"
    if hasattr(v, "isoformat"):
        text = str(v.isoformat())
        return text[:10] if text.endswith("T00:00:00") else text
    return str(v)
