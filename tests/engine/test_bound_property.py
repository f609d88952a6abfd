"""Property: a cached shape answers every value it is asked with exactly what plain pandas
computes from the same rows (bounds and where literals bound as parameters)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import metrics_layer as ml
from tests.backends import Backend, connect_duckdb
from tests.engine.data import PLATFORMS, START, frames, load_layer

EVENTS = frames()["events"]
USERS = frames()["users"]
KINDS = ["visit", "cart", "purchase", "other"]


@pytest.fixture(scope="module")
def layer() -> ml.Layer:
    return load_layer(Backend("duckdb", connect_duckdb()), "prop")[0]


def reference(
    platforms: list[str], kind: str, plan: str, start: dt.datetime, end: dt.datetime
) -> dict[str, tuple[int, Decimal | None]]:
    """events and revenue by platform, in plain pandas."""
    ev = EVENTS.merge(USERS[["user_id", "plan"]], on="user_id", how="left")
    keep = (
        ev.platform.isin(platforms)
        & (ev.event_type != kind)
        & (ev.plan == plan).fillna(False)
        & (ev.ts >= start)
        & (ev.ts < end)
    )
    out: dict[str, tuple[int, Decimal | None]] = {}
    for platform, group in ev[keep].groupby("platform"):
        values = [v for v in group.revenue if v is not None and not pd.isna(v)]
        out[str(platform)] = (len(group), sum(values, Decimal(0)) if values else None)
    return out


# any hour, or exactly an event's time (the boundaries: start inclusive, end exclusive)
moments = st.one_of(
    st.integers(0, 95 * 24).map(lambda h: START + dt.timedelta(hours=h)),
    st.sampled_from(sorted(EVENTS.ts.dt.to_pydatetime().tolist())),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    platforms=st.lists(st.sampled_from(PLATFORMS), min_size=2, max_size=2),
    kind=st.sampled_from(KINDS),
    plan=st.sampled_from(["free", "pro", "none"]),
    bounds=st.tuples(moments, moments).filter(lambda b: b[0] < b[1]),
)
def test_bound_values_match_pandas(
    layer: ml.Layer, platforms: list[str], kind: str, plan: str, bounds: Any
) -> None:
    start, end = bounds
    where = (
        f"platform IN ('{platforms[0]}', '{platforms[1]}') AND event_type <> '{kind}' "
        f"AND users.plan = '{plan}'"
    )
    res = layer.query(["events", "revenue"], by="platform", where=where, start=start, end=end)
    got = {r["platform"]: (r["events"], r["revenue"]) for r in res.to_pyarrow().to_pylist()}
    note(f"{where} [{start}, {end}) hit={res.cache_hit}")
    assert got == reference(platforms, kind, plan, start, end)
