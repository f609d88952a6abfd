"""Hand-built funnel cases, one per rule of CONTRACT.md §3 (Funnels), on every backend.

Every case runs through each plan the backend has (ASOF joins and the window formulation on
DuckDB, the window formulation elsewhere; each with the fast plan for disjoint step filters and
the general plan for overlapping ones) and all of them must give the same table.
"""

from __future__ import annotations

from typing import Any

import pytest

from metrics_layer.analysis.funnel import funnel
from tests.backends import assert_frames_equal
from tests.unit.test_funnel_support import events, funnel_yaml, make_layer, orders, table

ABC = funnel_yaml()  # A -> B -> C within 10 seconds


def plans(backend: Any) -> list[dict[str, str]]:
    strategies = ["asof", "window"] if backend.name == "duckdb" else ["window"]
    return [{"strategy": s, "overlap": o} for s in strategies for o in ("auto", "assume")]


def run(backend: Any, layer: Any, name: str = "f", **kw: Any) -> Any:
    """The result table, after checking that every plan gives the same one, and that the
    counts-only plan (times=False) gives the same table without the two time columns."""
    frames = [table(backend, funnel(layer, name, **kw, **p)) for p in plans(backend)]
    counts_only = backend.fetch(funnel(layer, name, **kw, times=False).expr)
    assert list(counts_only.columns) == [
        c for c in frames[0].columns if c not in ("median_seconds", "avg_seconds")
    ]
    keys = [
        c
        for c in frames[0].columns
        if c
        not in (
            "entities",
            "conversion",
            "step_conversion",
            "median_seconds",
            "avg_seconds",
            "step_name",
        )
    ]
    for other in frames[1:]:
        assert_frames_equal(other, frames[0], sort_by=keys)
    assert_frames_equal(
        counts_only, frames[0].drop(columns=["median_seconds", "avg_seconds"]), sort_by=keys
    )
    return frames[0].sort_values(keys).reset_index(drop=True)


def counts(backend: Any, layer: Any, name: str = "f", **kw: Any) -> list[int]:
    return [int(x) for x in run(backend, layer, name, **kw)["entities"]]


def col(df: Any, column: str) -> list[float | None]:
    return [None if v is None or v != v else float(v) for v in df[column]]


# ------------------------------------------------------------------------------ basics
def test_counts_conversions_and_null_entities(backend, tmp_path):
    ev = events(
        (1, "A", 0),
        (1, "B", 2),
        (1, "C", 3),
        (2, "A", 0),
        (2, "B", 5),
        (3, "A", 1),
        (None, "A", 0),
        (None, "B", 1),
        (None, "C", 2),  # anonymous: ignored
        (4, "B", 0),
        (4, "C", 1),
    )  # no step 1: absent
    df = run(backend, make_layer(backend, tmp_path, ev, ABC))
    assert list(df["step"]) == [1, 2, 3]
    assert list(df["step_name"]) == ["a", "b", "c"]
    assert [int(x) for x in df["entities"]] == [3, 2, 1]
    assert col(df, "conversion") == pytest.approx([1.0, 2 / 3, 1 / 3])
    assert col(df, "step_conversion") == pytest.approx([1.0, 2 / 3, 1 / 2])
    assert col(df, "median_seconds") == [None, 3.5, 1.0]
    assert col(df, "avg_seconds") == [None, 3.5, 1.0]


def test_empty_funnel_has_one_row_per_step(backend, tmp_path):
    df = run(backend, make_layer(backend, tmp_path, events((1, "X", 0)), ABC))
    assert [int(x) for x in df["entities"]] == [0, 0, 0]
    assert col(df, "conversion") == [None, None, None]


# ------------------------------------------------------------------------------ ties
def test_equal_timestamps_convert_in_step_order(backend, tmp_path):
    # rows listed (and numbered) against the step order: C, B, A at the same instant
    ev = events((1, "C", 5), (1, "B", 5), (1, "A", 5), (2, "A", 0), (2, "B", 10), (2, "C", 10))
    df = run(backend, make_layer(backend, tmp_path, ev, ABC))
    assert [int(x) for x in df["entities"]] == [2, 2, 2]
    assert col(df, "median_seconds") == [None, 5.0, 0.0]  # zero durations are included
    assert col(df, "avg_seconds") == [None, 5.0, 0.0]


