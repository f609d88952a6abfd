"""The engine benchmark runs and measures what it says: warm requests are cache hits."""

from __future__ import annotations

from pathlib import Path

from benchmarks import bench_engine
from benchmarks.harness import ensure_data


def test_bench_engine_runs_and_warm_requests_hit(tmp_path: Path) -> None:
    db = ensure_data(2_000, directory=tmp_path, progress=None)
    rows = bench_engine.run(2_000, str(db), repeat=3, progress=None)
    assert {r["name"].split()[0] for r in rows} == {"kpi", "retention", "funnel"}
    for r in rows:
        assert r["warm_hits"] == "3/3", r["name"]
        assert r["cold_ms"] > r["warm_ms"] > 0
