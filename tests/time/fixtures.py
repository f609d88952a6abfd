"""Definitions and rows shared by the time tests, loaded on any backend of tests/backends.py."""

from __future__ import annotations

import datetime as _dt
import random
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

import metrics_layer as ml
from tests.backends import Backend

DEFS: dict[str, Any] = {
    "version": 1,
    "sources": {
        "events": {
            "table": "{{ t.events }}",
            "time": "ts",
            "primary_key": "event_id",
            "dimensions": {"event_type": {}, "day": {"expr": "CAST(ts AS DATE)", "type": "date"}},
            "measures": {
                "events": {"agg": "count"},
                "value": {"agg": "sum", "expr": "value"},
                "users": {"agg": "count_distinct", "expr": "user_id"},
            },
            "joins": {"cal": {"keys": {"day": "date"}, "relationship": "many_to_one"}},
        },
        "cal": {
            "calendar": {
                "start": "2024-01-01",
                "end": "2026-01-01",
                "holidays": ["2024-12-25", "2025-01-01"],
            },
            "time": "date",
            "dimensions": {"is_business_day": {}, "week": {}},
        },
    },
    "metrics": {
        "events": {"measure": "events.events"},
        "value": {"measure": "events.value"},
        "users": {"measure": "events.users"},
        "value_wtd": {"type": "cumulative", "measure": "events.value", "grain_to_date": "week"},
        "value_24h": {"type": "cumulative", "measure": "events.value", "window": "24 hours"},
        "value_1d": {"type": "cumulative", "measure": "events.value", "window": "1 day"},
        "users_7d": {"type": "cumulative", "measure": "events.users", "window": "7 days"},
        "value_prev_week": {"type": "offset", "metric": "value", "offset": "1 week"},
        "value_checked": {"measure": "events.value", "validation": {"min": 0, "max": 0}},
    },
    "retention": {
        "weekly": {
            "source": "events",
            "entity": "user_id",
            "cohort": "event_type = 'signup'",
            "activity": "event_type = 'visit'",
            "period": "week",
        },
    },
    "funnels": {
        "signup_visit": {
            "source": "events",
            "entity": "user_id",
            "window": "7 days",
            "steps": [
                {"name": "signup", "filter": "event_type = 'signup'"},
                {"name": "visit", "filter": "event_type = 'visit'"},
            ],
        },
    },
}


def write_defs(folder: Path, defs: dict[str, Any] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "time.yml").write_text(yaml.safe_dump(defs or DEFS, sort_keys=False))
    return folder


def events_frame(rows: list[tuple[_dt.datetime, int, str, int]]) -> pd.DataFrame:
    """(ts naive UTC, user_id, event_type, value) rows as the events table."""
    return pd.DataFrame(
        {
            "event_id": list(range(len(rows))),
            "ts": pd.to_datetime([r[0] for r in rows]).astype("datetime64[us]"),
            "user_id": [r[1] for r in rows],
            "event_type": [r[2] for r in rows],
            "value": [r[3] for r in rows],
        }
    )


def random_rows(seed: int, n: int, lo: _dt.datetime, hi: _dt.datetime) -> list[tuple]:
    """n events at random seconds of [lo, hi), 12 users, signups and visits, values 1 … 9."""
    rng = random.Random(seed)
    span = int((hi - lo).total_seconds())
    out = []
    for _ in range(n):
        ts = lo + _dt.timedelta(seconds=rng.randrange(span))
        out.append(
            (ts, rng.randrange(12), rng.choice(["signup", "visit", "visit"]), rng.randint(1, 9))
        )
    return out


def load_layer(
    backend: Backend, folder: Path, rows: list[tuple], **kwargs: Any
) -> tuple[ml.Layer, str]:
    name = backend.unique_name("events")
    backend.load({name: events_frame(rows)})
    layer = ml.load(write_defs(folder), con=backend.con, vars={"t": {"events": name}}, **kwargs)
    return layer, name
