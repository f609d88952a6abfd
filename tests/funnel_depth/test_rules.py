"""Per-step `within` and `hold` (CONTRACT.md §12): hand-built cases at every boundary.

Every case runs through every plan the backend has (ASOF joins and the window formulation,
each with the fast plan and the general plan for overlapping step filters forced) and the
counts-only plan; they must all agree (tests/unit/test_funnel_semantics.py `run`). These tests
use the `backend` fixture, so they are also the conformance cases of PostgreSQL and PySpark.
"""

from __future__ import annotations

import pytest

from metrics_layer.analysis.funnel import funnel
from tests.unit.test_funnel_semantics import col, counts, run
from tests.unit.test_funnel_support import events, funnel_yaml, make_layer, table


def disjoint_counts(backend, layer, **kw) -> list[int]:
    """Counts of order 'any' with `within`, which has one plan (no forced overlap plan)."""
    full = table(backend, funnel(layer, "f", **kw))
    fast = backend.fetch(funnel(layer, "f", times=False, **kw).expr)
    assert list(fast["entities"]) == list(full["entities"])
    return [int(x) for x in full.sort_values("step")["entities"]]


def abc(
    window: str = "1 hour",
    within_b: str | None = None,
    within_c: str | None = None,
    order: str | None = None,
    extra: str = "",
) -> str:
    """A -> B -> C with optional `within` on B and C."""
    text = funnel_yaml(window=window, order=order, extra=extra)
    for step, bound in (("b", within_b), ("c", within_c)):
        if bound:
            text = text.replace(
                f"{{name: {step}, filter: \"event_type = '{step.upper()}'\"}}",
                f"{{name: {step}, filter: \"event_type = '{step.upper()}'\", within: {bound}}}",
            )
    return text


# ------------------------------------------------------------------------------ within
def test_step_exactly_within_counts_one_microsecond_more_does_not(backend, tmp_path):
    ev = events(
        (1, "A", 0),
        (1, "B", 10),  # exactly 10 s after A
        (2, "A", 0),
        (2, "B", 10.000001),  # 1 µs more
        (3, "A", 0),
        (3, "B", 5),
        (3, "C", 15),  # exactly 10 s after B (20 s after A: only the window of 1 hour)
        (4, "A", 0),
        (4, "B", 5),
        (4, "C", 15.000001),
    )
    layer = make_layer(backend, tmp_path, ev, abc(within_b="10 seconds", within_c="10 seconds"))
    assert counts(backend, layer) == [4, 3, 1]


def test_within_is_besides_the_window(backend, tmp_path):
    # B within 100 s of A but the funnel window (10 s from step 1) is the tighter bound
    ev = events((1, "A", 0), (1, "B", 11), (2, "A", 0), (2, "B", 10))
    layer = make_layer(backend, tmp_path, ev, abc(window="10 seconds", within_b="100 seconds"))
    assert counts(backend, layer) == [2, 1, 0]


def test_earliest_match_breaks_within_and_the_attempt_stops(backend, tmp_path):
    # The earliest B after A is at 5 s; C at 30 s is 25 s after it (within 20 s fails). A later
    # B (at 12 s) would be near enough, but step 2 is the earliest match: the attempt stops.
    ev = events((1, "A", 0), (1, "B", 5), (1, "B", 12), (1, "C", 30))
    layer = make_layer(backend, tmp_path, ev, abc(within_c="20 seconds"))
    assert counts(backend, layer) == [1, 1, 0]
    # a second step-1 event after the first B starts an attempt that finds the later B
    ev2 = events((1, "A", 0), (1, "B", 5), (1, "A", 11), (1, "B", 12), (1, "C", 30))
    layer2 = make_layer(backend, tmp_path, ev2, abc(within_c="20 seconds"))
    df = run(backend, layer2)
    assert [int(x) for x in df["entities"]] == [1, 1, 1]
    assert col(df, "median_seconds") == [None, 1.0, 18.0]  # the counted attempt starts at 11 s


def test_within_fails_on_a_middle_step_stops_later_steps(backend, tmp_path):
    # B breaks its bound: C, though it comes soon after B, is not reached
    ev = events((1, "A", 0), (1, "B", 50), (1, "C", 51))
    layer = make_layer(backend, tmp_path, ev, abc(within_b="30 seconds"))
    df = run(backend, layer)
    assert [int(x) for x in df["entities"]] == [1, 0, 0]
    assert col(df, "step_conversion") == [1.0, 0.0, None]


