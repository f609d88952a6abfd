"""period_agg on cumulative metrics, against a pandas reduction of the layer's own daily
series, and metric_time in `by`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metrics_layer as ml
from metrics_layer.errors import DefinitionError, QueryError

START = dt.datetime(2024, 1, 1)


def _layer(
    rows: list[tuple[int, int, str | None, float]], window: str | None, how: str
) -> ml.Layer:
    con = ibis.duckdb.connect()
    df = pd.DataFrame(
        {
            "ts": [START + dt.timedelta(days=d, hours=h) for d, h, _, _ in rows],
            "team": pd.Series([t for _, _, t, _ in rows], dtype="string"),
            "v": [v for *_, v in rows],
        }
    )
    con.create_table("ev", df)
    cumulative: dict[str, Any] = {"type": "cumulative", "measure": "ev.v", "period_agg": how}
    if window == "mtd":
        cumulative["grain_to_date"] = "month"
    elif window is not None:
        cumulative["window"] = window
    return ml.load(
        {
            "sources": {
                "ev": {
                    "time": "ts",
                    "dimensions": {"team": {}},
                    "measures": {"v": {"agg": "sum", "expr": "v"}, "n": {"agg": "count"}},
                }
            },
            "metrics": {
                "c": cumulative,
                "plain": {**{k: v for k, v in cumulative.items() if k != "period_agg"}},
                "n": {"measure": "ev.n"},
            },
        },
        con=con,
    )


def _reference(daily: pd.DataFrame, grain: str, how: str, by: list[str]) -> pd.DataFrame:
    """The daily values reduced per period, in plain pandas."""
    freq = {"week": "W-MON", "month": "MS", "quarter": "QS"}[grain]
    d = daily.copy()
    if grain == "week":
        d[grain] = d["day"] - pd.to_timedelta(d["day"].dt.weekday, unit="D")
    else:
        d[grain] = d["day"].dt.to_period(freq[0]).dt.start_time
    keys = [grain, *by]
    out = []
    for key, group in d.sort_values("day").groupby(keys, dropna=False):
        values = group["c"]
        value = {"first": values.iloc[0], "last": values.iloc[-1], "average": values.mean()}[how]
        out.append((*(key if isinstance(key, tuple) else (key,)), value))
    return pd.DataFrame(out, columns=[*keys, "c"])


rows_strategy = st.lists(
    st.tuples(
        st.integers(0, 120),
        st.integers(0, 23),
        st.sampled_from(["a", "b", None]),
        st.floats(-50, 50, allow_nan=False).map(lambda x: round(x, 2)),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=rows_strategy,
    window=st.sampled_from([None, "1 day", "3 days", "10 days", "mtd"]),
    how=st.sampled_from(["first", "last", "average"]),
    grain=st.sampled_from(["week", "month", "quarter"]),
    by=st.sampled_from([[], ["team"]]),
)
def test_period_agg_reduces_the_daily_series(
    rows: list[Any], window: str | None, how: str, grain: str, by: list[str]
) -> None:
    layer = _layer(rows, window, how)
    daily = layer.query("plain", by=by, grain="day").to_pandas().rename(columns={"plain": "c"})
    expected = _reference(daily, grain, how, by)
    got = layer.query("c", by=by, grain=grain).to_pandas()
    assert list(got.columns) == [grain, *by, "c"]
    key = [grain, *by]
    got = got.sort_values(key, na_position="first").reset_index(drop=True)
    expected = expected.sort_values(key, na_position="first").reset_index(drop=True)
    assert got[key].astype(str).values.tolist() == expected[key].astype(str).values.tolist()
    pd.testing.assert_series_equal(
        got["c"].astype(float), expected["c"].astype(float), check_names=False, rtol=1e-9
    )
    # beside other metrics: the same values, and theirs as asked alone
    both = layer.query(["n", "c"], by=by, grain=grain).to_pandas()
    alone = layer.query("n", by=by, grain=grain).to_pandas()
    merged = both.merge(alone, on=key, how="outer", suffixes=("", "_alone"))
    assert (merged["n"].fillna(-1) == merged["n_alone"].fillna(-1)).all()
    merged = both.merge(got, on=key, how="outer", suffixes=("", "_alone"))
    assert ((merged["c"] - merged["c_alone"]).abs().fillna(0) < 1e-9).all()


def test_period_agg_by_hand() -> None:
    # Jan 1: 1, Jan 5: 2 + 4; a 2-day window has values on Jan 1, Jan 2 (1) and Jan 5 (6)
    layer = _layer([(0, 10, "a", 1.0), (4, 3, "a", 2.0), (4, 4, "b", 4.0)], "2 days", "first")
    assert layer.query("c", grain="month").to_pandas()["c"].tolist() == [1.0]
    assert layer.query("plain", grain="month").to_pandas()["plain"].isna().all()  # month end
    for how, value in (("last", 6.0), ("average", 8.0 / 3)):
        got = _layer([(0, 10, "a", 1.0), (4, 3, "a", 2.0), (4, 4, "b", 4.0)], "2 days", how)
        assert got.query("c", grain="month").to_pandas()["c"].tolist() == pytest.approx([value])
    # at day grain period_agg has nothing to reduce
    assert layer.query("c", grain="day").to_pandas()["c"].tolist() == [1.0, 1.0, 6.0]
    weekly = layer.query(["c", "n"], grain="week", order_by="-n", limit=1).to_pandas()
    assert weekly.values.tolist() == [[pd.Timestamp("2024-01-01"), 1.0, 3]]


def test_period_agg_only_on_cumulative() -> None:
    with pytest.raises(
        DefinitionError, match="period_agg applies to cumulative metrics, not simple"
    ):
        ml.load(
            {
                "sources": {"e": {"measures": {"n": {"agg": "count"}}}},
                "metrics": {"m": {"measure": "e.n", "period_agg": "first"}},
            }
        )


def test_metric_time_in_by() -> None:
    layer = _layer([(0, 10, "a", 1.0), (40, 3, "b", 2.0)], None, "last")
    got = layer.query("n", by=["metric_time__month", "team"]).to_pandas()
    assert list(got.columns) == ["metric_time__month", "team", "n"]
    assert got["n"].tolist() == [1, 1]
    same = layer.query("n", by=["team"], grain="month").to_pandas()
    assert got["n"].tolist() == same["n"].tolist()
    assert list(layer.query("n", by="metric_time", grain="week").to_pandas().columns) == [
        "metric_time",
        "n",
    ]
    with pytest.raises(QueryError, match="by 'metric_time' needs a grain: pass grain='day'"):
        layer.query("n", by=["metric_time"])
    with pytest.raises(QueryError, match="unknown grain 'mnth'.*did you mean 'month'"):
        layer.query("n", by=["metric_time__mnth"])
    with pytest.raises(QueryError, match="asks grain 'week' but grain='month'"):
        layer.query("n", by=["metric_time__week"], grain="month")
