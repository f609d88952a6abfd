"""Helpers shared by the checks tests (this module holds no tests).

`make_layer` loads small tables into a test backend under unique names and binds definitions
to them through Jinja variables (`{{ orders }}`, `{{ users }}`...), so the same test runs on
DuckDB, PostgreSQL and PySpark.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

import metrics_layer as ml

ORDERS_SOURCE = """
  orders:
    table: "{{ orders }}"
    time: ts
    primary_key: order_id
    dimensions:
      status: {}
    measures:
      revenue: {agg: sum, expr: amount}
      paid: {agg: sum, expr: amount2}
      orders: {agg: count}
      paid_orders: {agg: count, filter: "status = 'paid'"}
    joins:
      users: {keys: user_id, relationship: many_to_one}
"""

USERS_SOURCE = """
  users:
    table: "{{ users }}"
    primary_key: user_id
    time: signup
    dimensions:
      country: {}
"""

USERS = pd.DataFrame(
    {
        "user_id": pd.array([1, 2, 3], dtype="Int64"),
        "country": ["DE", "FR", None],
        "signup": pd.to_datetime(["2023-12-01", "2023-12-02", "2023-12-03"]).astype(
            "datetime64[us]"
        ),
    }
)


def orders(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Orders with defaults: order_id = position + 1, user 1, status paid, amount2 = amount."""
    out = []
    for i, r in enumerate(rows):
        amount = r.get("amount", 1.0)
        out.append(
            {
                "order_id": r.get("order_id", i + 1),
                "user_id": r.get("user_id", 1),
                "status": r.get("status", "paid"),
                "amount": amount,
                "amount2": r.get("amount2", amount),
                "ts": pd.Timestamp(r["ts"]),
            }
        )
    df = pd.DataFrame(out)
    df["order_id"] = df["order_id"].astype("Int64")
    df["user_id"] = df["user_id"].astype("Int64")
    df["amount"] = df["amount"].astype("float64")
    df["amount2"] = df["amount2"].astype("float64")
    df["ts"] = df["ts"].astype("datetime64[us]")
    return df


def daily(values: list[float | None], start: str = "2024-01-01", **extra: Any) -> pd.DataFrame:
    """One order per day with the given amount; None leaves the day without any row."""
    day0 = dt.datetime.fromisoformat(start)
    rows = [
        {"ts": day0 + dt.timedelta(days=i, hours=12), "amount": v, **extra}
        for i, v in enumerate(values)
        if v is not None
    ]
    return orders(rows)


def make_layer(
    backend: Any,
    tmp_path: Path,
    yaml: str,
    tables: dict[str, pd.DataFrame],
    schemas: dict[str, dict[str, str]] | None = None,
    timezone: str = "UTC",
) -> ml.Layer:
    """Load `tables` under unique names and the definitions `yaml` (a full file) bound to them."""
    names = {k: backend.unique_name(k) for k in tables}
    backend.load(
        {names[k]: v for k, v in tables.items()},
        schemas={names[k]: s for k, s in (schemas or {}).items()},
    )
    folder = tmp_path / f"defs_{names[next(iter(tables))]}"
    folder.mkdir()
    (folder / "defs.yml").write_text(yaml)
    return ml.load(folder, con=backend.con, vars=names, timezone=timezone)


def defs(metrics: str = "", orders_checks: str = "", users_checks: str = "") -> str:
    """A definitions file with the orders and users sources, extra checks and metrics."""
    text = "version: 1\nsources:" + ORDERS_SOURCE
    if orders_checks:
        text += "    checks:\n" + _indent(orders_checks, 6)
    text += USERS_SOURCE
    if users_checks:
        text += "    checks:\n" + _indent(users_checks, 6)
    if metrics:
        text += "metrics:\n" + _indent(metrics, 2)
    return text


def _indent(text: str, n: int) -> str:
    import textwrap

    return textwrap.indent(textwrap.dedent(text).strip("\n"), " " * n) + "\n"
