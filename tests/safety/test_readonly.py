"""Two processes, one DuckDB file: the layer opens files read-only unless it writes, never
creates a database that is missing, and says in one line why a file cannot be opened."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

import metrics_layer as ml
from metrics_layer.connection import connect
from tests.safety.helpers import WORKERS_DEFS, make_db, write_defs

ROOT = Path(__file__).resolve().parents[2]
HOLD = textwrap.dedent(
    """
    import sys, time
    import metrics_layer as ml
    layer = ml.load(sys.argv[1], con=sys.argv[2])
    assert layer.query("shifts").to_pandas()["shifts"].tolist() == [4]
    print("ready", flush=True)
    time.sleep(float(sys.argv[3]))
    """
)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _hold(defs: Path, con: str, seconds: float = 20) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(defs), con, str(seconds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "ready", proc.stderr.read() if proc.stderr else line
    return proc


@pytest.mark.parametrize("form", ["path", "url"])
def test_two_processes_read_one_file(tmp_path: Path, form: str) -> None:
    db = make_db(tmp_path / "w.duckdb")
    defs = write_defs(tmp_path / "defs", WORKERS_DEFS.format(table="shifts"))
    con = str(db) if form == "path" else f"duckdb:///{db}"
    first = _hold(defs, con)
    try:
        layer = ml.load(defs, con=con)  # a second process holds the file: still readable
        assert layer.query("hours").to_pandas()["hours"].tolist() == [20.5]
        cli = subprocess.run(
            [sys.executable, "-m", "metrics_layer.cli", "query", str(defs), "shifts", "-c", con],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=60,
        )
        assert cli.returncode == 0, cli.stderr
        assert "4" in cli.stdout
    finally:
        first.kill()
        first.wait()


def test_a_layer_cannot_write_through_its_read_only_file(tmp_path: Path) -> None:
    db = make_db(tmp_path / "w.duckdb")
    con = connect(str(db))
    with pytest.raises(Exception, match="read-only"):
        con.raw_sql("CREATE TABLE x (a INT)")
    with pytest.raises(ml.ConnectionError, match="another mode"):
        connect(str(db), read_only=False)
    con.disconnect()
    writable = connect(str(db), read_only=False)
    writable.raw_sql("CREATE TABLE x (a INT)")


def test_a_missing_file_is_not_created(tmp_path: Path) -> None:
    defs = write_defs(tmp_path / "defs", WORKERS_DEFS.format(table="shifts"))
    for con in (f"duckdb:///{tmp_path}/missing.duckdb", str(tmp_path / "missing.duckdb")):
        with pytest.raises(ml.ConnectionError, match="does not exist"):
            ml.load(defs, con=con)
    assert not (tmp_path / "missing.duckdb").exists()


def test_a_file_that_is_no_database_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "notdb.duckdb"
    bad.write_text("hello, I am a text file\n" * 100)
    defs = write_defs(tmp_path / "defs", WORKERS_DEFS.format(table="shifts"))
    with pytest.raises(ml.ConnectionError) as info:
        ml.load(defs, con=str(bad))
    assert "not a DuckDB database file" in str(info.value) and "\n" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_a_file_locked_by_a_writer_is_one_line(tmp_path: Path) -> None:
    db = make_db(tmp_path / "w.duckdb")
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True);"
            " time.sleep(20)",
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        defs = write_defs(tmp_path / "defs", WORKERS_DEFS.format(table="shifts"))
        started = time.monotonic()
        with pytest.raises(ml.ConnectionError) as info:
            ml.load(defs, con=str(db))
        assert time.monotonic() - started < 10
        message = str(info.value)
        assert "locked by another process" in message and "\n" not in message
    finally:
        writer.kill()
        writer.wait()


def test_the_writer_closes_and_readers_come_back(tmp_path: Path) -> None:
    """Sanity for the lock test: the same file opens once its writer is gone."""
    db = make_db(tmp_path / "w.duckdb")
    duckdb.connect(str(db)).close()
    defs = write_defs(tmp_path / "defs", WORKERS_DEFS.format(table="shifts"))
    assert ml.load(defs, con=str(db)).query("shifts").to_pandas()["shifts"].tolist() == [4]
