"""Time zone per layer and per call: DST-correct buckets, local bounds and rolling windows of
real hours (CONTRACT §9), in two hemispheres, against tests/time/reference.py (zoneinfo)."""

from __future__ import annotations

import datetime as _dt
import random
from collections import defaultdict

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metrics_layer as ml
from tests.backends import Backend
from tests.time.fixtures import load_layer
from tests.time.reference import day_of, local, month_of, utc_of, week_start_of

T = _dt.datetime
NY, SYD = "America/New_York", "Australia/Sydney"
# hourly events (value 1) around the four DST changes of 2024 in New York and Sydney
WINDOWS = [T(2024, 3, 7), T(2024, 10, 31), T(2024, 4, 3), T(2024, 10, 3)]
HOURLY = [
    (w + _dt.timedelta(hours=h), h % 5, "signup" if h % 7 == 0 else "visit", 1)
    for w in WINDOWS
    for h in range(6 * 24)
]
ZONES = [NY, SYD, "Europe/Berlin", "Asia/Kolkata", "UTC"]
RNG = random.Random(9)
SPREAD = [
    (
        T(2024, 1, 1) + _dt.timedelta(seconds=RNG.randrange(366 * 86400)),
        RNG.randrange(9),
        "visit",
        RNG.randint(1, 5),
    )
    for _ in range(500)
]


