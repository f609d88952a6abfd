"""Helpers shared by the lifecycle and stickiness tests (this module holds no tests).

`make_layer` loads an events table (and a users table) into a test backend under unique names
and binds the definitions below to them, so the same test runs on DuckDB, PostgreSQL and
PySpark. Only the retention's source, entity and activity matter to lifecycle and stickiness;
the cohort event is deliberately something else (`signup`) to show it is not used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

import metrics_layer as ml
from tests.unit.test_retention_support import DEFS as RETENTION_DEFS
from tests.unit.test_retention_support import USERS, events

__all__ = ["DEFS", "RETAIL", "USERS", "events", "make_layer", "table"]

# the NRF 4-5-4 retail calendar: fiscal 2023 (2023-01-29 .. 2024-02-03) has 53 weeks, its
# last quarter 14 and its last month (fiscal January) 5; the only retail calendar of the
# project, so the fiscal grains of lifecycle and stickiness use it without a join
RETAIL = {"pattern": "4-5-4", "year_end_month": 1, "weekday": "saturday", "rule": "nearest"}
CALENDAR = """\
sources:
  retail_cal:
    calendar:
      start: 2022-01-01
      end: 2032-01-01
      retail: {pattern: "4-5-4", year_end_month: 1, weekday: saturday, rule: nearest}
"""

DEFS = (
    RETENTION_DEFS.replace("\nsources:\n", "\n" + CALENDAR, 1)
    + """\
  any_event:
    source: events
    entity: user_id
    cohort: "event_type = 'signup'"
    activity: "event_type IN ('signup', 'session')"
    period: month
"""
)


def make_layer(
    backend: Any,
    tmp_path: Path,
    ev: pd.DataFrame,
    users: pd.DataFrame | None = None,
    timezone: str = "UTC",
    week_start: str | None = None,
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
    (folder / "lifecycle.yml").write_text(DEFS)
    return ml.load(folder, con=backend.con, vars=names, timezone=timezone, week_start=week_start)


def table(backend: Any, res: Any) -> list[tuple[Any, ...]]:
    """Result rows as tuples with the period as 'YYYY-MM-DD' (or 'YYYY-MM-DD HH:MM'), after
    checking the exact column list of the result."""
    df = backend.fetch(res.expr)
    grain = res.query.grain.name
    last = ["status", "entities"] if "status" in df.columns else ["n", "entities"]
    assert list(df.columns) == [grain, *res.by, *last], list(df.columns)
    assert list(df.columns) == res.columns
    out = []
    for r in df.itertuples(index=False):
        ts = pd.Timestamp(r[0])
        label = f"{ts:%Y-%m-%d %H:%M}" if grain == "hour" else f"{ts:%Y-%m-%d}"
        out.append((label, *[None if pd.isna(v) else v for v in r[1:]]))
    return out


def nonzero(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [r for r in rows if r[-1] != 0]
