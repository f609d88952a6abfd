"""Bounded work: every request that would cost unbounded time or memory fails within seconds
with a one-line QueryError that names its limit in metrics_layer.limits, and each limit is
read when it is checked, so raising it lets the same request through."""

from __future__ import annotations

import datetime as _dt
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import metrics_layer as ml
from metrics_layer import limits
from metrics_layer.expressions import parse
from metrics_layer.expressions.cache import ByteBoundedCache
from tests.safety.helpers import WORKERS_DEFS, make_db, write_defs

DEFS = (
    WORKERS_DEFS.format(table="shifts")
    + """\
  hours_running: {type: cumulative, measure: shifts.hours}
funnels:
  day_then_night:
    source: shifts
    entity: worker_id
    window: 7 days
    steps:
      - {name: day, filter: "kind = 'day'"}
      - {name: night, filter: "kind = 'night'"}
"""
)


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> ml.Layer:
    tmp = tmp_path_factory.mktemp("limits")
    return ml.load(write_defs(tmp / "defs", DEFS), con=str(make_db(tmp / "w.duckdb")))


def _names_limit(exc: BaseException, name: str) -> None:
    message = str(exc)
    assert f"metrics_layer.limits.{name}" in message, message
    assert "\n" not in message and "ibis" not in message.lower()


# --- limit= ----------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [2**63, 2**64, 10**30])
def test_a_limit_no_engine_can_count_is_refused(layer: ml.Layer, limit: int) -> None:
    with pytest.raises(ml.QueryError) as info:
        layer.query("hours", by=["shifts.kind"], limit=limit)
    _names_limit(info.value, "MAX_ROW_LIMIT")


def test_the_largest_limit_runs(layer: ml.Layer) -> None:
    unlimited = layer.query("hours", by=["shifts.kind"], order_by=["kind"]).to_pandas()
    top = layer.query("hours", by=["shifts.kind"], order_by=["kind"], limit=2**63 - 1)
    assert top.to_pandas().equals(unlimited)


@pytest.mark.parametrize("limit", [-1, True, 2.0, "5"])
def test_a_limit_is_a_whole_count(layer: ml.Layer, limit: object) -> None:
    with pytest.raises(ml.QueryError, match="limit must be a non-negative integer"):
        layer.query("hours", by=["shifts.kind"], limit=limit)  # type: ignore[arg-type]


# --- spines ----------------------------------------------------------------------------------


