"""`--week-start` and `--timezone` on the query, sql, retention and funnel commands."""

from __future__ import annotations

import copy
import datetime as _dt
import json
from pathlib import Path

import duckdb

from tests.cli_helpers import invoke
from tests.time.fixtures import DEFS, events_frame, write_defs

T = _dt.datetime
ROWS = [
    (T(2024, 3, 4, 3), 1, "signup", 1),  # Sunday 22:00 in New York
    (T(2024, 3, 4, 5), 1, "visit", 2),
    (T(2024, 3, 10, 12), 2, "visit", 4),  # a Sunday
]


def _db(tmp_path: Path) -> str:
    path = str(tmp_path / "time.duckdb")
    con = duckdb.connect(path)
    frame = events_frame(ROWS)
    con.register("frame", frame)
    con.execute("CREATE TABLE events AS SELECT * FROM frame")
    con.close()
    return path


def test_week_start_and_timezone_options(tmp_path: Path) -> None:
    plain = copy.deepcopy(DEFS)
    plain["sources"]["events"]["table"] = "events"
    db, defs = _db(tmp_path), str(write_defs(tmp_path / "defs", plain))
    res = invoke(
        "query",
        defs,
        "value",
        "--grain",
        "week",
        "--week-start",
        "sunday",
        "-c",
        db,
        "--format",
        "json",
    )
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert [(r["week"][:10], r["value"]) for r in rows] == [("2024-03-03", 3), ("2024-03-10", 4)]
    res = invoke(
        "retention",
        defs,
        "weekly",
        "--periods",
        "1",
        "--timezone",
        "America/New_York",
        "-c",
        db,
        "--format",
        "json",
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)[0]["cohort"][:10] == "2024-02-26"
    res = invoke(
        "funnel",
        defs,
        "signup_visit",
        "--grain",
        "week",
        "--week-start",
        "sun",
        "-c",
        db,
        "--format",
        "json",
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)[0]["week"][:10] == "2024-03-03"
    res = invoke("sql", defs, "value", "--grain", "week", "--week-start", "sunday")
    assert res.returncode == 0 and "INTERVAL" in res.stdout.upper()
    res = invoke("query", defs, "value", "--grain", "week", "--week-start", "sundae", "-c", db)
    assert res.returncode != 0 and "sunday" in res.stderr and "Traceback" not in res.stderr