def test_within_with_strict_order(backend, tmp_path):
    ev = events(
        (1, "A", 0),
        (1, "B", 5),
        (1, "C", 9),  # within 5 s of B: reached
        (2, "A", 0),
        (2, "B", 5),
        (2, "C", 11),  # 6 s: fails
        (3, "A", 0),
        (3, "D", 1),
        (3, "B", 2),  # D between breaks strict order
    )
    layer = make_layer(backend, tmp_path, ev, abc(within_c="5 seconds", order="strict"))
    assert counts(backend, layer) == [3, 2, 1]


def test_within_and_exclusions(backend, tmp_path):
    # X between A and C excludes the attempt; the clean later attempt must meet C's bound
    x = "- {name: x, filter: \"event_type = 'X'\", between: [a, c]}"
    text = abc(within_c="10 seconds").rstrip("\n") + "\n    exclusions:\n      " + x + "\n"
    ev = events(
        (1, "A", 0),
        (1, "X", 1),
        (1, "B", 2),
        (1, "C", 5),  # tainted: user 1 absent
        (2, "A", 0),
        (2, "B", 2),
        (2, "C", 20),  # clean, C 18 s after B: stops at B
        (3, "A", 0),
        (3, "B", 2),
        (3, "C", 12),  # clean, C exactly 10 s after B
        (4, "A", 0),
        (4, "B", 2),
        (4, "C", 13),
        (4, "X", 14),  # C breaks its bound: see below
    )
    layer = make_layer(backend, tmp_path, ev, text)
    # user 4: C is 11 s after B, so the attempt stops at B and never reaches C; the X at 14 s
    # then lies after A, before the (missing) C and within the window: excluded
    assert counts(backend, layer) == [2, 2, 1]


def test_within_in_any_order_previous_is_the_step_done_before(backend, tmp_path):
    # order any: steps in the order first done in the window; C's bound is measured from the
    # step done just before it, whichever that is
    ev = events(
        (1, "C", 0),
        (1, "A", 3),
        (1, "B", 50),  # C first: no previous, A then B (unbounded)
        (2, "A", 0),
        (2, "B", 40),
        (2, "C", 45),  # C 5 s after B: within 10 s
        (3, "A", 0),
        (3, "C", 11),
        (3, "B", 12),  # from A: C 11 s after A stops it at 1;
        # the attempt anchored at C (11 s) does C then B: user 3 reaches 2
        (4, "B", 0),
        (4, "A", 0),
        (4, "C", 10),  # tie A/B at 0 (A first by step order); C 10 s
    )
    layer = make_layer(backend, tmp_path, ev, abc(within_c="10 seconds", order="any"))
    assert disjoint_counts(backend, layer) == [4, 4, 3]
    assert disjoint_counts(backend, layer, within={"c": None}) == [4, 4, 4]


def test_any_order_within_needs_disjoint_steps(backend, tmp_path):
    from metrics_layer.errors import QueryError

    text = funnel_yaml(steps=("A", "event_type IN ('A', 'B')"), order="any")
    layer = make_layer(backend, tmp_path, events((1, "A", 0)), text)
    with pytest.raises(QueryError, match="within"):
        layer.funnel("f", within={"event_typeinab": "1 minute"})


def test_within_per_call_overrides_and_removes(backend, tmp_path):
    ev = events((1, "A", 0), (1, "B", 20), (1, "C", 25))
    layer = make_layer(backend, tmp_path, ev, abc(within_b="10 seconds"))
    assert counts(backend, layer) == [1, 0, 0]
    assert counts(backend, layer, within={"b": None}) == [1, 1, 1]
    assert counts(backend, layer, within={"b": "20 seconds", "c": "4 seconds"}) == [1, 1, 0]


# ------------------------------------------------------------------------------ hold
HOLD = "hold: [platform]"


