"""Checks compiled once: a repeated `layer.check()` renders nothing new, and the same check
queries with other values (bounds, thresholds, accepted values) are cache hits with their
own right answers (engine/adhoc.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest

import metrics_layer as ml
from metrics_layer.demo import generate
from tests.backends import Backend
from tests.engine.data import frames, load_layer

DEFS = Path(__file__).resolve().parents[2] / "metric_defs"
AS_OF = dt.datetime(2025, 7, 2)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("check_cache") / "demo.duckdb"
    generate(path, events=20_000)
    return str(path)


def demo_layer(db: str) -> ml.Layer:
    return ml.load(DEFS, con=ibis.duckdb.connect(db, read_only=True))


def outcome(report: Any) -> list[tuple[Any, ...]]:
    """Everything a check result says, its failing rows included."""
    out = []
    for r in report.results:
        failing = r.failing if isinstance(r.failing, pd.DataFrame) else pd.DataFrame()
        out.append((r.kind, r.target, r.rule, r.passed, r.failures, r.detail, failing.to_json()))
    return out


def counts(layer: ml.Layer) -> tuple[int, int]:
    return layer.engine.cache.hits, layer.engine.cache.misses


def test_a_repeated_check_is_all_cache_hits_with_identical_results(demo_db: str) -> None:
    layer = demo_layer(demo_db)
    first = outcome(layer.check(as_of=AS_OF))
    hits, misses = counts(layer)
    assert misses > 0 and first
    again = outcome(layer.check(as_of=AS_OF))
    new_hits, new_misses = counts(layer)
    assert new_misses == misses  # nothing compiled, nothing rendered
    assert new_hits > hits
    assert again == first


def timed_sources(layer: ml.Layer) -> list[str]:
    """Sources with checks and a time column (only those take start/end)."""
    return [n for n, s in layer.registry.sources.items() if s.checks and s.time]


def test_other_bounds_are_hits_with_the_answers_of_a_fresh_layer(demo_db: str) -> None:
    """ibis makes equal literals one node (one slot), so bounds that coincide with a derived
    value (a start that is its own lookback month) are another shape; these do not."""
    layer = demo_layer(demo_db)
    sources = timed_sources(layer)
    assert len(sources) >= 2
    layer.check(sources=sources, start="2024-04-01", end="2025-01-01", as_of=AS_OF)
    _, misses = counts(layer)
    for start, end, as_of in (
        ("2024-05-01", "2025-02-01", AS_OF),
        ("2024-06-01", "2024-12-01", dt.datetime(2024, 12, 15)),
    ):
        got = outcome(layer.check(sources=sources, start=start, end=end, as_of=as_of))
        assert counts(layer)[1] == misses, (start, end)
        fresh_layer = demo_layer(demo_db)
        fresh = outcome(fresh_layer.check(sources=sources, start=start, end=end, as_of=as_of))
        assert got == fresh


@pytest.mark.parametrize(
    ("low", "high", "kinds", "since"),
    [
        (10.0, 50.0, ["purchase", "visit"], dt.datetime(2024, 1, 15)),
        (0.5, 99.0, ["visit", "cart"], dt.datetime(2024, 2, 1)),
        (60.0, 61.5, ["cart", "purchase"], dt.datetime(2024, 3, 20)),
        (99.5, 200.0, ["nothing", "none"], dt.datetime(2023, 1, 1)),
    ],
)
def test_check_queries_with_other_thresholds_are_hits_with_right_answers(
    duck: Backend, low: float, high: float, kinds: list[str], since: dt.datetime
) -> None:
    """The shape of a check query (a range rule, accepted values, a time bound) keeps its
    values out of the key: every parameter set after the first is a hit, each answer equals
    plain pandas on the same rows."""
    layer, names = _shared_layer(duck)
    t = layer.table("events")
    t = t.filter(t.ts >= since)
    rev = t.revenue.cast("float64")
    expr = t.aggregate(
        out_of_range=((rev < low) | (rev > high)).sum(),
        kinds=t.event_type.isin(kinds).sum(),
        rows=t.count(),
    )
    before = counts(layer)
    got = layer.engine.execute(expr).iloc[0]
    after = counts(layer)
    assert after[1] - before[1] == (0 if _seen(layer) else 1)
    ev = frames()["events"]
    ev = ev[ev.ts >= since]
    r = ev.revenue.astype(float)
    assert int(got["out_of_range"] or 0) == int(((r < low) | (r > high)).sum())
    assert int(got["kinds"] or 0) == int(ev.event_type.isin(kinds).sum())
    assert int(got["rows"]) == len(ev)


_LAYERS: dict[str, Any] = {}


def _shared_layer(duck: Backend) -> tuple[ml.Layer, dict[str, str]]:
    if "layer" not in _LAYERS:
        _LAYERS["layer"] = load_layer(duck, "chk")
    return _LAYERS["layer"]


def _seen(layer: ml.Layer) -> bool:
    """Whether a check query of this shape ran before (the first parameter set compiles)."""
    seen = _LAYERS.get("seen", False)
    _LAYERS["seen"] = True
    return seen


def test_a_literal_outside_a_comparison_stays_in_the_key(duck: Backend) -> None:
    """A number that is not compared (a divisor) is compiled as written: another one is a
    miss, and both answers are right."""
    layer = load_layer(duck, "chk_div")[0]
    t = layer.table("events")
    answers = []
    for d in (2, 4):
        before = counts(layer)
        got = layer.engine.execute(t.aggregate(x=(t.event_id / d).sum())).iloc[0]["x"]
        assert counts(layer)[1] - before[1] == 1
        answers.append(got)
    total = frames()["events"].event_id.sum()
    assert answers == [pytest.approx(total / 2), pytest.approx(total / 4)]
