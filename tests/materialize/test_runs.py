"""Full refresh, incremental and backfill runs on DuckDB: the table equals the raw query."""

from __future__ import annotations

import datetime as dt
import os
import random
import socket
import subprocess
from typing import Any

import pandas as pd
import pytest
from conftest import START, append_events, assert_same, fresh, make_events, open_layer, stored

import metrics_layer as ml
from metrics_layer.materialize import runlog


def runs(layer: Any) -> pd.DataFrame:
    return pd.DataFrame(runlog.rows(layer.con, "daily"))


def test_full_refresh_equals_raw_query(shop: dict[str, Any]) -> None:
    layer = open_layer(shop)
    report = layer.materialize("daily")
    assert report.kind == "full" and report.periods == 30
    table = stored(layer, "daily")
    assert report.rows == len(table) > 0
    assert_same(table, fresh(layer, "daily"))
    log = runs(layer)
    assert log.status.tolist() == ["success"]
    events = layer.con.table("events").to_pandas()
    assert log.watermark_after[0] == events.ts.max()  # the latest time read
    assert pd.isna(log.watermark_before[0])


def test_independent_reference_for_sums(shop: dict[str, Any]) -> None:
    """Revenue and event counts per day x country x platform from plain pandas."""
    layer = open_layer(shop)
    layer.materialize("daily")
    ev = (
        layer.con.table("events")
        .to_pandas()
        .merge(layer.con.table("users").to_pandas(), on="user_id", how="left")
    )
    ev["day"] = ev.ts.dt.floor("D")
    want = (
        ev.groupby(["day", "country", "platform"], dropna=False)
        .agg(revenue=("revenue", lambda s: s.sum(min_count=1)), events=("event_id", "size"))
        .reset_index()
    )
    got = stored(layer, "daily")[["day", "country", "platform", "revenue", "events"]]
    want = want.sort_values(["day", "country", "platform"], na_position="first", kind="mergesort")
    assert_same(got, want.reset_index(drop=True).astype({"events": "int64"}))


