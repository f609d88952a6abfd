"""Loading hand-built events (with an `amount` column) into a test backend (no tests here)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

import metrics_layer as ml

DEFS = """
version: 1
sources:
  events:
    table: "{{ events }}"
    time: ts
    dimensions: {event_type: {}, platform: {}}
    measures:
      revenue: {agg: sum, expr: amount, filter: "event_type = 'purchase'"}
      n_events: {agg: count}
    joins:
      users: {keys: user_id, relationship: many_to_one}
  users:
    table: "{{ users }}"
    primary_key: user_id
    dimensions: {country: {}}
retention:
{%- for period in ["day", "week", "month"] %}
  {{ period }}ly:
    source: events
    entity: user_id
    cohort: "event_type = 'signup'"
    activity: "event_type = 'session'"
    period: {{ period }}
{%- endfor %}
"""

USERS = pd.DataFrame({"user_id": [1, 2, 3, 4, 5], "country": ["DE", "FR", "DE", "US", None]})


def frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """(user_id, event_type, ts[, amount]) tuples as an events frame."""
    out = [
        {
            "user_id": r[0],
            "event_type": r[1],
            "ts": pd.Timestamp(r[2]),
            "amount": r[3] if len(r) > 3 else None,
            "platform": "web",
        }
        for r in rows
    ]
    df = pd.DataFrame(out, columns=["user_id", "event_type", "ts", "amount", "platform"])
    df["user_id"] = df["user_id"].astype("Int64")
    df["ts"] = df["ts"].astype("datetime64[us]")
    df["amount"] = df["amount"].astype("Float64")
    return df


def as_dicts(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The frame as plain dicts for the reference (None for NULL, datetime for ts)."""
    out = []
    for r in df.to_dict("records"):
        out.append(
            {
                "user_id": None if pd.isna(r["user_id"]) else int(r["user_id"]),
                "event_type": r["event_type"],
                "ts": pd.Timestamp(r["ts"]).to_pydatetime(),
                "amount": None if pd.isna(r["amount"]) else float(r["amount"]),
            }
        )
    return out


def make_layer(backend: Any, tmp_path: Path, ev: pd.DataFrame, timezone: str = "UTC") -> ml.Layer:
    names = {"events": backend.unique_name("events"), "users": backend.unique_name("users")}
    backend.load(
        {names["events"]: ev, names["users"]: USERS},
        schemas={
            names["events"]: {"user_id": "int64", "amount": "float64", "platform": "string"},
            names["users"]: {"country": "string"},
        },
    )
    folder = tmp_path / f"defs_{names['events']}"
    folder.mkdir()
    (folder / "retention.yml").write_text(DEFS)
    return ml.load(folder, con=backend.con, vars=names, timezone=timezone)


def rows(backend: Any, res: Any, value: bool = False) -> list[tuple[Any, ...]]:
    """(cohort, period, cohort_size, active, complete[, value, value_retention]) tuples."""
    df = backend.fetch(res.expr)
    out = []
    for r in df.to_dict("records"):
        row: tuple[Any, ...] = (
            pd.Timestamp(r["cohort"]).to_pydatetime(),
            int(r["period"]),
            int(r["cohort_size"]),
            int(r["active"]),
            bool(r["complete"]),
        )
        if value:
            row += tuple(
                None if pd.isna(r[c]) else float(r[c]) for c in ("value", "value_retention")
            )
        out.append(row)
    return sorted(out)


def day(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)
