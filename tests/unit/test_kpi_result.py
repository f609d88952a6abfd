"""Result: lazy, converts to pandas/Arrow/polars, renders SQL for many dialects, explains itself."""

from __future__ import annotations

import math
from pathlib import Path

import ibis
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import sqlglot

import metrics_layer as ml
from metrics_layer.errors import QueryError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kpi"
DIALECTS = ["duckdb", "postgres", "bigquery", "snowflake", "trino", "clickhouse", "spark"]
SQLGLOT_NAME = {"postgres": "postgres", "spark": "spark"}

SETUP = [
    """CREATE TABLE ev (event_id BIGINT, user_id BIGINT, ts TIMESTAMP, event_type VARCHAR,
       platform VARCHAR, revenue DECIMAL(15,2), clicks BIGINT, views BIGINT)""",
    """INSERT INTO ev VALUES
       (1, 1, TIMESTAMP '2024-01-10 10:00', 'visit', 'Web', 0.00, 1, 10),
       (2, 1, TIMESTAMP '2024-01-11 10:00', 'purchase', 'iOS', 9.99, 0, 0),
       (3, 2, TIMESTAMP '2024-02-11 12:00', 'visit', 'web', 0.00, 2, 4),
       (4, NULL, TIMESTAMP '2024-02-12 12:00', 'purchase', 'web', 5.01, 3, 0)""",
    "CREATE TABLE us (user_id BIGINT, country VARCHAR, plan VARCHAR, age BIGINT, signup_at TIMESTAMP)",
    """INSERT INTO us VALUES (1, 'US', 'pro', 30, TIMESTAMP '2024-01-01'),
       (2, NULL, 'free', 40, TIMESTAMP '2024-01-02')""",
]


@pytest.fixture(scope="module")
def con() -> ibis.BaseBackend:
    con = ibis.duckdb.connect()
    for sql in SETUP:
        con.raw_sql(sql)
    return con


@pytest.fixture(scope="module")
def layer(con: ibis.BaseBackend) -> ml.Layer:
    return ml.load(FIXTURES / "shop", con=con, vars={"t": {"events": "ev", "users": "us"}})


@pytest.fixture(scope="module")
def result(layer: ml.Layer) -> ml.Result:
    return layer.query(
        ["events", "purchase_conversion", "ctr", "revenue", "signups"],
        by="users.country",
        grain="month",
        where="users.plan = 'pro' OR plan IS NULL",
    )


def test_to_pandas_values(result: ml.Result) -> None:
    df = result.to_pandas()
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == [
        "month",
        "country",
        "events",
        "purchase_conversion",
        "ctr",
        "revenue",
        "signups",
    ]
    assert len(df) == 2
    us = df[df["country"] == "US"].iloc[0]
    assert us["month"] == pd.Timestamp("2024-01-01")
    assert us["events"] == 2 and us["purchase_conversion"] == 1.0 and us["signups"] == 1
    assert us["ctr"] == pytest.approx(0.1)
    assert float(us["revenue"]) == pytest.approx(9.99)
    null = df[df["country"].isna()].iloc[0]
    assert null["month"] == pd.Timestamp("2024-02-01") and null["events"] == 1
    assert pd.isna(null["purchase_conversion"])  # 0 / 0
    assert pd.isna(null["ctr"])  # clicks 3 / views 0
    assert pd.isna(null["signups"])


def test_to_pandas_returns_copies(result: ml.Result) -> None:
    first = result.to_pandas()
    first.loc[:, "events"] = -1
    assert (result.to_pandas()["events"] != -1).all()


def test_to_pyarrow_and_to_polars_agree_with_pandas(result: ml.Result) -> None:
    table = result.to_pyarrow()
    assert isinstance(table, pa.Table)
    assert table.column_names == result.columns
    frame = result.to_polars()
    assert isinstance(frame, pl.DataFrame)
    assert frame.columns == result.columns
    pdf = result.to_pandas()
    assert table.num_rows == frame.height == len(pdf)
    for col in ("events", "ctr", "signups"):
        for a, b in zip(table.column(col).to_pylist(), frame[col].to_list(), strict=True):
            assert (a is None and b is None) or math.isclose(float(a), float(b))


