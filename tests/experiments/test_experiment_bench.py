"""The experiment benchmark at a tiny size: the layer's per-arm sums equal the hand SQL's.
No timing assertions (timings at this size mean nothing)."""

from __future__ import annotations

from benchmarks import bench_experiment


def test_layer_equals_hand_written_sql(tmp_path):
    rows = bench_experiment.run(20_000, str(tmp_path / "demo.duckdb"), repeat=1, progress=None)
    assert [r["name"] for r in rows] == ["experiment_plain", "experiment_cuped"]
    for r in rows:
        assert r["equal"], r["diff"]
        assert r["units"] == 2_000 and r["layer_s"] > 0 and r["handwritten_s"] > 0