def _oracle_periods(lo: _dt.datetime, hi: _dt.datetime, grain: str) -> int:
    """Walk the calendar one period at a time (the independent reference)."""
    months = {"month": 1, "quarter": 3, "year": 12}.get(grain)
    n = 0
    while True:
        if months:
            total = lo.month - 1 + n * months
            t = lo.replace(year=lo.year + total // 12, month=total % 12 + 1)
        else:
            t = lo + n * {"hour": _dt.timedelta(hours=1), "day": _dt.timedelta(days=1)}.get(
                grain, _dt.timedelta(days=7)
            )
        if t >= hi:
            return n
        n += 1


_STARTS = {
    "hour": lambda d: d.replace(minute=0, second=0, microsecond=0),
    "day": lambda d: d.replace(hour=0, minute=0, second=0, microsecond=0),
    "week": lambda d: (d - _dt.timedelta(days=d.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    ),
    "month": lambda d: d.replace(day=1, hour=0, minute=0, second=0, microsecond=0),
    "quarter": lambda d: d.replace(
        month=3 * ((d.month - 1) // 3) + 1, day=1, hour=0, minute=0, second=0, microsecond=0
    ),
    "year": lambda d: d.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0),
}


@settings(max_examples=300, deadline=None)
@given(
    grain=st.sampled_from(sorted(_STARTS)),
    start=st.datetimes(_dt.datetime(2000, 1, 1), _dt.datetime(2030, 1, 1)),
    span=st.timedeltas(min_value=_dt.timedelta(0), max_value=_dt.timedelta(days=800)),
)
def test_spine_size_is_counted_exactly(
    grain: str, start: _dt.datetime, span: _dt.timedelta
) -> None:
    lo = _STARTS[grain](start)
    hi = lo + span
    if grain == "hour":
        hi = lo + span / 200
    assert limits.spine_periods(lo, hi, grain) == _oracle_periods(lo, hi, grain)


@pytest.mark.parametrize(
    ("grain", "start", "end"),
    [
        ("day", "2024-01-01", "2024-01-05"),
        ("day", "2024-01-01", "2024-01-05 00:00:01"),
        ("hour", "2024-01-01 08:30", "2024-01-01 12:00"),
        ("week", "2024-01-03", "2024-01-29"),
        ("month", "2023-11-15", "2024-03-01"),
        ("quarter", "2023-11-15", "2024-04-02"),
    ],
)
def test_the_limit_counts_the_rows_a_fill_returns(
    layer: ml.Layer, monkeypatch: pytest.MonkeyPatch, grain: str, start: str, end: str
) -> None:
    """At exactly the spine's size the query runs and returns that many rows; one less fails."""
    rows = len(layer.query("hours", grain=grain, fill="zero", start=start, end=end).to_pandas())
    monkeypatch.setattr(limits, "MAX_SPINE_PERIODS", rows)
    again = layer.query("hours", grain=grain, fill="null", start=start, end=end, limit=10**6)
    assert len(again.to_pandas()) == rows
    monkeypatch.setattr(limits, "MAX_SPINE_PERIODS", rows - 1)
    with pytest.raises(ml.QueryError) as info:
        layer.query("hours", grain=grain, fill="zero", start=start, end=end)
    _names_limit(info.value, "MAX_SPINE_PERIODS")


@pytest.mark.parametrize("metric", ["hours", "hours_running"])
def test_a_spine_over_millennia_fails_fast(layer: ml.Layer, metric: str) -> None:
    started = time.monotonic()
    with pytest.raises(ml.QueryError) as info:
        layer.query(metric, grain="hour", fill="zero", start="0001-01-01", end="9999-01-01")
    assert time.monotonic() - started < 2
    _names_limit(info.value, "MAX_SPINE_PERIODS")
    hours = (_dt.date(9999, 1, 1) - _dt.date(1, 1, 1)).days * 24
    assert f"{hours:,} periods" in str(info.value)


# --- expressions -----------------------------------------------------------------------------


def _in_list(n: int) -> str:
    return "shifts.kind IN (" + ", ".join(f"'k{i}'" for i in range(n)) + ", 'day')"


def test_a_long_in_list_fails_fast_by_its_length(layer: ml.Layer) -> None:
    started = time.monotonic()
    with pytest.raises(ml.QueryError) as info:
        layer.query("hours", where=_in_list(20_000))
    assert time.monotonic() - started < 1
    _names_limit(info.value, "MAX_EXPRESSION_CHARS")
    assert isinstance(info.value, ml.ExpressionError) and len(str(info.value)) < 300


def test_many_short_items_fail_by_their_number(layer: ml.Layer) -> None:
    text = "shifts.worker_id IN (" + ",".join(str(i % 100) for i in range(12_000)) + ")"
    assert len(text) < limits.MAX_EXPRESSION_CHARS
    started = time.monotonic()
    with pytest.raises(ml.QueryError) as info:
        layer.query("hours", where=text)
    assert time.monotonic() - started < 5
    _names_limit(info.value, "MAX_EXPRESSION_NODES")


def test_an_in_list_under_the_limits_gives_the_exact_answer(layer: ml.Layer) -> None:
    res = layer.query("hours", where=_in_list(2_000)).to_pandas()
    assert float(res["hours"].iloc[0]) == 8.0 + 4.0 + 2.5  # the three 'day' shifts


def test_raising_a_limit_lets_the_expression_through(
    layer: ml.Layer, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _in_list(600)
    layer.query("hours", where=text)
    parse._CACHE.clear()
    monkeypatch.setattr(limits, "MAX_EXPRESSION_NODES", 500)
    with pytest.raises(ml.QueryError, match="MAX_EXPRESSION_NODES"):
        layer.query("hours", where=text)


def test_a_definition_over_the_limit_is_located(tmp_path: Path) -> None:
    items = ", ".join(str(i) for i in range(20_000))
    defs = WORKERS_DEFS.format(table="shifts").replace(
        "hours: {agg: sum, expr: hours}",
        f'hours: {{agg: sum, expr: hours, filter: "worker_id IN ({items})"}}',
    )
    with pytest.raises(ml.DefinitionError) as info:
        ml.load(write_defs(tmp_path, defs))
    assert info.value.line == 8 and "MAX_EXPRESSION_CHARS" in str(info.value)


def test_the_parse_cache_is_bounded_by_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """60 distinct 50 kB expressions (6 MB as cached entries): the cache keeps its 1 MiB."""
    monkeypatch.setattr(limits, "PARSE_CACHE_BYTES", 2**20)
    parse._CACHE.clear()
    for n in range(60):
        text = f"kind = '{n}' OR kind = '" + "x" * 50_000 + "'"
        assert parse.parse_expression(text).names == ("kind",)
    assert parse._CACHE.bytes <= 2**20
    assert 0 < len(parse._CACHE) < 60


@pytest.mark.parametrize(
    "text",
    [
        "kind = 'a' OR kind = '" + "x" * 50_000 + "'",
        "worker_id IN (" + ",".join(str(i) for i in range(3_000)) + ")",
        "coalesce(hours, 0) * 2 > 3 AND kind IN ('a', 'b') AND NOT worker_id IS NULL",
    ],
)
def test_an_entry_costs_at_least_what_it_holds(text: str) -> None:
    """The cost model is an upper bound of the memory an entry keeps beyond its key."""
    parse._CACHE.clear()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        parsed = parse.parse_expression(text)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert parse._CACHE.bytes == parse._cost(text, parsed)
    assert held <= parse._CACHE.bytes - len(text)


def test_the_byte_bounded_cache_drops_the_least_recently_used() -> None:
    cache: ByteBoundedCache[int] = ByteBoundedCache(lambda: 10, lambda k, v: len(k))
    cache.put("aaaa", 1)
    cache.put("bbbb", 2)
    assert cache.get("aaaa") == 1  # now the most recent
    cache.put("cccc", 3)  # 12 bytes > 10: drops bbbb, the least recently used
    assert (cache.get("aaaa"), cache.get("bbbb"), cache.get("cccc")) == (1, None, 3)
    assert cache.bytes == 8
    cache.put("x" * 11, 4)  # larger than the whole budget: not kept, nothing dropped
    assert cache.get("x" * 11) is None and cache.bytes == 8
    cache.put("aaaa", 5)  # replacing an entry does not count it twice
    assert cache.bytes == 8 and cache.get("aaaa") == 5


def test_a_cached_expression_is_parsed_once() -> None:
    parse._CACHE.clear()
    first = parse.parse_expression("hours > 1")
    assert parse.parse_expression("hours > 1") is first


# --- funnel window ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "window", [10**18, "1000000000000 days", _dt.timedelta(days=999_999_999), "101 years"]
)
def test_a_window_past_the_calendar_is_refused(layer: ml.Layer, window: object) -> None:
    with pytest.raises(ml.QueryError) as info:
        layer.funnel("day_then_night", window=window).to_pandas()
    if window == "101 years":
        assert "no fixed length" in str(info.value)
    else:
        _names_limit(info.value, "MAX_WINDOW_SECONDS")


def test_the_longest_window_runs(layer: ml.Layer) -> None:
    longest = layer.funnel("day_then_night", window=limits.MAX_WINDOW_SECONDS).to_pandas()
    week = layer.funnel("day_then_night").to_pandas()
    assert longest["entities"].tolist() == week["entities"].tolist() == [2, 1]


# --- timezones -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tz", ["localtime", "posixrules", "Factory", "posix/Europe/Berlin", "/etc/localtime", None, 5]
)
def test_machine_dependent_timezones_are_refused_at_load(tmp_path: Path, tz: object) -> None:
    defs = write_defs(tmp_path / "defs", WORKERS_DEFS.format(table="shifts"))
    with pytest.raises(ml.QueryError) as info:
        ml.load(defs, timezone=tz)  # type: ignore[arg-type]
    assert "\n" not in str(info.value) and "timezone" in str(info.value)


def test_a_zone_name_still_buckets(layer: ml.Layer, tmp_path: Path) -> None:
    defs = write_defs(tmp_path / "defs", WORKERS_DEFS.format(table="shifts"))
    berlin = ml.load(defs, con=layer.con, timezone="Europe/Berlin")
    assert len(berlin.query("shifts", grain="day").to_pandas()) == 4
