"""Counts-only funnels whose attempts without a step 2 skip the later joins
(`funnel_sequential.sets_aside`): hand-built entities at each depth, against the timed plan.

The counts must be those of the full plan (`run` also compares every plan of the backend);
the cases put attempts with and without a step 2 in one entity, so an entity counted only
through its set-aside attempts, or twice, would show.
"""

from __future__ import annotations

from metrics_layer.analysis.funnel import build_query, funnel
from metrics_layer.analysis.funnel_sequential import sets_aside
from tests.unit.test_funnel_semantics import counts
from tests.unit.test_funnel_support import events, funnel_yaml, make_layer

ABCD = ("A", "B", "C", "D")


def _fast(backend, layer, **kw) -> list[int]:
    res = funnel(layer, "f", times=False, **kw)
    return [int(x) for x in backend.fetch(res.expr).sort_values("step")["entities"]]


def test_set_aside_attempts_keep_every_depth(backend, tmp_path):
    ev = events(
        (1, "A", 0),  # 1: only step 1
        (2, "A", 0),
        (2, "B", 11),  # 2: B after the window -> depth 1
        (3, "A", 0),
        (3, "B", 2),  # 3: depth 2 (no C)
        (4, "A", 0),
        (4, "B", 1),
        (4, "C", 2),
        (4, "A", 20),  # 4: depth 3, and a later attempt with no step 2
        (5, "A", 0),
        (5, "A", 30),
        (5, "B", 31),
        (5, "C", 32),
        (5, "D", 33),  # 5: the first attempt has no step 2, the second reaches D
        (6, "A", 0),
        (6, "B", 1),
        (6, "C", 2),
        (6, "D", 20),  # 6: D after the window -> depth 3
    )
    layer = make_layer(backend, tmp_path, ev, funnel_yaml(steps=ABCD))
    expected = [6, 4, 3, 1]
    assert counts(backend, layer) == expected
    assert _fast(backend, layer) == expected


def test_no_attempt_finds_a_step_2(backend, tmp_path):
    ev = events((1, "A", 0), (2, "A", 0), (2, "C", 1), (3, "B", 0))
    layer = make_layer(backend, tmp_path, ev, funnel_yaml(steps=ABCD))
    assert counts(backend, layer) == [2, 0, 0, 0]
    assert _fast(backend, layer) == [2, 0, 0, 0]


def test_which_funnels_set_attempts_aside(backend, tmp_path):
    """Counts only, pruning pass, 3+ steps, ASOF plan (DuckDB's default); not with times, a
    grain, strict order, exclusions, two steps or the window plan."""
    text = (
        funnel_yaml(steps=ABCD)
        + funnel_yaml(name="g", steps=("A", "B"))
        + funnel_yaml(
            name="x",
            steps=ABCD,
            exclusions="- {name: x, filter: \"event_type = 'X'\", between: [b, c]}",
        )
    )
    layer = make_layer(backend, tmp_path, events((1, "A", 0)), text)

    def q(name="f", **kw):
        args = dict(by=None, start=None, end=None, order=None, window=None, grain=None)
        args.update({"strategy": None, **kw})
        return build_query(layer, name, **args)

    assert sets_aside(q(times=False)) == (backend.name == "duckdb")
    assert not sets_aside(q())  # the times read every attempt
    assert not sets_aside(q(times=False, strategy="window"))
    assert not sets_aside(q(times=False, grain="day"))
    assert not sets_aside(q(times=False, order="strict"))
    assert not sets_aside(q("x", times=False))  # an exclusion reads the attempt's times
    assert not sets_aside(q("g", times=False))  # two steps: no later join to skip
