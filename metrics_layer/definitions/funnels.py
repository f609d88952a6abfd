"""Pydantic models of `funnels:` definitions (windowFunnel semantics; docs/funnels.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from metrics_layer.definitions.base import Name, Strict, check_by_names, checked_expression
from metrics_layer.definitions.durations import duration_seconds
from metrics_layer.errors import FieldProblem, suggest


def _parse_funnel_expression(value: str | None, what: str) -> str | None:
    """Funnel expressions are parsed at load so a broken filter fails at its own line."""
    return checked_expression(value, what)


class FunnelStep(Strict):
    """One step: events matching `filter`; from the funnel's source unless `source` names another.

    A step from another source is joined on the entity: `entity` (default: the funnel's entity
    expression) and `time` (default: that source's time) are read on that source.
    """

    name: Name
    filter: str
    source: str | None = None
    entity: str | None = None
    time: str | None = None
    label: str | None = None
    # at most this long after the previous step's event (inclusive), besides the window
    within: str | None = None

    @field_validator("filter", "entity", "time")
    @classmethod
    def _parses(cls, v: str | None, info: Any) -> str | None:
        return _parse_funnel_expression(v, f"funnel step {info.field_name}")

    @field_validator("within")
    @classmethod
    def _within(cls, v: str | None) -> str | None:
        if v is not None and duration_seconds(v) <= 0:
            raise ValueError(f"within {v!r} must be longer than 0 seconds")
        return v


class FunnelExclusion(Strict):
    """Events of the funnel's source that disqualify an attempt when they fall between two of
    its steps. `between: [from_step, to_step]` names steps (default: the first and the last).
    """

    name: Name
    filter: str
    between: tuple[str, str] | None = None

    @field_validator("filter")
    @classmethod
    def _parses(cls, v: str, info: Any) -> str | None:
        return _parse_funnel_expression(v, f"funnel exclusion {info.field_name}")


class Funnel(Strict):
    """An ordered conversion funnel (windowFunnel semantics; docs/funnels.md).

    Names are checked against the sources and the schema in analysis/funnel_defs.py; the checks
    here need only the definition itself.
    """

    source: str
    entity: str
    window: str = "14 days"
    steps: list[FunnelStep] = Field(min_length=2)
    order: Literal["sequential", "strict", "any"] = "sequential"
    # exclusive: a step exactly `window` after step 1 does not count (MetricFlow's conversions)
    window_boundary: Literal["inclusive", "exclusive"] = "inclusive"
    exclusions: list[FunnelExclusion] = Field(default_factory=list)
    by: list[str] = Field(default_factory=list)
    # dimensions every step of an attempt shares with its step 1 (NULL equals nothing)
    hold: list[str] = Field(default_factory=list)
    time: str | None = None
    label: str | None = None
    description: str | None = None
    owner: str | None = None

    @field_validator("window")
    @classmethod
    def _window(cls, v: str) -> str:
        if duration_seconds(v) <= 0:
            raise ValueError(f"window {v!r} must be longer than 0 seconds")
        return v

    @field_validator("entity", "time")
    @classmethod
    def _parses(cls, v: str | None, info: Any) -> str | None:
        return _parse_funnel_expression(v, f"funnel {info.field_name}")

    @field_validator("by")
    @classmethod
    def _by_names(cls, v: list[str]) -> list[str]:
        return check_by_names(v, "platform")

    @field_validator("hold")
    @classmethod
    def _hold_names(cls, v: list[str]) -> list[str]:
        try:
            return check_by_names(v, "platform")
        except ValueError as exc:
            raise ValueError(f"hold: {exc}".replace("hold: by ", "hold: ")) from None

    @model_validator(mode="after")
    def _names(self) -> Funnel:
        steps = [s.name for s in self.steps]
        for i, name in enumerate(steps):
            if name in steps[:i]:
                raise FieldProblem("steps", f"step name {name!r} is used twice (steps {steps})")
        seen: list[str] = []
        for x in self.exclusions:
            if x.name in steps or x.name in seen:
                raise FieldProblem(
                    "exclusions",
                    f"exclusion name {x.name!r} is already used by a step or another exclusion",
                )
            seen.append(x.name)
            if x.between is None:
                continue
            for name in x.between:
                if name not in steps:
                    raise FieldProblem(
                        "exclusions",
                        f"exclusion {x.name!r}: between names unknown "
                        f"step {name!r}{suggest(name, steps)}; steps: {steps}",
                    )
            lo, hi = (steps.index(n) for n in x.between)
            if lo >= hi:
                raise FieldProblem(
                    "exclusions",
                    f"exclusion {x.name!r}: between {list(x.between)} "
                    "must name an earlier step, then a later one",
                )
        return self
