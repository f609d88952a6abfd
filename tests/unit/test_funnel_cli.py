"""`metrics-layer funnel PATH NAME ...` run as a real command in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import ibis
import pytest

import metrics_layer as ml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    from metrics_layer.demo.generate import generate

    path = tmp_path_factory.mktemp("cli") / "demo.duckdb"
    generate(path, events=5_000)
    return path


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "160"}
    return subprocess.run(
        [sys.executable, "-m", "metrics_layer.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_funnel_json_equals_the_python_api(demo_db):
    out = cli(
        "funnel",
        "metric_defs",
        "onboarding",
        "--connection",
        str(demo_db),
        "--by",
        "platform",
        "--window",
        "7 days",
        "--order",
        "strict",
        "--format",
        "json",
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    con = ibis.duckdb.connect(str(demo_db), read_only=True)
    layer = ml.load(ROOT / "metric_defs", con=con)
    want = layer.funnel("onboarding", by="platform", window="7 days", order="strict").to_pandas()
    assert [(r["platform"], r["step"], r["entities"]) for r in got] == [
        (r.platform, int(r.step), int(r.entities)) for r in want.itertuples()
    ]
    assert set(got[0]) == {
        "platform",
        "step",
        "step_name",
        "entities",
        "conversion",
        "step_conversion",
        "median_seconds",
        "avg_seconds",
    }


def test_cli_funnel_table_output(demo_db):
    out = cli("funnel", "metric_defs", "onboarding", "--connection", str(demo_db))
    assert out.returncode == 0, out.stderr
    assert "funnel onboarding" in out.stdout and "task_completed" in out.stdout


def test_cli_funnel_error_is_one_clear_line(demo_db):
    out = cli("funnel", "metric_defs", "onbording", "--connection", str(demo_db))
    assert out.returncode == 2
    assert "unknown funnel 'onbording'" in out.stderr and "did you mean 'onboarding'" in out.stderr
    assert "Traceback" not in out.stderr
