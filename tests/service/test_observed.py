"""A layer with audit=PATH and cache_ttl=: one line per call, cached answers keyed by view."""

from __future__ import annotations

import json
import time
from pathlib import Path

import ibis
import pytest

import metrics_layer as ml
from tests.access.tenants import make_db, write_defs

KEYS = {"time", "user", "operation", "request", "sql_hash", "rows", "ms", "status"}


@pytest.fixture
def files(tmp_path: Path) -> dict:
    return {
        "db": make_db(tmp_path / "w.duckdb"),
        "defs": write_defs(tmp_path / "defs"),
        "log": tmp_path / "audit.jsonl",
    }


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_audit_one_line_per_call(files: dict) -> None:
    layer = ml.load(files["defs"], con=str(files["db"]), audit=files["log"])
    assert isinstance(layer, ml.Layer)
    res = layer.query(["assignments.accepted"], by=["status"])
    assert lines(files["log"]) == []  # nothing ran yet
    df = res.to_pandas()
    res.to_pandas()
    with pytest.raises(ml.QueryError):
        layer.query(["nope"])
    r = layer.restrict("own_country", {"country": "DE"})
    r.dimension_values("workers.country").to_pandas()
    r.retention("engagement", periods=2).to_pandas()
    got = lines(files["log"])
    assert [x["operation"] for x in got] == ["query", "query", "dimension_values", "retention"]
    assert all(set(x) == KEYS for x in got)
    first = got[0]
    assert first["status"] == 200 and first["rows"] == len(df) and len(first["sql_hash"]) == 64
    assert first["request"] == {"args": [["assignments.accepted"]], "by": ["status"]}
    assert got[1]["status"] == 400 and got[1]["rows"] is None
    assert got[2]["rows"] == 1


def test_cache_off_by_default_and_keyed_by_view(files: dict) -> None:
    con = ibis.duckdb.connect(str(files["db"]))
    plain = ml.load(files["defs"], con=con)
    before = plain.query(["workers.workers"]).to_pandas()["workers"][0]
    cached = ml.load(files["defs"], con=con, cache_ttl=60)
    de = cached.restrict("own_country", {"country": "DE"})
    fr = cached.restrict("own_country", {"country": "FR"})
    n_de = de.query(["workers.workers"]).to_pandas()["workers"][0]
    n_fr = fr.query(["workers.workers"]).to_pandas()["workers"][0]
    assert n_de != n_fr or n_de == 0
    total = cached.query(["workers.workers"])
    assert total.to_pandas()["workers"][0] == before
    assert "result cache" not in plain.query(["workers.workers"]).explain()
    cached.con.raw_sql("INSERT INTO workers VALUES (999, 'DE', 'n', 'e@x', TIMESTAMP '2024-01-02')")
    again = cached.query(["workers.workers"])
    assert again.to_pandas()["workers"][0] == before  # from the cache
    assert "Answered from the result cache" in again.explain()
    assert de.query(["workers.workers"]).to_pandas()["workers"][0] == n_de
    assert "result cache" in de.query(["workers.workers"]).explain()
    fresh = cached.query(["workers.workers"], where="1 = 1")  # another request: computed
    assert fresh.to_pandas()["workers"][0] == before + 1
    assert "result cache" not in fresh.explain()


def test_cache_expires(files: dict) -> None:
    layer = ml.load(files["defs"], con=ibis.duckdb.connect(str(files["db"])), cache_ttl=0.3)
    a = layer.query(["workers.workers"]).to_pandas()["workers"][0]
    layer.con.raw_sql("DELETE FROM workers WHERE worker_id = 1")
    assert layer.query(["workers.workers"]).to_pandas()["workers"][0] == a
    time.sleep(0.4)
    res = layer.query(["workers.workers"])
    assert res.to_pandas()["workers"][0] == a - 1
    assert "result cache" not in res.explain()  # computed by this run
    assert "computed 0." in layer.query(["workers.workers"]).explain()  # the next one: cached


def test_lifecycle_and_stickiness_audited_and_cached(files: dict) -> None:
    layer = ml.load(files["defs"], con=str(files["db"]), audit=files["log"], cache_ttl=60)
    life = layer.lifecycle("engagement").to_pandas()
    again = layer.lifecycle("engagement").to_pandas()
    sticky = layer.stickiness("engagement").to_pandas()
    got = lines(files["log"])
    assert [x["operation"] for x in got] == ["lifecycle", "lifecycle", "stickiness"]
    assert got[0]["rows"] == len(life) and got[2]["rows"] == len(sticky)
    assert again.equals(life)
    assert "result cache" in layer.lifecycle("engagement").explain()
