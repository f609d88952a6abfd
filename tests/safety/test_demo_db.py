"""`metrics-layer demo --db` rebuilds only a new file or one the demo wrote (a marker table);
another DuckDB file needs --force, and a file that is not a DuckDB database is one clear line."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from metrics_layer.cli import app
from metrics_layer.demo import generate
from metrics_layer.demo.generate import MARKER

ROOT = Path(__file__).resolve().parents[2]


def _demo(db: Path, *extra: str) -> tuple[int, list[str]]:
    args = ["demo", "--db", str(db), "--events", "1000", "--defs", str(ROOT / "metric_defs")]
    res = CliRunner().invoke(app, [*args, *extra])
    return res.exit_code, res.output.strip().splitlines()


def _users_db(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE workers AS SELECT 'mine' AS note")
    con.close()
    return path


def _notes(path: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT * FROM workers").fetchall()
    finally:
        con.close()


def test_a_users_database_is_refused_and_kept(tmp_path: Path) -> None:
    db = _users_db(tmp_path / "existing.duckdb")
    code, lines = _demo(db)
    assert code == 2
    assert lines == [
        f"error: cannot build the demo data set: {db} is a DuckDB database the demo did not "
        "create; its tables would be replaced: choose another path, or use --force"
    ]
    assert _notes(db) == [("mine",)]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"my notes\n", "is not a DuckDB database"),
        (b"\x00" * 64, "is not a DuckDB database"),
        (b"DUCK" * 8, "cannot open"),  # a DuckDB header and nothing after it
    ],
)
def test_a_file_that_is_not_a_database_is_one_line(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(content)
    for extra in ([], ["--force"]):
        code, lines = _demo(notes, *extra)
        assert code == 2 and len(lines) == 1, lines
        assert lines[0].startswith("error: cannot build the demo data set: ")
        assert reason in lines[0]
    assert notes.read_bytes() == content


def test_a_folder_or_a_link_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dir.duckdb").mkdir()
    target = _users_db(tmp_path / "target.duckdb")
    (tmp_path / "link.duckdb").symlink_to(target)
    for path in (tmp_path / "dir.duckdb", tmp_path / "link.duckdb"):
        with pytest.raises(ValueError, match="not a regular file"):
            generate(path, events=200, force=True)
    assert _notes(target) == [("mine",)]


def test_force_rebuilds_a_users_database(tmp_path: Path) -> None:
    db = _users_db(tmp_path / "existing.duckdb")
    counts = generate(db, events=200, force=True)
    assert len(_notes(db)) == counts["workers"]


def test_the_demo_rebuilds_its_own_file(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    first = generate(db, events=200)
    assert generate(db, events=300) != first  # its own file: rebuilt without --force
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute(f"SELECT count(*) FROM {MARKER}").fetchall() == [(1,)]
    con.close()


def test_the_cli_runs_on_a_new_file(tmp_path: Path) -> None:
    db = tmp_path / "new" / "demo.duckdb"
    code, lines = _demo(db)
    assert code == 0, lines
    assert any("Marketplace KPIs by quarter" in line for line in lines)
