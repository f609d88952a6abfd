"""A plain-Python funnel, written from the text of CONTRACT.md §3 (Funnels) and docs/funnels.md,
used as the reference of the property tests; plus checks of the reference itself.

It enumerates attempts per entity literally (no cleverness): every step-1 event in range
starts an attempt; step k+1 is the first row, in the order (time, steps matched as a bit mask),
at or after step k's time that matches step k+1 and that the attempt has not used; it counts
when within `window` of step 1 (and, for strict order, when no row of the entity lies strictly
between the two times). Exclusions, counted attempts, first-touch values and grains follow the
documented rules.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Row:
    """One event: entity (None = anonymous), time in seconds, steps (1-based) and exclusions
    (0-based indexes) it matches, a breakdown value and the local period of its time."""

    entity: Any
    t: float
    steps: frozenset[int]
    excl: frozenset[int] = frozenset()
    value: Any = None
    period: Any = None
    hold: Any = None  # the held value (one held dimension; None = NULL)

    @property
    def mask(self) -> int:
        return sum(1 << (k - 1) for k in self.steps)


@dataclass
class Spec:
    n: int
    window: float
    order: str = "sequential"
    exclusions: Sequence[tuple[int, int]] = ()  # (lo, hi), 1-based steps, per exclusion index
    start: float | None = None
    end: float | None = None
    grain: Callable[[Row], Any] | None = None  # period of a step-1 row
    by: bool = False
    within: Sequence[float | None] = ()  # per step (index k-1): seconds after the previous
    hold: bool = False  # every step shares step 1's `hold` value (NULL equals nothing)

    def bound(self, k: int) -> float | None:
        return self.within[k - 1] if k - 1 < len(self.within) else None

    def same(self, a: Row, b: Row) -> bool:
        return not self.hold or (a.hold is not None and a.hold == b.hold)


@dataclass
class Attempt:
    times: list[float]
    depth: int
    start_row: Row
    clean: bool = True
    key_extra: list[float] = field(default_factory=list)


def _in_range(r: Row, spec: Spec) -> bool:
    return (spec.start is None or r.t >= spec.start) and (spec.end is None or r.t < spec.end)


def sequential_attempts(rows: list[Row], spec: Spec) -> list[Attempt]:
    """Attempts of one entity (rows of that entity only)."""
    order = sorted(range(len(rows)), key=lambda i: (rows[i].t, rows[i].mask))
    out = []
    for i in order:
        r0 = rows[i]
        if 1 not in r0.steps or not _in_range(r0, spec):
            continue
        used, times = {i}, [r0.t]
        for k in range(2, spec.n + 1):
            nxt = next(
                (
                    j
                    for j in order
                    if k in rows[j].steps
                    and rows[j].t >= times[-1]
                    and j not in used
                    and spec.same(r0, rows[j])
                ),
                None,
            )
            if nxt is None or rows[nxt].t - r0.t > spec.window:
                break
            bound = spec.bound(k)
            if bound is not None and rows[nxt].t - times[-1] > bound:
                break  # the earliest match breaks its bound: the attempt stops
            if spec.order == "strict" and any(times[-1] < r.t < rows[nxt].t for r in rows):
                break
            used.add(nxt)
            times.append(rows[nxt].t)
        att = Attempt(times, len(times), r0)
        for m, (lo, hi) in enumerate(spec.exclusions):
            if att.depth < lo:
                continue
            t_lo = times[lo - 1]
            t_hi = times[hi - 1] if att.depth >= hi else float("inf")
            if any(m in r.excl and t_lo < r.t < t_hi and r.t - r0.t <= spec.window for r in rows):
                att.clean = False
        out.append(att)
    return out


def _matching(rows: list[Row], n: int) -> int:
    """Maximum matching of steps 1..n to distinct rows (augmenting paths)."""
    owner: dict[int, int] = {}

    def augment(step: int, seen: set[int]) -> bool:
        for j, r in enumerate(rows):
            if step in r.steps and j not in seen:
                seen.add(j)
                if j not in owner or augment(owner[j], seen):
                    owner[j] = step
                    return True
        return False

    return sum(1 for step in range(1, n + 1) if augment(step, set()))


def any_attempts(rows: list[Row], spec: Spec) -> list[Attempt]:
    steps_rows = [r for r in rows if r.steps]
    out = []
    for a in steps_rows:
        if not _in_range(a, spec):
            continue
        inside = [r for r in steps_rows if a.t <= r.t <= a.t + spec.window and spec.same(a, r)]
        if spec.hold and a.hold is None:
            inside = [a]
        if any(w is not None for w in spec.within):
            depth = _bounded(inside, spec)
        else:
            depth = _matching(inside, spec.n)
        out.append(Attempt([a.t], depth, a))
    return out


def _bounded(inside: list[Row], spec: Spec) -> int:
    """Order 'any' with `within` (disjoint steps): steps in the order first done (ties in step
    order); each must be within its bound of the step done just before it; stop at the first
    that is not."""
    first: dict[int, float] = {}
    for r in inside:
        for k in r.steps:
            first[k] = min(first.get(k, r.t), r.t)
    done = sorted((t, k) for k, t in first.items())
    depth = 0
    for i, (t, k) in enumerate(done):
        bound = spec.bound(k)
        if i and bound is not None and t - done[i - 1][0] > bound:
            break
        depth += 1
    return depth


def _best(attempts: list[Attempt]) -> Attempt:
    """Deepest; then reached its last step first; then started last (then later middle steps)."""
    return min(attempts, key=lambda a: (-a.depth, a.times[-1], *[-t for t in a.times[:-1]]))


def first_touch(rows: list[Row], spec: Spec) -> Any:
    lo = spec.start
    hi = None if spec.end is None else spec.end + spec.window
    cands = [
        r
        for r in rows
        if r.steps
        and r.value is not None
        and (lo is None or r.t >= lo)
        and (hi is None or r.t < hi)
    ]
    if not cands:
        return None
    t0 = min(r.t for r in cands)
    return min(r.value for r in cands if r.t == t0)


def funnel(rows: list[Row], spec: Spec) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    """{(period?, value?): [one dict per step: entities, median_seconds, avg_seconds]}."""
    per_entity: dict[Any, list[Row]] = {}
    for r in rows:
        if r.entity is not None:
            per_entity.setdefault(r.entity, []).append(r)
    groups: dict[tuple[Any, ...], list[Attempt]] = {}
    for ev in per_entity.values():
        attempts = any_attempts(ev, spec) if spec.order == "any" else sequential_attempts(ev, spec)
        clean = [a for a in attempts if a.clean]
        by_period: dict[Any, list[Attempt]] = {}
        for a in clean:
            by_period.setdefault(spec.grain(a.start_row) if spec.grain else None, []).append(a)
        value = first_touch(ev, spec) if spec.by else None
        for period, atts in by_period.items():
            key = tuple(x for x, used in ((period, spec.grain), (value, spec.by)) if used)
            groups.setdefault(key, []).append(_best(atts))
    out = {}
    for key, best in groups.items():
        steps = []
        for k in range(1, spec.n + 1):
            reached = [a for a in best if a.depth >= k]
            secs = [
                a.times[k - 1] - a.times[k - 2] for a in reached if k >= 2 and spec.order != "any"
            ]
            steps.append(
                {
                    "entities": len(reached),
                    "median_seconds": statistics.median(secs) if secs else None,
                    "avg_seconds": statistics.fmean(secs) if secs else None,
                }
            )
        out[key] = steps
    return out


def counts(rows: list[Row], spec: Spec) -> list[int]:
    """Entities per step of the ungrouped funnel."""
    res = funnel(rows, spec).get((), None)
    return [s["entities"] for s in res] if res else [0] * spec.n


# ----------------------------------------------------------------------------- self-checks
def _rows(
    *events: tuple[Any, float, Sequence[int]] | tuple[Any, float, Sequence[int], Sequence[int]],
) -> list[Row]:
    out = []
    for e in events:
        excl = frozenset(e[3]) if len(e) > 3 else frozenset()
        out.append(Row(e[0], e[1], frozenset(e[2]), excl))
    return out


def test_oracle_posthog_exclusion_vectors():
    """PostHog's test vectors (semantics.md §1.7): window 10 s, exclusion between steps 1 and 2."""
    spec = Spec(n=2, window=10, exclusions=[(1, 2)])
    assert counts(_rows((1, 0, [1]), (1, 1, [], [0]), (1, 31, [1])), spec) == [1, 0]
    assert counts(_rows((1, 0, [1]), (1, 31, [1]), (1, 32, [], [0])), spec) == [1, 0]
    assert counts(_rows((1, 0, [1]), (1, 1, [1]), (1, 2, [], [0])), spec) == [0, 0]
    assert counts(_rows((1, 0, [1]), (1, 11, [], [0]), (1, 12, [2])), spec) == [1, 0]


def test_oracle_same_event_type_twice_needs_two_events():
    spec = Spec(n=2, window=10)
    assert counts(_rows((1, 0, [1, 2])), spec) == [1, 0]
    assert counts(_rows((1, 0, [1, 2]), (1, 0, [1, 2])), spec) == [1, 1]


def test_oracle_any_order_counts_distinct_steps_by_distinct_events():
    spec = Spec(n=3, window=10, order="any")
    assert counts(_rows((1, 5, [3]), (1, 6, [1]), (1, 30, [2])), spec) == [1, 1, 0]
    assert counts(_rows((1, 0, [1, 2]), (1, 1, [1, 2])), spec) == [1, 1, 0]
