"""The examples of the public contract run as written (on a small shop data set)."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

import metrics_layer as ml

DEFS = "tests/fixtures/contract"


@pytest.fixture(scope="module")
def layer() -> ml.Layer:
    con = ibis.duckdb.connect()
    events = pd.DataFrame(
        {
            "event_id": range(1, 11),
            "user_id": [1, 1, 1, 2, 2, 3, 3, 3, None, 1],
            "event_type": [
                "signup",
                "activate",
                "purchase",
                "signup",
                "session",
                "signup",
                "activate",
                "session",
                "visit",
                "session",
            ],
            "platform": ["iOS", "ios", "Web", "web", "Android", "web", "ios", "iOS", "web", "web"],
            "ts": pd.to_datetime(
                [
                    "2024-01-02 10:00",
                    "2024-01-03 10:00",
                    "2024-01-05 10:00",
                    "2024-01-10 00:00",
                    "2024-02-11 00:00",
                    "2024-02-01 00:00",
                    "2024-02-20 00:00",
                    "2024-03-05 00:00",
                    "2024-03-06 00:00",
                    "2024-03-07 00:00",
                ]
            ),
            "revenue": [0, 0, 30.5, 0, 0, 0, 0, 0, 0, 0],
        }
    )
    users = pd.DataFrame(
        {
            "user_id": [1, 2, 3],
            "country": ["DE", "FR", "DE"],
            "plan": ["pro", "free", "pro"],
            "signup_at": pd.to_datetime(["2024-01-02", "2024-01-10", "2024-02-01"]),
        }
    )
    con.create_table("events", events)
    con.create_table("users", users)
    return ml.load(DEFS, con=con)


def test_query_example(layer: ml.Layer) -> None:
    res = layer.query(
        ["active_users", "purchase_conversion"],
        by=["users.country"],
        grain="month",
        where="users.plan = 'pro'",
        start="2024-01-01",
        end="2024-07-01",
    )
    df = res.to_pandas()
    assert list(df.columns) == ["month", "country", "active_users", "purchase_conversion"]
    jan = df[df["month"] == pd.Timestamp("2024-01-01")].iloc[0]
    assert (jan["country"], jan["active_users"], jan["purchase_conversion"]) == ("DE", 1, 1.0)
    assert res.to_pyarrow().num_rows == len(df)
    assert res.to_polars().height == len(df)
    assert "SELECT" in res.sql(dialect="postgres")
    assert res.expr.columns == tuple(df.columns) or list(res.expr.columns) == list(df.columns)
    assert "events" in res.explain()


def test_retention_and_funnel_examples(layer: ml.Layer) -> None:
    ret = layer.retention(
        "signup_to_session", periods=12, by=None, mode="exact", cohort_type="first_time"
    ).to_pandas()
    assert list(ret.columns)[:6] == [
        "cohort",
        "cohort_size",
        "period",
        "active",
        "retention",
        "complete",
    ]
    jan = ret[(ret["cohort"] == pd.Timestamp("2024-01-01"))].set_index("period")
    assert jan.loc[0, "cohort_size"] == 2  # users 1 and 2 signed up in January
    assert jan.loc[1, "active"] == 1  # user 2's session in February
    assert jan.loc[2, "active"] == 1  # user 1's session in March
    fun = layer.funnel(
        "onboarding", by=None, start=None, end=None, order="sequential", window=None
    ).to_pandas()
    # user 1 converts within 3 days; user 3 activates 19 days after signup: outside 7 days
    assert fun["entities"].tolist() == [3, 1, 1]
    assert fun["step_name"].tolist() == ["signup", "activate", "purchase"]
