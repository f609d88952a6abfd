"""A small shop in a DuckDB file: events joined to users, and materializations over it."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest
import yaml

import metrics_layer as ml

START = dt.datetime(2024, 1, 1)

DEFS: dict[str, Any] = {
    "version": 1,
    "sources": {
        "events": {
            "table": "events",
            "time": "ts",
            "primary_key": "event_id",
            "dimensions": {"platform": {}, "kind": {}},
            "measures": {
                "events": {"agg": "count"},
                "revenue": {"agg": "sum", "expr": "revenue"},
                "max_order": {"agg": "max", "expr": "revenue"},
                "min_order": {"agg": "min", "expr": "revenue"},
                "buyers": {"agg": "count_distinct", "expr": "user_id"},
                "purchases": {"agg": "count", "filter": "kind = 'purchase'"},
                "avg_order": {"agg": "avg", "expr": "revenue"},
            },
            "joins": {"users": {"keys": "user_id", "relationship": "many_to_one"}},
        },
        "users": {
            "table": "users",
            "primary_key": "user_id",
            "dimensions": {"country": {}, "plan": {}},
        },
    },
    "metrics": {
        "conversion": {"type": "ratio", "numerator": "events.purchases", "denominator": "events.events"},
        "revenue_per_buyer": {"type": "ratio", "numerator": "events.revenue", "denominator": "events.buyers"},
        "rev_per_event": {"type": "derived", "expr": "revenue / events"},
        "running_buyers": {"type": "cumulative", "measure": "events.buyers"},
    },
    "materializations": {
        "daily": {
            "metrics": ["revenue", "events", "conversion", "buyers", "max_order", "min_order",
                        "revenue_per_buyer", "rev_per_event", "avg_order"],
            "by": ["users.country", "platform"],
            "grain": "day",
            "table": "mart_daily",
            "lookback": "2 days",
            "batch": 3,
        },
    },
}  # fmt: skip


def make_events(rng: random.Random, n: int, days: int, first_id: int = 0) -> pd.DataFrame:
    """n events spread over `days` days from START, with NULL platforms and revenues sometimes."""
    rows = []
    for i in range(n):
        ts = START + dt.timedelta(seconds=rng.randrange(days * 86400))
        rows.append(
            {
                "event_id": first_id + i,
                "ts": ts,
                "user_id": rng.randrange(12),
                "platform": rng.choice(["ios", "web", None]),
                "kind": rng.choice(["view", "view", "purchase"]),
                "revenue": rng.choice([None, round(rng.uniform(0, 50), 2)]),
            }
        )
    return pd.DataFrame(rows)


USERS = pd.DataFrame(
    {
        "user_id": list(range(12)),
        "country": ["de", "fr", "us", None] * 3,
        "plan": ["free", "pro", "free"] * 4,
    }
)


def write_db(path: Path, events: pd.DataFrame) -> None:
    con = ibis.duckdb.connect(str(path))
    con.create_table("events", events, overwrite=True)
    con.create_table("users", USERS, overwrite=True)
    con.disconnect()


def append_events(path: Path, events: pd.DataFrame) -> None:
    con = ibis.duckdb.connect(str(path))
    con.insert("events", events)
    con.disconnect()


@pytest.fixture
def shop(tmp_path: Path) -> dict[str, Any]:
    """A DuckDB file with 30 days of events, definitions written as YAML beside it."""
    rng = random.Random(7)
    db = tmp_path / "shop.duckdb"
    write_db(db, make_events(rng, 600, 30))
    defs = tmp_path / "defs"
    defs.mkdir()
    (defs / "shop.yml").write_text(yaml.safe_dump(DEFS, sort_keys=False))
    return {"db": db, "defs": defs, "rng": rng}


def open_layer(shop: dict[str, Any]) -> Any:
    return ml.load(shop["defs"], con=str(shop["db"]), read_only=False)


def stored(layer: Any, name: str) -> pd.DataFrame:
    """The materialization's table, sorted by its keys."""
    from metrics_layer.materialize import shape_of

    s = shape_of(layer.registry, name)
    df = layer.con.table(s.table).to_pandas()
    return _sorted(df, [s.grain, *s.by_columns])


def fresh(layer: Any, name: str, **kwargs: Any) -> pd.DataFrame:
    """The raw answer the table must equal: layer.query of its metrics, by and grain."""
    from metrics_layer.materialize import shape_of

    s = shape_of(layer.registry, name)
    df = layer.query(s.query_names, by=list(s.by) or None, grain=s.grain, **kwargs).to_pandas()
    df = pd.DataFrame({c: df[col] for c, col in s.select})
    return _sorted(df, [s.grain, *s.by_columns])


def _sorted(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return df.sort_values(keys, na_position="first", kind="mergesort").reset_index(drop=True)


def assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Cell by cell: same rows and keys, NULL where NULL, numbers equal (floats to 1e-12
    relative: a sum may be added up in another order)."""
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want), (len(got), len(want))
    for col in got.columns:
        a, b = got[col].tolist(), want[col].tolist()
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if pd.isna(x) or pd.isna(y):
                assert pd.isna(x) and pd.isna(y), (col, i, x, y)
            elif isinstance(x, float) or isinstance(y, float):
                assert abs(x - y) <= 1e-12 * max(1.0, abs(x), abs(y)), (col, i, x, y)
            else:
                assert x == y, (col, i, x, y)
