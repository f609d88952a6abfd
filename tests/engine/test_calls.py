"""The memo of query() calls: a repeat skips building its request but answers, fails and
reports exactly as a first call; arguments that differ in type or value never share a key."""

from __future__ import annotations

import datetime as _dt
import gc
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import metrics_layer as ml
from metrics_layer import limits
from metrics_layer.engine.calls import CallMemo, call_key
from metrics_layer.errors import QueryError
from tests.engine.data import KPIS


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (1, 1.0),
        (1, True),
        (0.0, -0.0),
        (["x"], ("x",)),
        ("2024-01-01", _dt.date(2024, 1, 1)),
        (_dt.date(2024, 1, 1), _dt.datetime(2024, 1, 1)),
        (
            _dt.datetime(2024, 1, 1, 12, tzinfo=_dt.UTC),
            _dt.datetime(2024, 1, 1, 13, tzinfo=_dt.timezone(_dt.timedelta(hours=1))),
        ),
        (_dt.datetime(2024, 1, 1, 12), _dt.datetime(2024, 1, 1, 12, tzinfo=_dt.UTC)),
        (None, "None"),
    ],
)
def test_values_equal_in_python_but_not_alike_are_other_keys(a: Any, b: Any) -> None:
    assert call_key(a) != call_key(b)
    assert call_key(a) == call_key(a) and hash(call_key(a)) == hash(call_key(a))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ((["a", ["b"]],), (["a"], ["b"])),
        ((["a", ["b"]], "c"), (["a"], ["b", "c"])),
        (([], "x"), (["x"],)),
        ((("a", "b"),), ("a", "b")),
    ],
)
def test_nesting_is_part_of_the_key(a: tuple[Any, ...], b: tuple[Any, ...]) -> None:
    assert call_key(*a) != call_key(*b)


@pytest.mark.parametrize("odd", [object(), {"a": 1}, ["x", object()], type("S", (str,), {})("x")])
def test_arguments_that_are_not_plain_values_make_no_key(odd: Any) -> None:
    assert call_key("revenue", odd) is None


def test_memo_is_bounded_first_in_first_out() -> None:
    memo = CallMemo(max_entries=2)
    for key in "abc":
        memo.put(key, key.upper())
    assert (memo.get("a"), memo.get("b"), memo.get("c"), len(memo)) == (None, "B", "C", 2)


def test_memo_from_many_threads_stays_bounded_and_right() -> None:
    memo = CallMemo(max_entries=50)

    def work(offset: int) -> bool:
        ok = True
        for i in range(2_000):
            key = (offset + i) % 300
            found = memo.get(key)
            ok &= found is None or found == key * 2
            memo.put(key, key * 2)
        return ok

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(work, range(0, 800, 100)))
    assert len(memo) <= 50


def test_a_repeated_call_answers_as_the_first_and_hits(layer: ml.Layer) -> None:
    ask: dict[str, Any] = dict(by=["users.country"], grain="month", where="platform = 'web'")
    first = layer.query(KPIS, **ask)
    assert len(layer._calls) == 1 and not first.cache_hit
    again = layer.query(KPIS, **ask)
    assert len(layer._calls) == 1 and again.cache_hit
    assert again.to_pyarrow().equals(first.to_pyarrow())
    assert "cache hit" in again.explain()
    other = layer.query(KPIS, **{**ask, "where": "platform = 'ios'"})
    assert not other.to_pyarrow().equals(first.to_pyarrow())  # another value, its own answer


def test_a_failing_call_is_not_remembered_and_fails_again(layer: ml.Layer) -> None:
    for _ in range(2):
        with pytest.raises(QueryError, match="limit"):
            layer.query("revenue", limit=True)
    assert len(layer._calls) == 0
    assert layer.query("revenue", limit=1).to_pyarrow().num_rows == 1
    with pytest.raises(QueryError, match="limit"):
        layer.query("revenue", limit=True)  # after 1 succeeded: True is another key


def test_the_layers_own_settings_are_part_of_the_key(layer: ml.Layer) -> None:
    ask: dict[str, Any] = dict(grain="week", start="2024-01-01", end="2024-03-01")
    monday = layer.query("events", **ask).to_pyarrow()
    layer.week_start = 6  # weeks start on Sunday from now on
    sunday = layer.query("events", **ask).to_pyarrow()
    assert monday.column("week").to_pylist()[0].weekday() == 0
    assert sunday.column("week").to_pylist()[0].weekday() == 6
    layer.week_start = 0
    layer.timezone = "America/New_York"
    shifted = layer.query("events", **ask).to_pyarrow()
    assert shifted.column("events").to_pylist() != monday.column("events").to_pylist()


def test_a_lowered_limit_applies_to_a_remembered_call(
    layer: ml.Layer, monkeypatch: pytest.MonkeyPatch
) -> None:
    layer.query("revenue", limit=50).to_pyarrow()
    monkeypatch.setattr(limits, "MAX_ROW_LIMIT", 10)
    with pytest.raises(QueryError, match="limit"):
        layer.query("revenue", limit=50)


def test_materialized_answers_are_not_remembered(layer: ml.Layer) -> None:
    layer.query("revenue", use_materializations=True).to_pyarrow()
    assert len(layer._calls) == 0


def _typed(value: Any) -> Any:
    """An independent reference: the value as nested (type, value) pairs."""
    if isinstance(value, list | tuple):
        return (type(value), tuple(_typed(v) for v in value))
    if isinstance(value, float):
        return (float, repr(value))
    if isinstance(value, _dt.date):
        return (type(value), value.isoformat())
    return (type(value), value)


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2),
    st.floats(-2, 2, allow_nan=False),
    st.sampled_from(["", "a", "b", "1"]),
    st.dates(_dt.date(2024, 1, 1), _dt.date(2024, 1, 2)),
    st.datetimes(_dt.datetime(2024, 1, 1), _dt.datetime(2024, 1, 1, 0, 0, 1)),
)
_plain = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=3) | st.tuples(inner), max_leaves=6
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_plain, max_size=3), st.lists(_plain, max_size=3))
def test_keys_are_equal_exactly_when_types_and_values_are(a: list[Any], b: list[Any]) -> None:
    assert (call_key(*a) == call_key(*b)) == (_typed(a) == _typed(b))
    if call_key(*a) == call_key(*b):
        assert hash(call_key(*a)) == hash(call_key(*b))


def test_the_memo_holds_no_compiled_query_the_cache_dropped(layer: ml.Layer) -> None:
    first = layer.query(KPIS, by="users.country")
    answer = first.to_pyarrow()
    compiled = weakref.ref(first._prepared.compiled)
    del first
    layer.engine.cache.clear()
    gc.collect()
    assert compiled() is None  # only the cache kept it alive
    again = layer.query(KPIS, by="users.country")
    assert not again.cache_hit and again.to_pyarrow().equals(answer)
    assert layer.query(KPIS, by="users.country").cache_hit
