"""Aggregate awareness: answers from a materialization equal the raw answers, over a grid of
request shapes, and are used exactly when the stored rows allow it (else raw data)."""

from __future__ import annotations

import itertools
from typing import Any

import pandas as pd
import pytest
from conftest import assert_same, open_layer

ROLLUP = {"revenue", "events", "conversion", "max_order", "min_order"}
EXACT_ONLY = {"buyers", "revenue_per_buyer", "rev_per_event", "avg_order"}
METRIC_SETS = [
    ["revenue"], ["events"], ["conversion"], ["max_order", "min_order"], ["buyers"],
    ["revenue_per_buyer"], ["rev_per_event"], ["avg_order"], ["conversion", "revenue", "buyers"],
]  # fmt: skip
BYS = [[], ["users.country"], ["platform"], ["users.country", "platform"],
       ["platform", "users.country"]]  # fmt: skip
BOUNDS = [{}, {"start": "2024-01-05", "end": "2024-01-20"}, {"start": "2024-01-05 12:00"}]


@pytest.fixture(scope="module")
def served_layer(tmp_path_factory: pytest.TempPathFactory) -> Any:
    import random

    import yaml
    from conftest import DEFS, make_events, write_db

    tmp = tmp_path_factory.mktemp("serve")
    db = tmp / "shop.duckdb"
    write_db(db, make_events(random.Random(3), 800, 30))
    (tmp / "defs").mkdir()
    (tmp / "defs" / "shop.yml").write_text(yaml.safe_dump(DEFS, sort_keys=False))
    layer = open_layer({"db": db, "defs": tmp / "defs"})
    layer.materialize("daily")
    return layer


def _frame(res: Any, keys: list[str]) -> pd.DataFrame:
    df = res.to_pandas()
    return df.sort_values(keys, na_position="first", kind="mergesort").reset_index(drop=True)


@pytest.mark.parametrize("by", BYS, ids=lambda b: "+".join(b) or "none")
def test_grid_answer_from_materialization_equals_raw(served_layer: Any, by: list[str]) -> None:
    layer = served_layer
    for metrics, bounds in itertools.product(METRIC_SETS, BOUNDS):
        kwargs = {"by": by or None, "grain": "day", **bounds}
        raw = layer.query(metrics, **kwargs)
        got = layer.query(metrics, use_materializations=True, **kwargs)
        keys = ["day", *(b.split(".")[-1] for b in by)]
        assert list(got.to_pandas().columns) == list(raw.to_pandas().columns)
        assert_same(_frame(got, keys), _frame(raw, keys))
        aligned = "12:00" not in bounds.get("start", "")
        same_by = set(by) == {"users.country", "platform"}
        expected = aligned and (same_by or set(metrics) <= ROLLUP)
        from_mat = got.meta.get("materialization") == "daily"
        assert from_mat == expected, (metrics, by, bounds)
        assert ("materialization 'daily'" in got.explain()) == expected
        if expected:
            assert "watermark 2024-01-30" in got.explain()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"grain": "week"},
        {"grain": "day", "where": "platform = 'ios'"},
        {"grain": "day", "timezone": "Europe/Berlin"},
        {"grain": "day", "fill": "zero"},
        {},
    ],
)
def test_other_shapes_fall_back_to_raw(served_layer: Any, kwargs: dict[str, Any]) -> None:
    got = served_layer.query(["revenue", "events"], use_materializations=True, **kwargs)
    raw = served_layer.query(["revenue", "events"], **kwargs)
    assert "materialization" not in got.meta
    assert got.sql() == raw.sql()


def test_layer_default_and_order_limit(served_layer: Any) -> None:
    layer = served_layer
    layer.use_materializations = True
    try:
        res = layer.query("revenue", by="platform", grain="day", order_by="-revenue", limit=5)
    finally:
        layer.use_materializations = False
    assert res.meta["materialization"] == "daily"
    raw = layer.query("revenue", by="platform", grain="day", order_by="-revenue", limit=5)
    assert_same(res.to_pandas(), raw.to_pandas())


def test_a_table_built_in_another_timezone_is_not_used(served_layer: Any) -> None:
    """Periods of a table are its build's local days: a layer in another zone must not use
    them, and an incremental run there is refused until a full refresh rebuilds them."""
    import metrics_layer as ml

    other = ml.load(served_layer.definitions(), con=served_layer.con, timezone="Asia/Tokyo")
    res = other.query("revenue", by="platform", grain="day", use_materializations=True)
    assert "materialization" not in res.meta
    with pytest.raises(ml.QueryError, match="full_refresh=True"):
        other.materialize("daily")


def test_groups_of_other_sources_are_not_served(tmp_path: Any) -> None:
    """A materialization over two sources has rows where only one of them has data; a request
    for the other's metric alone must not get those rows, so it is answered from raw data."""
    import copy
    import random

    import pandas as pd
    import yaml
    from conftest import DEFS, make_events, write_db

    import metrics_layer as ml

    db = tmp_path / "shop.duckdb"
    write_db(db, make_events(random.Random(9), 200, 10))
    import ibis

    con = ibis.duckdb.connect(str(db))
    refunds = pd.DataFrame({"ts": pd.to_datetime(["2024-01-03 10:00", "2024-02-20 09:00"]),
                            "platform": ["tv", "ios"], "amount": [5.0, 7.5]})  # fmt: skip
    con.create_table("refunds", refunds)
    con.disconnect()
    defs = copy.deepcopy(DEFS)
    defs["sources"]["refunds"] = {"table": "refunds", "time": "ts", "dimensions": {"platform": {}},
                                  "measures": {"refunded": {"agg": "sum", "expr": "amount"}}}  # fmt: skip
    defs["materializations"] = {"mixed": {"metrics": ["revenue", "refunded"], "by": ["platform"],
                                          "grain": "day", "table": "mart_mixed"}}  # fmt: skip
    (tmp_path / "d.yml").write_text(yaml.safe_dump(defs, sort_keys=False))
    layer = ml.load(tmp_path / "d.yml", con=str(db), read_only=False)
    layer.materialize("mixed")
    alone = layer.query("revenue", by="platform", grain="day", use_materializations=True)
    assert "materialization" not in alone.meta
    both = layer.query(["revenue", "refunded"], by="platform", grain="day",
                       use_materializations=True)  # fmt: skip
    assert both.meta["materialization"] == "mixed"
    raw = layer.query(["revenue", "refunded"], by="platform", grain="day")
    keys = ["day", "platform"]
    assert_same(_frame(both, keys), _frame(raw, keys))
