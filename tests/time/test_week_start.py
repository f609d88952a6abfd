"""Week start per layer and per call: KPI grains, fills, cumulative and offset metrics,
retention, funnels, validation series and the calendar's week column (CONTRACT §9).

Expected values come from tests/time/reference.py (day-by-day walking), never from
metrics_layer.grain, on every backend of ML_TEST_BACKENDS.
"""

from __future__ import annotations

import datetime as _dt
from collections import defaultdict

import pandas as pd
import pytest

import metrics_layer as ml
from metrics_layer.calendar import calendar_frame
from metrics_layer.definitions.models import Calendar
from tests.backends import Backend, assert_frames_equal
from tests.time.fixtures import load_layer, random_rows
from tests.time.reference import week_start_of

D, T = _dt.date, _dt.datetime
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
# one event per day from Sat 2024-12-21 to Sun 2025-01-12, value 2**i: every sum names its days
YEAR_END = [(T(2024, 12, 21, 12) + _dt.timedelta(days=i), i % 3, "visit", 2**i) for i in range(23)]
LO, HI = T(2024, 11, 20), T(2025, 2, 10)
RANDOM = random_rows(15, 400, LO, HI)


@pytest.fixture(scope="module")
def year_end(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> ml.Layer:
    layer, _ = load_layer(backend, tmp_path_factory.mktemp("ye"), YEAR_END)
    return layer


@pytest.fixture(scope="module")
def rand(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> ml.Layer:
    layer, _ = load_layer(backend, tmp_path_factory.mktemp("rand"), RANDOM)
    return layer


def fetch(backend: Backend, res: ml.Result) -> pd.DataFrame:
    return backend.fetch(res.expr)


def weekly_sums(rows: list[tuple], ws: int) -> dict[T, int]:
    out: dict[T, int] = defaultdict(int)
    for ts, _, _, v in rows:
        d = week_start_of(ts.date(), ws)
        out[T(d.year, d.month, d.day)] += v
    return dict(out)


@pytest.mark.parametrize("ws", range(7))
def test_weeks_across_the_year_end_for_every_week_start(
    backend: Backend, year_end: ml.Layer, ws: int
) -> None:
    got = fetch(backend, year_end.query("value", grain="week", week_start=WEEKDAYS[ws]))
    want = weekly_sums(YEAR_END, ws)
    assert {
        pd.Timestamp(w).to_pydatetime(): v for w, v in zip(got.week, got.value, strict=True)
    } == want
    assert all(pd.Timestamp(w).weekday() == ws for w in got.week)
    assert sum(want.values()) == 2**23 - 1


def test_layer_week_start_and_call_override(
    backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> None:
    sunday, _ = load_layer(backend, tmp_path_factory.mktemp("sun"), YEAR_END, week_start="sunday")
    got = fetch(backend, sunday.query("value", grain="week"))
    assert dict(zip(got.week, got.value, strict=True)) == {
        pd.Timestamp(k): v for k, v in weekly_sums(YEAR_END, 6).items()
    }
    monday = fetch(backend, sunday.query("value", grain="week", week_start="mon"))
    assert {pd.Timestamp(w).weekday() for w in monday.week} == {0}
    assert "week (starting sunday)" in sunday.query("value", grain="week").explain()


@pytest.mark.parametrize("ws", [0, 3, 6])
def test_fill_spine_every_week_with_a_gap(backend: Backend, year_end: ml.Layer, ws: int) -> None:
    """start/end inside weeks: the spine starts at the week holding start, ends before end."""
    got = fetch(
        backend,
        year_end.query(
            "value", grain="week", week_start=ws, start="2024-12-18", end="2025-01-20", fill="zero"
        ),
    )
    first = week_start_of(D(2024, 12, 18), ws)
    weeks = []
    d = first
    while d < D(2025, 1, 20):
        weeks.append(T(d.year, d.month, d.day))
        d += _dt.timedelta(days=7)
    sums = weekly_sums(YEAR_END, ws)
    expected = pd.DataFrame(
        {"week": pd.to_datetime(weeks), "value": [sums.get(w, 0) for w in weeks]}
    )
    assert_frames_equal(got, expected, sort_by="week")


@pytest.mark.parametrize("ws", [0, 2, 6])
def test_week_to_date_and_previous_week(backend: Backend, rand: ml.Layer, ws: int) -> None:
    got = fetch(
        backend,
        rand.query(
            ["value", "value_wtd", "value_prev_week"],
            grain="day",
            week_start=ws,
            start="2024-12-01",
            end="2025-02-01",
        ),
    )
    daily: dict[D, int] = defaultdict(int)
    for ts, _, _, v in RANDOM:
        daily[ts.date()] += v
    for row in got.itertuples():
        day = pd.Timestamp(row.day).date()
        wk = week_start_of(day, ws)
        wtd = sum(daily.get(wk + _dt.timedelta(days=i), 0) for i in range((day - wk).days + 1))
        assert row.value_wtd == wtd, (ws, day)
        # the offset at day grain moves 7 days (the week start does not matter there)
        prev = None if pd.isna(row.value_prev_week) else row.value_prev_week
        assert prev == daily.get(day - _dt.timedelta(days=7)), (ws, day)
    weekly = fetch(
        backend,
        rand.query(["value", "value_prev_week"], grain="week", week_start=ws, start="2024-12-09"),
    )
    sums = weekly_sums(RANDOM, ws)
    bounded = weekly_sums([r for r in RANDOM if r[0] >= T(2024, 12, 9)], ws)  # start bounds rows
    assert len(weekly) == len(bounded)
    for row in weekly.itertuples():
        wk = pd.Timestamp(row.week).to_pydatetime()
        assert wk.weekday() == ws
        assert row.value == bounded[wk]
        prev = sums.get(wk - _dt.timedelta(days=7))
        assert (None if pd.isna(row.value_prev_week) else row.value_prev_week) == prev


def _reference_retention(ws: int) -> dict[tuple[T, int], int]:
    """(cohort week, k) -> active users: entry = first signup, activity at/after entry."""
    entry: dict[int, T] = {}
    for ts, user, kind, _ in sorted(RANDOM):
        if kind == "signup" and user not in entry:
            entry[user] = ts
    active: dict[tuple[T, int], set[int]] = defaultdict(set)
    for ts, user, kind, _ in RANDOM:
        if kind == "visit" and user in entry and ts >= entry[user]:
            c = week_start_of(entry[user].date(), ws)
            a = week_start_of(ts.date(), ws)
            active[(T(c.year, c.month, c.day), (a - c).days // 7)].add(user)
    return {k: len(v) for k, v in active.items()}


@pytest.mark.parametrize("ws", [0, 4, 6])
def test_weekly_retention_periods_follow_the_week_start(
    backend: Backend, rand: ml.Layer, ws: int
) -> None:
    got = backend.fetch(rand.retention("weekly", periods=None, week_start=ws).expr)
    assert {pd.Timestamp(c).weekday() for c in got.cohort} == {ws}
    nonzero = {
        (pd.Timestamp(r.cohort).to_pydatetime(), int(r.period)): int(r.active)
        for r in got.itertuples()
        if r.active
    }
    assert nonzero == _reference_retention(ws)


@pytest.mark.parametrize("ws", [0, 6])
def test_funnel_conversion_per_week_of_step_one(backend: Backend, rand: ml.Layer, ws: int) -> None:
    got = backend.fetch(rand.funnel("signup_visit", grain="week", week_start=ws).expr)
    by_user = defaultdict(list)
    for ts, user, kind, _ in RANDOM:
        by_user[user].append((ts, kind))
    reached: dict[tuple[T, int], set[int]] = defaultdict(set)
    for user, evs in by_user.items():
        for ts, kind in evs:
            if kind != "signup":
                continue
            d = week_start_of(ts.date(), ws)
            wk = T(d.year, d.month, d.day)
            reached[(wk, 1)].add(user)
            if any(k == "visit" and ts <= t2 <= ts + _dt.timedelta(days=7) for t2, k in evs):
                reached[(wk, 2)].add(user)
    want = {k: len(v) for k, v in reached.items()}
    have = {
        (pd.Timestamp(r.week).to_pydatetime(), int(r.step)): int(r.entities)
        for r in got.itertuples()
    }
    assert {k: v for k, v in have.items() if v} == want


def test_validation_series_uses_the_layer_week_start(
    backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> None:
    layer, _ = load_layer(backend, tmp_path_factory.mktemp("chk"), YEAR_END, week_start="sunday")
    report = layer.check(metrics=["value_checked"], grain="week")
    failing = report.failing("value_checked", "range")
    weeks = {pd.Timestamp(w).to_pydatetime() for w in failing["week"]}
    assert weeks == set(weekly_sums(YEAR_END, 6))  # every week fails max: 0, each a Sunday


@pytest.mark.parametrize("ws", range(7))
def test_calendar_week_column(ws: int) -> None:
    frame = calendar_frame(Calendar(start=D(2024, 12, 20), end=D(2025, 1, 15)), ws)
    for day, week in zip(frame["date"], frame["week"], strict=True):
        assert week == week_start_of(day, ws)


def test_calendar_source_week_follows_the_layer(
    backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> None:
    layer, _ = load_layer(backend, tmp_path_factory.mktemp("calw"), YEAR_END, week_start="friday")
    got = fetch(backend, layer.query("value", by="cal.week"))
    assert {pd.Timestamp(w).weekday() for w in got.week} == {4}
    assert dict(zip(got.week.map(lambda w: pd.Timestamp(w).date()), got.value, strict=True)) == {
        k.date(): v for k, v in weekly_sums(YEAR_END, 4).items()
    }


@pytest.mark.parametrize("bad", ["sundya", "x", 7, -1, True, 1.5])
def test_bad_week_start_is_one_line_error(year_end: ml.Layer, bad: object) -> None:
    with pytest.raises(ml.MetricsLayerError) as err:
        year_end.query("value", grain="week", week_start=bad)
    assert "\n" not in str(err.value)
    if bad == "sundya":
        assert "sunday" in str(err.value)


# --------------------------------------------------------------------------- business days
def test_business_day_flag_as_a_dimension(backend: Backend, year_end: ml.Layer) -> None:
    got = fetch(backend, year_end.query("value", by="cal.is_business_day"))
    want: dict[bool, int] = defaultdict(int)
    for ts, _, _, v in YEAR_END:
        d = ts.date()
        want[d.weekday() < 5 and d not in (D(2024, 12, 25), D(2025, 1, 1))] += v
    assert dict(zip(got.is_business_day.astype(bool), got.value, strict=True)) == dict(want)


def test_fill_over_business_days_only(backend: Backend, year_end: ml.Layer) -> None:
    res = year_end.query(
        "value",
        grain="day",
        where="cal.is_business_day = true",
        start="2024-12-16",
        end="2025-01-20",
        fill="zero",
        fill_days="business",
    )
    got = fetch(backend, res)
    days = [D(2024, 12, 16) + _dt.timedelta(days=i) for i in range(35)]
    business = [d for d in days if d.weekday() < 5 and d not in (D(2024, 12, 25), D(2025, 1, 1))]
    assert [pd.Timestamp(d).date() for d in got.day] == business
    daily = {ts.date(): v for ts, _, _, v in YEAR_END}
    assert list(got.value) == [daily.get(d, 0) for d in business]
    assert "every business day" in res.explain()
    with pytest.raises(ml.QueryError, match="fill_days"):
        year_end.query("value", grain="week", fill="zero", fill_days="business")
    with pytest.raises(ml.QueryError, match="fill_days"):
        year_end.query("value", grain="day", fill="zero", fill_days="weekdays")
