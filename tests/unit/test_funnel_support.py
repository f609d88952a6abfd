"""Helpers shared by the funnel tests (this module holds no tests).

`make_layer` loads an events table (and a users table) into a test backend under unique names
and binds funnel definitions to them through Jinja variables, so the same test runs on DuckDB,
PostgreSQL and PySpark. Times are written as seconds after 2024-01-01 00:00 UTC.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

import metrics_layer as ml

T0 = dt.datetime(2024, 1, 1)

SOURCES = """
version: 1
sources:
  events:
    table: "{{ events }}"
    time: ts
    primary_key: event_id
    dimensions:
      event_type: {}
      platform: {expr: "lower(platform)"}
    joins:
      users: {keys: user_id, relationship: many_to_one}
  users:
    table: "{{ users }}"
    primary_key: user_id
    dimensions:
      country: {}
  orders:
    table: "{{ orders }}"
    time: paid_at
    dimensions:
      amount: {}
"""

USERS = pd.DataFrame(
    {"user_id": [1, 2, 3, 4, 5, 6], "country": ["DE", "FR", "DE", None, "US", "FR"]}
)


def funnel_yaml(
    name: str = "f",
    steps: tuple[str, ...] = ("A", "B", "C"),
    window: str = "10 seconds",
    order: str | None = None,
    exclusions: str = "",
    extra: str = "",
) -> str:
    """A `funnels:` entry whose step k matches event_type = steps[k-1] (names a, b, c, ...)."""
    lines = [f"  {name}:", "    source: events", "    entity: user_id", f"    window: {window}"]
    if order:
        lines.append(f"    order: {order}")
    lines.append("    steps:")
    names: list[str] = []
    for s in steps:
        flt = s if any(ch in s for ch in " '=") else f"event_type = '{s}'"
        name = _step_name(s)
        name = name if name not in names else f"{name}{len(names) + 1}"
        names.append(name)
        lines.append(f'      - {{name: {name}, filter: "{flt}"}}')
    if exclusions:
        lines.append("    exclusions:")
        lines.extend("      " + x for x in exclusions.strip().splitlines())
    if extra:
        lines.extend("    " + x for x in extra.strip().splitlines())
    return "\n".join(lines) + "\n"


def _step_name(s: str) -> str:
    return "".join(ch for ch in s.lower() if ch.isalnum() or ch == "_")[:20] or "s"


def events(*rows: tuple[Any, ...]) -> pd.DataFrame:
    """(user_id, event_type, seconds after T0[, platform]) rows; user_id None = anonymous."""
    out = []
    for i, row in enumerate(rows, 1):
        user, kind, secs = row[:3]
        platform = row[3] if len(row) > 3 else "Web"
        out.append(
            {
                "event_id": i,
                "user_id": user,
                "event_type": kind,
                "ts": pd.Timestamp(T0 + dt.timedelta(seconds=secs)),
                "platform": platform,
            }
        )
    df = pd.DataFrame(out, columns=["event_id", "user_id", "event_type", "ts", "platform"])
    df["user_id"] = df["user_id"].astype("Int64")
    df["event_id"] = df["event_id"].astype("int64")
    df["ts"] = df["ts"].astype("datetime64[us]")
    return df


def orders(*rows: tuple[Any, float, float]) -> pd.DataFrame:
    """(user_id, seconds after T0, amount) rows of the `orders` source."""
    df = pd.DataFrame(
        [
            {"user_id": u, "paid_at": pd.Timestamp(T0 + dt.timedelta(seconds=s)), "amount": a}
            for u, s, a in rows
        ],
        columns=["user_id", "paid_at", "amount"],
    )
    df["user_id"] = df["user_id"].astype("Int64")
    df["paid_at"] = df["paid_at"].astype("datetime64[us]")
    df["amount"] = df["amount"].astype("float64")
    return df


def make_layer(
    backend: Any,
    tmp_path: Path,
    ev: pd.DataFrame,
    funnels: str,
    users: pd.DataFrame | None = None,
    order_rows: pd.DataFrame | None = None,
    timezone: str = "UTC",
) -> ml.Layer:
    """Load the tables and a definitions folder (sources + `funnels:` text) into a Layer."""
    names = {k: backend.unique_name(k) for k in ("events", "users", "orders")}
    backend.load(
        {
            names["events"]: ev,
            names["users"]: USERS if users is None else users,
            names["orders"]: orders((99, 0, 0)) if order_rows is None else order_rows,
        },
        schemas={
            names["events"]: {"user_id": "int64", "platform": "string", "event_type": "string"},
            names["users"]: {"country": "string"},
            names["orders"]: {"user_id": "int64"},
        },
    )
    folder = tmp_path / f"defs_{names['events']}"
    folder.mkdir()
    (folder / "sources.yml").write_text(SOURCES)
    (folder / "funnels.yml").write_text("funnels:\n" + funnels)
    return ml.load(folder, con=backend.con, vars=names, timezone=timezone)


def table(backend: Any, res: Any) -> pd.DataFrame:
    """The executed result through the backend harness, with the column list checked."""
    df = backend.fetch(res.expr)
    base = [
        "step",
        "step_name",
        "entities",
        "conversion",
        "step_conversion",
        "median_seconds",
        "avg_seconds",
    ]
    assert list(df.columns)[-len(base) :] == base, list(df.columns)
    return df


def counts(backend: Any, res: Any) -> list[int]:
    """entities per step (ungrouped funnel), checking conversion columns on the way."""
    df = table(backend, res).sort_values("step")
    n = [int(x) for x in df["entities"]]
    first = n[0] if n else 0
    for i, r in enumerate(df.itertuples(index=False)):
        conv = None if first == 0 else r.entities / first
        prev = n[i - 1] if i else r.entities
        step_conv = None if prev == 0 else r.entities / prev
        assert _close(r.conversion, conv) and _close(r.step_conversion, step_conv), r
    return n


def seconds(backend: Any, res: Any, column: str = "median_seconds") -> list[float | None]:
    df = table(backend, res).sort_values("step")
    return [None if pd.isna(v) else float(v) for v in df[column]]


def _close(a: Any, b: Any) -> bool:
    if b is None:
        return a is None or pd.isna(a)
    return a is not None and not pd.isna(a) and abs(float(a) - b) < 1e-12