def test_hold_value_that_changes_mid_attempt(backend, tmp_path):
    ev = events(
        (1, "A", 0, "web"),
        (1, "B", 1, "ios"),
        (1, "B", 2, "web"),
        (1, "C", 3, "ios"),
        (2, "A", 0, "web"),
        (2, "B", 1, "ios"),
        (2, "C", 2, "ios"),  # never B on web
    )
    layer = make_layer(backend, tmp_path, ev, funnel_yaml(extra=HOLD))
    df = run(backend, layer)
    assert [int(x) for x in df["entities"]] == [2, 1, 0]
    assert col(df, "median_seconds") == [None, 2.0, None]  # B on web, not the earlier B on ios
    # without hold the earliest B and C count
    assert counts(backend, layer, hold=[]) == [2, 2, 2]


def test_hold_starts_a_new_attempt_on_each_value(backend, tmp_path):
    ev = events((1, "A", 0, "web"), (1, "A", 1, "ios"), (1, "B", 2, "ios"), (1, "C", 3, "web"))
    layer = make_layer(backend, tmp_path, ev, funnel_yaml(extra=HOLD))
    assert counts(backend, layer) == [1, 1, 0]


def test_null_hold_values_equal_nothing(backend, tmp_path):
    ev = events(
        (1, "A", 0, None),
        (1, "B", 1, None),
        (1, "C", 2, None),  # NULL step 1: stays at 1
        (2, "A", 0, "web"),
        (2, "B", 1, None),
        (2, "B", 2, "web"),
        (2, "C", 3, None),
        (3, "A", 0, None),
        (3, "A", 1, "web"),
        (3, "B", 2, "web"),
    )
    layer = make_layer(backend, tmp_path, ev, funnel_yaml(extra=HOLD))
    assert counts(backend, layer) == [3, 2, 0]


def test_hold_in_strict_order_other_values_still_break(backend, tmp_path):
    # strict: any other event of the entity between two steps breaks, whatever its value
    ev = events((1, "A", 0, "web"), (1, "B", 1, "ios"), (1, "B", 2, "web"))
    layer = make_layer(backend, tmp_path, ev, funnel_yaml(order="strict", extra=HOLD))
    assert counts(backend, layer) == [1, 0, 0]


def test_hold_in_any_order(backend, tmp_path):
    ev = events(
        (1, "B", 0, "web"),
        (1, "A", 1, "ios"),
        (1, "C", 2, "web"),  # web: B, C
        (2, "C", 0, None),
        (2, "A", 1, None),
        (2, "B", 2, "web"),  # NULLs count alone
    )
    layer = make_layer(backend, tmp_path, ev, funnel_yaml(order="any", extra=HOLD))
    assert counts(backend, layer) == [2, 1, 0]


def test_hold_with_within_and_repeated_step_filters(backend, tmp_path):
    # A -> A -> B: the second A must share step 1's value and be within 5 s of it
    text = funnel_yaml(steps=("A", "A", "B"), extra=HOLD).replace(
        "{name: a2, filter: \"event_type = 'A'\"}",
        "{name: a2, filter: \"event_type = 'A'\", within: 5 seconds}",
    )
    ev = events(
        (1, "A", 0, "web"),
        (1, "A", 1, "ios"),
        (1, "A", 5, "web"),
        (1, "B", 6, "web"),
        (2, "A", 0, "web"),
        (2, "A", 6, "web"),
        (2, "B", 7, "web"),  # 6 s: too late
    )
    layer = make_layer(backend, tmp_path, ev, text)
    # user 2: from A at 0 the second A (6 s) breaks 5 s; from A at 6 there is no later A
    assert counts(backend, layer) == [2, 1, 1]
    ev2 = events((3, "A", 0, "web"), (3, "A", 1, "ios"), (3, "A", 7, "web"), (3, "B", 8, "web"))
    layer2 = make_layer(backend, tmp_path, ev2, text)
    # attempt at 0: next web A at 7 s breaks 5 s; the attempt at 7 s has no later web A
    assert counts(backend, layer2) == [1, 0, 0]


def test_step_conversion_of_step_one_is_one_even_when_empty(backend, tmp_path):
    layer = make_layer(backend, tmp_path, events((1, "B", 0)), funnel_yaml(extra=HOLD))
    df = run(backend, layer)
    assert [int(x) for x in df["entities"]] == [0, 0, 0]
    assert col(df, "step_conversion")[0] == 1.0
