"""Lifecycle and stickiness at fiscal grains of the NRF 4-5-4 retail calendar, on every backend.

The calendar (tests/lifecycle/support.py) has fiscal 2022 = 2022-01-30 .. 2023-01-28 and
fiscal 2023 = 2023-01-29 .. 2024-02-03, a 53-week year: its quarters start 2023-01-29,
04-30, 07-30 and 10-29 (the last one has 14 weeks), its last month (fiscal January) runs
2023-12-31 .. 2024-02-03 (5 weeks), its week 53 2024-01-28 .. 02-03; fiscal 2024 starts
2024-02-04 and its second quarter 2024-05-05. Every case is chosen so that the calendar
quarter / year / ISO week of the same days gives different rows.
"""

from __future__ import annotations

import datetime as dt

import pytest

from metrics_layer.errors import QueryError
from tests.lifecycle.support import events, make_layer, nonzero, table
from tests.lifecycle.test_lifecycle_rules import grid
from tests.unit.test_retention_support import make_layer as plain_layer

QUARTERS = events(
    (1, "session", "2023-10-28 23:59:59", "web"),  # last second of fiscal Q3
    (1, "session", "2024-02-03 12:00", "web"),  # last day of the 14-week Q4
    (2, "session", "2023-10-29 00:00", "ios"),  # first instant of Q4 ...
    (2, "session", "2024-01-15", "ios"),  # ... and calendar Q1 2024: still fiscal Q4
    (3, "session", "2023-07-29", "web"),  # Q2
    (3, "session", "2023-10-01", "ios"),  # Q3 (calendar Q4)
    (4, "session", "2023-04-29", "ios"),  # Q1 (calendar Q2) ...
    (4, "session", "2023-07-30", "web"),  # ... then Q3 (calendar Q3): a gap of one quarter
    (5, "session", "2024-02-03 23:59:59", "web"),  # week 53 of fiscal 2023 ...
    (5, "session", "2024-02-04", "web"),  # ... and the first day of fiscal 2024
    (None, "session", "2024-05-05"),  # fiscal Q2 2024 is the last observed period
)


def test_previous_period_is_the_previous_fiscal_quarter(backend, tmp_path):
    layer = make_layer(backend, tmp_path, QUARTERS)
    assert table(backend, layer.lifecycle("monthly", grain="fiscal_quarter")) == grid(
        ("2023-01-29", 1, 0, 0, 0),  # user 4
        ("2023-04-30", 1, 0, 0, -1),  # user 3 new, user 4 dormant
        ("2023-07-30", 1, 1, 1, 0),  # user 1 new, 3 returning, 4 resurrecting
        ("2023-10-29", 2, 1, 0, -2),  # users 2, 5 new, 1 returning; 3 and 4 dormant
        ("2024-02-04", 0, 1, 0, -2),  # user 5 returning across the 53-week year end
        ("2024-05-05", 0, 0, 0, -1),
    )


def test_fiscal_years_with_a_53_week_year(backend, tmp_path):
    ev = events(
        (1, "session", "2023-01-28"),  # last day of fiscal 2022 (calendar 2023)
        (1, "session", "2024-02-03"),  # last day of fiscal 2023 (calendar 2024)
        (1, "session", "2025-02-02"),  # first day of fiscal 2025
        (2, "session", "2024-02-04"),  # first day of fiscal 2024
    )
    layer = make_layer(backend, tmp_path, ev)
    assert table(backend, layer.lifecycle("monthly", grain="fiscal_year")) == grid(
        ("2022-01-30", 1, 0, 0, 0),
        ("2023-01-29", 0, 1, 0, 0),
        ("2024-02-04", 1, 0, 0, -1),
        ("2025-02-02", 0, 0, 1, -1),
    )


@pytest.mark.parametrize("week_start", ["monday", "sunday"])
def test_fiscal_weeks_around_week_53_ignore_the_week_start(backend, tmp_path, week_start):
    ev = events(
        (1, "session", "2024-01-27 23:00"),  # Saturday: week 52
        (1, "session", "2024-02-04 00:00"),  # Sunday: week 1 of fiscal 2024
        (2, "session", "2024-01-28 00:00"),  # week 53 ...
        (2, "session", "2024-02-03 23:59:59"),  # ... twice
    )
    layer = make_layer(backend, tmp_path, ev, week_start=week_start)
    assert table(backend, layer.lifecycle("weekly", grain="fiscal_week")) == grid(
        ("2024-01-21", 1, 0, 0, 0),
        ("2024-01-28", 1, 0, 0, -1),
        ("2024-02-04", 0, 0, 1, -1),
    )


def test_fiscal_periods_are_wall_clock_periods_of_the_call_zone(backend, tmp_path):
    ev = events(
        (1, "session", "2024-01-30 12:00"),
        (1, "session", "2024-02-04 03:00"),  # 2024-02-03 22:00 in New York: still week 53
    )
    layer = make_layer(backend, tmp_path, ev)
    utc = nonzero(table(backend, layer.lifecycle("weekly", grain="fiscal_week")))
    assert utc == [("2024-01-28", "new", 1), ("2024-02-04", "returning", 1)]
    ny = layer.lifecycle("weekly", grain="fiscal_week", timezone="America/New_York")
    assert table(backend, ny) == grid(("2024-01-28", 1, 0, 0, 0))


