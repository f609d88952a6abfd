"""Hand-built lifecycle cases, one per rule of CONTRACT.md §12 (lifecycle), on every backend.

Rows are (period 'YYYY-MM-DD', [by...], status, entities); `table()` also checks the exact
column list. Every period from the first activity to the last observed one has all four
statuses, in the order new, returning, resurrecting, dormant; dormant counts are negative.
"""

from __future__ import annotations

import pytest

from tests.lifecycle.support import events, make_layer, nonzero, table

STATUSES = ("new", "returning", "resurrecting", "dormant")


def grid(*periods: tuple[str, int, int, int, int]) -> list[tuple]:
    """Rows of whole periods: (period, new, returning, resurrecting, dormant)."""
    return [(p, s, n) for p, *counts in periods for s, n in zip(STATUSES, counts, strict=True)]


def test_dormant_for_two_periods_then_back_is_dormant_once_then_resurrecting(backend, tmp_path):
    ev = events(
        (1, "session", "2024-01-05"),
        (1, "session", "2024-01-20"),  # twice in January: counted once
        (1, "session", "2024-04-02"),  # absent February and March
        (2, "session", "2024-02-10"),
        (2, "session", "2024-03-01 00:00"),
        (2, "session", "2024-04-30 23:59:59"),
        (None, "session", "2024-05-03"),  # anonymous: not an entity, but May is observed
    )
    layer = make_layer(backend, tmp_path, ev)
    assert table(backend, layer.lifecycle("monthly")) == grid(
        ("2024-01-01", 1, 0, 0, 0),  # the very first period: only new
        ("2024-02-01", 1, 0, 0, -1),  # user 1 dormant once ...
        ("2024-03-01", 0, 1, 0, 0),  # ... and not again in March (user 2 returning)
        ("2024-04-01", 0, 1, 1, 0),  # user 1 resurrecting, user 2 returning again
        ("2024-05-01", 0, 0, 0, -2),  # last observed period: both dormant
    )


def test_resurrecting_after_returning_and_gap(backend, tmp_path):
    ev = events(
        (1, "session", "2024-01-05"),
        (1, "session", "2024-02-05"),
        (1, "session", "2024-04-05"),
        (1, "session", "2024-05-05"),
    )
    layer = make_layer(backend, tmp_path, ev)
    assert table(backend, layer.lifecycle("monthly")) == grid(
        ("2024-01-01", 1, 0, 0, 0),
        ("2024-02-01", 0, 1, 0, 0),
        ("2024-03-01", 0, 0, 0, -1),
        ("2024-04-01", 0, 0, 1, 0),
        ("2024-05-01", 0, 1, 0, 0),  # the period after a resurrection is returning
    )


def test_entity_active_once_is_new_then_dormant_once(backend, tmp_path):
    ev = events(
        (1, "session", "2024-01-31 23:59:59"),
        (2, "signup", "2024-04-10"),  # not activity, but April is the last observed period
    )
    layer = make_layer(backend, tmp_path, ev)
    assert table(backend, layer.lifecycle("monthly")) == grid(
        ("2024-01-01", 1, 0, 0, 0),
        ("2024-02-01", 0, 0, 0, -1),
        ("2024-03-01", 0, 0, 0, 0),  # zero-filled: gone entities stay gone, not dormant again
        ("2024-04-01", 0, 0, 0, 0),
    )


def test_cohort_event_is_not_activity_and_null_entities_are_ignored(backend, tmp_path):
    ev = events(
        (1, "signup", "2024-01-02"),
        (1, "session", "2024-02-02"),
        (None, "session", "2024-01-03"),  # would be an entity of its own if counted
    )
    layer = make_layer(backend, tmp_path, ev)
    # the first activity is February's session; January (the anonymous row) does not start it
    assert table(backend, layer.lifecycle("monthly")) == grid(("2024-02-01", 1, 0, 0, 0))
    assert table(backend, layer.lifecycle("any_event")) == grid(
        ("2024-01-01", 1, 0, 0, 0), ("2024-02-01", 0, 1, 0, 0)
    )


def test_new_means_first_activity_ever_also_before_start(backend, tmp_path):
    ev = events(
        (1, "session", "2024-01-10"),
        (1, "session", "2024-02-10"),
        (1, "session", "2024-03-20"),  # after `end`, in the period holding it
        (2, "session", "2024-02-11"),
        (3, "session", "2024-01-15"),
        (3, "session", "2024-03-25"),  # resurrecting in March, only visible in full periods
        (4, "session", "2024-04-01"),
    )
    layer = make_layer(backend, tmp_path, ev)
    full = table(backend, layer.lifecycle("monthly"))
    assert full == grid(
        ("2024-01-01", 2, 0, 0, 0),
        ("2024-02-01", 1, 1, 0, -1),
        ("2024-03-01", 0, 1, 1, -1),
        ("2024-04-01", 1, 0, 0, -2),
    )
    got = table(backend, layer.lifecycle("monthly", start="2024-02-01", end="2024-03-15"))
    # user 1 is returning in February, not new: its first activity is in January; March is
    # reported whole (it overlaps [start, end)), with the activity after `end`
    assert got == full[4:12]
    mid = table(backend, layer.lifecycle("monthly", start="2024-01-31", end="2024-02-01"))
    assert mid == full[:4]  # a bound inside January selects January only
    assert table(backend, layer.lifecycle("monthly", start="2024-04-01")) == full[12:]


