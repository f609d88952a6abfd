"""`metrics-layer retention` against a DuckDB file: in-process, and once as a real process."""

from __future__ import annotations

import io
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.cli_helpers import CliResult, invoke, run_process
from tests.unit.test_retention import BASIC, BY_EVENTS
from tests.unit.test_retention_support import DEFS, USERS


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("retention_cli")
    db = folder / "shop.duckdb"
    con = duckdb.connect(str(db))
    events = pd.concat([BASIC, BY_EVENTS.assign(user_id=BY_EVENTS["user_id"] + 10)])
    con.register("ev", events)
    con.register("us", USERS)
    con.execute("CREATE TABLE events AS SELECT * FROM ev")
    con.execute("CREATE TABLE users AS SELECT * FROM us")
    con.close()
    (folder / "defs").mkdir()
    (folder / "defs" / "retention.yml").write_text(DEFS)
    return folder / "defs", db


def cli(*args: str) -> CliResult:
    return invoke("retention", *args)


def _args(project: tuple[Path, Path], *rest: str) -> list[str]:
    defs, db = project
    return [str(defs), *rest, "-c", str(db), "--var", "events=events", "--var", "users=users"]


def test_long_table_as_csv(project):
    """A real process: the CSV a shell pipeline reads from the installed command."""
    out = run_process("retention", *_args(project, "monthly", "--periods", "2", "--format", "csv"))
    assert out.returncode == 0, out.stderr
    df = pd.read_csv(io.StringIO(out.stdout))
    assert list(df.columns) == [
        "cohort",
        "cohort_size",
        "period",
        "active",
        "retention",
        "complete",
    ]
    assert df["period"].max() == 1
    jan = df[(df["cohort"].str.startswith("2024-01-01")) & (df["period"] == 0)].iloc[0]
    assert (jan["cohort_size"], jan["active"]) == (7, 3)  # users 1, 12, 14 of 1, 2, 11-14, 17


def test_json_rolling_by(project):
    out = cli(
        *_args(project, "monthly", "--mode", "rolling", "--by", "users.country", "--format", "json")
    )
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert {"cohort", "country", "cohort_size", "period", "active", "retention", "complete"} == set(
        rows[0]
    )


def test_pivot_table(project):
    out = cli(*_args(project, "monthly", "--pivot", "--cohort-type", "recurring"))
    assert out.returncode == 0, out.stderr
    assert "retention monthly" in out.stdout and "2024-01-01" in out.stdout


def test_unknown_retention_is_one_clear_error(project):
    out = cli(*_args(project, "montly"))
    assert out.returncode == 2
    assert "unknown retention 'montly'" in out.stderr and "did you mean 'monthly'" in out.stderr
    assert "Traceback" not in out.stderr
