"""Definitions and data builders shared by the experiment tests."""

from __future__ import annotations

from pathlib import Path

import ibis
import pandas as pd

import metrics_layer as ml

DEFS = """
version: 1
sources:
  exposures:
    table: {exposures}
    time: exposed_at
  orders:
    table: {orders}
    time: ts
    measures:
      revenue: {{agg: sum, expr: amount}}
      orders: {{agg: count}}
      buyers: {{agg: count_distinct, expr: user_id, filter: "kind = 'buy'"}}
      aov: {{agg: avg, expr: amount}}
metrics:
  revenue: {{measure: orders.revenue}}
  orders: {{measure: orders.orders}}
  conversion: {{measure: orders.buyers}}
  revenue_per_order: {{type: ratio, numerator: orders.revenue, denominator: orders.orders}}
  aov: {{measure: orders.aov}}
experiments:
  test:
    source: exposures
    entity: user_id
    variant: variant
    control: control
    metrics: [revenue, orders, conversion, revenue_per_order, aov]
{extra}
"""


def write_defs(
    tmp: Path, *, exposures: str = "exposures", orders: str = "orders", extra: str = ""
) -> Path:
    folder = tmp / "defs"
    folder.mkdir(exist_ok=True)
    text = DEFS.format(exposures=exposures, orders=orders, extra=extra)
    (folder / "experiments.yml").write_text(text, encoding="utf-8")
    return folder


def duckdb_layer(
    tmp: Path, exposures: pd.DataFrame, orders: pd.DataFrame, extra: str = ""
) -> ml.Layer:
    con = ibis.duckdb.connect()
    con.create_table("exposures", exposures)
    con.create_table("orders", orders)
    return ml.load(write_defs(tmp, extra=extra), con=con)


def indent(text: str, by: int = 4) -> str:
    return "\n".join(" " * by + line for line in text.strip("\n").splitlines())