def test_same_event_type_for_two_steps_needs_two_events(backend, tmp_path):
    f = funnel_yaml(steps=("A", "A", "B"))
    ev = events(
        (1, "A", 0),
        (1, "B", 1),  # one A: step 2 never reached
        (2, "A", 0),
        (2, "A", 0),
        (2, "B", 0),  # two A at one instant: both steps
        (3, "A", 0),
        (3, "A", 4),
        (3, "B", 3),
    )  # B before the second A
    layer = make_layer(backend, tmp_path, ev, f)
    assert counts(backend, layer) == [3, 2, 1]


def test_one_event_fills_one_step_with_overlapping_filters(backend, tmp_path):
    f = funnel_yaml(steps=("event_type IN ('A', 'B')", "B", "event_type IN ('B', 'C')"))
    ev = events(
        (1, "B", 0),  # matches all three filters: step 1 only
        (2, "B", 0),
        (2, "B", 0),  # two events: steps 1 and 2
        (3, "A", 0),
        (3, "B", 0),
        (3, "B", 0),  # A, B, B at one instant: all three
        (4, "B", 0),
        (4, "C", 1),
        (4, "B", 2),
    )  # B@0 step 1, B@2 step 2, no C after
    assert counts(backend, make_layer(backend, tmp_path, ev, f)) == [4, 3, 1]


# ------------------------------------------------------------------------------ window
def test_window_boundary_is_inclusive_and_measured_from_step_one(backend, tmp_path):
    ev = events(
        (1, "A", 0),
        (1, "B", 10),  # exactly at the boundary: counts
        (2, "A", 0),
        (2, "B", 11),  # one second late
        (3, "A", 0),
        (3, "B", 6),
        (3, "C", 12),
    )  # C within 10 s of B, not of A
    assert counts(backend, make_layer(backend, tmp_path, ev, ABC)) == [3, 2, 0]


def test_window_override_and_units(backend, tmp_path):
    ev = events((1, "A", 0), (1, "B", 3600), (1, "C", 7200))
    layer = make_layer(backend, tmp_path, ev, ABC)
    assert counts(backend, layer) == [1, 0, 0]
    assert counts(backend, layer, window="1 hour") == [1, 1, 0]
    assert counts(backend, layer, window="2 hours") == [1, 1, 1]
    assert counts(backend, layer, window=7199) == [1, 1, 0]


# ------------------------------------------------------------------------------ attempts
def test_repeated_step_one_where_only_a_later_attempt_converts(backend, tmp_path):
    ev = events((1, "A", 0), (1, "A", 20), (1, "B", 25), (1, "C", 31))
    df = run(backend, make_layer(backend, tmp_path, ev, ABC))
    assert [int(x) for x in df["entities"]] == [1, 1, 0]  # C is 11 s after the second A
    assert col(df, "median_seconds") == [None, 5.0, None]


def test_steps_before_step_one_never_count(backend, tmp_path):
    ev = events(
        (1, "B", 0),
        (1, "A", 1),
        (1, "C", 2),  # B before A
        (2, "C", 0),
        (2, "B", 1),
        (2, "A", 2),
    )
    assert counts(backend, make_layer(backend, tmp_path, ev, ABC)) == [2, 0, 0]


def test_earliest_next_step_is_taken(backend, tmp_path):
    ev = events(
        (1, "A", 0), (1, "B", 3), (1, "C", 4), (1, "B", 5), (2, "A", 0), (2, "C", 1), (2, "B", 2)
    )  # C before B: not after step 2
    df = run(backend, make_layer(backend, tmp_path, ev, ABC))
    assert [int(x) for x in df["entities"]] == [2, 2, 1]
    assert col(df, "median_seconds") == [None, 2.5, 1.0]


def test_counted_attempt_reached_the_furthest_step_first_and_started_last(backend, tmp_path):
    ev = events(
        (1, "A", 0),
        (1, "A", 5),
        (1, "B", 8),  # both attempts reach B at 8: 3 s
        (2, "A", 0),
        (2, "B", 1),
        (2, "A", 100),
        (2, "B", 104),
    )  # first to reach: 1 s
    df = run(backend, make_layer(backend, tmp_path, ev, funnel_yaml(steps=("A", "B"))))
    assert [int(x) for x in df["entities"]] == [2, 2]
    assert col(df, "avg_seconds") == [None, 2.0]


