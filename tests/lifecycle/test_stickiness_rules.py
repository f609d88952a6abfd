"""Hand-built stickiness cases (CONTRACT.md §12), on every backend.

Rows are (period, [by...], n, entities): every period from the first activity to the last
observed one has a row for each n = 1 .. units in that period, zero-filled.
"""

from __future__ import annotations

import datetime as dt

from tests.backends import assert_frames_equal, normalize_frame
from tests.lifecycle.support import events, make_layer, nonzero, table


def test_seven_of_seven_days_and_week_boundaries(backend, tmp_path):
    days = [(1, "session", f"2024-03-{d:02d} 12:00") for d in range(4, 11)]  # Mon..Sun
    ev = events(
        *days,
        (1, "session", "2024-03-06 18:00"),  # a second session on one day: still one day
        (2, "session", "2024-03-10 23:59:59"),  # Sunday ...
        (2, "session", "2024-03-11 00:00"),  # ... and Monday: one day in each week
        (3, "session", "2024-03-05"),
        (3, "session", "2024-03-07"),
    )
    layer = make_layer(backend, tmp_path, ev)
    rows = table(backend, layer.stickiness("weekly"))
    assert [r[:2] for r in rows] == [
        (w, n) for w in ("2024-03-04", "2024-03-11") for n in range(1, 8)
    ]
    assert nonzero(rows) == [
        ("2024-03-04", 1, 1),  # user 2 (Sunday)
        ("2024-03-04", 2, 1),  # user 3
        ("2024-03-04", 7, 1),  # user 1: exactly 7 of 7 days
        ("2024-03-11", 1, 1),  # user 2 (Monday)
    ]


def test_month_rows_go_up_to_the_months_own_length(backend, tmp_path):
    ev = events(
        *[(1, "session", f"2024-02-{d:02d}") for d in range(1, 30)],  # every day of Feb 2024
        (2, "session", "2024-04-30 23:00"),
    )
    layer = make_layer(backend, tmp_path, ev)
    rows = table(backend, layer.stickiness("monthly", grain="month", unit="day"))
    lengths = {}
    for period, n, _ in rows:
        lengths[period] = max(lengths.get(period, 0), n)
    assert lengths == {"2024-02-01": 29, "2024-03-01": 31, "2024-04-01": 30}
    assert nonzero(rows) == [("2024-02-01", 29, 1), ("2024-04-01", 1, 1)]


def test_hours_of_a_day_and_wall_clock_hours_across_dst(backend, tmp_path):
    ev = events(
        (1, "session", "2024-11-03 05:30"),  # 01:30 EDT
        (1, "session", "2024-11-03 06:30"),  # 01:30 EST: the same wall-clock hour
        (1, "session", "2024-11-03 08:10"),  # 03:10 EST
    )
    utc = make_layer(backend, tmp_path, ev)
    rows = table(backend, utc.stickiness("daily", grain="day", unit="hour"))
    assert [r[1] for r in rows] == list(range(1, 25))
    assert nonzero(rows) == [("2024-11-03", 3, 1)]
    ny = make_layer(backend, tmp_path, ev, timezone="America/New_York")
    assert nonzero(table(backend, ny.stickiness("daily", grain="day", unit="hour"))) == [
        ("2024-11-03", 2, 1)
    ]


def test_bounds_select_whole_periods_and_by_uses_first_activity(backend, tmp_path):
    ev = events(
        (1, "session", "2024-03-04", "web"),
        (1, "session", "2024-03-12", "ios"),  # user 1 stays in 'web'
        (1, "session", "2024-03-13", "ios"),
        (2, "session", "2024-03-13", "ios"),
    )
    layer = make_layer(backend, tmp_path, ev)
    got = table(backend, layer.stickiness("weekly", by="platform", start=dt.date(2024, 3, 14)))
    assert nonzero(got) == [("2024-03-11", "ios", 1, 1), ("2024-03-11", "web", 2, 1)]
    assert {r[:2] for r in got} == {("2024-03-11", "ios"), ("2024-03-11", "web")}
    assert len(got) == 14


def test_sql_text_runs_on_the_backend_with_the_same_rows(backend, tmp_path):
    ev = events(
        (1, "session", "2024-03-04", "web"),
        (1, "session", "2024-03-19", "ios"),
        (2, "session", "2024-03-13", "ios"),
        (2, "session", "2024-04-02", "ios"),
    )
    layer = make_layer(backend, tmp_path, ev)
    for res in (
        layer.lifecycle("weekly", by="platform", start="2024-03-10", end="2024-04-01"),
        layer.stickiness("monthly", grain="month", unit="day", start="2024-04-01"),
    ):
        text = res.sql()  # the literals rendered into the text
        if backend.name == "duckdb":  # through the driver, not through ibis
            got = normalize_frame(backend.con.con.cursor().sql(text).df())
        else:
            got = backend.sql(text)
        assert_frames_equal(got, backend.fetch(res.expr), check_column_order=True)
