"""A funnel's `window_boundary: exclusive` (MetricFlow's strict conversion window): a step
exactly `window` after step 1 does not count; one microsecond sooner it does, in every order."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pandas as pd
import pytest

import metrics_layer as ml

T0 = dt.datetime(2024, 3, 1, 12, 0, 0)
WINDOW = dt.timedelta(days=7)


def _layer(boundary: str | None, order: str) -> Any:
    con = ibis.duckdb.connect()
    rows = [
        (1, T0, "visit"),
        (1, T0 + WINDOW, "buy"),  # exactly the window later
        (2, T0, "visit"),
        (2, T0 + WINDOW - dt.timedelta(microseconds=1), "buy"),  # just inside
        (3, T0, "visit"),
        (3, T0 + WINDOW + dt.timedelta(microseconds=1), "buy"),  # just outside
    ]
    con.create_table("ev", pd.DataFrame(rows, columns=["user_id", "ts", "kind"]))
    funnel: dict[str, Any] = {
        "source": "ev",
        "entity": "user_id",
        "window": "7 days",
        "order": order,
        "steps": [
            {"name": "visit", "filter": "kind = 'visit'"},
            {"name": "buy", "filter": "kind = 'buy'"},
        ],
    }
    if boundary:
        funnel["window_boundary"] = boundary
    return ml.load({"sources": {"ev": {"time": "ts"}}, "funnels": {"f": funnel}}, con=con)


@pytest.mark.parametrize("order", ["sequential", "strict", "any"])
@pytest.mark.parametrize(("boundary", "converted"), [(None, 2), ("inclusive", 2), ("exclusive", 1)])
def test_window_boundary(order: str, boundary: str | None, converted: int) -> None:
    df = _layer(boundary, order).funnel("f").to_pandas()
    assert df["entities"].tolist() == [3, converted]


def test_explain_says_which_boundary() -> None:
    assert "boundary exclusive" in _layer("exclusive", "sequential").funnel("f").explain()
    with pytest.raises(ml.DefinitionError, match="window_boundary"):
        _layer("strict", "sequential")
