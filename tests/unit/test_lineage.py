"""Lineage: metric → metrics/measures → dimensions/columns → tables (with joins), and impact."""

from __future__ import annotations

from pathlib import Path

import ibis
import pytest

import metrics_layer as ml
from metrics_layer.lineage import Edge, Lineage, Node
from tests.unit.test_checks_support import USERS, daily

ROOT = Path(__file__).resolve().parents[2]

DEFS = """
version: 1
sources:
  orders:
    table: orders_t
    time: ts
    dimensions:
      is_big: {expr: "amount > 100"}
    measures:
      revenue: {agg: sum, expr: amount}
      big_orders: {agg: count, filter: "is_big"}
      orders: {agg: count}
      de_revenue: {agg: sum, expr: amount, filter: "users.country = 'DE'"}
    joins:
      users: {keys: user_id, relationship: many_to_one}
  users:
    table: users_t
    dimensions:
      country: {}
metrics:
  revenue: {measure: orders.revenue}
  aov: {type: ratio, numerator: revenue, denominator: orders.orders}
  big_share: {type: derived, expr: "big_orders / orders"}
  de_revenue: {measure: orders.de_revenue}
  revenue_prev: {type: offset, metric: revenue, offset: 1 month}
"""


@pytest.fixture(scope="module")
def layer(tmp_path_factory) -> ml.Layer:
    folder = tmp_path_factory.mktemp("lineage")
    (folder / "defs.yml").write_text(DEFS)
    return ml.load(folder)


def test_graph_of_a_ratio_down_to_columns_and_tables(layer):
    g = layer.lineage("aov")
    assert isinstance(g, Lineage) and all(isinstance(n, Node) for n in g.nodes)
    assert all(isinstance(e, Edge) for e in g.edges)
    assert g.nodes[0] == Node(
        "metric:aov", "metric", "aov", "ratio: sum of revenue ÷ sum of orders.orders (NULL when 0)"
    )
    assert g.of_kind("metric") == ["aov", "revenue"]
    assert g.of_kind("measure") == ["orders.revenue", "orders.orders"]
    assert g.tables == ["orders_t"]
    assert set(g.columns) == {"orders_t.amount", "orders_t.ts"}
    edges = {(e.src, e.dst, e.label) for e in g.edges}
    assert ("metric:aov", "metric:revenue", "numerator") in edges
    assert ("metric:aov", "measure:orders.orders", "denominator") in edges
    assert ("measure:orders.revenue", "column:orders_t.amount", "expr") in edges
    assert ("column:orders_t.amount", "table:orders_t", "") in edges


def test_joins_and_dimensions_are_part_of_the_graph(layer):
    g = layer.lineage("de_revenue")
    assert g.tables == ["orders_t", "users_t"]
    assert [e.label for e in g.joins] == ["users: user_id = user_id"]
    assert {"orders_t.user_id", "users_t.user_id", "users_t.country"} <= set(g.columns)
    big = layer.lineage("big_share")
    assert "orders.is_big" in big.of_kind("dimension")
    assert ("dimension:orders.is_big", "column:orders_t.amount", "reads", "expr") in {
        (e.src, e.dst, e.kind, e.label) for e in big.edges
    }


def test_to_dict_and_mermaid(layer):
    d = layer.lineage("revenue_prev").to_dict()
    assert d["metric"] == "revenue_prev"
    assert d["nodes"][0] == {
        "id": "metric:revenue_prev",
        "kind": "metric",
        "name": "revenue_prev",
        "detail": "offset: revenue 1 month earlier",
    }
    assert {
        "src": "metric:revenue_prev",
        "dst": "metric:revenue",
        "kind": "uses",
        "label": "metric",
    } in d["edges"]
    text = layer.lineage("de_revenue").to_mermaid()
    assert text.startswith("flowchart LR\n")
    assert 'n0(["de_revenue"]):::metric' in text
    assert '[("users_t")]:::table' in text
    assert '-.->|"users: user_id = user_id"|' in text
    assert "#quot;DE#quot;" not in text and "'DE'" in text  # quotes in labels are escaped safely


def test_impact_of_tables_and_columns(layer):
    assert layer.impact("orders") == ["revenue", "aov", "big_share", "de_revenue", "revenue_prev"]
    assert layer.impact("orders_t.amount") == [
        "revenue",
        "aov",
        "big_share",
        "de_revenue",
        "revenue_prev",
    ]
    assert layer.impact("users.country") == ["de_revenue"]
    assert layer.impact("users_t.user_id") == ["de_revenue"]
    assert layer.impact("orders.ts") == [
        "revenue",
        "aov",
        "big_share",
        "de_revenue",
        "revenue_prev",
    ]
    with pytest.raises(ml.QueryError, match="did you mean 'orders'"):
        layer.impact("ordrs.amount")
    with pytest.raises(ml.QueryError, match="did you mean 'revenue'"):
        layer.lineage("revenu")


def test_impact_checks_columns_when_the_schema_is_known(tmp_path):
    con = ibis.duckdb.connect()
    con.create_table("orders_t", daily([1]).assign(user_id=1))
    con.create_table("users_t", USERS)
    (tmp_path / "defs.yml").write_text(DEFS)
    layer = ml.load(tmp_path, con=con)
    assert layer.impact("orders.amount") == [
        "revenue",
        "aov",
        "big_share",
        "de_revenue",
        "revenue_prev",
    ]
    with pytest.raises(ml.QueryError, match="did you mean 'amount'"):
        layer.impact("orders.amout")


def test_demo_definitions(tmp_path):
    layer = ml.load(ROOT / "metric_defs")
    assert "task_fill_rate" in layer.impact("tasks.posted_at")
    assert "revenue_per_active_worker" in layer.impact("assignments.revenue")
    g = layer.lineage("task_fill_rate")
    assert g.tables == ["assignments", "tasks"]
