"""Conversion metrics on hand-built visits and buys, on every backend: each boundary of
MetricFlow's rule with the answer worked out by hand (docs/metrics.md, "Conversion metrics").

Visits (base events) and buys (conversion events), window 7 days:

- u1 visits Jan 1 10:00 and buys Jan 3 and Jan 7: two conversions of one visit;
- u2 visits Jan 1 10:00 and buys exactly 7 days later: outside the window (strict end),
  inside without a window;
- u3 visits Jan 2 (app) and Jan 4 (web) and buys Jan 5: the buy counts for Jan 4;
- u4 buys Jan 2, before its visit of Jan 3: no conversion;
- a NULL user visits and buys: never matched;
- u5 visits product A and buys product B: a conversion, but not of the same product;
- u6 visits Jan 31 and buys Feb 3: counted in January, the visit's month;
- u7 visits in February and never buys: February's conversions are NULL;
- u8 buys without ever visiting.
"""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd
import pytest

import metrics_layer as ml
from tests.backends import assert_frames_equal

VISITS = [
    ("v1", "u1", "2024-01-01 10:00", "A", "web"),
    ("v2", "u2", "2024-01-01 10:00", "A", "web"),
    ("v3", "u3", "2024-01-02 09:00", "A", "app"),
    ("v4", "u3", "2024-01-04 09:00", "A", "web"),
    ("v5", "u4", "2024-01-03 12:00", "B", "web"),
    ("v6", None, "2024-01-01 11:00", "A", "web"),
    ("v7", "u5", "2024-01-10 08:00", "A", "app"),
    ("v8", "u6", "2024-01-31 20:00", "B", "app"),
    ("v9", "u7", "2024-02-05 00:00", "A", "web"),
]
BUYS = [
    ("b1", "u1", "2024-01-03 10:00", "A", 10.0),
    ("b2", "u2", "2024-01-08 10:00", "A", 20.0),
    ("b3", "u3", "2024-01-05 09:00", "A", 5.0),
    ("b4", "u4", "2024-01-02 12:00", "B", 3.0),
    ("b5", None, "2024-01-02 00:00", "A", 1.0),
    ("b6", "u5", "2024-01-11 08:00", "B", 8.0),
    ("b7", "u6", "2024-02-03 10:00", "B", 12.0),
    ("b8", "u1", "2024-01-07 10:00", "A", 4.0),
    ("b9", "u8", "2024-01-15 10:00", "C", 6.0),
]


def _conversion(**extra: Any) -> dict[str, Any]:
    block = {"base": "visits.visits", "conversion": "buys.buys", "entity": "user_id"}
    return {"type": "conversion", "conversion": {**block, **extra}}


METRICS: dict[str, Any] = {
    "rate_7d": _conversion(window="7 days"),
    "buys_7d": _conversion(window="7 days", calculation="conversions"),
    "rate_any": _conversion(),
    "same_product_7d": _conversion(window="7 days", constant_properties=["product"]),
    "amount_7d": {
        "type": "conversion",
        "conversion": {
            "base": "visits.visits",
            "conversion": "buys.amount",
            "entity": {"base": "user_id", "conversion": "buyer"},
            "window": "1 week",
            "calculation": "conversions",
        },
    },
    "web_rate_7d": {**_conversion(window="7 days"), "filter": "channel = 'web'"},
    "rate_7d_pct": {"type": "derived", "expr": "100 * rate_7d"},
}


@pytest.fixture
def layer(backend: Any) -> Any:
    visits, buys = backend.unique_name("visits"), backend.unique_name("buys")
    v = pd.DataFrame(VISITS, columns=["visit_id", "user_id", "ts", "product", "channel"])
    b = pd.DataFrame(BUYS, columns=["buy_id", "user_id", "ts", "product", "amount"])
    v["ts"], b["ts"] = pd.to_datetime(v["ts"]), pd.to_datetime(b["ts"])
    b["buyer"] = b["user_id"]
    backend.load({visits: v, buys: b})
    return ml.load(
        {
            "sources": {
                "visits": {
                    "table": visits,
                    "time": "ts",
                    "measures": {"visits": {"agg": "count"}},
                    "dimensions": {"channel": {}, "product": {}},
                },
                "buys": {
                    "table": buys,
                    "time": "ts",
                    "measures": {
                        "buys": {"agg": "count"},
                        "amount": {"agg": "sum", "expr": "amount"},
                    },
                },
            },
            "metrics": METRICS,
        },
        con=backend.con,
    )


def _frame(rows: list[tuple[Any, ...]], columns: list[str]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=columns)
    if "month" in df or "day" in df:
        key = "month" if "month" in df else "day"
        df[key] = pd.to_datetime(df[key])
    return df


