"""The MetricFlow options on every backend: period_agg, `<field>__<grain>` through a join,
metric_time, per-metric fill, offset_to_grain and the exclusive funnel window give the same hand-computed
answers on DuckDB, PostgreSQL and PySpark."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

import metrics_layer as ml
from tests.backends import assert_frames_equal


def _layer(backend: Any) -> Any:
    orders, users = backend.unique_name("orders"), backend.unique_name("users")
    backend.load(
        {
            orders: pd.DataFrame(
                {
                    "order_id": [1, 2, 3, 4, 5],
                    "user_id": pd.array([1, 1, 2, None, 2], dtype="Int64"),
                    "ts": pd.to_datetime(
                        [
                            "2024-01-01 10:00",
                            "2024-01-03 09:00",
                            "2024-02-01 00:00",
                            "2024-02-02 12:00",
                            "2024-02-10 08:00",
                        ]
                    ),
                    "amount": [10.0, 2.0, 5.0, 1.0, 4.0],
                }
            ),
            users: pd.DataFrame(
                {
                    "user_id": [1, 2],
                    "signed_up_at": pd.to_datetime(["2023-12-20 00:00", "2024-01-31 23:00"]),
                }
            ),
        }
    )
    return ml.load(
        {
            "sources": {
                "orders": {
                    "table": orders,
                    "time": "ts",
                    "measures": {"revenue": {"agg": "sum", "expr": "amount"}},
                    "joins": {"users": {"source": "users", "keys": "user_id"}},
                },
                "users": {"table": users, "primary_key": "user_id"},
            },
            "metrics": {
                "revenue": {"measure": "orders.revenue", "fill_nulls_with": 0},
                "rev_2d_first": {
                    "type": "cumulative",
                    "measure": "orders.revenue",
                    "window": "2 days",
                    "period_agg": "first",
                },
                "rev": {"measure": "orders.revenue"},
                "rev_month_start": {"type": "offset", "metric": "rev", "offset_to_grain": "month"},
                "rev_quarter_start": {
                    "type": "offset",
                    "metric": "rev",
                    "offset_to_grain": "quarter",
                },
                "rev_2d_avg": {
                    "type": "cumulative",
                    "measure": "orders.revenue",
                    "window": "2 days",
                    "period_agg": "average",
                },
            },
        },
        con=backend.con,
    )


def test_period_agg(backend: Any) -> None:
    got = _layer(backend).query(
        ["rev_2d_first", "rev_2d_avg", "revenue"], by=["metric_time__month"]
    )
    # daily 2-day sums: Jan 1: 10, Jan 2: 10, Jan 3: 2, Jan 4: 2; Feb 1: 5, Feb 2: 6, Feb 3: 1,
    # Feb 10: 4, Feb 11: 4
    expected = pd.DataFrame(
        {
            "metric_time__month": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "rev_2d_first": [10.0, 5.0],
            "rev_2d_avg": [6.0, 4.0],
            "revenue": [12.0, 10.0],
        }
    )
    assert_frames_equal(backend.fetch(got.expr), expected, sort_by="metric_time__month", rtol=1e-12)


def test_joined_time_at_grain_and_fill(backend: Any) -> None:
    layer = _layer(backend)
    got = layer.query("revenue", by=["users.signed_up_at__month"])
    expected = pd.DataFrame(
        {
            "signed_up_at__month": pd.to_datetime(["2023-12-01", "2024-01-01", None]),
            "revenue": [12.0, 9.0, 1.0],
        }
    )
    assert_frames_equal(backend.fetch(got.expr), expected, sort_by="signed_up_at__month")
    weekly = layer.query("revenue", grain="week", start="2024-01-01", end="2024-02-12", fill="null")
    week = backend.fetch(weekly.expr)
    assert len(week) == 6 and (week["revenue"] == 0).sum() == 3  # NULL weeks filled with 0


def test_exclusive_funnel_window(backend: Any) -> None:
    ev = backend.unique_name("ev")
    t0 = dt.datetime(2024, 3, 1)
    backend.load(
        {
            ev: pd.DataFrame(
                {
                    "user_id": [1, 1, 2, 2],
                    "ts": [
                        t0,
                        t0 + dt.timedelta(days=1),
                        t0,
                        t0 + dt.timedelta(days=1, microseconds=-1),
                    ],
                    "kind": ["a", "b", "a", "b"],
                }
            )
        }
    )
    steps = [{"name": "a", "filter": "kind = 'a'"}, {"name": "b", "filter": "kind = 'b'"}]
    for boundary, reached in (("inclusive", 2), ("exclusive", 1)):
        layer = ml.load(
            {
                "sources": {"ev": {"table": ev, "time": "ts"}},
                "funnels": {
                    "f": {
                        "source": "ev",
                        "entity": "user_id",
                        "window": "1 day",
                        "window_boundary": boundary,
                        "steps": steps,
                    }
                },
            },
            con=backend.con,
        )
        assert layer.funnel("f").to_pandas()["entities"].tolist() == [2, reached]


def test_offset_to_grain(backend: Any) -> None:
    layer = _layer(backend)
    days = layer.query(["rev_month_start"], grain="day", start="2024-02-01", end="2024-02-04")
    expected = pd.DataFrame(
        {"day": pd.to_datetime(["2024-02-01", "2024-02-02", "2024-02-03"]), "rev_month_start": 5.0}
    )
    assert_frames_equal(backend.fetch(days.expr), expected, sort_by="day", rtol=1e-12)
    # at month grain a quarter's months read its first month (January: 10 + 2)
    months = layer.query(["rev_quarter_start", "rev"], grain="month")
    expected = pd.DataFrame(
        {
            "month": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "rev_quarter_start": [12.0, 12.0],
            "rev": [12.0, 10.0],
        }
    )
    assert_frames_equal(backend.fetch(months.expr), expected, sort_by="month", rtol=1e-12)