def test_result_is_lazy(con: ibis.BaseBackend, layer: ml.Layer) -> None:
    con.raw_sql("CREATE TABLE ev_copy AS SELECT * FROM ev")
    copy = ml.load(FIXTURES / "shop", con=con, vars={"t": {"events": "ev_copy", "users": "us"}})
    res = copy.query("events")
    con.raw_sql("INSERT INTO ev_copy SELECT * FROM ev")  # after query(), before running it
    assert res.to_pandas()["events"].tolist() == [8]
    assert isinstance(res.expr, ibis.expr.types.Table)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_sql_renders_for_each_dialect(result: ml.Result, dialect: str) -> None:
    sql = result.sql(dialect=dialect)
    assert isinstance(sql, str) and "SELECT" in sql.upper()
    assert "us" in sql and "ev" in sql  # the real table names
    assert "'pro'" in sql  # the where literal, as a literal
    sqlglot.parse_one(sql, read=SQLGLOT_NAME.get(dialect, dialect))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_sql_of_median_and_percentile_is_exact_or_refused(layer: ml.Layer, dialect: str) -> None:
    """Never an approximate quantile: exact SQL, or a QueryError saying why not."""
    res = layer.query(["median_revenue", "p90_revenue"], by="event_type")
    try:
        sql = res.sql(dialect=dialect)
    except QueryError as exc:
        assert dialect in ("bigquery", "trino"), exc  # no exact percentile aggregate there
        assert "median" in str(exc).lower() or "percentile" in str(exc).lower()
        return
    assert "approx" not in sql.lower()
    if dialect == "clickhouse":  # sqlglot cannot parse its own parametric aggregates back
        assert "quantileExact" in sql and "quantile(" not in sql
    else:
        sqlglot.parse_one(sql, read=SQLGLOT_NAME.get(dialect, dialect))


def test_sql_defaults_to_the_connection_dialect_and_runs(
    con: ibis.BaseBackend, result: ml.Result
) -> None:
    assert result.sql() == result.sql(dialect="duckdb")
    ran = con.raw_sql(result.sql()).df()
    assert ran["events"].tolist() == result.to_pandas()["events"].tolist()


def test_layer_sql_shortcut(layer: ml.Layer) -> None:
    text = layer.sql(["events"], dialect="postgres", by="event_type")
    assert "GROUP BY" in text.upper() and '"event_type"' in text


def test_unknown_dialect_is_a_query_error(result: ml.Result) -> None:
    with pytest.raises(QueryError, match="dialect"):
        result.sql(dialect="no_such_sql")


def test_repr_html_shows_rows_and_nulls(result: ml.Result) -> None:
    html = result._repr_html_()
    assert "<table" in html and "purchase_conversion" in html
    assert "NULL" in html and "2 rows" in html
    assert "query" in repr(result) and "purchase_conversion" in repr(result)


def test_explain_is_text_about_the_plan(result: ml.Result) -> None:
    text = result.explain()
    assert "scan source 'events'" in text and "scan source 'users'" in text
    assert "users.plan = 'pro' OR plan IS NULL" in text
    assert "purchase_conversion" in text and "ctr" in text


def test_execution_errors_are_metrics_layer_errors(con: ibis.BaseBackend) -> None:
    con.raw_sql("CREATE TABLE ev_gone AS SELECT * FROM ev")
    layer = ml.load(FIXTURES / "shop", con=con, vars={"t": {"events": "ev_gone", "users": "us"}})
    res = layer.query("events")
    con.raw_sql("DROP TABLE ev_gone")
    with pytest.raises(ml.ExecutionError):
        res.to_pandas()