def test_start_and_end_bound_step_one_only(backend, tmp_path):
    ev = events(
        (1, "A", 5),
        (1, "B", 12),
        (1, "C", 14),  # later steps after end: count
        (2, "A", 1),
        (2, "B", 6),  # step 1 before start: absent
        (3, "A", 10),
        (3, "B", 11),
    )  # step 1 at end: excluded
    layer = make_layer(backend, tmp_path, ev, ABC)
    kw = {"start": "2024-01-01 00:00:05", "end": "2024-01-01 00:00:10"}
    assert counts(backend, layer, **kw) == [1, 1, 1]


# ------------------------------------------------------------------------------ orders
def test_strict_order_any_other_event_breaks_the_attempt(backend, tmp_path):
    ev = events(
        (1, "A", 0),
        (1, "X", 1),
        (1, "B", 2),
        (1, "C", 3),  # X between A and B
        (2, "A", 0),
        (2, "X", 2),
        (2, "B", 2),
        (2, "C", 3),  # X at B's instant: ok
        (3, "A", 0),
        (3, "A", 1),
        (3, "B", 2),
        (3, "C", 3),  # the second A converts
        (4, "A", 0),
        (4, "B", 1),
        (4, "B", 2),
        (4, "C", 3),
    )  # B again before C
    layer = make_layer(backend, tmp_path, ev, ABC)
    assert counts(backend, layer) == [4, 4, 4]
    assert counts(backend, layer, order="strict") == [4, 3, 2]


def test_any_order_counts_distinct_steps_in_one_window(backend, tmp_path):
    ev = events(
        (1, "C", 0),
        (1, "A", 1),
        (1, "B", 2),  # all three, out of order
        (2, "B", 0),
        (2, "B", 1),  # one distinct step, twice
        (3, "A", 0),
        (3, "B", 5),
        (3, "C", 20),  # C outside the window
        (None, "A", 0),
    )
    layer = make_layer(backend, tmp_path, ev, ABC)
    df = run(backend, layer, order="any")
    assert [int(x) for x in df["entities"]] == [3, 2, 1]
    assert col(df, "median_seconds") == [None, None, None]
    assert counts(backend, layer) == [2, 2, 0]


def test_any_order_one_event_fills_one_step(backend, tmp_path):
    f = funnel_yaml(steps=("A", "A"), order="any")
    ev = events((1, "A", 0), (2, "A", 0), (2, "A", 3))
    assert counts(backend, make_layer(backend, tmp_path, ev, f)) == [2, 1]


# ------------------------------------------------------------------------------ exclusions
EXCL = funnel_yaml(steps=("A", "B"), exclusions="- {name: x, filter: \"event_type = 'X'\"}")


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([("A", 0), ("X", 1), ("A", 31)], [1, 0]),  # a later clean attempt counts
        ([("A", 0), ("A", 31), ("X", 32)], [1, 0]),  # X outside the first attempt's window
        ([("A", 0), ("A", 1), ("X", 2)], [0, 0]),  # every attempt excluded: entity absent
        ([("A", 0), ("X", 11), ("B", 12)], [1, 0]),  # X after the window does not exclude
        ([("A", 0), ("X", 1), ("B", 2)], [0, 0]),  # X between the steps: absent from both
        ([("A", 0), ("B", 2), ("X", 3)], [1, 1]),  # X after the last step: fine
        ([("A", 0), ("X", 0), ("B", 2)], [1, 1]),  # X at step 1's instant: not between
    ],
    ids=[
        "later-clean",
        "outside-window",
        "all-excluded",
        "after-expiry",
        "between",
        "after-last",
        "at-step-1",
    ],
)
def test_exclusions_posthog_vectors(backend, tmp_path, rows, expected):
    ev = events(*[(1, kind, t) for kind, t in rows])
    assert counts(backend, make_layer(backend, tmp_path, ev, EXCL)) == expected


