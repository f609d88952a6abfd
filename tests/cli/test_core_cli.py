"""The core commands in-process: validate, list, query, sql and demo, their outputs and errors.

Numbers are checked against SQL written by hand on the same DuckDB file, not against the
layer's own Python API, so a mistake shared by the CLI and the API would still show.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import sqlglot
import yaml

from tests.cli_helpers import ROOT, invoke

DEFS = str(ROOT / "metric_defs")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from metrics_layer.demo.generate import generate

    path = tmp_path_factory.mktemp("core_cli") / "demo.duckdb"
    generate(path, events=20_000)
    return path


def _hand_sql(db: Path, sql: str) -> pd.DataFrame:
    """Plain SQL on the file, opened with the command's own settings: DuckDB allows one
    configuration per database file and process, and the command runs in this process."""
    from metrics_layer.connection import connect

    cur = connect(f"duckdb:///{db}", read_only=True).con.cursor()
    try:
        return cur.execute(sql).fetchdf()
    finally:
        cur.close()


def test_validate_counts_what_the_files_define(demo_db: Path) -> None:
    res = invoke("validate", DEFS, "-c", str(demo_db))
    assert res.returncode == 0, res.stderr
    docs = [yaml.safe_load(p.read_text()) for p in sorted((ROOT / "metric_defs").glob("*.yml"))]
    count = {k: sum(len(d.get(k) or {}) for d in docs) for k in ("sources", "metrics")}
    assert res.stdout.startswith(f"ok: {count['sources']} sources, {count['metrics']} metrics")


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_list_names_every_metric_once(fmt: str) -> None:
    res = invoke("list", DEFS, "--format", fmt)
    assert res.returncode == 0, res.stderr
    frame = (
        pd.read_csv(io.StringIO(res.stdout))
        if fmt == "csv"
        else pd.DataFrame(json.loads(res.stdout))
    )
    assert list(frame.columns) == ["metric", "type", "description", "owner"]
    docs = [yaml.safe_load(p.read_text()) for p in sorted((ROOT / "metric_defs").glob("*.yml"))]
    declared = sorted(name for d in docs for name in (d.get("metrics") or {}))
    assert sorted(frame["metric"]) == declared


def test_query_csv_equals_hand_written_sql(demo_db: Path) -> None:
    res = invoke(
        "query", DEFS, "revenue", "tasks_posted", "--by", "tasks.region", "--grain", "quarter",
        "--start", "2024-04-01", "--end", "2025-04-01", "-c", str(demo_db), "--format", "csv",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    got = pd.read_csv(io.StringIO(res.stdout), parse_dates=["quarter"])
    revenue = _hand_sql(
        demo_db,
        """SELECT date_trunc('quarter', a.completed_at) AS quarter, t.region,
                  sum(a.revenue)::DOUBLE AS revenue
           FROM assignments a JOIN tasks t USING (task_id)
           WHERE a.completed_at IS NOT NULL
             AND a.completed_at >= TIMESTAMP '2024-04-01' AND a.completed_at < TIMESTAMP '2025-04-01'
           GROUP BY ALL""",
    )
    posted = _hand_sql(
        demo_db,
        """SELECT date_trunc('quarter', posted_at) AS quarter, region, count(*) AS tasks_posted
           FROM tasks
           WHERE posted_at >= TIMESTAMP '2024-04-01' AND posted_at < TIMESTAMP '2025-04-01'
           GROUP BY ALL""",
    )
    want = revenue.merge(posted, on=["quarter", "region"], how="outer")
    keys = ["quarter", "region"]
    got = got.sort_values(keys).reset_index(drop=True)
    want = want.sort_values(keys).reset_index(drop=True)
    assert len(want) >= 8  # several regions over four quarters: not a vacuous comparison
    assert got[keys].astype(str).values.tolist() == want[keys].astype(str).values.tolist()
    pd.testing.assert_series_equal(got["revenue"], want["revenue"], check_dtype=False, rtol=1e-12)
    assert (
        got["tasks_posted"].fillna(0).astype(int).tolist()
        == want["tasks_posted"].fillna(0).astype(int).tolist()
    )


def test_query_json_keeps_stdout_pure_with_explain(demo_db: Path) -> None:
    res = invoke(
        "query", DEFS, "revenue", "--grain", "year", "--explain", "-c", str(demo_db),
        "--format", "json",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)  # the plan went to stderr, so this parses
    assert [r["year"][:4] for r in rows] == ["2024", "2025"]
    assert "revenue" in res.stderr
    total = _hand_sql(
        demo_db, "SELECT sum(revenue)::VARCHAR AS r FROM assignments WHERE completed_at IS NOT NULL"
    )["r"][0]
    # decimals are exact: the yearly values add up to the hand-written total to the cent
    assert sum(Decimal(str(r["revenue"])) for r in rows) == Decimal(total)


def test_sql_without_a_connection_parses_in_its_dialect() -> None:
    res = invoke(
        "sql", DEFS, "revenue", "--by", "tasks.region", "--grain", "month", "--dialect", "postgres"
    )
    assert res.returncode == 0, res.stderr
    tree = sqlglot.parse_one(res.stdout, read="postgres")
    assert {t.name for t in tree.find_all(sqlglot.exp.Table)} >= {"assignments", "tasks"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("query", DEFS, "revnue"), "unknown metric 'revnue'"),
        (("query", DEFS, "revenue", "--by", "tasks.regoin"), "tasks.regoin"),
        (("list", DEFS, "--format", "xml"), "unknown format 'xml'"),
        (("list", DEFS, "--var", "novalue"), "--var takes NAME=VALUE"),
        (("validate", str(ROOT / "no_such_folder")), "no_such_folder"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], message: str) -> None:
    res = invoke(*args)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert res.stderr.startswith("error: ") and message in res.stderr, res.stderr
    assert "Traceback" not in res.stderr


def test_unknown_metric_suggests_close_names() -> None:
    res = invoke("query", DEFS, "revnue")
    assert "did you mean 'revenue'" in res.stderr


def test_demo_builds_and_prints_the_headline_kpis(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    res = invoke("demo", "--db", str(db), "--events", "3000", "--defs", DEFS)
    assert res.returncode == 0, res.stderr
    assert db.exists()
    assert "building demo data set (3,000 events)" in res.stdout
    assert "Marketplace KPIs by quarter" in res.stdout and "Funnel onboarding" in res.stdout


def test_demo_refuses_a_size_it_cannot_build(tmp_path: Path) -> None:
    res = invoke("demo", "--db", str(tmp_path / "tiny.duckdb"), "--events", "10", "--defs", DEFS)
    assert res.returncode == 2
    assert res.stderr.startswith("error: cannot build the demo data set")
