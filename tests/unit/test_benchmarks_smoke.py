"""The benchmark suite end to end at a tiny size: results exist and the layer equals the
hand-written SQL. No timing assertions (timings at this size mean nothing)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from benchmarks import bench_compile, bench_funnel, bench_kpi, product_data, run
from benchmarks.harness import compare_tables, ensure_data, time_alternating

EVENTS = 20_000


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(ensure_data(EVENTS, directory=tmp_path_factory.mktemp("bench"), progress=None))


def test_kpi_cases_equal_hand_written_sql(db_path: str) -> None:
    rows = bench_kpi.run(EVENTS, db_path, repeat=1, progress=None)
    assert [r["name"] for r in rows] == [c.name for c in bench_kpi.CASES]
    for r in rows:
        assert r["equal"], f"{r['name']}: {r['diff']}"
        assert r["layer_s"] > 0 and r["handwritten_s"] > 0 and r["ratio"] > 0
        assert r["compile_ms"] > 0 and r["sql_ratio"] > 0


def test_kpi_cases_return_rows(db_path: str) -> None:
    con = bench_kpi.connect(db_path)
    layer = bench_kpi.load_layer(con)
    for case in bench_kpi.CASES:
        table = layer.query(case.metrics, **case.query).to_pyarrow()
        assert table.num_rows > 0, case.name


def test_funnel_cases_equal_hand_written_sql(db_path: str) -> None:
    rows = bench_funnel.run(EVENTS, db_path, repeat=1, progress=None, clickhouse=False)
    names = [
        "funnel4_asof",
        "funnel4_window",
        "product_funnel4",
        "product_funnel4_counts",
        "product_funnel4_within",
    ]
    assert [r["name"] for r in rows] == names
    for r in rows:
        assert r["equal"], f"{r['name']}: {r['diff']}"
        assert r["ratio"] > 0 and r["compile_ms"] > 0 and r["e2e_ratio"] > 0
    assert rows[2]["users"] == EVENTS // 10


def test_hand_written_funnel_sql_differs_when_wrong(db_path: str) -> None:
    """The equality check has teeth: a hand SQL with an exclusive window boundary differs."""
    import metrics_layer as ml

    con = bench_funnel.connect(db_path)
    layer = ml.load(bench_funnel.defs_folder(), con=con)
    table = layer.funnel(bench_funnel.FUNNEL).to_pyarrow()
    good = bench_funnel.hand_sql()
    assert bench_funnel.compare_tables(table, bench_funnel.fetch_sql(con, good)) is None
    wrong = good.replace("THEN 1 WHEN", "THEN 2 WHEN", 1)  # signups counted as step 2
    assert bench_funnel.compare_tables(table, bench_funnel.fetch_sql(con, wrong))


def test_product_data_is_deterministic(tmp_path: Path) -> None:
    import duckdb

    def rows(name: str, seed: int) -> list[tuple]:
        path = tmp_path / name
        product_data.generate(path, users=300, seed=seed)
        con = duckdb.connect(str(path), read_only=True)
        try:
            return con.sql("SELECT * FROM product_events").fetchall()
        finally:
            con.close()

    first = rows("a.duckdb", 3)
    assert first == rows("b.duckdb", 3) and first != rows("c.duckdb", 4)
    assert [r[2] for r in first] == sorted(r[2] for r in first)  # stored in time order
    assert any(r[0] is None for r in first)  # anonymous events
    steps = [(r[0], r[2]) for r in first if r[0] is not None and r[1] in product_data.STEPS]
    assert len(set(steps)) < len(steps)  # ties: two step events of a user in one second
    views: dict[int, int] = {}
    for user, kind, *_ in first:
        if kind == "view_item" and user is not None:
            views[user] = views.get(user, 0) + 1
    assert max(views.values()) > 5 * (sum(views.values()) / len(views))  # skewed, repeated


def test_compile_benchmark(db_path: str) -> None:
    rows = bench_compile.run(EVENTS, db_path, repeat=1, progress=None)
    compiled = [r for r in rows if r["group"] == "compile"]
    assert len(compiled) == len(bench_kpi.CASES) + 1
    for r in compiled:
        assert r["compile_ms"] > 0 and r["plan_ms"] >= 0 and r["render_ms"] > 0
    loads = [r for r in rows if r["group"] == "load"]
    assert {r["metrics"] for r in loads} == {bench_compile.N_METRICS}
    assert all(r["load_s"] > 0 for r in loads)


def test_generated_definitions_load(tmp_path: Path) -> None:
    import metrics_layer as ml

    names = bench_compile.write_definitions(tmp_path, n_metrics=50, files=3)
    layer = ml.load(tmp_path)
    assert set(names) <= set(layer.metrics())
    assert len(list(tmp_path.glob("metrics_*.yml"))) == 3


def test_runner_writes_results(db_path: str, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    data_dir = Path(db_path).parent
    code = run.main(
        [
            "--events",
            str(EVENTS),
            "--only",
            "kpi",
            "--repeat",
            "1",
            "--data-dir",
            str(data_dir),
            "--output",
            str(out),
        ]
    )
    assert code == 0
    payload = json.loads(out.read_text())
    assert payload["machine"]["duckdb"] and payload["machine"]["cores"]
    assert {r["name"] for r in payload["results"]} == {c.name for c in bench_kpi.CASES}
    assert payload["errors"] == {}


def test_data_is_reused(db_path: str) -> None:
    again = ensure_data(EVENTS, directory=Path(db_path).parent, progress=None)
    assert str(again) == db_path


def test_compare_tables() -> None:
    a = pa.table({"k": ["x", "y", None], "v": [1.0, 2.0, None], "d": [Decimal("1.10")] * 3})
    b = pa.table({"d": [Decimal("1.10")] * 3, "v": [None, 2.0 + 1e-12, 1.0], "k": [None, "y", "x"]})
    assert compare_tables(a, b) is None
    assert "row counts" in (compare_tables(a, b.slice(1)) or "")
    assert "columns" in (compare_tables(a, b.drop_columns(["d"])) or "")
    c = pa.table({"k": ["x", "y", None], "v": [1.0, 2.5, None], "d": [Decimal("1.10")] * 3})
    assert "v:" in (compare_tables(a, c) or "")
    t = pa.table({"month": [dt.datetime(2024, 1, 1)], "n": [3]})
    assert compare_tables(t, pa.table({"month": [dt.datetime(2024, 2, 1)], "n": [3]}))


def test_time_alternating_counts_runs() -> None:
    calls: list[str] = []
    ta, tb = time_alternating([lambda: calls.append("a"), lambda: calls.append("b")], repeat=4)
    assert len(ta.runs) == len(tb.runs) == 4 and len(ta.cpu) == 4
    assert calls[2:] == ["a", "b", "b", "a", "b", "a", "a", "b"]
