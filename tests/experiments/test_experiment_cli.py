"""`metrics-layer experiment` run for real, in a subprocess, against a DuckDB file."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.experiments.helpers import indent, write_defs
from tests.experiments.test_experiment_result import synthetic

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("experiment_cli")
    exposures, orders = synthetic(n=800, seed=5)
    db = folder / "shop.duckdb"
    con = duckdb.connect(str(db))
    con.register("ex", exposures)
    con.register("od", orders)
    con.execute("CREATE TABLE exposures AS SELECT * FROM ex")
    con.execute("CREATE TABLE orders AS SELECT * FROM od")
    con.close()
    defs = write_defs(folder, extra=indent("window: 7 days\ncuped: {lookback: 3 days}"))
    return defs, db


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "160"}
    return subprocess.run(
        [sys.executable, "-m", "metrics_layer.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_json_equals_the_python_api(project):
    import metrics_layer as ml

    defs, db = project
    out = cli(
        "experiment",
        str(defs),
        "test",
        "-c",
        str(db),
        "--metric",
        "revenue",
        "--metric",
        "orders",
        "--absolute",
        "--cuped",
        "off",
        "--format",
        "json",
    )
    assert out.returncode == 0, out.stderr
    got = pd.DataFrame(json.loads(out.stdout))
    layer = ml.load(defs, con=str(db))
    want = layer.experiment(
        "test", metrics=["revenue", "orders"], relative=False, cuped=False
    ).to_pandas()
    pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=1e-12)
    assert "SRM p =" in out.stderr and "multiple exposures dropped: 0" in out.stderr


def test_table_and_csv(project):
    defs, db = project
    out = cli(
        "experiment", str(defs), "test", "-c", str(db), "--start", "2024-03-02", "--cuped", "2 days"
    )
    assert out.returncode == 0, out.stderr
    assert "experiment test" in out.stdout and "revenue_per_order" in out.stdout
    assert "SRM p =" in out.stdout
    csv = cli("experiment", str(defs), "test", "-c", str(db), "--format", "csv", "-m", "conversion")
    assert csv.returncode == 0, csv.stderr
    df = pd.read_csv(io.StringIO(csv.stdout))
    assert list(df["metric"]) == ["conversion"] and df["units"].iloc[0] > 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["tes"], "unknown experiment 'tes' (did you mean 'test'?)"),
        (["test", "--metric", "revenu"], "unknown metric 'revenu'"),
        (["test", "--cuped", "2 dayz"], "did you mean '2 days'"),
        (["test", "--alpha", "2"], "alpha must be a number between 0 and 1"),
    ],
)
def test_errors_are_one_line(project, args, message):
    defs, db = project
    out = cli("experiment", str(defs), *args, "-c", str(db))
    assert out.returncode == 2
    assert message in out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
