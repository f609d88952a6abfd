"""The resolved form of a funnel request: what the compiler needs, every name already checked.

A `FunnelQuery` is built by analysis/funnel.py from a `funnels:` definition plus the
arguments of `layer.funnel(...)`; the compiler modules only read it. `explain()` prints the
computation in words (what `Result.explain()` shows).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from metrics_layer.grain import Grain
from metrics_layer.registry import FieldRef

ORDERS = ("sequential", "strict", "any")
STRATEGIES = ("asof", "window")
TIME_COLUMNS = ("median_seconds", "avg_seconds")
RESULT_COLUMNS = ("step", "step_name", "entities", "conversion", "step_conversion", *TIME_COLUMNS)


@dataclass(frozen=True)
class EventKind:
    """A step or an exclusion: rows of `source` matching `filter`, keyed by entity and time."""

    name: str
    source: str
    entity: str  # expression text on `source`
    time: str  # column (or expression) text on `source`
    filter: str  # expression text on `source`
    main: bool  # True when `source` is the funnel's own source
    path: tuple[str | int, ...] = ()  # where it is defined, e.g. ("steps", 2)


@dataclass(frozen=True)
class Exclusion:
    """An exclusion kind between steps `lo` and `hi` (1-based, lo < hi)."""

    kind: EventKind
    lo: int
    hi: int


@dataclass(frozen=True)
class FunnelQuery:
    """A funnel definition with the query's choices applied."""

    name: str
    source: str
    entity: str
    time: str
    steps: tuple[EventKind, ...]
    exclusions: tuple[Exclusion, ...]
    window: str  # the duration text, for explain()
    window_seconds: int
    order: str
    by: tuple[tuple[str, str], ...]  # (output column, dimension reference)
    by_refs: tuple[tuple[str, FieldRef], ...]
    start: _dt.datetime | None  # naive wall-clock time in `timezone`
    end: _dt.datetime | None
    grain: str | None
    timezone: str
    backend: str
    strategy: str  # "asof" | "window"
    disjoint: bool  # no event can match two steps (fast path)
    overlap_groups: tuple[tuple[int, ...], ...]  # steps (1-based) whose filters may overlap
    week_start: int = 0  # 0 = Monday … 6 = Sunday, for grain="week"

    @property
    def period(self) -> Grain | None:
        """The grain of step 1's period, its weeks starting on the call's week start."""
        return Grain.of(self.grain, self.week_start) if self.grain else None

    exclusive: bool = False  # window_boundary: exclusive (a step at exactly `window` fails)
    times: bool = True  # median_seconds / avg_seconds computed (else counts only)
    # per step (index k-1): seconds its event may lie after the previous step's, or None
    within: tuple[int | None, ...] = ()
    within_text: tuple[str | None, ...] = ()  # the duration texts, for explain()
    # dimensions every step shares with step 1: (reference, source -> resolved ref per part)
    hold: tuple[str, ...] = ()

    def within_us(self, k: int) -> int | None:
        """Step k's bound on the time from the previous step, in microseconds (inclusive)."""
        if k - 1 >= len(self.within) or self.within[k - 1] is None:
            return None
        return int(self.within[k - 1] or 0) * 1_000_000

    @property
    def has_within(self) -> bool:
        return any(w is not None for w in self.within)

    @property
    def n_steps(self) -> int:
        return len(self.steps)

    @property
    def window_us(self) -> int:
        # times are microseconds on every backend: `<= window - 1 µs` is `< window`
        return self.window_seconds * 1_000_000 - (1 if self.exclusive else 0)

    @property
    def step_names(self) -> list[str]:
        return [s.name for s in self.steps]

    def explain(self) -> str:
        """The computation in words."""
        bounds = ", ".join(
            f"{k} {'>=' if k == 'start' else '<'} {v:%Y-%m-%d %H:%M:%S}"
            for k, v in (("start", self.start), ("end", self.end))
            if v
        )
        lines = [
            f"funnel {self.name!r} on source {self.source!r} ({self.order} order), "
            f"window {self.window} = {self.window_seconds} s from each attempt's step 1 "
            f"(boundary {'exclusive' if self.exclusive else 'inclusive'})",
            f"  entity: {self.entity} (rows with a NULL entity ignored); time: {self.time}",
        ]
        for i, s in enumerate(self.steps, 1):
            where = "" if s.main else f" [source {s.source}, entity {s.entity}, time {s.time}]"
            text = self.within_text[i - 1] if i - 1 < len(self.within_text) else None
            bound = f", within {text} of the previous step (inclusive)" if text else ""
            lines.append(f"  step {i} {s.name}: {s.filter}{where}{bound}")
        if self.hold:
            lines.append(
                "  hold: every step has step 1's values of "
                + ", ".join(self.hold)
                + " (a NULL value equals nothing: such an attempt stops at step 1)"
            )
        for x in self.exclusions:
            lines.append(
                f"  exclusion {x.kind.name}: {x.kind.filter}, strictly between step "
                f"{x.lo} and step {x.hi} of an attempt, within its window"
            )
        lines.append(
            "  attempts: every step-1 event"
            + (f" with {bounds}" if bounds else "")
            + "; later steps may fall after end, within the window"
        )
        if self.order == "any":
            lines.append(
                "  depth of an attempt: distinct steps done by distinct events in "
                "[its first event, + window]"
            )
            if self.has_within:
                lines.append(
                    "  steps taken in the order first done (ties in step order); a step's "
                    "within is measured from the step done before it; the attempt stops at "
                    "the first step that breaks it"
                )
        else:
            lines.append(
                "  step k+1: earliest matching event at or after step k (ties allowed; "
                "one event fills one step)"
                + (
                    "; no other event of the entity strictly between steps"
                    if self.order == "strict"
                    else ""
                )
            )
            plan = (
                "one ASOF join per step"
                if self.strategy == "asof"
                else "one window pass (union + running minimum) per step"
            )
            ties = (
                "step filters are disjoint"
                if self.disjoint
                else "step filters may overlap: rows ordered by (time, steps matched), "
                "used rows skipped"
            )
            lines.append(f"  plan: {plan}; {ties}")
        lines.append(
            "  entity counted once, at its furthest step over its clean attempts"
            + (f", per {self.period.describe()} of step 1" if self.period else "")
            + ("" if self.times else " (counts only: times=False, no median/avg seconds)")
        )
        if self.by:
            lines.append(
                "  by (first-touch: earliest funnel event with a non-NULL value): "
                + ", ".join(r for _, r in self.by)
            )
        return "\n".join(lines)
