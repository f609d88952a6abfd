"""The data dictionary (`metrics-layer docs`) lists each materialization, its table and its
last run from metrics_layer_runs; 'never run' before any run."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from conftest import open_layer
from typer.testing import CliRunner

from metrics_layer.catalog.build import build_catalog
from metrics_layer.cli import app
from metrics_layer.materialize import runlog


def _row(text: str, name: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"| {name} |"))


def test_never_run_then_last_run(shop: dict[str, Any], tmp_path: Path) -> None:
    layer = open_layer(shop)
    build_catalog(layer, tmp_path / "before", formats=["md", "html"])
    row = _row((tmp_path / "before" / "index.md").read_text(), "daily")
    assert "`mart_daily`" in row and "never run" in row and "| day |" in row
    assert "never run" in (tmp_path / "before" / "index.html").read_text()

    report = layer.materialize("daily")
    events = layer.con.table("events").to_pandas()
    build_catalog(layer, tmp_path / "after", formats=["md", "html"])
    row = _row((tmp_path / "after" / "index.md").read_text(), "daily")
    assert "never run" not in row
    assert "full run, success, " in row
    assert f" UTC, {report.periods} periods, {report.rows} rows;" in row
    assert report.periods == events.ts.dt.floor("D").nunique() == 30
    assert f"watermark {events.ts.max():%Y-%m-%d %H:%M:%S}" in row
    page = html.unescape((tmp_path / "after" / "index.html").read_text())
    assert 'id="materialization-daily"' in page and "full run, success" in page


def test_a_failed_run_is_shown_as_failed(shop: dict[str, Any], tmp_path: Path) -> None:
    layer = open_layer(shop)
    mark = layer.con.table("events").to_pandas().ts.max()
    layer.materialize("daily")
    lock = runlog.start(layer.con, "daily", "full", mark)  # a run that then fails
    runlog.finish(lock, "failed", error="OperationalError: disk full")
    lock.release()
    layer.con.disconnect()
    out = tmp_path / "docs"
    res = CliRunner().invoke(
        app, ["docs", str(shop["defs"]), "-c", str(shop["db"]), "--out", str(out), "--format", "md"]
    )
    assert res.exit_code == 0, res.output
    row = _row((out / "index.md").read_text(), "daily")
    assert "full run, failed" in row
    # the watermark stays that of the last successful run
    assert row.endswith(f"watermark {mark:%Y-%m-%d %H:%M:%S} |")
