"""The engine's DuckDB fetch (engine/executor.py `duckdb_arrow`) gives what the relation
API gives, with and without parameters, and falls back to it where DuckDB has no direct call."""

from __future__ import annotations

import datetime as dt

import pytest

import metrics_layer.engine.executor as executor
from tests.backends import Backend
from tests.engine.data import load_layer


def test_direct_fetch_equals_the_relation_api(
    duck: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    layer, names = load_layer(duck, "fetch")
    cur = layer.engine.executor.cursor()
    sql = f'SELECT event_type, count(*) AS n FROM "{names["events"]}" WHERE ts >= $since GROUP BY 1 ORDER BY 1'
    params = {"since": dt.datetime(2024, 2, 1)}
    direct = executor.duckdb_arrow(cur, sql, params)
    relation = cur.sql(sql, params=params).to_arrow_table()
    assert direct.equals(relation) and direct.num_rows > 0
    res = layer.query(
        ["events", "revenue"], by="users.country", start="2024-01-10", end="2024-03-01"
    )
    first = res.to_pyarrow()
    monkeypatch.setattr(executor, "_SUBMIT", None)
    assert executor.duckdb_arrow(cur, sql, params).equals(relation)
    assert res.to_pyarrow().equals(first)