def test_by_month(layer: Any, backend: Any) -> None:
    names = ["rate_7d", "buys_7d", "rate_any", "same_product_7d", "amount_7d", "web_rate_7d"]
    got = backend.fetch(layer.query(names, grain="month").expr)
    want = _frame(
        [
            # January: 8 visits; b1, b8 (u1), b3 (u3 -> Jan 4), b6 (u5), b7 (u6 -> Jan 31)
            # convert within 7 days; b2 only without a window; b1, b8, b3, b7 are the same
            # product; web visits v1, v2, v4, v5, v6 hold b1, b8, b3
            ("2024-01-01", 5 / 8, 5, 6 / 8, 4 / 8, 39.0, 3 / 5),
            ("2024-02-01", None, None, None, None, None, None),  # u7 never buys
        ],
        ["month", *names],
    )
    assert_frames_equal(got, want, sort_by="month")


def test_by_dimension_and_beside_other_metrics(layer: Any, backend: Any) -> None:
    got = backend.fetch(
        layer.query(["rate_7d", "buys_7d", "visits.visits", "rate_7d_pct"], by=["channel"]).expr
    )
    want = _frame(
        [("app", 2 / 3, 2, 3, 200 / 3), ("web", 3 / 6, 3, 6, 50.0)],
        ["channel", "rate_7d", "buys_7d", "visits", "rate_7d_pct"],
    )
    assert_frames_equal(got, want, sort_by="channel")
    totals = backend.fetch(layer.query(["rate_7d", "buys_7d", "buys.buys"]).expr)
    assert_frames_equal(totals, _frame([(5 / 9, 5, 9)], ["rate_7d", "buys_7d", "buys"]))


def test_bounds_and_where_narrow_the_visits_a_buy_counts_for(layer: Any, backend: Any) -> None:
    # without Jan 4's visit (end is exclusive) u3's buy counts for its visit of Jan 2
    got = backend.fetch(
        layer.query(
            ["buys_7d", "visits.visits"], grain="day", start="2024-01-01", end="2024-01-04"
        ).expr
    )
    want = _frame(
        [("2024-01-01", 2, 3), ("2024-01-02", 1, 1), ("2024-01-03", None, 1)],
        ["day", "buys_7d", "visits"],
    )
    assert_frames_equal(got, want, sort_by="day")
    # app visits only: b3 counts for v3 (Jan 2), b6 for v7, b7 for v8
    app = backend.fetch(layer.query(["buys_7d", "rate_7d"], where="channel = 'app'").expr)
    assert_frames_equal(app, _frame([(3, 1.0)], ["buys_7d", "rate_7d"]))
    deferred = layer.query(["buys_7d", "rate_7d"], where=ibis._.channel == "app")
    assert_frames_equal(backend.fetch(deferred.expr), _frame([(3, 1.0)], ["buys_7d", "rate_7d"]))


def test_explain_shows_the_matching() -> None:
    con_layer = ml.load(
        {
            "sources": {
                "visits": {"time": "ts", "measures": {"visits": {"agg": "count"}}},
                "buys": {"time": "ts", "measures": {"buys": {"agg": "count"}}},
            },
            "metrics": {"rate_7d": METRICS["rate_7d"]},
        }
    )
    text = con_layer.query(["rate_7d"], grain="week").explain()
    assert (
        "conversions of rate_7d: each buys event (count(*)) is matched to the latest visits" in text
    )
    assert "the buys event less than 7 days after it" in text
    assert "rate_7d = sum-level ratio (conversions of rate_7d" in text


def test_time_grain_compares_the_days_of_the_events(backend: Any) -> None:
    """MetricFlow compares the times at the time dimension's granularity: with `time_grain:
    day` a buy earlier on the visit's day converts it, and one 6 days 23 hours later is 7
    days later."""
    visits, buys = backend.unique_name("visits"), backend.unique_name("buys")
    times = pd.to_datetime
    backend.load(
        {
            visits: pd.DataFrame(
                {
                    "user_id": ["u1", "u2", "u3"],
                    "ts": times(["2024-01-01 12:00", "2024-01-01 10:00", "2024-01-02 10:00"]),
                }
            ),
            buys: pd.DataFrame(
                {
                    "user_id": ["u1", "u2", "u3"],
                    "ts": times(["2024-01-01 08:00", "2024-01-08 09:00", "2024-01-02 09:00"]),
                }
            ),
        }
    )
    block = {"base": "visits.visits", "conversion": "buys.buys", "entity": "user_id"}
    block |= {"window": "7 days", "calculation": "conversions"}
    layer = ml.load(
        {
            "sources": {
                "visits": {"table": visits, "time": "ts", "measures": {"visits": {"agg": "count"}}},
                "buys": {"table": buys, "time": "ts", "measures": {"buys": {"agg": "count"}}},
            },
            "metrics": {
                "exact": {"type": "conversion", "conversion": block},
                "by_day": {"type": "conversion", "conversion": {**block, "time_grain": "day"}},
            },
        },
        con=backend.con,
    )
    got = backend.fetch(layer.query(["exact", "by_day"]).expr)
    assert_frames_equal(got, _frame([(1, 2)], ["exact", "by_day"]))  # u2 / u1 and u3
