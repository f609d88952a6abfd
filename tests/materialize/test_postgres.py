"""The same runs on PostgreSQL (ML_TEST_POSTGRES_URL, e.g. from .ci/postgres.sh): the table
and the served answers equal the raw query, and the advisory lock refuses a second run."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
import yaml
from conftest import DEFS, USERS, assert_same, fresh, make_events, stored

import metrics_layer as ml
from metrics_layer.materialize import runlog

URL = os.environ.get("ML_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not URL, reason="ML_TEST_POSTGRES_URL is not set")


def test_runs_serving_and_lock_on_postgres(tmp_path: Path) -> None:
    import ibis

    con = ibis.connect(URL)
    for t in ("mart_daily", "metrics_layer_runs"):
        con.drop_table(t, force=True)
    con.create_table("events", make_events(random.Random(7), 600, 30), overwrite=True)
    con.create_table("users", USERS, overwrite=True)
    (tmp_path / "s.yml").write_text(yaml.safe_dump(DEFS, sort_keys=False))
    layer = ml.load(tmp_path / "s.yml", con=con)
    assert layer.materialize("daily").kind == "full"
    assert layer.materialize("daily").kind == "incremental"
    assert_same(stored(layer, "daily"), fresh(layer, "daily"))
    keys = ["day", "platform"]

    def frame(res: object) -> object:
        df = res.to_pandas()  # type: ignore[attr-defined]
        return df.sort_values(keys, na_position="first", kind="mergesort").reset_index(drop=True)

    got = layer.query(["revenue", "conversion"], by="platform", grain="day",
                      use_materializations=True)  # fmt: skip
    raw = layer.query(["revenue", "conversion"], by="platform", grain="day")
    assert got.meta["materialization"] == "daily"
    assert_same(frame(got), frame(raw))
    other = ibis.connect(URL)  # another session holds the advisory lock
    held = runlog.start(other, "daily", "full", None)
    try:
        with pytest.raises(ml.QueryError, match="being run by another process"):
            layer.materialize("daily")
    finally:
        held.release()
    assert layer.materialize("daily", full_refresh=True).periods == 30
