"""`<time field>__<grain>` names any time dimension or column at a grain (MetricFlow's
`customer__ds__month`), on the queried source or through joins, without a hand-written
DATE_TRUNC dimension."""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd
import pytest

import metrics_layer as ml
from metrics_layer.errors import QueryError

ORDERS = pd.DataFrame(
    {
        "order_id": [1, 2, 3, 4, 5, 6],
        "user_id": [1, 1, 2, 3, None, 9],  # a NULL key and an unknown one
        "ordered_at": pd.to_datetime(
            [
                "2024-01-31 23:00",
                "2024-02-01 00:00",
                "2024-02-29 12:00",
                "2024-03-04 08:00",
                "2024-03-10 09:00",
                "2024-03-11 10:00",
            ]
        ),
        "amount": [10.0, 20.0, 5.0, 1.5, 2.0, 4.0],
    }
)
USERS = pd.DataFrame(
    {
        "user_id": [1, 2, 3],
        "signed_up_at": pd.to_datetime(
            ["2023-12-31 22:00", "2024-01-15 00:00", "2024-02-01 00:00"]
        ),
    }
)


@pytest.fixture(scope="module")
def layer() -> Any:
    con = ibis.duckdb.connect()
    con.create_table("orders", ORDERS.astype({"user_id": "Int64"}))
    con.create_table("users", USERS)
    return ml.load(
        {
            "sources": {
                "orders": {
                    "time": "ordered_at",
                    "measures": {
                        "revenue": {"agg": "sum", "expr": "amount"},
                        "orders": {"agg": "count"},
                    },
                    "joins": {"users": {"keys": "user_id"}},
                },
                "users": {
                    "primary_key": "user_id",
                    "dimensions": {"signed_up_at": {"type": "time"}},
                },
            },
            "metrics": {"revenue": {"measure": "orders.revenue"}},
        },
        con=con,
    )


def _reference(by_users: bool, grain: str) -> dict[Any, float]:
    df = ORDERS.merge(USERS, on="user_id", how="left")
    col = df["signed_up_at"] if by_users else df["ordered_at"]
    freq = {"month": "M", "quarter": "Q", "year": "Y", "day": "D"}
    if grain == "week":
        key = (col - pd.to_timedelta(col.dt.weekday, unit="D")).dt.normalize()
    else:
        key = col.dt.to_period(freq[grain]).dt.start_time
    out: dict[Any, float] = {}
    for k, v in zip(key, df["amount"], strict=True):
        k = None if pd.isna(k) else pd.Timestamp(k)
        out[k] = out.get(k, 0.0) + v
    return out


@pytest.mark.parametrize("grain", ["day", "week", "month", "quarter", "year"])
@pytest.mark.parametrize("name", ["users.signed_up_at", "orders.ordered_at", "ordered_at"])
def test_field_at_grain(layer: Any, name: str, grain: str) -> None:
    df = layer.query("revenue", by=[f"{name}__{grain}"]).to_pandas()
    column = f"{name.split('.')[-1]}__{grain}"
    assert list(df.columns) == [column, "revenue"]
    got = {
        None if pd.isna(k) else pd.Timestamp(k): v
        for k, v in zip(df[column], df["revenue"], strict=True)
    }
    assert got == pytest.approx(_reference(name.startswith("users"), grain))


def test_in_where_and_beside_a_grain(layer: Any) -> None:
    df = layer.query(
        ["revenue", "orders.orders"],
        by=["signed_up_at__month"],
        grain="month",
        where="signed_up_at__month = TIMESTAMP '2024-01-01 00:00:00'",
    ).to_pandas()
    assert df.values.tolist() == [[pd.Timestamp("2024-02-01"), pd.Timestamp("2024-01-01"), 5.0, 1]]


def test_unknown_names_still_fail_clearly(layer: Any) -> None:
    with pytest.raises(QueryError, match="unknown dimension 'signed_up_at__fortnight'"):
        layer.query("revenue", by=["signed_up_at__fortnight"])
    with pytest.raises(QueryError, match="unknown dimension 'nope__month'"):
        layer.query("revenue", by=["nope__month"])