def test_exclusion_between_named_steps(backend, tmp_path):
    f = funnel_yaml(exclusions="- {name: x, filter: \"event_type = 'X'\", between: [b, c]}")
    ev = events(
        (1, "A", 0),
        (1, "X", 1),
        (1, "B", 2),
        (1, "C", 3),  # X before b: fine
        (2, "A", 0),
        (2, "B", 1),
        (2, "X", 2),
        (2, "C", 3),
    )  # X between b and c
    assert counts(backend, make_layer(backend, tmp_path, ev, f)) == [1, 1, 1]


# ------------------------------------------------------------------------------ sources
def test_step_from_another_source_joined_on_the_entity(backend, tmp_path):
    f = """\
  f:
    source: events
    entity: user_id
    window: 10 seconds
    steps:
      - {name: a, filter: "event_type = 'A'"}
      - {name: paid, source: orders, filter: "amount > 0"}
"""
    ev = events((1, "A", 0), (2, "A", 0), (3, "A", 0))
    paid = orders((1, 5, 10.0), (2, 5, 0.0), (3, 11, 3.0), (None, 1, 1.0))
    layer = make_layer(backend, tmp_path, ev, f, order_rows=paid)
    df = run(backend, layer)
    assert [int(x) for x in df["entities"]] == [3, 1]
    assert list(df["step_name"]) == ["a", "paid"]


# ------------------------------------------------------------------------------ breakdowns
def test_by_uses_first_touch_values(backend, tmp_path):
    ev = events(
        (1, "A", 0, None),
        (1, "B", 1, "IOS"),
        (1, "C", 2, "web"),  # first non-NULL
        (2, "X", 0, "android"),
        (2, "A", 1, "Web"),  # X is no step
        (3, "A", 0, None),
    )  # no value at all
    layer = make_layer(backend, tmp_path, ev, ABC)
    df = run(backend, layer, by="platform")
    got = sorted(
        (r.platform, int(r.step), int(r.entities))
        for r in df.itertuples()
        if r.platform is not None
    )
    assert got == [
        ("ios", 1, 1),
        ("ios", 2, 1),
        ("ios", 3, 1),
        ("web", 1, 1),
        ("web", 2, 0),
        ("web", 3, 0),
    ]
    nulls = [int(r.entities) for r in df.itertuples() if r.platform is None]
    assert nulls == [1, 0, 0]


def test_by_joined_dimension(backend, tmp_path):
    ev = events((1, "A", 0), (1, "B", 1), (2, "A", 0), (3, "A", 0), (3, "B", 4), (4, "A", 0))
    df = run(backend, make_layer(backend, tmp_path, ev, ABC), by=["users.country"])
    got = sorted(((r.country or "-"), int(r.step), int(r.entities)) for r in df.itertuples())
    assert got == [
        ("-", 1, 1),
        ("-", 2, 0),
        ("-", 3, 0),
        ("DE", 1, 2),
        ("DE", 2, 2),
        ("DE", 3, 0),
        ("FR", 1, 1),
        ("FR", 2, 0),
        ("FR", 3, 0),
    ]


# ------------------------------------------------------------------------------ grain
def test_grain_counts_entities_per_period_of_step_one(backend, tmp_path):
    day = 86400
    ev = events(
        (1, "A", 0),
        (1, "B", 5),  # day 1: converted
        (1, "A", day + 1),  # day 2: again, not converted
        (2, "A", day - 5),
        (2, "B", day + 2),  # day 1, converts on day 2
        (3, "A", 2 * day),
    )
    layer = make_layer(backend, tmp_path, ev, funnel_yaml(steps=("A", "B")))
    df = run(backend, layer, grain="day")
    got = [(r.day.strftime("%m-%d"), int(r.step), int(r.entities)) for r in df.itertuples()]
    assert got == [
        ("01-01", 1, 2),
        ("01-01", 2, 2),
        ("01-02", 1, 1),
        ("01-02", 2, 0),
        ("01-03", 1, 1),
        ("01-03", 2, 0),
    ]
    one = run(backend, layer, start="2024-01-02", end="2024-01-03")
    assert [int(x) for x in one["entities"]] == [1, 0]  # = the 01-02 rows of the grain view
