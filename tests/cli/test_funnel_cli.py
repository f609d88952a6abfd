"""`metrics-layer funnel PATH NAME ...`: in-process, and once as a real process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import metrics_layer as ml
from tests.cli_helpers import ROOT, invoke, run_process


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    from metrics_layer.demo.generate import generate

    path = tmp_path_factory.mktemp("cli") / "demo.duckdb"
    generate(path, events=5_000)
    return path


def test_cli_funnel_json_equals_the_python_api(demo_db):
    out = invoke(
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
    # the same read-only DuckDB settings as the command's (one process, one database instance)
    layer = ml.load(ROOT / "metric_defs", con=str(demo_db))
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
    out = invoke("funnel", "metric_defs", "onboarding", "--connection", str(demo_db))
    assert out.returncode == 0, out.stderr
    assert "funnel onboarding" in out.stdout and "task_completed" in out.stdout


def test_cli_funnel_error_is_one_clear_line(demo_db):
    """A real process: the installed entry point exits 2 with one line, no traceback."""
    out = run_process("funnel", "metric_defs", "onbording", "--connection", str(demo_db))
    assert out.returncode == 2
    assert "unknown funnel 'onbording'" in out.stderr and "did you mean 'onboarding'" in out.stderr
    assert "Traceback" not in out.stderr
