"""A filter every measure of an ungrouped scan shares is applied once as its WHERE
(compile/kpi.py `shared_filters`): the totals are those of plain pandas, also when no row
passes, and a grouped query keeps every group (with NULL/0 where no row passes)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

import metrics_layer as ml
from tests.backends import Backend, connect_duckdb

DEFS = """version: 1
sources:
  orders:
    table: "{{ t }}"
    time: ts
    dimensions: {region: {}}
    measures:
      done_revenue: {agg: sum, expr: amount, filter: "status = 'done'"}
      done_orders: {agg: count, filter: "status = 'done'"}
      done_buyers: {agg: count_distinct, expr: buyer, filter: "status = 'done'"}
      big_done: {agg: count, filter: "status = 'done' AND amount > 50"}
      orders: {agg: count}
"""

ROWS = pd.DataFrame(
    {
        "ts": [dt.datetime(2024, 1, d) for d in (1, 2, 3, 4, 5, 6, 7, 8)],
        "region": ["a", "a", "b", "b", "c", "c", None, "a"],
        "status": ["done", "open", "done", "done", "open", "open", "done", None],
        "buyer": [1, 2, 1, 3, 4, 4, None, 2],
        "amount": [10.0, 99.0, 60.0, 70.5, 5.0, 80.0, 51.0, 40.0],
    }
)


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> ml.Layer:
    backend = Backend("duckdb", connect_duckdb())
    name = backend.unique_name("shared_filters")
    backend.load({name: ROWS}, schemas={name: {"buyer": "int64"}})
    folder: Path = tmp_path_factory.mktemp("shared_filters")
    (folder / "defs.yml").write_text(DEFS)
    return ml.load(folder, con=backend.con, vars={"t": name})


def reference(rows: pd.DataFrame) -> dict[str, object]:
    done = rows[rows.status == "done"]
    return {
        "done_revenue": float(done.amount.sum()) if len(done) else None,
        "done_orders": len(done),
        "done_buyers": int(done.buyer.dropna().nunique()),
        "big_done": int((done.amount > 50).sum()),
    }


MEASURES = ["orders.done_revenue", "orders.done_orders", "orders.done_buyers", "orders.big_done"]


@pytest.mark.parametrize(
    ("where", "start", "end"),
    [
        (None, None, None),
        ("orders.region = 'b'", None, None),
        (None, "2024-01-03", "2024-01-08"),
        ("orders.region = 'c'", None, None),  # no done order: NULL sum, zero counts
        ("orders.region = 'zz'", None, None),  # no row at all
    ],
)
def test_totals_equal_pandas(
    layer: ml.Layer, where: str | None, start: str | None, end: str | None
) -> None:
    res = layer.query(MEASURES, where=where, start=start, end=end)
    rows = ROWS
    if where is not None:
        rows = rows[rows.region == where.split("'")[1]]
    if start is not None:
        rows = rows[(rows.ts >= pd.Timestamp(start)) & (rows.ts < pd.Timestamp(end))]
    got = res.to_pyarrow().to_pylist()
    assert len(got) == 1
    assert got[0] == reference(rows)
    shared = layer.query(MEASURES[:3], where=where, start=start, end=end)
    assert shared.to_pyarrow().to_pylist() == [
        {k: v for k, v in reference(rows).items() if k != "big_done"}
    ]


def test_the_shared_filter_becomes_the_where(layer: ml.Layer) -> None:
    shared = layer.query(MEASURES[:3]).sql(pretty=False)
    assert "FILTER(" not in shared and "WHERE" in shared
    # big_done's filter is another text: nothing is shared, each measure keeps its own
    assert layer.query(MEASURES).sql(pretty=False).count("FILTER(") == 4


def test_a_measure_without_the_filter_keeps_every_row(layer: ml.Layer) -> None:
    got = layer.query(["orders.done_orders", "orders.orders"]).to_pyarrow().to_pylist()[0]
    assert list(got.values()) == [4, 8]


def test_grouped_queries_keep_groups_without_passing_rows(layer: ml.Layer) -> None:
    got = layer.query(MEASURES[:3], by="orders.region").to_pyarrow().to_pylist()
    by_region = {r["region"]: r for r in got}
    assert set(by_region) == {"a", "b", "c", None}
    c = by_region["c"]
    assert c["done_orders"] == 0 and c["done_buyers"] == 0 and c["done_revenue"] is None
    for region, rows in ROWS.groupby(ROWS.region.fillna("~")):
        key = None if region == "~" else region
        ref = reference(rows)
        assert by_region[key]["done_orders"] == ref["done_orders"]
        assert by_region[key]["done_buyers"] == ref["done_buyers"]
