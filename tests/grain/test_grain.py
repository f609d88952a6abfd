"""Grain in Python: parsing, floors, steps and indexes against a plain-datetime reference."""

from __future__ import annotations

import datetime as _dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics_layer.grain import GRAIN_NAMES, WEEKDAYS, Grain, GrainError, weekday_number

QUARTER_START = {1: 1, 2: 1, 3: 1, 4: 4, 5: 4, 6: 4, 7: 7, 8: 7, 9: 7, 10: 10, 11: 10, 12: 10}
moments = st.datetimes(min_value=_dt.datetime(1900, 1, 1), max_value=_dt.datetime(2200, 12, 31))


def ref_floor(moment: _dt.datetime, grain: str, week_start: int) -> _dt.datetime:
    """Period start by walking back: no shared formula with the code under test."""
    if grain == "hour":
        return _dt.datetime(moment.year, moment.month, moment.day, moment.hour)
    day = _dt.datetime(moment.year, moment.month, moment.day)
    if grain == "week":
        while day.weekday() != week_start:
            day -= _dt.timedelta(days=1)
        return day
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return day.replace(day=1, month=QUARTER_START[day.month])
    if grain == "year":
        return day.replace(month=1, day=1)
    return day


@given(moments, st.sampled_from(GRAIN_NAMES), st.integers(0, 6))
def test_floor_matches_the_reference(moment: _dt.datetime, grain: str, ws: int) -> None:
    g = Grain.of(grain, week_start=ws)
    start = g.floor_literal(moment)
    assert start == ref_floor(moment, grain, ws)
    assert start <= moment < g.shift(start, 1)
    assert g.next(moment) == g.shift(start, 1) > moment


@given(moments, moments, st.sampled_from(GRAIN_NAMES), st.integers(0, 6))
def test_index_counts_whole_periods(a: _dt.datetime, b: _dt.datetime, grain: str, ws: int) -> None:
    """index(b) - index(a) is the number of period starts in (floor(a), floor(b)]."""
    g = Grain.of(grain, week_start=ws)
    lo, hi = sorted((a, b))
    if grain in ("hour", "day"):  # counting by stepping would take too long
        unit = 3600 if grain == "hour" else 86400
        steps = int((g.floor_literal(hi) - g.floor_literal(lo)).total_seconds()) // unit
    else:
        steps, p = 0, g.floor_literal(lo)
        while p < g.floor_literal(hi):
            p, steps = g.shift(p, 1), steps + 1
    assert g.index_literal(hi) - g.index_literal(lo) == steps


@pytest.mark.parametrize("ws", range(7))
@pytest.mark.parametrize("year", [2019, 2020, 2023, 2024, 2025, 2026])
def test_weeks_across_every_year_end(ws: int, year: int) -> None:
    """Dec 25 … Jan 7: each day lies in the week that started on the last `ws` weekday."""
    g = Grain.of("week", week_start=ws)
    day = _dt.datetime(year, 12, 25)
    for _ in range(14):
        start = g.floor_literal(day)
        assert start.weekday() == ws and 0 <= (day - start).days < 7
        day += _dt.timedelta(days=1)


def test_known_week_starts() -> None:
    d = _dt.datetime(2024, 1, 3, 15, 30)  # a Wednesday
    got = {WEEKDAYS[w]: Grain.of("week", w).floor_literal(d).date() for w in range(7)}
    assert got == {
        "monday": _dt.date(2024, 1, 1),
        "tuesday": _dt.date(2024, 1, 2),
        "wednesday": _dt.date(2024, 1, 3),
        "thursday": _dt.date(2023, 12, 28),
        "friday": _dt.date(2023, 12, 29),
        "saturday": _dt.date(2023, 12, 30),
        "sunday": _dt.date(2023, 12, 31),
    }


def test_month_steps_clamp_to_the_month_end() -> None:
    m = Grain.of("month")
    assert m.shift(_dt.datetime(2024, 1, 31), 1) == _dt.datetime(2024, 2, 29)
    assert Grain.of("year").shift(_dt.datetime(2024, 2, 29), -1) == _dt.datetime(2023, 2, 28)


def test_parsing() -> None:
    assert Grain.of("Week", "sun") == Grain.of("week", 6) == Grain.of(Grain.of("week"), "Sunday")
    assert Grain.of("month", "sunday") == Grain.of("month")  # week start matters to weeks only
    assert str(Grain.of("week", 6)) == "week"
    assert Grain.of("week", 6).describe() == "week (starting sunday)"
    assert weekday_number(None) == 0 and weekday_number("saturday") == 5
    with pytest.raises(GrainError, match="did you mean 'month'"):
        Grain.of("mnth")
    with pytest.raises(GrainError, match="did you mean 'sunday'"):
        weekday_number("sundy")
    with pytest.raises(GrainError, match="0 \\(Monday\\)"):
        weekday_number(7)
    with pytest.raises(GrainError):
        weekday_number(True)  # type: ignore[arg-type]


def test_labels() -> None:
    assert Grain.of("quarter").label("2024-04-01") == "2024-Q2"
    assert Grain.of("month").label("2024-04-01") == "2024-04"
    assert Grain.of("week", 6).label("2024-03-31") == "2024-03-31"
    assert Grain.of("day").label(None) == "NULL"
