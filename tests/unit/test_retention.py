"""Hand-built retention cases, one per rule of CONTRACT.md §3 (Retention), on every backend.

Rows are compared as (cohort, [by...], cohort_size, period, active, complete); `rows()` also
checks the exact column list and retention = active / cohort_size on every row.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.unit.test_retention_support import events, make_layer, rows

# ------------------------------------------------------------------------------- basics
BASIC = events(
    (1, "signup", "2024-01-05 10:00"),
    (1, "session", "2024-01-06"),
    (1, "session", "2024-02-10"),
    (1, "session", "2024-02-20"),  # twice in Feb: counted once
    (2, "signup", "2024-01-10"),  # never returns
    (3, "signup", "2024-02-03"),
    (3, "session", "2024-02-04"),
    (3, "session", "2024-03-15"),
)


def test_period_zero_below_100_and_returning_twice_counted_once(backend, tmp_path):
    layer = make_layer(backend, tmp_path, BASIC)
    assert rows(backend, layer.retention("monthly")) == [
        ("2024-01-01", 2, 0, 1, True),  # user 2 never had a session: 50%, not 100%
        ("2024-01-01", 2, 1, 1, True),  # user 1 twice in February: once
        ("2024-01-01", 2, 2, 0, False),  # March: zero-filled, not over yet (last row Mar 15)
        ("2024-02-01", 1, 0, 1, True),
        ("2024-02-01", 1, 1, 1, False),
    ]


def test_as_of_later_completes_periods_and_zero_fills_to_it(backend, tmp_path):
    layer = make_layer(backend, tmp_path, BASIC)
    assert rows(backend, layer.retention("monthly", as_of="2024-04-01")) == [
        ("2024-01-01", 2, 0, 1, True),
        ("2024-01-01", 2, 1, 1, True),
        ("2024-01-01", 2, 2, 0, True),  # March ended at 2024-04-01 00:00
        ("2024-01-01", 2, 3, 0, False),  # April holds as_of: observed, not complete
        ("2024-02-01", 1, 0, 1, True),
        ("2024-02-01", 1, 1, 1, True),
        ("2024-02-01", 1, 2, 0, False),
    ]


def test_as_of_earlier_ends_observation(backend, tmp_path):
    layer = make_layer(backend, tmp_path, BASIC)
    got = rows(backend, layer.retention("monthly", as_of=dt.datetime(2024, 2, 15)))
    assert got == [
        ("2024-01-01", 2, 0, 1, True),
        ("2024-01-01", 2, 1, 1, False),  # Feb 10 observed, Feb not over at as_of
        ("2024-02-01", 1, 0, 1, False),  # the March session is after as_of: not observed
    ]
    aware = dt.datetime(2024, 2, 15, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert rows(backend, layer.retention("monthly", as_of=aware)) == got  # = 00:00 UTC


def test_activity_before_entry_is_ignored(backend, tmp_path):
    ev = events(
        (1, "session", "2023-12-20"),  # previous period
        (1, "session", "2024-01-03 08:00"),  # same period, before entry
        (1, "session", "2024-01-05 11:59:59"),  # same day, one second before entry
        (1, "signup", "2024-01-05 12:00"),
        (2, "signup", "2024-01-07 09:00"),
        (2, "session", "2024-01-07 09:00"),  # at the entry instant: counts
        (None, "session", "2024-02-15"),  # anonymous: ignored, but observed time
    )
    layer = make_layer(backend, tmp_path, ev)
    assert rows(backend, layer.retention("monthly")) == [
        ("2024-01-01", 2, 0, 1, True),
        ("2024-01-01", 2, 1, 0, False),  # the anonymous row makes February observed
    ]


def test_null_entities_are_ignored(backend, tmp_path):
    ev = events(
        (None, "signup", "2024-01-05"),
        (None, "session", "2024-01-06"),
        (1, "signup", "2024-01-07"),
        (None, "signup", "2024-02-01"),
    )
    layer = make_layer(backend, tmp_path, ev)
    assert rows(backend, layer.retention("monthly")) == [
        ("2024-01-01", 1, 0, 0, True),
        ("2024-01-01", 1, 1, 0, False),
    ]


# ------------------------------------------------------------------------------- zero-fill, N
ZERO = events(
    (1, "signup", "2024-01-10"),
    (1, "session", "2024-01-11"),
    (1, "session", "2024-04-02"),
    (2, "signup", "2024-05-20"),
)


def test_empty_periods_zero_filled_up_to_last_observed(backend, tmp_path):
    layer = make_layer(backend, tmp_path, ZERO)
    assert rows(backend, layer.retention("monthly")) == [
        ("2024-01-01", 1, 0, 1, True),
        ("2024-01-01", 1, 1, 0, True),
        ("2024-01-01", 1, 2, 0, True),
        ("2024-01-01", 1, 3, 1, True),
        ("2024-01-01", 1, 4, 0, False),
        ("2024-05-01", 1, 0, 0, False),
    ]


def test_periods_truncates(backend, tmp_path):
    layer = make_layer(backend, tmp_path, ZERO)
    assert rows(backend, layer.retention("monthly", periods=2)) == [
        ("2024-01-01", 1, 0, 1, True),
        ("2024-01-01", 1, 1, 0, True),
        ("2024-05-01", 1, 0, 0, False),
    ]
    assert len(rows(backend, layer.retention("monthly", periods=None))) == 6


def test_rolling_counts_active_at_k_or_later(backend, tmp_path):
    layer = make_layer(backend, tmp_path, ZERO)
    assert rows(backend, layer.retention("monthly", mode="rolling")) == [
        ("2024-01-01", 1, 0, 1, True),
        ("2024-01-01", 1, 1, 1, True),
        ("2024-01-01", 1, 2, 1, True),
        ("2024-01-01", 1, 3, 1, True),
        ("2024-01-01", 1, 4, 0, False),
        ("2024-05-01", 1, 0, 0, False),
    ]
    # activity beyond the last asked period still counts at the last one
    assert rows(backend, layer.retention("monthly", mode="rolling", periods=2))[:2] == [
        ("2024-01-01", 1, 0, 1, True),
        ("2024-01-01", 1, 1, 1, True),
    ]


# ------------------------------------------------------------------------------- calendar
def test_week_boundary_sunday_night_vs_monday_midnight(backend, tmp_path):
    ev = events(
        (1, "signup", "2024-01-07 23:59:00"),  # Sunday: ISO week of Mon 2024-01-01
        (1, "session", "2024-01-07 23:59:30"),  # same week: k = 0
        (1, "session", "2024-01-08 00:00:00"),  # Monday midnight: k = 1
        (2, "signup", "2024-01-08 00:00:00"),
        (2, "session", "2024-01-08 00:00:00"),
    )
    layer = make_layer(backend, tmp_path, ev)
    assert rows(backend, layer.retention("weekly")) == [
        ("2024-01-01", 1, 0, 1, True),
        ("2024-01-01", 1, 1, 1, False),
        ("2024-01-08", 1, 0, 1, False),
    ]


def test_iso_week_across_new_year(backend, tmp_path):
    ev = events(
        (1, "signup", "2024-12-29 12:00"),  # Sunday: week of Mon 2024-12-23
        (1, "session", "2025-01-01"),  # week of Mon 2024-12-30 (ISO 2025-W01): k = 1
        (None, "visit", "2025-01-06"),  # observed into the week of 2025-01-06
    )
    layer = make_layer(backend, tmp_path, ev)
    assert rows(backend, layer.retention("weekly")) == [
        ("2024-12-23", 1, 0, 0, True),
        ("2024-12-23", 1, 1, 1, True),
        ("2024-12-23", 1, 2, 0, False),
    ]


def test_month_ends_leap_day_and_year_boundary(backend, tmp_path):
    ev = events(
        (1, "signup", "2024-01-31 23:59:59"),
        (1, "session", "2024-02-01 00:00:00"),
        (1, "session", "2024-02-29 23:59:59"),
        (1, "session", "2024-03-01 00:00:00"),
        (2, "signup", "2023-12-31 23:59:59"),
        (2, "session", "2024-01-01 00:00:00"),
    )
    layer = make_layer(backend, tmp_path, ev)
    assert rows(backend, layer.retention("monthly")) == [
        ("2023-12-01", 1, 0, 0, True),
        ("2023-12-01", 1, 1, 1, True),
        ("2023-12-01", 1, 2, 0, True),
        ("2023-12-01", 1, 3, 0, False),
        ("2024-01-01", 1, 0, 0, True),
        ("2024-01-01", 1, 1, 1, True),
        ("2024-01-01", 1, 2, 1, False),
    ]


def test_quarters(backend, tmp_path):
    ev = events(
        (1, "signup", "2024-03-31 23:00"),
        (1, "session", "2024-04-01"),
        (1, "session", "2024-12-31"),
        (2, "signup", "2024-05-01"),
        (2, "session", "2025-01-01"),
    )
    layer = make_layer(backend, tmp_path, ev)
    assert rows(backend, layer.retention("quarterly")) == [
        ("2024-01-01", 1, 0, 0, True),
        ("2024-01-01", 1, 1, 1, True),
        ("2024-01-01", 1, 2, 0, True),
        ("2024-01-01", 1, 3, 1, True),
        ("2024-01-01", 1, 4, 0, False),
        ("2024-04-01", 1, 0, 0, True),
        ("2024-04-01", 1, 1, 0, True),
        ("2024-04-01", 1, 2, 0, True),
        ("2024-04-01", 1, 3, 1, False),
    ]


TZ_EVENTS = events(
    (1, "signup", "2024-01-02 03:00"),  # New York: Jan 1 22:00
    (1, "session", "2024-01-02 04:30"),  # New York: Jan 1 23:30
    (1, "session", "2024-01-02 06:00"),  # New York: Jan 2 01:00
)


def test_timezone_moves_events_across_the_day_boundary(backend, tmp_path):
    utc = make_layer(backend, tmp_path, TZ_EVENTS)
    assert rows(backend, utc.retention("daily")) == [("2024-01-02", 1, 0, 1, False)]
    ny = make_layer(backend, tmp_path, TZ_EVENTS, timezone="America/New_York")
    assert rows(backend, ny.retention("daily")) == [
        ("2024-01-01", 1, 0, 1, True),
        ("2024-01-01", 1, 1, 1, False),
    ]


def test_timezone_month_start_in_summer_time(backend, tmp_path):
    ev = events((1, "signup", "2024-03-31 22:30"), (1, "session", "2024-04-30 22:30"))
    berlin = make_layer(backend, tmp_path, ev, timezone="Europe/Berlin")  # UTC+2 from Mar 31
    assert rows(backend, berlin.retention("monthly")) == [
        ("2024-04-01", 1, 0, 0, True),
        ("2024-04-01", 1, 1, 1, False),  # May 1 00:30 local
    ]


# ------------------------------------------------------------------------------- cohort types
RECUR = events(
    (1, "signup", "2024-01-10"),
    (1, "signup", "2024-01-20"),
    (1, "signup", "2024-03-05"),
    (1, "session", "2024-01-15"),
    (1, "session", "2024-02-10"),
    (1, "session", "2024-03-01"),  # before the March entry, after the January one
    (1, "session", "2024-03-20"),
    (1, "session", "2024-04-10"),
    (2, "signup", "2024-03-10"),
    (2, "session", "2024-03-11"),
)


def test_recurring_cohorts(backend, tmp_path):
    layer = make_layer(backend, tmp_path, RECUR)
    assert rows(backend, layer.retention("recurring")) == [
        ("2024-01-01", 1, 0, 1, True),
        ("2024-01-01", 1, 1, 1, True),
        ("2024-01-01", 1, 2, 1, True),
        ("2024-01-01", 1, 3, 1, False),
        ("2024-03-01", 2, 0, 2, True),
        ("2024-03-01", 2, 1, 1, False),
    ]
    # the definition's cohort_type can be overridden per query
    assert rows(backend, layer.retention("monthly", cohort_type="recurring")) == rows(
        backend, layer.retention("recurring")
    )


def test_first_time_on_the_same_events(backend, tmp_path):
    layer = make_layer(backend, tmp_path, RECUR)
    assert rows(backend, layer.retention("monthly")) == [
        ("2024-01-01", 1, 0, 1, True),
        ("2024-01-01", 1, 1, 1, True),
        ("2024-01-01", 1, 2, 1, True),
        ("2024-01-01", 1, 3, 1, False),
        ("2024-03-01", 1, 0, 1, True),
        ("2024-03-01", 1, 1, 0, False),
    ]


def test_recurring_start_bounds_the_entry_instant(backend, tmp_path):
    layer = make_layer(backend, tmp_path, RECUR)
    got = rows(backend, layer.retention("recurring", start="2024-03-07"))
    assert got == [("2024-03-01", 1, 0, 1, True), ("2024-03-01", 1, 1, 0, False)]


def test_first_time_entity_first_seen_before_start_is_absent(backend, tmp_path):
    ev = events(
        (1, "signup", "2024-01-10"),
        (1, "signup", "2024-03-05"),
        (1, "session", "2024-03-06"),
        (2, "signup", "2024-03-10"),
        (2, "session", "2024-04-01"),
    )
    layer = make_layer(backend, tmp_path, ev)
    assert rows(backend, layer.retention("monthly", start="2024-02-01")) == [
        ("2024-03-01", 1, 0, 0, True),
        ("2024-03-01", 1, 1, 1, False),
    ]
    assert rows(backend, layer.retention("monthly", end="2024-03-08")) == [
        ("2024-01-01", 1, 0, 0, True),
        ("2024-01-01", 1, 1, 0, True),
        ("2024-01-01", 1, 2, 1, True),
        ("2024-01-01", 1, 3, 0, False),
    ]


# ------------------------------------------------------------------------------- by
BY_EVENTS = events(
    (1, "signup", "2024-01-05", "ios"),
    (1, "session", "2024-02-01", "web"),
    (2, "signup", "2024-01-06", "web"),
    (2, "session", "2024-01-07", "ios"),
    (3, "signup", "2024-01-08", None),
    (4, "signup", "2024-01-09", "web"),
    (4, "session", "2024-01-10", "web"),
    (7, "signup", "2024-01-11", "web"),  # no users row: country NULL through the LEFT join
)


def test_by_a_joined_dimension(backend, tmp_path):
    layer = make_layer(backend, tmp_path, BY_EVENTS)
    assert rows(backend, layer.retention("by_country")) == [
        ("2024-01-01", "DE", 2, 0, 0, True),
        ("2024-01-01", "DE", 2, 1, 1, False),
        ("2024-01-01", "FR", 1, 0, 1, True),
        ("2024-01-01", "FR", 1, 1, 0, False),
        ("2024-01-01", None, 2, 0, 1, True),
        ("2024-01-01", None, 2, 1, 0, False),
    ]
    assert rows(backend, layer.retention("by_country", by=[])) == [
        ("2024-01-01", 5, 0, 2, True),
        ("2024-01-01", 5, 1, 1, False),
    ]


def test_by_takes_the_value_of_the_entry_event(backend, tmp_path):
    layer = make_layer(backend, tmp_path, BY_EVENTS)
    assert rows(backend, layer.retention("monthly", by="platform")) == [
        ("2024-01-01", "ios", 1, 0, 0, True),
        ("2024-01-01", "ios", 1, 1, 1, False),
        ("2024-01-01", "web", 3, 0, 2, True),
        ("2024-01-01", "web", 3, 1, 0, False),
        ("2024-01-01", None, 1, 0, 0, True),
        ("2024-01-01", None, 1, 1, 0, False),
    ]


def test_by_ties_at_the_entry_instant_take_the_smallest_value(backend, tmp_path):
    ev = events(
        (1, "signup", "2024-01-05", "web"),
        (1, "signup", "2024-01-05", "ios"),
        (1, "signup", "2024-01-05", None),
        (1, "session", "2024-01-06", "web"),
    )
    layer = make_layer(backend, tmp_path, ev)
    assert rows(backend, layer.retention("monthly", by=["platform"], mode="rolling")) == [
        ("2024-01-01", "ios", 1, 0, 1, False),
    ]


def test_recurring_by_uses_each_periods_entry_event(backend, tmp_path):
    ev = events(
        (1, "signup", "2024-01-05", "ios"),
        (1, "signup", "2024-02-05", "web"),
        (1, "session", "2024-02-06", "web"),
    )
    layer = make_layer(backend, tmp_path, ev)
    assert rows(backend, layer.retention("recurring", by="platform")) == [
        ("2024-01-01", "ios", 1, 0, 0, True),
        ("2024-01-01", "ios", 1, 1, 1, False),
        ("2024-02-01", "web", 1, 0, 1, False),
    ]


# ------------------------------------------------------------------------------- shape
def test_empty_result_keeps_the_columns(backend, tmp_path):
    layer = make_layer(backend, tmp_path, BASIC)
    res = layer.retention("monthly", start="2030-01-01")
    df = backend.fetch(res.expr)
    assert list(df.columns) == [
        "cohort",
        "cohort_size",
        "period",
        "active",
        "retention",
        "complete",
    ]
    assert df.empty


@pytest.mark.backends("duckdb")
def test_result_types_and_sql(backend, tmp_path):
    layer = make_layer(backend, tmp_path, BASIC)
    res = layer.retention("by_country")
    schema = res.expr.schema()
    assert {k: str(v) for k, v in schema.items()} == {
        "cohort": "timestamp",
        "country": "string",
        "cohort_size": "int64",
        "period": "int64",
        "active": "int64",
        "retention": "float64",
        "complete": "boolean",
    }
    for dialect in ("duckdb", "postgres", "snowflake", "bigquery", "trino"):
        assert "SELECT" in res.sql(dialect=dialect).upper()
    text = res.explain()
    assert "first cohort event" in text.lower() and "users.country" in text


def test_date_time_column(backend, tmp_path):
    ev = events(
        (1, "signup", "2024-01-31"),
        (1, "session", "2024-01-31"),
        (1, "session", "2024-02-01"),
        (2, "signup", "2024-02-15"),
    )
    ev["ts"] = ev["ts"].dt.date  # a DATE column
    layer = make_layer(backend, tmp_path, ev, timezone="America/New_York")  # dates stay dates
    assert rows(backend, layer.retention("monthly")) == [
        ("2024-01-01", 1, 0, 1, True),
        ("2024-01-01", 1, 1, 1, False),
        ("2024-02-01", 1, 0, 0, False),
    ]
    assert rows(backend, layer.retention("weekly", as_of="2024-02-05")) == [
        ("2024-01-29", 1, 0, 1, True),
        ("2024-01-29", 1, 1, 0, False),
    ]
