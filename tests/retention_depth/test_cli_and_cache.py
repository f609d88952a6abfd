"""`metrics-layer retention` depth flags, and the compiled-query cache keyed on the options."""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.backends import Backend, connect_duckdb
from tests.cli_helpers import invoke
from tests.retention_depth.support import DEFS, USERS, frame, make_layer

EV = frame(
    [
        (1, "signup", "2024-01-01 23:00"),
        (1, "session", "2024-01-02 01:00"),
        (1, "purchase", "2024-01-02 02:00", 10.0),
        (1, "purchase", "2024-01-03 03:00", 5.0),
        (2, "signup", "2024-01-01 10:00"),
        (2, "session", "2024-01-04 10:00"),
    ]
)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("depth_cli")
    db = folder / "shop.duckdb"
    con = duckdb.connect(str(db))
    con.register("ev", EV)
    con.register("us", USERS)
    con.execute("CREATE TABLE events AS SELECT * FROM ev")
    con.execute("CREATE TABLE users AS SELECT * FROM us")
    con.close()
    (folder / "defs").mkdir()
    (folder / "defs" / "retention.yml").write_text(DEFS)
    return folder / "defs", db


def _cli(project: tuple[Path, Path], *rest: str):
    defs, db = project
    return invoke(
        "retention", str(defs), "dayly", *rest, "-c", str(db),
        "--var", "events=events", "--var", "users=users",
    )  # fmt: skip


def test_period_mode_brackets_and_value_flags(project):
    out = _cli(
        project, "--period-mode", "since_entry", "--bracket", "0-0", "--bracket", "1-3",
        "--value", "revenue", "--format", "csv",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    df = pd.read_csv(io.StringIO(out.stdout))
    assert list(df["bracket"]) == ["0-0", "1-3"]
    assert list(df["active"]) == [1, 1]  # user 1 at 2 h (day 0); user 2 on day 3
    assert list(df["value"]) == [10.0, 5.0]
    assert list(df["value_retention"]) == [1.0, 0.5]
    same = _cli(project, "--period-mode", "since_entry", "--brackets", "0-0,1-3", "--format", "csv")
    assert list(pd.read_csv(io.StringIO(same.stdout))["active"]) == [1, 1]


def test_bad_flags_are_one_line_errors(project):
    for args in (("--period-mode", "elapsed"), ("--brackets", "2-1"), ("--value", "revenu")):
        out = _cli(project, *args)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert "Traceback" not in out.stderr
    assert "did you mean 'revenue'" in _cli(project, "--value", "revenu").stderr


def test_other_options_are_cache_misses_with_their_own_answers(tmp_path):
    duck = Backend("duckdb", connect_duckdb())
    layer = make_layer(duck, tmp_path, EV)
    asks = [
        {},
        {"period_mode": "since_entry"},
        {"period_mode": "since_entry", "brackets": [(0, 0), (1, 3)]},
        {"period_mode": "since_entry", "brackets": [(0, 1), (2, 3)]},
        {"period_mode": "since_entry", "brackets": [(0, 1), (2, 3)], "value": "revenue"},
        {"period_mode": "since_entry", "brackets": [(0, 1), (2, 3)], "value": "n_events"},
    ]
    answers = []
    for ask in asks:
        res = layer.retention("dayly", **ask)
        assert res.cache_hit is False, ask
        answers.append(res.to_pandas().to_json())
    assert len(set(answers)) == len(asks)
    again = layer.retention("dayly", period_mode="since_entry", brackets=[(0, 0), (1, 3)])
    assert again.cache_hit is True
    assert again.to_pandas().to_json() == answers[2]