@pytest.fixture(scope="module")
def hourly(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> ml.Layer:
    layer, _ = load_layer(backend, tmp_path_factory.mktemp("hourly"), HOURLY)
    return layer


@pytest.fixture(scope="module")
def spread(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> ml.Layer:
    layer, _ = load_layer(backend, tmp_path_factory.mktemp("spread"), SPREAD)
    return layer


def as_dict(frame: pd.DataFrame, key: str, value: str) -> dict[T, int]:
    return {
        pd.Timestamp(k).to_pydatetime(): (None if pd.isna(v) else int(v))
        for k, v in zip(frame[key], frame[value], strict=True)
    }


def local_days(rows: list[tuple], zone: str) -> dict[T, int]:
    out: dict[T, int] = defaultdict(int)
    for ts, _, _, v in rows:
        out[day_of(local(ts, zone))] += v
    return dict(out)


@pytest.mark.parametrize(
    ("zone", "short", "long"),
    [(NY, T(2024, 3, 10), T(2024, 11, 3)), (SYD, T(2024, 10, 6), T(2024, 4, 7))],
)
def test_day_buckets_hold_23_and_25_hours(
    backend: Backend, hourly: ml.Layer, zone: str, short: T, long: T
) -> None:
    got = as_dict(
        backend.fetch(hourly.query("value", grain="day", timezone=zone).expr), "day", "value"
    )
    assert got == local_days(HOURLY, zone)
    assert got[short] == 23 and got[long] == 25
    assert got[short - _dt.timedelta(days=1)] == 24


def test_layer_timezone_and_call_override(
    backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> None:
    layer, _ = load_layer(backend, tmp_path_factory.mktemp("tzl"), HOURLY, timezone=SYD)
    mine = as_dict(backend.fetch(layer.query("value", grain="day").expr), "day", "value")
    assert mine == local_days(HOURLY, SYD)
    utc = as_dict(
        backend.fetch(layer.query("value", grain="day", timezone="UTC").expr), "day", "value"
    )
    assert utc == local_days(HOURLY, "UTC")
    assert "bucketed in Australia/Sydney" in layer.query("value", grain="day").explain()


def test_bounds_are_wall_clock_in_the_call_zone(backend: Backend, hourly: ml.Layer) -> None:
    res = hourly.query("value", start="2024-03-10", end="2024-03-11", timezone=NY)
    assert int(backend.fetch(res.expr)["value"][0]) == 23
    res = hourly.query("value", start="2024-03-10T00:00:00+00:00", end="2024-03-11", timezone=NY)
    # an instant with an offset is converted: 2024-03-09 19:00 New York
    assert int(backend.fetch(res.expr)["value"][0]) == 5 + 23


def rolling(rows: list[tuple], zone: str, day: T, hours: int | None, days: int | None) -> int:
    """Sum over the window ending at the end of local day `day`: elapsed hours or local days."""
    end_local = day + _dt.timedelta(days=1)
    total = 0
    for ts, _, _, v in rows:
        lt = local(ts, zone)
        if lt >= end_local:
            continue
        if hours is not None and ts >= utc_of(end_local, zone) - _dt.timedelta(hours=hours):
            total += v
        if days is not None and lt >= end_local - _dt.timedelta(days=days):
            total += v
    return total


@pytest.mark.parametrize("zone", [NY, SYD, "UTC"])
def test_rolling_24_hours_is_24_real_hours_and_1_day_a_local_day(
    backend: Backend, hourly: ml.Layer, zone: str
) -> None:
    got = backend.fetch(
        hourly.query(
            ["value", "value_24h", "value_1d"],
            grain="day",
            timezone=zone,
            start="2024-03-08",
            end="2024-11-05",
        ).expr
    )
    checked = 0
    for row in got.itertuples():
        day = pd.Timestamp(row.day).to_pydatetime()
        assert row.value_24h == rolling(HOURLY, zone, day, 24, None), (zone, day)
        assert row.value_1d == rolling(HOURLY, zone, day, None, 1), (zone, day)
        checked += 1
    assert checked > 20
    if zone == NY:
        days = {pd.Timestamp(r.day).to_pydatetime(): r for r in got.itertuples()}
        spring, autumn = days[T(2024, 3, 10)], days[T(2024, 11, 3)]
        assert (spring.value_24h, spring.value_1d) == (24, 23)  # the 24 hours reach into Mar 9
        assert (autumn.value_24h, autumn.value_1d) == (24, 25)


def test_retention_and_funnel_take_the_call_zone(
    backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Monday 2024-03-04 03:00 UTC is Sunday 22:00 in New York: last week there
    rows = [(T(2024, 3, 4, 3), 1, "signup", 1), (T(2024, 3, 4, 5), 1, "visit", 1)]
    layer, _ = load_layer(backend, tmp_path_factory.mktemp("tzr"), rows)
    utc = backend.fetch(layer.retention("weekly", periods=1).expr)
    ny = backend.fetch(layer.retention("weekly", periods=1, timezone=NY).expr)
    assert list(utc.cohort) == [pd.Timestamp("2024-03-04")]
    assert list(ny.cohort) == [pd.Timestamp("2024-02-26")]
    sunday = backend.fetch(layer.retention("weekly", periods=1, timezone=NY, week_start=6).expr)
    assert list(sunday.cohort) == [pd.Timestamp("2024-03-03")]
    f_utc = backend.fetch(layer.funnel("signup_visit", grain="day").expr)
    f_ny = backend.fetch(layer.funnel("signup_visit", grain="day", timezone=NY).expr)
    assert set(f_utc.day) == {pd.Timestamp("2024-03-04")}
    assert set(f_ny.day) == {pd.Timestamp("2024-03-03")}
    bounded = backend.fetch(layer.funnel("signup_visit", start="2024-03-04", timezone=NY).expr)
    assert list(bounded.entities) == [0, 0]  # the signup was on March 3 in New York


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    zone=st.sampled_from(ZONES),
    grain=st.sampled_from(["day", "week", "month"]),
    ws=st.integers(0, 6),
)
def test_buckets_match_zoneinfo(
    backend: Backend, spread: ml.Layer, zone: str, grain: str, ws: int
) -> None:
    got = as_dict(
        backend.fetch(spread.query("value", grain=grain, timezone=zone, week_start=ws).expr),
        grain,
        "value",
    )
    want: dict[T, int] = defaultdict(int)
    for ts, _, _, v in SPREAD:
        lt = local(ts, zone)
        if grain == "day":
            key = day_of(lt)
        elif grain == "week":
            d = week_start_of(lt.date(), ws)
            key = T(d.year, d.month, d.day)
        else:
            key = month_of(lt)
        want[key] += v
    assert got == dict(want)


@pytest.mark.parametrize("bad", ["Mars/Olympus", "", "America/New_Yrok", 5])
def test_bad_timezone_is_one_line_error(hourly: ml.Layer, bad: object) -> None:
    for call in (
        lambda: hourly.query("value", grain="day", timezone=bad),
        lambda: hourly.retention("weekly", timezone=bad),
        lambda: hourly.funnel("signup_visit", timezone=bad),
    ):
        with pytest.raises(ml.MetricsLayerError) as err:
            call()
        assert "\n" not in str(err.value)


@pytest.mark.backends("duckdb")
@pytest.mark.parametrize(
    ("dialect", "needle"),
    [
        ("postgres", "TIMEZONE("),
        ("pyspark", "TO_UTC_TIMESTAMP("),
        ("snowflake", "CONVERT_TIMEZONE("),
        ("trino", "AT_TIMEZONE("),
    ],
)
def test_real_hour_windows_render_for_other_dialects(
    hourly: ml.Layer, dialect: str, needle: str
) -> None:
    res = hourly.query("value_24h", grain="day", timezone=NY, start="2024-03-08", end="2024-03-12")
    sql = res.sql(dialect=dialect)
    assert needle in sql.upper()
    assert "America/New_York" in sql
