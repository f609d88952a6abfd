"""Grain.floor and Grain.index in ibis, on every backend, against Grain's Python twins
(themselves checked against a walking reference in test_grain.py)."""

from __future__ import annotations

import datetime as _dt
import random

import pandas as pd
import pytest

from metrics_layer.grain import GRAIN_NAMES, Grain
from tests.backends import Backend

BOUNDARIES = (
    [
        _dt.datetime(y, 12, d, h, 59, 59, 999999)
        for y in (2019, 2020, 2024, 2025)
        for d in (28, 31)
        for h in (0, 23)
    ]
    + [_dt.datetime(y, 1, d) for y in (2020, 2021, 2025, 2026) for d in range(1, 8)]
    + [
        _dt.datetime(1969, 12, 29, 12),  # before the epoch: negative day numbers
        _dt.datetime(2024, 2, 29, 6),
        _dt.datetime(2024, 3, 10, 2, 30),
    ]
)


def sample() -> list[_dt.datetime]:
    rng = random.Random(15)
    base = _dt.datetime(1960, 1, 1)
    rnd = [base + _dt.timedelta(seconds=rng.randrange(0, 90 * 365 * 86400)) for _ in range(150)]
    return BOUNDARIES + rnd


@pytest.fixture(scope="module")
def moments(backend: Backend) -> tuple[str, list[_dt.datetime]]:
    name = backend.unique_name("grain_ts")
    values = sample()
    backend.load(
        {
            name: pd.DataFrame(
                {
                    "i": range(len(values)),
                    "ts": pd.to_datetime(values),
                    "d": [v.date() for v in values],
                }
            )
        }
    )
    return name, values


@pytest.mark.parametrize("ws", range(7))
def test_week_floor_and_index_for_every_week_start(
    backend: Backend, moments: tuple[str, list[_dt.datetime]], ws: int
) -> None:
    name, values = moments
    t = backend.con.table(name)
    g = Grain.of("week", week_start=ws)
    expr = t.select(
        "i", ts=g.floor(t.ts), d=g.bucket(t.d), k=g.index(t.ts), kd=g.index(t.d)
    ).order_by("i")
    got = backend.fetch(expr)
    for row, v in zip(got.itertuples(), values, strict=True):
        want = g.floor_literal(v)
        assert pd.Timestamp(row.ts) == want and pd.Timestamp(row.d) == want, (ws, v)
        assert row.k == row.kd == g.index_literal(v), (ws, v)


@pytest.mark.parametrize("grain", [g for g in GRAIN_NAMES if g != "week"])
def test_other_grains(
    backend: Backend, moments: tuple[str, list[_dt.datetime]], grain: str
) -> None:
    name, values = moments
    t = backend.con.table(name)
    g = Grain.of(grain)
    got = backend.fetch(t.select("i", ts=g.floor(t.ts), k=g.index(t.ts)).order_by("i"))
    for row, v in zip(got.itertuples(), values, strict=True):
        assert pd.Timestamp(row.ts) == g.floor_literal(v), (grain, v)
        assert row.k == g.index_literal(v), (grain, v)