def test_by_and_bounds_at_a_fiscal_grain(backend, tmp_path):
    layer = make_layer(backend, tmp_path, QUARTERS)
    res = layer.lifecycle(
        "monthly", grain="fiscal_quarter", by="platform", start="2023-11-15", end="2024-02-05"
    )
    rows = table(backend, res)
    # the periods overlapping [start, end): fiscal Q4 2023 and Q1 2024, whole; groups are the
    # platforms of each user's first activity (1, 3, 5: web; 2, 4: ios)
    assert {(r[0], r[1]) for r in rows} == {
        (p, g) for p in ("2023-10-29", "2024-02-04") for g in ("ios", "web")
    }
    assert nonzero(rows) == [
        ("2023-10-29", "ios", "new", 1),  # user 2
        ("2023-10-29", "ios", "dormant", -1),  # user 4
        ("2023-10-29", "web", "new", 1),  # user 5
        ("2023-10-29", "web", "returning", 1),  # user 1
        ("2023-10-29", "web", "dormant", -1),  # user 3
        ("2024-02-04", "ios", "dormant", -1),  # user 2
        ("2024-02-04", "web", "returning", 1),  # user 5
        ("2024-02-04", "web", "dormant", -1),  # user 1
    ]


def test_stickiness_days_of_a_five_week_fiscal_month(backend, tmp_path):
    days = [f"2024-01-{d:02d} 10:00" for d in range(1, 32)] + ["2024-02-01", "2024-02-02"]
    ev = events(
        (1, "session", "2023-12-31 00:00"),
        *[(1, "session", d) for d in days],
        (1, "session", "2024-02-03 23:59:59"),  # all 35 days of fiscal January
        (2, "session", "2024-02-04"),  # fiscal February 2024: 4 weeks
        (2, "session", "2024-03-02 23:00"),
    )
    layer = make_layer(backend, tmp_path, ev)
    rows = table(backend, layer.stickiness("monthly", grain="fiscal_month", unit="day"))
    assert [r[:2] for r in rows] == [("2023-12-31", n) for n in range(1, 36)] + [
        ("2024-02-04", n) for n in range(1, 29)
    ]
    assert nonzero(rows) == [("2023-12-31", 35, 1), ("2024-02-04", 2, 1)]


def test_stickiness_fiscal_weeks_of_a_14_week_quarter(backend, tmp_path):
    ev = events(
        (1, "session", "2023-10-29 12:00"),
        *[(1, "session", d) for d in _week_days("2023-11-05", 13)],  # 14 weeks in all
        (2, "session", "2023-10-28 23:00"),  # Q3's last week only
        (2, "session", "2024-02-04 00:00"),
    )
    layer = make_layer(backend, tmp_path, ev)
    rows = table(backend, layer.stickiness("monthly", grain="fiscal_quarter", unit="fiscal_week"))
    sizes = {}
    for period, n, _ in rows:
        sizes[period] = max(sizes.get(period, 0), n)
    assert sizes == {"2023-07-30": 13, "2023-10-29": 14, "2024-02-04": 13}
    assert nonzero(rows) == [("2023-07-30", 1, 1), ("2023-10-29", 14, 1), ("2024-02-04", 1, 1)]
    # weeks starting on the calendar's Sunday are its fiscal weeks: the same answer
    sunday = make_layer(backend, tmp_path, ev, week_start="sunday")
    same = sunday.stickiness("monthly", grain="fiscal_quarter", unit="week")
    assert table(backend, same) == rows


def test_stickiness_fiscal_months_of_a_year(backend, tmp_path):
    ev = events(
        (1, "session", "2023-01-29"),  # fiscal February 2023 ...
        (1, "session", "2024-01-15"),  # ... and fiscal January: 2 of 12 months
        (1, "session", "2024-02-03"),
    )
    layer = make_layer(backend, tmp_path, ev)
    rows = table(backend, layer.stickiness("monthly", grain="fiscal_year", unit="fiscal_month"))
    assert [r[:2] for r in rows] == [("2023-01-29", n) for n in range(1, 13)]
    assert nonzero(rows) == [("2023-01-29", 2, 1)]


def test_a_fiscal_grain_needs_a_retail_calendar(backend, tmp_path):
    layer = plain_layer(backend, tmp_path, QUARTERS)  # the same definitions, no calendar
    for call in (
        lambda: layer.lifecycle("monthly", grain="fiscal_quarter"),
        lambda: layer.stickiness("monthly", grain="fiscal_month", unit="day"),
    ):
        with pytest.raises(QueryError) as err:
            call()
        assert "fiscal grains need a calendar source with a retail block" in str(err.value)
        assert "\n" not in str(err.value)


def _week_days(first: str, weeks: int) -> list[str]:
    """One day in each of `weeks` consecutive weeks from `first`, on varying weekdays."""
    day = dt.date.fromisoformat(first)
    return [str(day + dt.timedelta(weeks=i, days=i % 7)) for i in range(weeks)]