def test_incremental_takes_late_rows_within_lookback(shop: dict[str, Any]) -> None:
    layer = open_layer(shop)
    first = layer.materialize("daily")
    rng: random.Random = shop["rng"]
    mark = first.watermark
    # late rows: 1 day before the watermark (inside the 2-day lookback), and new rows after it
    late = make_events(rng, 40, 1, first_id=10_000)
    late["ts"] = [mark - dt.timedelta(days=1, minutes=rng.randrange(600)) for _ in range(40)]
    new = make_events(rng, 60, 1, first_id=20_000)
    new["ts"] = [mark + dt.timedelta(hours=1 + rng.randrange(60)) for _ in range(60)]
    layer.con.disconnect()
    append_events(shop["db"], pd.concat([late, new]))
    layer = open_layer(shop)
    report = layer.materialize("daily")
    assert report.kind == "incremental"
    assert report.watermark_before == mark and report.watermark == max(new.ts)
    # periods from floor(watermark - 2 days) to the newest day, and no older ones
    first_day = (mark - dt.timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
    last_day = max(new.ts).replace(hour=0, minute=0, second=0, microsecond=0)
    assert report.periods == (last_day - first_day).days + 1
    assert_same(stored(layer, "daily"), fresh(layer, "daily"))


def test_rows_older_than_lookback_wait_for_a_backfill(shop: dict[str, Any]) -> None:
    layer = open_layer(shop)
    layer.materialize("daily")
    before = stored(layer, "daily")
    old = make_events(shop["rng"], 30, 1, first_id=30_000)
    old["ts"] = [START + dt.timedelta(days=3, hours=h % 24) for h in range(30)]  # 2024-01-04
    layer.con.disconnect()
    append_events(shop["db"], old)
    layer = open_layer(shop)
    layer.materialize("daily")
    after = stored(layer, "daily")
    day4 = pd.Timestamp("2024-01-04")
    assert_same(after[after.day == day4].reset_index(drop=True),
                before[before.day == day4].reset_index(drop=True))  # fmt: skip
    want = fresh(layer, "daily")
    assert not want[want.day == day4].equals(after[after.day == day4])
    # a backfill [Jan 3 12:00, Jan 5) replaces the periods starting inside it: Jan 4 only
    report = layer.materialize("daily", start="2024-01-03 12:00", end="2024-01-05")
    assert report.kind == "backfill" and report.periods == 1
    assert report.watermark == report.watermark_before  # a backfill does not move it
    assert_same(stored(layer, "daily"), want)


def test_rerunning_is_idempotent(shop: dict[str, Any]) -> None:
    layer = open_layer(shop)
    layer.materialize("daily")
    once = stored(layer, "daily")
    layer.materialize("daily", full_refresh=True)
    assert_same(stored(layer, "daily"), once)
    layer.materialize("daily")  # incremental, nothing new
    layer.materialize("daily", start="2024-01-01", end="2024-02-01")
    assert_same(stored(layer, "daily"), once)
    assert runs(layer).status.tolist() == ["success"] * 4
    assert runs(layer).kind.tolist() == ["full", "full", "incremental", "backfill"]


def test_full_refresh_drops_periods_without_data(shop: dict[str, Any]) -> None:
    layer = open_layer(shop)
    layer.materialize("daily")
    layer.con.raw_sql("DELETE FROM events WHERE ts < TIMESTAMP '2024-01-10'")
    layer.materialize("daily", full_refresh=True)
    table = stored(layer, "daily")
    assert table.day.min() == pd.Timestamp("2024-01-10")
    assert_same(table, fresh(layer, "daily"))
    layer.con.raw_sql("DELETE FROM events")
    layer.materialize("daily", full_refresh=True)
    assert len(stored(layer, "daily")) == 0


def test_stale_running_row_is_marked_interrupted(shop: dict[str, Any]) -> None:
    layer = open_layer(shop)
    layer.materialize("daily")
    dead = subprocess.Popen(["true"])
    dead.wait()
    _fake_running(layer, dead.pid)
    layer.materialize("daily")
    assert runs(layer).status.tolist() == ["success", "interrupted", "success"]


def test_second_run_while_one_is_alive_is_refused(shop: dict[str, Any]) -> None:
    layer = open_layer(shop)
    layer.materialize("daily")
    alive = subprocess.Popen(["sleep", "30"])
    try:
        _fake_running(layer, alive.pid)
        with pytest.raises(ml.QueryError, match=rf"being run by process {alive.pid}"):
            layer.materialize("daily")
    finally:
        alive.kill()
        alive.wait()
    assert runs(layer).status.tolist() == ["success", "running"]


def test_second_run_in_the_same_process_is_refused(shop: dict[str, Any]) -> None:
    layer = open_layer(shop)
    held = runlog.start(layer.con, "daily", "full", None)
    try:
        with pytest.raises(ml.QueryError, match="already being run in this process"):
            layer.materialize("daily")
    finally:
        held.release()
    assert layer.materialize("daily").kind == "full"


def test_bad_requests_are_one_line(shop: dict[str, Any]) -> None:
    layer = open_layer(shop)
    with pytest.raises(ml.QueryError, match="did you mean 'daily'"):
        layer.materialize("dayly")
    with pytest.raises(ml.QueryError, match="both start and end"):
        layer.materialize("daily", start="2024-01-01")
    with pytest.raises(ml.QueryError, match="before end"):
        layer.materialize("daily", start="2024-02-01", end="2024-01-01")
    with pytest.raises(ml.QueryError, match="without start/end"):
        layer.materialize("daily", start="2024-01-01", end="2024-01-02", full_refresh=True)


def _fake_running(layer: Any, pid: int) -> None:
    from metrics_layer.materialize import sqltext as q

    row = dict.fromkeys(runlog.SCHEMA)
    row.update(run_id=f"fake{pid}", materialization="daily", kind="incremental", periods=0,
               rows=0, started=runlog.now(), status="running", pid=pid,
               host=socket.gethostname())  # fmt: skip
    layer.con.raw_sql(q.insert_values(q.table_ref("metrics_layer_runs"), row, "duckdb"))
    assert os.getpid() != pid