def test_bounds_are_bound_values_of_one_compiled_query(backend, tmp_path):
    ev = events((1, "session", "2024-01-10"), (1, "session", "2024-02-10"))
    layer = make_layer(backend, tmp_path, ev)
    first = layer.lifecycle("monthly", start="2024-01-01", end="2024-02-01")
    second = layer.lifecycle("monthly", start="2024-02-01", end="2024-03-01")
    assert not first.cache_hit and second.cache_hit
    assert "values bound as parameters" in second.explain()
    assert nonzero(table(backend, first)) == [("2024-01-01", "new", 1)]
    assert nonzero(table(backend, second)) == [("2024-02-01", "returning", 1)]
    assert layer.lifecycle("weekly").cache_hit is False  # the grain is part of the shape


def test_by_uses_the_value_of_the_first_activity_event(backend, tmp_path):
    ev = events(
        (1, "session", "2024-01-05", "web"),
        (1, "session", "2024-01-05", "ios"),  # tie at the first instant: smallest value
        (1, "session", "2024-02-05", "android"),  # later values do not move the entity
        (2, "session", "2024-02-07", None),
        (2, "session", "2024-02-07", "web"),  # tie: NULL last
        (3, "session", "2024-03-01", None),
    )
    layer = make_layer(backend, tmp_path, ev)
    rows = table(backend, layer.lifecycle("monthly", by="platform"))
    assert nonzero(rows) == [
        ("2024-01-01", "ios", "new", 1),
        ("2024-02-01", "ios", "returning", 1),
        ("2024-02-01", "web", "new", 1),
        ("2024-03-01", "ios", "dormant", -1),
        ("2024-03-01", "web", "dormant", -1),
        ("2024-03-01", None, "new", 1),
    ]
    # each group's rows start at its own first activity, all four statuses per period
    assert [(p, b) for p, b, *_ in rows[::4]] == [
        ("2024-01-01", "ios"),
        ("2024-02-01", "ios"),
        ("2024-02-01", "web"),
        ("2024-03-01", "ios"),
        ("2024-03-01", "web"),
        ("2024-03-01", None),
    ]


def test_by_joined_dimension_groups_add_up_to_the_total(backend, tmp_path):
    ev = events(
        (1, "session", "2024-01-05"),
        (2, "session", "2024-01-06"),
        (3, "session", "2024-02-05"),
        (1, "session", "2024-03-05"),
        (4, "session", "2024-03-06"),  # country NULL
        (7, "session", "2024-03-07"),  # no users row: NULL through the join
    )
    layer = make_layer(backend, tmp_path, ev)
    total = table(backend, layer.lifecycle("monthly"))
    split = table(backend, layer.lifecycle("monthly", by=["users.country"]))
    sums: dict[tuple, int] = {}
    for period, _, status, n in split:
        sums[(period, status)] = sums.get((period, status), 0) + n
    assert sums == {(p, s): n for p, s, n in total}
    assert ("2024-03-01", None, "new", 2) in split


def test_weekly_periods_follow_timezone_and_week_start(backend, tmp_path):
    ev = events(
        (1, "session", "2024-03-03 23:30"),  # Sunday in UTC, Monday 00:30 in Berlin
        (1, "session", "2024-03-05 12:00"),
    )
    utc = make_layer(backend, tmp_path, ev)
    assert nonzero(table(backend, utc.lifecycle("weekly"))) == [
        ("2024-02-26", "new", 1),
        ("2024-03-04", "returning", 1),
    ]
    berlin = make_layer(backend, tmp_path, ev, timezone="Europe/Berlin")
    assert nonzero(table(backend, berlin.lifecycle("weekly"))) == [("2024-03-04", "new", 1)]
    sunday = make_layer(backend, tmp_path, ev, week_start="sunday")
    assert nonzero(table(backend, sunday.lifecycle("weekly"))) == [("2024-03-03", "new", 1)]
    assert nonzero(table(backend, utc.lifecycle("weekly", week_start="sunday"))) == [
        ("2024-03-03", "new", 1)
    ]


def test_grain_overrides_the_retention_period(backend, tmp_path):
    ev = events((1, "session", "2024-01-10 08:00"), (1, "session", "2024-01-10 10:30"))
    layer = make_layer(backend, tmp_path, ev)
    assert table(backend, layer.lifecycle("monthly", grain="hour")) == grid(
        ("2024-01-10 08:00", 1, 0, 0, 0),
        ("2024-01-10 09:00", 0, 0, 0, -1),
        ("2024-01-10 10:00", 0, 0, 1, 0),
    )
    assert table(backend, layer.lifecycle("daily", grain="year")) == grid(
        ("2024-01-01", 1, 0, 0, 0)
    )


@pytest.mark.backends("duckdb")
def test_no_activity_gives_no_rows(backend, tmp_path):
    layer = make_layer(backend, tmp_path, events((1, "signup", "2024-01-10")))
    assert table(backend, layer.lifecycle("monthly")) == []
    assert table(backend, layer.stickiness("monthly")) == []
