"""The declared checks of metric_defs/ on the demo data: they catch exactly the planted issues
(orphan workers, the 2025-03-14 visit spike, payouts that differ from revenue) and pass on the
same data generated without them."""

from __future__ import annotations

from pathlib import Path

import ibis
import pytest

import metrics_layer as ml
from metrics_layer.checks import demo_summary
from metrics_layer.demo import generate

ROOT = Path(__file__).resolve().parents[2]
PLANTED = {
    ("revenue", "reconcile(payouts_by_completion)"),
    ("events", "relationships(workers)"),
    ("events", "volume(day)"),
    ("assignments", "relationships(workers)"),
}


@pytest.fixture(scope="module")
def dbs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("demo_checks")
    paths = {"planted": root / "planted.duckdb", "clean": root / "clean.duckdb"}
    generate(paths["planted"], events=50_000)
    generate(paths["clean"], events=50_000, plant_issues=False)
    return paths


def layer_on(path: Path) -> ml.Layer:
    return ml.load(ROOT / "metric_defs", con=ibis.duckdb.connect(str(path), read_only=True))


def test_planted_issues_are_caught_and_nothing_else(dbs):
    report = layer_on(dbs["planted"]).check(as_of="2025-07-01")
    failed = {(r.target, r.rule) for r in report.failed}
    assert failed == PLANTED
    spike = report.failing("events", "volume(day)")
    assert [d.date().isoformat() for d in spike["day"]] == ["2025-03-14"]
    orphans = report.failing("assignments", "relationships(workers)")
    assert orphans["worker_id"].min() > 1000  # ids above the largest worker_id (events/50)


def test_clean_data_passes_every_check(dbs):
    report = layer_on(dbs["clean"]).check(as_of="2025-07-01")
    assert report.ok, report.to_text()


def test_demo_summary_is_short_and_names_what_was_caught(dbs):
    text = demo_summary(layer_on(dbs["planted"]))
    lines = text.splitlines()
    assert lines[0].startswith("Data checks (as of 2025-07-01):") and "4 failed" in lines[0]
    assert any("✗ assignments: relationships(workers)" in line for line in lines)
    assert any("✗ events: volume(day)" in line and "2025-03-14" in line for line in lines)
    assert len(lines) < 40
