"""Experiments on every backend: the per-arm sums (and so every statistic) are equal.

The same exposures and orders (decimal amounts, NULL entities, rows on the window and lookback
boundaries, an entity in two arms, timestamps with sub-second parts) are loaded into each
selected backend; the per-arm sums must equal the plain-pandas reference
(tests/experiments/reference.py) and the readout must equal DuckDB's.
"""

from __future__ import annotations

import decimal
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import metrics_layer as ml
from tests.backends import Backend
from tests.experiments import reference as ref
from tests.experiments.helpers import indent, write_defs

BASE = pd.Timestamp("2024-03-01")
MEASURES = [
    [ref.revenue],
    [ref.orders],
    [ref.buyer],
    [ref.revenue, ref.orders],
    [ref.revenue, ref.amount_count],
]


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(42)
    n = 400
    t0 = [
        BASE + pd.Timedelta(seconds=int(s)) + pd.Timedelta(microseconds=int(u))
        for s, u in zip(rng.integers(0, 5 * 86400, n), rng.integers(0, 999_999, n), strict=True)
    ]
    exposures = pd.DataFrame(
        {
            "user_id": np.arange(n),
            "variant": rng.choice(["control", "treatment", "b"], n),
            "exposed_at": t0,
        }
    )
    extra = pd.DataFrame(
        {
            "user_id": [1, 2],
            "variant": ["b", "control"],
            "exposed_at": [BASE, BASE + pd.Timedelta(days=9)],
        }
    )
    exposures = pd.concat([exposures, extra], ignore_index=True)
    rows = []
    for _ in range(2500):
        u = int(rng.integers(0, n + 20))
        base = t0[u] if u < n else BASE
        offset = pd.Timedelta(seconds=int(rng.integers(-3 * 86400, 9 * 86400)))
        if rng.random() < 0.05:
            offset = pd.Timedelta(0)  # exactly at t0
        elif rng.random() < 0.05:
            offset = pd.Timedelta(days=7)  # exactly at t0 + window
        elif rng.random() < 0.05:
            offset = -pd.Timedelta(days=2)  # exactly at t0 - lookback
        amount = (
            None if rng.random() < 0.03 else decimal.Decimal(int(rng.integers(1, 100_000))) / 100
        )
        rows.append(
            (
                None if rng.random() < 0.02 else u,
                amount,
                "buy" if rng.random() < 0.4 else "view",
                base + offset,
            )
        )
    orders = pd.DataFrame(rows, columns=["user_id", "amount", "kind", "ts"])
    orders["user_id"] = orders["user_id"].astype("Int64")
    return exposures, orders


@pytest.fixture(scope="module")
def data():
    return frames()


def load(backend: Backend, tmp: Path, data, extra: str) -> ml.Layer:
    exposures, orders = data
    names = {"exposures": backend.unique_name("exposures"), "orders": backend.unique_name("orders")}
    backend.load(
        {names["exposures"]: exposures, names["orders"]: orders},
        schemas={names["orders"]: {"amount": "decimal(15,2)", "user_id": "int64"}},
    )
    defs = write_defs(tmp, exposures=names["exposures"], orders=names["orders"], extra=extra)
    return ml.load(defs, con=backend.con)


@pytest.mark.parametrize("cuped", [False, True])
def test_per_arm_sums_equal_reference(backend: Backend, tmp_path, data, cuped):
    extra = "window: 7 days" + ("\ncuped: {lookback: 2 days}" if cuped else "")
    layer = load(backend, tmp_path, data, indent(extra))
    res = layer.experiment("test", start=BASE, end=BASE + pd.Timedelta(days=8))
    got = backend.fetch(res.expr)
    exposures, orders = data
    orders = orders.assign(amount=[None if v is None else float(v) for v in orders["amount"]])
    unit_map, dropped = ref.units(exposures, BASE, BASE + pd.Timedelta(days=8))
    assert dropped == 1  # entity 1 (entity 2's second exposure falls after end)
    multi = got[got["arm"].isna()]
    assert int(multi["n"].iloc[0]) == dropped
    got = got[got["arm"].notna()].set_index("arm")
    lookback = pd.Timedelta(days=2) if cuped else None
    for k, fns in enumerate(MEASURES):
        comps = [ref.unit_values(unit_map, orders, f, pd.Timedelta(days=7), lookback) for f in fns]
        series = [{e: v[0] for e, v in c.items()} for c in comps]
        if cuped:
            series += [{e: v[1] for e, v in c.items()} for c in comps]
        for arm, sums in ref.arm_sums(unit_map, series).items():
            assert int(got.loc[arm, "n"]) == sums["n"]
            for key, value in sums.items():
                if key == "n":
                    continue
                col = f"s{k}_{key[1:]}" if key[0] == "s" else f"p{k}_{key[1:]}"
                assert math.isclose(float(got.loc[arm, col]), value, rel_tol=1e-12, abs_tol=1e-9), (
                    backend.name,
                    k,
                    arm,
                    key,
                )


def test_readout_equals_duckdb(backend: Backend, tmp_path, data):
    import ibis

    extra = indent("window: 7 days\ncuped: {lookback: 2 days}")
    here = load(backend, tmp_path, data, extra).experiment("test").to_pandas()
    con = ibis.duckdb.connect()
    exposures, orders = data
    con.create_table("exposures", exposures)
    con.create_table("orders", orders.assign(amount=orders["amount"].astype("float64")))
    (tmp_path / "duck").mkdir()
    there = ml.load(write_defs(tmp_path / "duck", extra=extra), con=con)
    pd.testing.assert_frame_equal(here, there.experiment("test").to_pandas(), rtol=1e-9)
