"""Exact exports: Arrow from the backend; pandas and polars derived without losing a value;
the CLI's json/csv/table keep NULL, NaN and ±inf apart."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import metrics_layer as ml
from metrics_layer.cli.common import emit

BIG = 9007199254740993  # 2**53 + 1: not a float64

DEFS = """
version: 1
sources:
  things:
    table: {table}
    dimensions: {{id: {{}}, kind: {{}}}}
    measures:
      total: {{agg: sum, expr: amount}}
      biggest: {{agg: max, expr: "CASE WHEN kind = 'nan' THEN CAST('NaN' AS DOUBLE) WHEN kind = 'inf' THEN CAST('Infinity' AS DOUBLE) WHEN kind = 'ninf' THEN CAST('-Infinity' AS DOUBLE) ELSE x END"}}
      rows: {{agg: count}}
"""

ROWS = [
    # id, amount, x, kind -> biggest
    (BIG, Decimal("1.10"), None, "nan"),  # NaN
    (None, Decimal("2.25"), 1.5, "num"),  # 1.5, NULL id
    (5, None, None, "null"),  # NULL, NULL total
    (7, Decimal("3.30"), None, "inf"),  # +inf
    (8, Decimal("0.01"), None, "ninf"),  # -inf
]


@pytest.fixture(scope="module")
def res(backend: Any, tmp_path_factory: pytest.TempPathFactory) -> ml.Result:
    name = backend.unique_name("things")
    frame = pd.DataFrame(ROWS, columns=["id", "amount", "x", "kind"])
    frame["id"] = pd.array([r[0] for r in ROWS], dtype="Int64")  # not through float64
    backend.load(
        {name: frame},
        schemas={
            name: {"id": "int64", "amount": "decimal(15,2)", "x": "float64", "kind": "string"}
        },
    )
    folder: Path = tmp_path_factory.mktemp("exports")
    (folder / "defs.yml").write_text(DEFS.format(table=name))
    layer = ml.load(folder, con=backend.con)
    return layer.query(["total", "biggest", "rows"], by=["kind", "id"])


def by_kind(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["kind"]: r for r in records}


def test_arrow_is_exact(res: ml.Result) -> None:
    table = res.to_pyarrow()
    assert table.schema.field("id").type == pa.int64()
    assert pa.types.is_decimal(table.schema.field("total").type)
    assert table.schema.field("total").type.scale == 2
    got = by_kind(table.to_pylist())
    assert got["nan"]["id"] == BIG and got["num"]["id"] is None
    assert got["nan"]["total"] == Decimal("1.10") and str(got["nan"]["total"]) == "1.10"
    assert got["null"]["total"] is None
    assert math.isnan(got["nan"]["biggest"])
    assert got["null"]["biggest"] is None
    assert got["inf"]["biggest"] == math.inf and got["ninf"]["biggest"] == -math.inf
    assert got["num"]["biggest"] == 1.5


def test_pandas_keeps_ints_decimals_nan_and_null(res: ml.Result) -> None:
    df = res.to_pandas().set_index("kind")
    assert str(df["id"].dtype) == "Int64"
    assert df.loc["nan", "id"] == BIG and df.loc["num", "id"] is pd.NA
    assert isinstance(df.loc["nan", "total"], Decimal) and str(df.loc["nan", "total"]) == "1.10"
    assert df.loc["null", "total"] is None
    biggest = df["biggest"]
    assert str(biggest.dtype) == "Float64"
    assert biggest.isna().tolist() == [k == "null" for k in df.index]  # only NULL is NA
    assert math.isnan(biggest.array._data[list(df.index).index("nan")])  # NaN stays NaN
    assert df.loc["inf", "biggest"] == math.inf
    assert df["rows"].dtype == "int64"  # no NULLs: the plain numpy type


def test_polars_keeps_ints_decimals_nan_and_null(res: ml.Result) -> None:
    df = res.to_polars()
    assert df.schema["id"] == pl.Int64 and isinstance(df.schema["total"], pl.Decimal)
    got = by_kind(df.to_dicts())
    assert got["nan"]["id"] == BIG and got["num"]["id"] is None
    assert got["nan"]["total"] == Decimal("1.10")
    assert math.isnan(got["nan"]["biggest"]) and got["null"]["biggest"] is None


def _emit(df: pd.DataFrame, fmt: str, capsys: pytest.CaptureFixture[str]) -> str:
    emit(df, fmt)
    return capsys.readouterr().out


def test_cli_json_keeps_null_nan_and_inf_apart(
    res: ml.Result, capsys: pytest.CaptureFixture[str]
) -> None:
    got = by_kind(json.loads(_emit(res.to_pandas(), "json", capsys)))
    assert got["nan"]["biggest"] == "NaN" and got["null"]["biggest"] is None
    assert got["inf"]["biggest"] == "Infinity" and got["ninf"]["biggest"] == "-Infinity"
    assert got["nan"]["id"] == BIG and got["num"]["id"] is None  # exact, not 2**53
    assert got["num"]["biggest"] == 1.5 and got["nan"]["total"] == 1.1
    assert '"total": 1.10' in _emit(res.to_pandas(), "json", capsys)  # the decimal as written


def test_cli_csv_keeps_null_nan_and_inf_apart(
    res: ml.Result, capsys: pytest.CaptureFixture[str]
) -> None:
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(_emit(res.to_pandas(), "csv", capsys))))
    got = by_kind(rows)
    assert got["nan"]["biggest"] == "NaN" and got["null"]["biggest"] == ""
    assert got["inf"]["biggest"] == "Infinity" and got["ninf"]["biggest"] == "-Infinity"
    assert got["nan"]["id"] == str(BIG) and got["num"]["id"] == ""
    assert got["nan"]["total"] == "1.10" and got["null"]["total"] == ""


def test_cli_table_keeps_null_nan_and_inf_apart(
    res: ml.Result, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _emit(res.to_pandas(), "table", capsys)
    lines = {line.split("│")[1].strip(): line for line in text.splitlines() if line.count("│") > 3}
    assert "NaN" in lines["nan"] and "NULL" not in lines["nan"].split("│")[4]
    assert "NULL" in lines["null"].split("│")[4]
    assert "-Infinity" in lines["ninf"] and "Infinity" in lines["inf"]
    assert f"{BIG:,}" in lines["nan"] or str(BIG) in lines["nan"]


def test_emit_reads_nan_in_a_text_column_as_null(capsys: pytest.CaptureFixture[str]) -> None:
    """pandas marks a missing string with NaN: in a non-float column that is a NULL."""
    df = pd.DataFrame({"name": pd.Series(["a", None], dtype="str"), "x": [float("nan"), 1.0]})
    got = json.loads(_emit(df, "json", capsys))
    assert got == [{"name": "a", "x": "NaN"}, {"name": None, "x": 1.0}]
