"""Small deterministic data for the engine tests (events and users), and a loaded layer."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

import pandas as pd

import metrics_layer as ml
from tests.backends import Backend

DEFS = Path(__file__).resolve().parent / "defs.yml"
START = dt.datetime(2024, 1, 1)
COUNTRIES = ["US", "DE", "FR", None]
PLATFORMS = ["web", "ios", "android"]
KINDS = ["visit", "visit", "visit", "cart", "purchase"]
KPIS = ["events", "revenue", "purchase_conversion"]  # metrics of defs.yml most tests ask


def frames(users: int = 40, events: int = 600, seed: int = 7) -> dict[str, pd.DataFrame]:
    rng = random.Random(seed)
    us = pd.DataFrame(
        {
            "user_id": list(range(1, users + 1)),
            "country": [rng.choice(COUNTRIES) for _ in range(users)],
            "plan": [rng.choice(["free", "pro"]) for _ in range(users)],
            "signup_at": [START + dt.timedelta(days=rng.randrange(60)) for _ in range(users)],
        }
    )
    rows = []
    for i in range(events):
        kind = rng.choice(KINDS)
        user = rng.randrange(1, users + 1) if rng.random() > 0.05 else None
        rows.append(
            {
                "event_id": i + 1,
                "user_id": user,
                "ts": START + dt.timedelta(minutes=rng.randrange(90 * 24 * 60)),
                "event_type": kind,
                "platform": rng.choice(PLATFORMS),
                "revenue": Decimal(rng.randrange(100, 9999)) / 100 if kind == "purchase" else None,
            }
        )
    ev = pd.DataFrame(rows)
    ev["user_id"] = ev["user_id"].astype("Int64")
    return {"events": ev, "users": us}


def load_layer(backend: Backend, prefix: str = "eng") -> tuple[ml.Layer, dict[str, str]]:
    """Load the frames into fresh tables of `backend` and a layer over them."""
    names = {k: backend.unique_name(f"{prefix}_{k}") for k in ("events", "users")}
    data = frames()
    backend.load(
        {names[k]: data[k] for k in names},
        schemas={names["events"]: {"revenue": "decimal(12,2)", "user_id": "int64"}},
    )
    layer = ml.load(DEFS, con=backend.con, vars={"t": names})
    return layer, names
