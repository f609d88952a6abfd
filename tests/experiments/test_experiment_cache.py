"""Experiments compiled once (CONTRACT.md §6): a repeated readout is a cache hit with the same
numbers, other start/end reuse the compiled query with their own (right) numbers, and every
other choice of the call (metrics, CUPED, alpha, relative) compiles its own query."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from metrics_layer.analysis.experiment import ExperimentQuery, build_query
from metrics_layer.analysis.experiment_compile import compile_experiment
from tests.experiments import reference as ref
from tests.experiments.helpers import duckdb_layer, indent
from tests.experiments.test_experiment_result import synthetic

EXTRA = indent("window: 5 days\ncuped: {lookback: 7 days}")
CALL = dict(start=None, end=None, metrics=None, alpha=0.05, relative=True, cuped=None)


@pytest.fixture(scope="module")
def data():
    return synthetic(n=600, seed=11)


@pytest.fixture()
def layer(tmp_path, data):
    return duckdb_layer(tmp_path, *data, EXTRA)


def by_arm(sums: pd.DataFrame) -> dict:
    """arm -> {column: value} (NULL arm: the dropped multi-arm entities)."""
    out = {}
    for rec in sums.to_dict("records"):
        arm = rec.pop("arm")
        out[None if arm is None or arm != arm else arm] = rec
    return out


def uncached_sums(layer, **kwargs) -> dict:
    """The call's per-arm sums compiled with its values written in and run by ibis directly:
    no engine, no cache."""
    q = build_query(layer, "test", **{**CALL, **kwargs})
    return by_arm(compile_experiment(layer.context(), q).to_pandas())


def assert_like_uncached(res, layer, **kwargs) -> None:
    got, want = by_arm(res.sums()), uncached_sums(layer, **kwargs)
    assert got.keys() == want.keys(), kwargs
    for arm, row in want.items():
        assert got[arm] == pytest.approx(row, rel=1e-12, abs=1e-9), (kwargs, arm)


def reference_revenue(exposures, orders, start, end) -> dict:
    """arm -> (units, Σ revenue, Σ revenue²) from the plain-pandas reading of §7."""
    unit_map, _ = ref.units(exposures, start, end)
    values = ref.unit_values(unit_map, orders, ref.revenue, pd.Timedelta(days=5))
    sums = ref.arm_sums(unit_map, [{e: v[0] for e, v in values.items()}])
    return {a: (s["n"], s["s0"], s["p0_0"]) for a, s in sums.items()}


def test_query_is_hashable_and_plan_is_out_of_the_key(layer) -> None:
    q = build_query(layer, "test", **CALL)
    hash(q)
    keyed = {f.name for f in dataclasses.fields(ExperimentQuery) if f.compare}
    assert keyed == {f.name for f in dataclasses.fields(ExperimentQuery)} - {"plan"}
    # the plan is planned from metrics and timezone, both in the key
    assert build_query(layer, "test", **CALL) == q


def test_repeated_readout_is_a_hit_with_the_same_numbers(layer) -> None:
    first = layer.experiment("test", start="2024-03-02", end="2024-03-09")
    second = layer.experiment("test", start="2024-03-02", end="2024-03-09")
    assert not first.cache_hit and second.cache_hit
    assert "compiled query: cache miss (compiled now)" in first.explain()
    assert "compiled query: cache hit; values bound as parameters" in second.explain()
    pd.testing.assert_frame_equal(first.to_pandas(), second.to_pandas())
    assert first.multiple_exposures == second.multiple_exposures
    assert first.sql() == second.sql()


@pytest.mark.filterwarnings("ignore:experiment 'test'. control arm 'control' has no exposed units")
def test_other_bounds_hit_with_their_own_numbers(layer, data) -> None:
    exposures, orders = data
    asks = [
        ("2024-03-01", "2024-03-11"),
        ("2024-03-03", "2024-03-06"),
        ("2024-03-05 12:30:00", "2024-03-08 06:00:00"),
        ("2024-03-20", "2024-03-30"),  # no exposures at all in it
    ]
    seen = []
    for i, (start, end) in enumerate(asks):
        res = layer.experiment("test", start=start, end=end)
        assert res.cache_hit is (i > 0), (start, end)
        arms = by_arm(res.sums())
        want = reference_revenue(exposures, orders, pd.Timestamp(start), pd.Timestamp(end))
        got = {a: (r["n"], r["s0_0"], r["p0_0_0"]) for a, r in arms.items() if a is not None}
        assert got.keys() == want.keys(), (start, end)
        for arm, (n, s, ss) in want.items():
            assert got[arm][0] == n
            assert got[arm][1:] == pytest.approx((s, ss), rel=1e-12, abs=1e-9)
        assert_like_uncached(res, layer, start=start, end=end)
        seen.append(repr(sorted(got.items())))
    assert len(set(seen)) == len(asks)  # the bounds changed the answers
    # start only, end only: other shapes (one bound slot), each compiled once
    for kwargs in (dict(start="2024-03-04"), dict(end="2024-03-07")):
        assert not layer.experiment("test", **kwargs).cache_hit
        res = layer.experiment("test", **kwargs)
        assert res.cache_hit
        assert_like_uncached(res, layer, **kwargs)


@pytest.mark.parametrize(
    "change",
    [
        dict(metrics=["revenue", "orders"]),
        dict(cuped=False),
        dict(cuped={"lookback": "2 days"}),
        dict(alpha=0.1),
        dict(relative=False),
    ],
    ids=lambda c: next(iter(c)),
)
def test_every_other_choice_is_its_own_shape(layer, change) -> None:
    base = dict(start="2024-03-02", end="2024-03-09")
    layer.experiment("test", **base).to_pandas()
    res = layer.experiment("test", **base, **change)
    assert not res.cache_hit, change
    assert_like_uncached(res, layer, **base, **change)
    again = layer.experiment("test", start="2024-03-03", end="2024-03-08", **change)
    assert again.cache_hit
    assert_like_uncached(again, layer, start="2024-03-03", end="2024-03-08", **change)


def test_a_key_that_ignores_a_field_is_caught(layer, monkeypatch) -> None:
    """The oracle above sees a cache key that leaves a field out: with equality and hashing
    blind to `lookback`, a readout with another CUPED lookback is served the first one's
    compiled query, and its sums differ from the uncached ones."""

    def fields_but_lookback(q):
        return tuple(
            getattr(q, f.name) for f in dataclasses.fields(q) if f.compare and f.name != "lookback"
        )

    monkeypatch.setattr(
        ExperimentQuery, "__eq__", lambda a, b: fields_but_lookback(a) == fields_but_lookback(b)
    )
    monkeypatch.setattr(ExperimentQuery, "__hash__", lambda q: hash(fields_but_lookback(q)))
    base = dict(start="2024-03-02", end="2024-03-09")
    layer.experiment("test", **base).to_pandas()
    wrong = layer.experiment("test", **base, cuped={"lookback": "1 day"})
    assert wrong.cache_hit  # the fault: another request served from the cache
    with pytest.raises(AssertionError):
        assert_like_uncached(wrong, layer, **base, cuped={"lookback": "1 day"})
