"""Crash safety for real: `metrics-layer materialize` killed with SIGKILL at random moments.

After each kill every period holds exactly its old rows or exactly its new rows (no mix,
no duplicates, no gap), and a final run converges to the fresh answer.
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
import yaml
from conftest import (
    DEFS,
    append_events,
    assert_same,
    fresh,
    make_events,
    open_layer,
    stored,
    write_db,
)

from metrics_layer.materialize import runlog

ROOT = Path(__file__).resolve().parents[2]
DAYS = 60
SEEDS = (1, 2, 3, 4)


def _cli(shop: dict[str, Any], db: Path) -> list[str]:
    return [sys.executable, "-m", "metrics_layer.cli", "materialize", str(shop["defs"]), "daily",
            "-c", str(db), "--full-refresh", "--no-progress"]  # fmt: skip


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


def test_sigkill_leaves_whole_periods_and_rerun_converges(tmp_path: Path) -> None:
    rng = random.Random(11)
    db = tmp_path / "shop.duckdb"
    write_db(db, make_events(rng, 1500, DAYS))
    defs = copy.deepcopy(DEFS)
    defs["materializations"]["daily"]["batch"] = 1  # one transaction per day: many to kill in
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "shop.yml").write_text(yaml.safe_dump(defs, sort_keys=False))
    shop = {"db": db, "defs": tmp_path / "defs", "rng": rng}

    layer = open_layer(shop)
    layer.materialize("daily")
    old = stored(layer, "daily")
    layer.con.disconnect()
    append_events(db, make_events(rng, 1000, DAYS, first_id=100_000))  # every day changes
    layer = open_layer(shop)
    new = fresh(layer, "daily")
    layer.con.disconnect()
    assert _state(old, old, new)[1] == 0  # the new answer differs in every period

    probe = tmp_path / "probe.duckdb"  # how long an uninterrupted run takes here
    shutil.copy(db, probe)
    began = time.monotonic()
    subprocess.run(_cli(shop, probe), env=_env(), check=True, capture_output=True)
    duration = time.monotonic() - began

    mixed, kills = 0, 0
    for seed in SEEDS:
        delay = random.Random(seed).uniform(0.35, 0.95) * duration
        proc = subprocess.Popen(_cli(shop, db), env=_env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        layer = open_layer(shop)
        olds, news = _state(stored(layer, "daily"), old, new)
        mixed += olds > 0 and news > 0
        layer.con.disconnect()
    assert kills >= 3, f"only {kills} runs were still going when killed"
    assert mixed >= 1, "no kill landed between two committed batches"

    layer = open_layer(shop)
    report = layer.materialize("daily", full_refresh=True)
    assert report.periods == DAYS
    assert_same(stored(layer, "daily"), new)
    statuses = [r["status"] for r in runlog.rows(layer.con, "daily")]
    assert statuses[0] == statuses[-1] == "success"
    assert "running" not in statuses and statuses.count("interrupted") >= 1
