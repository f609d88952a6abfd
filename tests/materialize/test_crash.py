"""Crash safety for real: `metrics-layer materialize` killed with SIGKILL at random moments.

After each kill every period holds exactly its old rows or exactly its new rows (no mix,
no duplicates, no gap), and a final run converges to the fresh answer. On a DuckDB file and
on PostgreSQL (ML_TEST_POSTGRES_URL, e.g. from .ci/postgres.sh).
"""

from __future__ import annotations

import copy
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from conftest import (
    DEFS,
    USERS,
    append_events,
    assert_same,
    fresh,
    make_events,
    stored,
    write_db,
)

import metrics_layer as ml
from metrics_layer.materialize import runlog

ROOT = Path(__file__).resolve().parents[2]
DAYS = 60
SEEDS = (1, 2, 3, 4)
PG_URL = os.environ.get("ML_TEST_POSTGRES_URL")


def _cli(defs: Path, url: str) -> list[str]:
    return [sys.executable, "-m", "metrics_layer.cli", "materialize", str(defs), "daily",
            "-c", url, "--full-refresh", "--no-progress"]  # fmt: skip


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def _by_period(df: pd.DataFrame) -> dict[Any, pd.DataFrame]:
    return {k: g.reset_index(drop=True) for k, g in df.groupby("day", sort=True)}


def _state(got: pd.DataFrame, old: pd.DataFrame, new: pd.DataFrame) -> tuple[int, int]:
    """(periods holding their old rows, periods holding their new rows); fails otherwise."""
    g, o, n = _by_period(got), _by_period(old), _by_period(new)
    assert set(g) == set(o) | set(n), "a period is missing or unexpected"
    olds = news = 0
    for day, rows in g.items():
        keys = list(
            zip(rows["country"].astype(object), rows["platform"].astype(object), strict=True)
        )
        assert len(set(map(str, keys))) == len(keys), f"duplicate rows in {day}"
        try:
            assert_same(rows, n[day])
            news += 1
        except AssertionError:
            assert_same(rows, o[day])  # neither old nor new: a mixed or broken period
            olds += 1
    return olds, news


class _DuckDBFile:
    """The shop in a DuckDB file (the CLI opens the file itself)."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp, self.db = tmp_path, tmp_path / "shop.duckdb"
        self.url = str(self.db)

    def write(self, events: pd.DataFrame) -> None:
        write_db(self.db, events)

    def append(self, events: pd.DataFrame) -> None:
        append_events(self.db, events)

    def layer(self, defs: Path) -> Any:
        return ml.load(defs, con=self.url, read_only=False)

    def probe_url(self) -> str:
        """A copy to time an uninterrupted run on, leaving the shop as it is."""
        probe = self.tmp / "probe.duckdb"
        shutil.copy(self.db, probe)
        return str(probe)


class _Postgres(_DuckDBFile):
    """The shop in the PostgreSQL database of ML_TEST_POSTGRES_URL."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp, self.url = tmp_path, PG_URL or ""

    def write(self, events: pd.DataFrame) -> None:
        import ibis

        con = ibis.connect(self.url)
        for t in ("mart_daily", runlog.RUNS_TABLE):
            con.drop_table(t, force=True)
        con.create_table("events", events, overwrite=True)
        con.create_table("users", USERS, overwrite=True)
        con.disconnect()

    def append(self, events: pd.DataFrame) -> None:
        import ibis

        con = ibis.connect(self.url)
        con.insert("events", events)
        con.disconnect()

    def layer(self, defs: Path) -> Any:
        return ml.load(defs, con=self.url)

    def probe_url(self) -> str:
        return ""  # one database: the run is timed before the new rows arrive


@pytest.mark.parametrize(
    "store",
    [
        pytest.param(_DuckDBFile, id="duckdb"),
        pytest.param(
            _Postgres,
            id="postgres",
            marks=pytest.mark.skipif(not PG_URL, reason="ML_TEST_POSTGRES_URL is not set"),
        ),
    ],
)
def test_sigkill_leaves_whole_periods_and_rerun_converges(tmp_path: Path, store: type) -> None:
    rng = random.Random(11)
    where = store(tmp_path)
    where.write(make_events(rng, 1500, DAYS))
    defs = copy.deepcopy(DEFS)
    defs["materializations"]["daily"]["batch"] = 1  # one transaction per day: many to kill in
    (tmp_path / "defs").mkdir()
    path = tmp_path / "defs" / "shop.yml"
    path.write_text(yaml.safe_dump(defs, sort_keys=False))

    layer = where.layer(path)
    layer.materialize("daily")
    old = stored(layer, "daily")
    layer.con.disconnect()
    probe = where.probe_url()
    began = time.monotonic()  # how long an uninterrupted run takes here
    if not probe:
        subprocess.run(_cli(path, where.url), env=_env(), check=True, capture_output=True)
        duration = time.monotonic() - began
    where.append(make_events(rng, 1000, DAYS, first_id=100_000))  # every day changes
    layer = where.layer(path)
    new = fresh(layer, "daily")
    layer.con.disconnect()
    assert _state(old, old, new)[1] == 0  # the new answer differs in every period
    if probe:
        subprocess.run(_cli(path, probe), env=_env(), check=True, capture_output=True)
        duration = time.monotonic() - began

    # Kill at random moments; a kill that lands before the first commit (process start-up is
    # most of a run on a loaded machine) moves the next kills later, so the test still gets a
    # kill between committed batches under load. Every state seen must be whole periods (once
    # a run has finished, killed runs replace new periods by new ones: still checked whole).
    mixed, kills, stretch, news_before = 0, 0, 1.0, 0
    for attempt in range(len(SEEDS) + 6):
        if kills >= len(SEEDS) - 1 and mixed >= 1:
            break
        delay = random.Random(SEEDS[attempt % len(SEEDS)] + attempt).uniform(0.35, 0.95)
        proc = subprocess.Popen(_cli(path, where.url), env=_env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(delay * duration * stretch)
        killed = proc.poll() is None
        if killed:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        layer = where.layer(path)
        olds, news = _state(stored(layer, "daily"), old, new)
        mixed += olds > 0 and news > 0
        layer.con.disconnect()
        if killed and mixed == 0 and news == news_before:
            stretch *= 1.3  # killed before any batch committed
        news_before = news
    assert kills >= 3, f"only {kills} runs were still going when killed"
    assert mixed >= 1, "no kill landed between two committed batches"

    layer = where.layer(path)
    report = layer.materialize("daily", full_refresh=True)
    assert report.periods == DAYS
    assert_same(stored(layer, "daily"), new)
    statuses = [r["status"] for r in runlog.rows(layer.con, "daily")]
    assert statuses[0] == statuses[-1] == "success"
    assert "running" not in statuses and statuses.count("interrupted") >= 1
