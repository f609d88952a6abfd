"""`metrics-layer check` as a pipeline gate: exit codes, JSON output, progress on stderr.

In-process (typer's runner), except the failing gate, which runs as a real process.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.cli_helpers import CliResult, invoke, run_process
from tests.unit.test_checks_support import USERS, daily, defs


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> tuple[Path, Path]:
    """A DuckDB file with orders (one planted orphan) and users, and definitions for it."""
    root = tmp_path_factory.mktemp("cli")
    db = root / "shop.duckdb"
    orders = daily([10, 20, 30])
    orders.loc[2, "user_id"] = 9  # orphan
    with duckdb.connect(str(db)) as con:
        con.register("o", orders)
        con.register("u", USERS)
        con.execute("CREATE TABLE orders AS SELECT * FROM o")
        con.execute("CREATE TABLE users AS SELECT * FROM u")
    folder = root / "defs"
    folder.mkdir()
    text = defs(
        metrics="revenue: {measure: orders.revenue, validation: {min: 0}}",
        orders_checks="- not_null: [order_id]\n- relationships: users",
    )
    (folder / "shop.yml").write_text(
        text.replace("{{ orders }}", "orders").replace("{{ users }}", "users")
    )
    return folder, db


def cli(*args: str) -> CliResult:
    return invoke("check", *args)


def test_exit_0_when_everything_passes(project):
    defs_dir, db = project
    res = cli(str(defs_dir), "-c", str(db), "--metric", "revenue")
    assert res.returncode == 0, res.stderr
    assert "1 of 1 checks passed — OK" in res.stdout
    assert "[1/1] metric revenue" in res.stderr  # plain progress lines: not a TTY


def test_exit_1_when_a_check_fails_with_samples(project):
    """A real process: CI gates on the exit status of the installed command."""
    defs_dir, db = project
    res = run_process("check", str(defs_dir), "-c", str(db))
    assert res.returncode == 1, res.stderr
    assert "relationships(users)" in res.stdout
    assert "2 of 3 checks passed, 1 failed — FAILED" in res.stdout
    assert "user_id=9" in res.stdout


def test_json_output_parses(project):
    defs_dir, db = project
    res = cli(
        str(defs_dir), "-c", str(db), "--source", "orders", "--format", "json", "--no-progress"
    )
    assert res.returncode == 1
    assert res.stderr == ""
    data = json.loads(res.stdout)
    assert data["ok"] is False
    assert [r["rule"] for r in data["results"]] == ["not_null(order_id)", "relationships(users)"]
    assert data["results"][1]["failing"][0]["user_id"] == 9


def test_exit_2_when_a_check_cannot_run(project):
    defs_dir, db = project
    res = cli(str(defs_dir), "-c", str(db), "--source", "ordrs")
    assert res.returncode == 2
    assert "did you mean 'orders'" in res.stderr
