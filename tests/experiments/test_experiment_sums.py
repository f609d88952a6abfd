"""Per-unit values and per-arm sums: the engine against the plain-pandas reference.

Random exposures (repeat exposures, two arms for one entity, NULL arms) and orders (NULL
entities and amounts, rows exactly at t0, at t0 + window and at t0 - lookback) on DuckDB;
the layer's per-arm sums must equal tests/experiments/reference.py's, for every metric kind
(mean, proportion, ratio, avg) with and without a window, CUPED lookback and [start, end).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.experiments import reference as ref
from tests.experiments.helpers import duckdb_layer, indent

BASE = pd.Timestamp("2024-03-01 00:00")
ARMS = ["control", "treatment", "b"]
MEASURES = {
    "revenue": [ref.revenue],
    "orders": [ref.orders],
    "conversion": [ref.buyer],
    "revenue_per_order": [ref.revenue, ref.orders],
    "aov": [ref.revenue, ref.amount_count],
}


def expected_sums(exposures, orders, start, end, window, lookback):
    unit_map, dropped = ref.units(exposures, start, end)
    out = {}
    for k, (_metric, fns) in enumerate(MEASURES.items()):
        comps = [ref.unit_values(unit_map, orders, f, window, lookback) for f in fns]
        series = [{e: v[0] for e, v in c.items()} for c in comps]
        if lookback is not None:
            series += [{e: v[1] for e, v in c.items()} for c in comps]
        out[k] = ref.arm_sums(unit_map, series)
    return out, {a: sum(1 for v in unit_map.values() if v[0] == a) for a in ARMS}, dropped


def check(layer_result, exposures, orders, start, end, window, lookback):
    want, units, dropped = expected_sums(exposures, orders, start, end, window, lookback)
    got = layer_result.sums()
    multi = got[got["arm"].isna()]
    assert (int(multi["n"].iloc[0]) if len(multi) else 0) == dropped
    assert layer_result.multiple_exposures == dropped
    got = got[got["arm"].notna()].set_index("arm")
    assert {a: int(got.loc[a, "n"]) if a in got.index else 0 for a in ARMS} == units
    for k, arms in want.items():
        for arm, sums in arms.items():
            for key, value in sums.items():
                if key == "n":
                    continue
                col = f"s{k}_{key[1:]}" if key[0] == "s" else f"p{k}_{key[1:]}"
                assert math.isclose(float(got.loc[arm, col]), value, rel_tol=1e-9, abs_tol=1e-9), (
                    k,
                    arm,
                    key,
                )


exposure_rows = st.lists(
    st.tuples(
        st.integers(0, 7),
        st.sampled_from([*ARMS, None]),
        st.integers(0, 40).map(lambda q: q * 15),  # a coarse grid: rows fall on the boundaries
    ),
    min_size=1,
    max_size=25,
)
order_rows = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(0, 8)),
        st.one_of(st.none(), st.integers(0, 40).map(lambda x: x / 4)),
        st.sampled_from(["buy", "view"]),
        st.integers(0, 60).map(lambda q: q * 15),
    ),
    max_size=40,
)


def frames(exp_rows, ord_rows):
    exposures = pd.DataFrame(
        {
            "user_id": pd.array([r[0] for r in exp_rows], dtype="Int64"),
            "variant": pd.array([r[1] for r in exp_rows], dtype="string"),
            "exposed_at": [BASE + pd.Timedelta(minutes=r[2]) for r in exp_rows],
        }
    )
    orders = pd.DataFrame(
        {
            "user_id": pd.array([r[0] for r in ord_rows], dtype="Int64"),
            "amount": pd.array([r[1] for r in ord_rows], dtype="Float64"),
            "kind": pd.array([r[2] for r in ord_rows], dtype="string"),
            "ts": pd.to_datetime([BASE + pd.Timedelta(minutes=r[3]) for r in ord_rows]),
        }
    )
    if orders.empty:
        orders = orders.astype({"ts": "datetime64[us]"})
    return exposures, orders


@pytest.mark.filterwarnings("ignore:experiment 'test'. control arm")
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    exp_rows=exposure_rows,
    ord_rows=order_rows,
    window=st.sampled_from([None, 30, 120]),
    lookback=st.sampled_from([None, 45]),
    bounds=st.sampled_from([(None, None), (60, None), (None, 400), (100, 300)]),
)
def test_sums_match_reference(exp_rows, ord_rows, window, lookback, bounds):
    exposures, orders = frames(exp_rows, ord_rows)
    extra = ""
    if window:
        extra += f"window: {window} minutes\n"
    if lookback:
        extra += f"cuped: {{lookback: {lookback} minutes}}\n"
    start = BASE + pd.Timedelta(minutes=bounds[0]) if bounds[0] is not None else None
    end = BASE + pd.Timedelta(minutes=bounds[1]) if bounds[1] is not None else None
    with tempfile.TemporaryDirectory() as tmp:
        layer = duckdb_layer(Path(tmp), exposures, orders, indent(extra) if extra else "")
        res = layer.experiment("test", start=start, end=end)
        check(
            res,
            exposures,
            orders,
            start,
            end,
            pd.Timedelta(minutes=window) if window else None,
            pd.Timedelta(minutes=lookback) if lookback else None,
        )


def test_boundaries_by_hand(tmp_path):
    """t0 and t0 - lookback are inside, t0 + window is outside; a second exposure later does
    not move t0; an entity in two arms is dropped; exposures before start are ignored."""
    t0 = BASE
    exposures = pd.DataFrame(
        {
            "user_id": [1, 1, 2, 3, 3, 4],
            "variant": ["control", "control", "treatment", "control", "treatment", "treatment"],
            "exposed_at": [t0, t0 + pd.Timedelta(hours=5), t0, t0, t0, t0 - pd.Timedelta(days=1)],
        }
    )
    orders = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 1, 2, 3, 4],
            "amount": [10.0, 20.0, 40.0, 80.0, 5.0, 1000.0, 7.0],
            "kind": ["buy", "view", "view", "view", "view", "buy", "buy"],
            "ts": [
                t0,  # at t0: in
                t0 + pd.Timedelta(minutes=59),  # in
                t0 + pd.Timedelta(hours=1),  # at t0 + window: out
                t0 - pd.Timedelta(minutes=30),  # at t0 - lookback: pre-period
                t0 + pd.Timedelta(minutes=1),
                t0,  # entity 3 saw two arms: dropped
                t0,  # entity 4 exposed before start: not a unit
            ],
        }
    )
    extra = indent("window: 1 hour\ncuped: {lookback: 30 minutes}")
    layer = duckdb_layer(tmp_path, exposures, orders, extra)
    res = layer.experiment("test", start=t0 - pd.Timedelta(hours=1))
    sums = res.sums()
    control = sums[sums["arm"] == "control"].iloc[0]
    treat = sums[sums["arm"] == "treatment"].iloc[0]
    assert int(control["n"]) == 1 and int(treat["n"]) == 1
    assert control["s0_0"] == 30.0  # revenue in [t0, t0 + 1h)
    assert control["s0_1"] == 80.0  # revenue in [t0 - 30 min, t0)
    assert control["s1_0"] == 2.0  # orders
    assert control["s2_0"] == 1.0  # converted (a buy at t0)
    assert treat["s0_0"] == 5.0 and treat["s2_0"] == 0.0
    assert res.multiple_exposures == 1
    assert res.srm.units == {"control": 1, "treatment": 1}


def test_unit_without_rows_counts_as_zero(tmp_path):
    exposures = pd.DataFrame(
        {"user_id": [1, 2, 3], "variant": ["control"] * 3, "exposed_at": [BASE] * 3}
    )
    orders = pd.DataFrame(
        {"user_id": [1], "amount": [6.0], "kind": ["buy"], "ts": [BASE + pd.Timedelta(days=1)]}
    )
    layer = duckdb_layer(tmp_path, exposures, orders)
    sums = layer.experiment("test").sums()
    row = sums[sums["arm"] == "control"].iloc[0]
    assert int(row["n"]) == 3
    assert row["s0_0"] == 6.0 and row["p0_0_0"] == 36.0  # two zeros add nothing, n counts them


@pytest.mark.parametrize("window", [None, "1 day"])
def test_rows_long_after_end_still_count(tmp_path, window):
    """`end` bounds exposures, not metric rows (CONTRACT.md §7)."""
    exposures = pd.DataFrame({"user_id": [1], "variant": ["control"], "exposed_at": [BASE]})
    orders = pd.DataFrame(
        {
            "user_id": [1, 1],
            "amount": [1.0, 2.0],
            "kind": ["buy", "buy"],
            "ts": [BASE + pd.Timedelta(hours=2), BASE + pd.Timedelta(days=30)],
        }
    )
    extra = indent(f"window: {window}") if window else ""
    layer = duckdb_layer(tmp_path, exposures, orders, extra)
    sums = layer.experiment("test", end=BASE + pd.Timedelta(hours=1)).sums()
    assert sums[sums["arm"] == "control"].iloc[0]["s0_0"] == (1.0 if window else 3.0)
