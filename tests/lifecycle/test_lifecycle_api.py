"""Errors, exports, SQL without a connection, threads, plots and the CLI (DuckDB)."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import metrics_layer as ml
from metrics_layer.errors import QueryError
from tests.backends import connect_duckdb
from tests.cli_helpers import invoke
from tests.lifecycle.support import DEFS, USERS, events

EV = events(
    (1, "session", "2024-01-05", "web"),
    (1, "session", "2024-02-06", "ios"),
    (2, "session", "2024-02-07", "web"),
    (3, "session", "2024-03-01", "android"),
    (None, "session", "2024-04-01", "web"),
)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("lifecycle_api")
    db = folder / "shop.duckdb"
    con = duckdb.connect(str(db))
    con.register("ev", EV)
    con.register("us", USERS)
    con.execute("CREATE TABLE events AS SELECT * FROM ev")
    con.execute("CREATE TABLE users AS SELECT * FROM us")
    con.close()
    (folder / "defs").mkdir()
    (folder / "defs" / "lifecycle.yml").write_text(DEFS)
    return folder / "defs", db


@pytest.fixture(scope="module")
def layer(project) -> ml.Layer:
    defs, db = project
    return ml.load(defs, con=f"duckdb:///{db}", vars={"events": "events", "users": "users"})


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda lay: lay.lifecycle("montly"), "unknown retention 'montly' (did you mean 'monthly'"),
        (lambda lay: lay.lifecycle("monthly", grain="mnth"), "unknown grain 'mnth'"),
        (lambda lay: lay.stickiness("monthly", grain="month", unit="fiscal_week"), "fiscal"),
        (
            lambda lay: lay.stickiness("monthly", grain="fiscal_week", unit="fiscal_week"),
            "use unit 'hour' or 'day'",
        ),
        (
            lambda lay: lay.stickiness("monthly", grain="fiscal_year", unit="month"),
            "use unit 'hour' or 'day' or 'fiscal_week' or 'fiscal_month' or 'fiscal_quarter'",
        ),
        (
            lambda lay: lay.stickiness("monthly", grain="fiscal_month", unit="week"),
            "weeks starting monday do not divide fiscal_month periods, whose weeks start on sunday",
        ),
        (
            lambda lay: lay.stickiness("monthly", grain="fiscal_quarter", unit="fiscal_quarter"),
            "use unit",
        ),
        (lambda lay: lay.lifecycle("monthly", by="status"), "would clash"),
        (lambda lay: lay.lifecycle("monthly", by=["platform", "platform"]), "listed twice"),
        (lambda lay: lay.lifecycle("monthly", by="nope"), "nope"),
        (lambda lay: lay.lifecycle("monthly", start="2024-03-01", end="2024-02-01"), "after start"),
        (lambda lay: lay.lifecycle("monthly", start="yesterday"), "not a date"),
        (lambda lay: lay.stickiness("monthly", grain="month", unit="week"), "unit 'week'"),
        (lambda lay: lay.stickiness("monthly", grain="day", unit="day"), "use unit 'hour'"),
        (lambda lay: lay.stickiness("monthly", grain="week", unit="month"), "divide week"),
        (lambda lay: lay.stickiness("monthly", unit="dya"), "unknown grain 'dya'"),
        (lambda lay: lay.stickiness("monthly", by="n"), "would clash"),
        (lambda lay: lay.stickiness("monthly", timezone="Mars/Base"), "unknown timezone"),
    ],
)
def test_bad_requests_are_one_line_query_errors(layer, call, message):
    with pytest.raises(QueryError) as err:
        call(layer)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_exports_agree_and_types_are_exact(layer):
    res = layer.lifecycle("monthly", by="platform")
    df = res.to_pandas()
    assert list(df.columns) == ["month", "platform", "status", "entities"]
    assert str(df["entities"].dtype) == "int64"
    arrow = res.to_pyarrow()
    assert arrow.column("entities").to_pylist() == df["entities"].tolist()
    assert res.to_polars()["entities"].to_list() == df["entities"].tolist()
    # every entity is in one group: the dormant total is minus the new total overall
    assert df[df.status == "new"].entities.sum() == 3
    assert res.pivot().columns.tolist() == ["new", "returning", "resurrecting", "dormant"]


def test_sql_without_a_connection_runs_unchanged(project, layer):
    defs, db = project
    offline = ml.load(defs, vars={"events": "events", "users": "users"})
    for call in (
        lambda lay: lay.lifecycle("monthly", start="2024-02-01", by="users.country"),
        lambda lay: lay.stickiness("weekly", grain="month", end="2024-04-01"),
    ):
        text = call(offline).sql(dialect="duckdb")
        got = layer.con.con.cursor().sql(text).df()  # the same file, through the SQL text only
        want = call(layer).to_pandas()
        assert got.astype(str).values.tolist() == want.astype(str).values.tolist()
        assert "SELECT" in call(offline).sql(dialect="postgres")


def test_threads_share_one_layer(layer):
    want = {g: layer.stickiness("weekly", grain=g).to_pandas() for g in ("week", "month")}
    errors: list[BaseException] = []

    def work(g: str) -> None:
        try:
            for _ in range(5):
                pd.testing.assert_frame_equal(
                    layer.stickiness("weekly", grain=g).to_pandas(), want[g]
                )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(g,)) for g in ("week", "month") * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_plots_are_figures(layer, tmp_path):
    fig = layer.lifecycle("monthly").plot()
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert min(heights) < 0 < max(heights)  # dormant drawn below zero
    fig.savefig(tmp_path / "lifecycle.png")
    by = layer.lifecycle("monthly", by="platform").plot()
    assert [a.get_title() for a in by.axes] == ["android", "web"]  # user 1 stays in web
    stick = layer.stickiness("weekly").plot(periods=2)
    assert stick.axes[0].get_legend() is not None
    layer.stickiness("weekly", by="platform").plot().savefig(tmp_path / "stickiness.png")
    with pytest.raises(QueryError):
        layer.stickiness("weekly").plot(periods=0)


def test_explain_says_what_is_computed(layer):
    text = layer.lifecycle("monthly", start="2024-02-01").explain()
    assert "first activity ever" in text and "reported: periods overlapping" in text
    assert "distinct days" in layer.stickiness("weekly").explain()


def _cli(project, *args: str):
    defs, db = project
    return invoke(*args[:1], str(defs), *args[1:], "-c", str(db), "--var", "events=events",
                  "--var", "users=users")  # fmt: skip


def test_cli_lifecycle_csv_and_pivot(project, layer):
    out = _cli(project, "lifecycle", "monthly", "--format", "csv", "--start", "2024-02-01")
    assert out.returncode == 0, out.stderr
    df = pd.read_csv(io.StringIO(out.stdout))
    want = layer.lifecycle("monthly", start="2024-02-01").to_pandas()
    assert df["entities"].tolist() == want["entities"].tolist()
    assert list(df.columns) == ["month", "status", "entities"]
    out = _cli(project, "lifecycle", "monthly", "--pivot", "--by", "platform", "--format", "json")
    assert out.returncode == 0, out.stderr
    assert set(json.loads(out.stdout)[0]) == {"platform", "month", "new", "returning",
                                              "resurrecting", "dormant"}  # fmt: skip


def test_cli_stickiness_and_errors(project):
    out = _cli(
        project, "stickiness", "weekly", "--grain", "day", "--unit", "hour", "--format", "csv"
    )
    assert out.returncode == 0, out.stderr
    df = pd.read_csv(io.StringIO(out.stdout))
    assert list(df.columns) == ["day", "n", "entities"] and df["n"].max() == 24
    bad = _cli(project, "stickiness", "weekly", "--unit", "week")
    assert bad.returncode == 2 and bad.stderr.startswith("error: unit 'week'")
    assert "Traceback" not in bad.stderr
    bad = _cli(project, "lifecycle", "wekly")
    assert bad.returncode == 2 and "did you mean 'weekly'" in bad.stderr


def test_a_layer_over_a_fresh_connection(tmp_path):
    con = connect_duckdb()
    con.create_table("events", EV)
    con.create_table("users", USERS)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.yml").write_text(DEFS)
    lay = ml.load(tmp_path / "d", con=con, vars={"events": "events", "users": "users"})
    assert lay.lifecycle("monthly").to_pandas().shape == (16, 3)  # Jan..Apr x 4 statuses


def test_a_date_time_column(tmp_path):
    con = connect_duckdb()
    days = [pd.Timestamp(d).date() for d in ("2024-01-01", "2024-01-03", "2024-02-01")]
    con.create_table("events", pd.DataFrame({"user_id": [1, 1, 2], "event_type": ["session"] * 3,
                                             "platform": ["web"] * 3, "ts": days}))  # fmt: skip
    con.create_table("users", USERS)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.yml").write_text(DEFS)
    lay = ml.load(tmp_path / "d", con=con, vars={"events": "events", "users": "users"})
    assert lay.lifecycle("monthly").pivot().to_numpy().tolist() == [[1, 0, 0, 0], [1, 0, 0, -1]]
    df = lay.stickiness("weekly").to_pandas()
    assert df[df.entities > 0][["n", "entities"]].to_numpy().tolist() == [[2, 1], [1, 1]]
    with pytest.raises(QueryError, match="hour does not apply to date values"):
        lay.stickiness("daily", grain="day", unit="hour")
    with pytest.raises(QueryError, match="needs a timestamp time column"):
        lay.lifecycle("monthly", grain="hour")


def test_a_restricted_layer_sees_only_its_rows(tmp_path):
    """Row filters of access policies apply: lifecycle reads rows through Layer.table."""
    con = connect_duckdb()
    con.create_table("events", EV)
    con.create_table("users", USERS)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.yml").write_text(
        DEFS
        + """
access:
  policies:
    one_country:
      sources: [events, users]
      row_filters:
        events: "users.country = :country"
"""
    )
    lay = ml.load(tmp_path / "d", con=con, vars={"events": "events", "users": "users"})
    fr = lay.restrict("one_country", {"country": "FR"})  # user 2 only
    df = fr.lifecycle("monthly").to_pandas()
    assert df[df.entities != 0][["status", "entities"]].to_numpy().tolist() == [["new", 1]]
    assert fr.stickiness("weekly").to_pandas().entities.sum() == 1
