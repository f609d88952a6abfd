"""Helpers shared by the retention tests (this module holds no tests).

`make_layer` loads an events table (and a users table) into a test backend under unique names
and binds retention definitions to them through Jinja variables, so the same test runs on
DuckDB, PostgreSQL and PySpark.
"""

from __future__ import annotations

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
    dimensions:
      event_type: {}
      platform: {}
    joins:
      users: {keys: user_id, relationship: many_to_one}
  users:
    table: "{{ users }}"
    primary_key: user_id
    dimensions:
      country: {}
retention:
{%- for name, period in [("daily", "day"), ("weekly", "week"), ("monthly", "month"), ("quarterly", "quarter")] %}
  {{ name }}:
    source: events
    entity: user_id
    cohort: "event_type = 'signup'"
    activity: "event_type = 'session'"
    period: {{ period }}
{%- endfor %}
  recurring:
    source: events
    entity: user_id
    cohort: "event_type = 'signup'"
    activity: "event_type = 'session'"
    period: month
    cohort_type: recurring
  by_country:
    source: events
    entity: user_id
    cohort: "event_type = 'signup'"
    activity: "event_type = 'session'"
    period: month
    by: [users.country]
    description: Monthly retention by the user's country
    owner: growth
"""

USERS = pd.DataFrame(
    {"user_id": [1, 2, 3, 4, 5, 6], "country": ["DE", "FR", "DE", None, "US", "FR"]}
)


def events(*rows: tuple[Any, str, str] | tuple[Any, str, str, str | None]) -> pd.DataFrame:
    """(user_id, event_type, ts[, platform]) rows as an events frame (user_id None = anonymous)."""
    out = []
    for row in rows:
        user, kind, ts = row[:3]
        platform = row[3] if len(row) > 3 else "web"
        out.append(
            {"user_id": user, "event_type": kind, "ts": pd.Timestamp(ts), "platform": platform}
        )
    df = pd.DataFrame(out)
    df["user_id"] = df["user_id"].astype("Int64")
    df["ts"] = df["ts"].astype("datetime64[us]")
    return df


def make_layer(
    backend: Any,
    tmp_path: Path,
    ev: pd.DataFrame,
    users: pd.DataFrame | None = None,
    timezone: str = "UTC",
    defs: str = DEFS,
) -> ml.Layer:
    names = {"events": backend.unique_name("events"), "users": backend.unique_name("users")}
    backend.load(
        {names["events"]: ev, names["users"]: USERS if users is None else users},
        schemas={
            names["events"]: {"user_id": "int64", "platform": "string"},
            names["users"]: {"country": "string"},
        },
    )
    folder = tmp_path / f"defs_{names['events']}"
    folder.mkdir()
    (folder / "retention.yml").write_text(defs)
    return ml.load(folder, con=backend.con, vars=names, timezone=timezone)


def rows(backend: Any, res: Any) -> list[tuple[Any, ...]]:
    """Result rows as (cohort 'YYYY-MM-DD', [by...], cohort_size, period, active, complete),
    after checking the column set and retention = active / cohort_size on every row."""
    df = backend.fetch(res.expr)
    by = [
        c
        for c in df.columns
        if c not in ("cohort", "cohort_size", "period", "active", "retention", "complete")
    ]
    assert list(df.columns) == [
        "cohort",
        *by,
        "cohort_size",
        "period",
        "active",
        "retention",
        "complete",
    ]
    for r in df.itertuples(index=False):
        assert abs(r.retention - r.active / r.cohort_size) < 1e-12
    out = []
    for r in df.to_dict("records"):
        out.append(
            (
                r["cohort"].strftime("%Y-%m-%d"),
                *[r[b] for b in by],
                int(r["cohort_size"]),
                int(r["period"]),
                int(r["active"]),
                bool(r["complete"]),
            )
        )
    return sorted(out, key=lambda t: tuple((v is None, v) for v in t))
