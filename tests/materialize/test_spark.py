"""Materializations on Spark (a local session, or a Spark Connect server with
ML_TEST_BACKENDS=spark-connect): full refresh, incremental and backfill runs write Spark
tables that equal the raw query, and queries are served from them.

Spark SQL has no transactions and no DELETE on plain tables: the table is a view over a
version table that each run replaces whole (metrics_layer/materialize/swap.py)."""

from __future__ import annotations

import copy
import datetime as dt
import random
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from conftest import DEFS, START, USERS, assert_same, fresh, make_events, stored

import metrics_layer as ml
from metrics_layer.materialize import runlog, shape_of, swap

pytestmark = pytest.mark.backends("pyspark", "spark-connect")


def _layer(backend: Any, tmp_path: Path, table: str) -> Any:
    defs = copy.deepcopy(DEFS)
    defs["materializations"]["daily"]["table"] = table
    path = tmp_path / "shop.yml"
    path.write_text(yaml.safe_dump(defs, sort_keys=False))
    return ml.load(path, con=backend.con)


def _versions(backend: Any, table: str) -> list[str]:
    prefix = swap.version_prefix(table)
    return sorted(n for n in backend.con.list_tables() if n.startswith(prefix))


def test_full_incremental_backfill_round_trip(backend: Any, tmp_path: Path) -> None:
    rng = random.Random(11)
    events = make_events(rng, 400, 20)
    schemas = {"events": {"revenue": "float64", "platform": "string"}}
    backend.load({"events": events, "users": USERS}, schemas=schemas)
    table = backend.unique_name("mart")
    backend.con.drop_table(runlog.RUNS_TABLE, force=True)
    layer = _layer(backend, tmp_path, table)

    full = layer.materialize("daily")
    assert (full.kind, full.periods) == ("full", 20)
    assert full.rows == len(stored(layer, "daily")) > 0
    assert_same(stored(layer, "daily"), fresh(layer, "daily"))
    assert full.watermark == events.ts.max()
    assert _versions(backend, table) == [f"{table}__v{full.run_id[:16]}"]

    # late rows one day before the watermark (inside the 2-day lookback) and new rows after
    mark = full.watermark
    late = make_events(rng, 30, 1, first_id=10_000)
    late["ts"] = [mark - dt.timedelta(days=1, minutes=rng.randrange(600)) for _ in range(30)]
    new = make_events(rng, 40, 1, first_id=20_000)
    new["ts"] = [mark + dt.timedelta(hours=1 + rng.randrange(40)) for _ in range(40)]
    # and one row too old for the lookback: it waits for a backfill
    old = make_events(rng, 1, 1, first_id=30_000)
    old["ts"] = [START + dt.timedelta(days=2, hours=3)]
    old["revenue"] = [1000.0]
    events = pd.concat([events, late, new, old], ignore_index=True)
    backend.load({"events": events}, schemas=schemas)
    before = stored(layer, "daily")

    inc = layer.materialize("daily")
    assert inc.kind == "incremental" and inc.watermark_before == mark
    assert inc.watermark == new.ts.max()
    first_day = (mark - dt.timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
    last_day = new.ts.max().replace(hour=0, minute=0, second=0, microsecond=0)
    assert inc.periods == (last_day - first_day).days + 1
    got = stored(layer, "daily")
    want = fresh(layer, "daily")
    recent = got.day >= first_day
    assert_same(
        got[recent].reset_index(drop=True), want[want.day >= first_day].reset_index(drop=True)
    )
    # periods older than the lookback are as the full refresh left them (day 3 is stale)
    assert_same(
        got[~recent].reset_index(drop=True), before[before.day < first_day].reset_index(drop=True)
    )
    stale = got.day == START + dt.timedelta(days=2)
    assert got[stale].revenue.sum() < want[want.day == START + dt.timedelta(days=2)].revenue.sum()
    assert len(_versions(backend, table)) == 1  # the previous version is dropped

    day3 = START + dt.timedelta(days=2)
    back = layer.materialize("daily", start=day3, end=day3 + dt.timedelta(days=1))
    assert (back.kind, back.periods) == ("backfill", 1)
    assert_same(stored(layer, "daily"), fresh(layer, "daily"))

    # served from the Spark table: equal to the raw answer at a coarser by
    keys = ["day", "platform"]
    served = layer.query(["revenue", "conversion"], by="platform", grain="day",
                         use_materializations=True)  # fmt: skip
    assert served.meta["materialization"] == "daily"
    raw = layer.query(["revenue", "conversion"], by="platform", grain="day")
    order = {"na_position": "first", "kind": "mergesort"}
    assert_same(served.to_pandas().sort_values(keys, **order).reset_index(drop=True),
                raw.to_pandas().sort_values(keys, **order).reset_index(drop=True))  # fmt: skip

    states = [(r["kind"], r["status"]) for r in runlog.rows(backend.con, "daily")]
    assert states == [("full", "success"), ("incremental", "success"), ("backfill", "success")]


def test_a_killed_run_leaves_the_old_version_served(backend: Any, tmp_path: Path) -> None:
    """A run that dies after writing its version but before the swap: the view still shows
    the old rows, the `running` row is marked interrupted and the orphan dropped next time."""
    rng = random.Random(5)
    events = make_events(rng, 200, 10)
    schemas = {"events": {"revenue": "float64", "platform": "string"}}
    backend.load({"events": events, "users": USERS}, schemas=schemas)
    table = backend.unique_name("mart")
    backend.con.drop_table(runlog.RUNS_TABLE, force=True)
    layer = _layer(backend, tmp_path, table)
    layer.materialize("daily")
    kept = stored(layer, "daily")

    orphan = f"{swap.version_prefix(table)}deadbeef"
    backend.con.create_table(orphan, backend.con.table(table).limit(0))
    runlog._claim(backend.con, "daily", "deadbeef", "full", None, False, ("UTC", 0))
    assert_same(stored(layer, "daily"), kept)

    report = layer.materialize("daily", full_refresh=True)
    assert_same(stored(layer, "daily"), fresh(layer, "daily"))
    assert _versions(backend, table) == [f"{table}__v{report.run_id[:16]}"]
    by_id = {r["run_id"]: r["status"] for r in runlog.rows(backend.con, "daily")}
    assert by_id["deadbeef"] == "interrupted"
    assert list(backend.con.table(table).columns) == shape_of(layer.registry, "daily").columns
