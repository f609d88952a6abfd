"""The `conversion:` block of a conversion metric (MetricFlow's conversion metrics).

A conversion metric compares base events (visits) with the conversion events (buys) of the
same entity that follow them: each conversion event counts for the latest base event of its
entity at or before it, within `window` (strict at the window's end), and the metric is the
conversion measure over those events (`conversions`) or that divided by the base measure
(`conversion_rate`), reported at the base event's time and dimensions. The rule is spelled
out in docs/metrics.md; names are checked against the sources by the registry.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from metrics_layer.definitions.base import Strict
from metrics_layer.definitions.durations import parse_duration


class Pair(Strict):
    """One property as named on the base source and on the conversion source."""

    base: str = Field(description="Column or dimension of the base measure's source.")
    conversion: str = Field(description="Column or dimension of the conversion measure's source.")


class Conversion(Strict):
    """Base measure, conversion measure and how conversion events are matched to base events."""

    base: str = Field(
        description="`source.measure` of the base events, e.g. visits.visits (the denominator)."
    )
    conversion: str = Field(
        description="`source.measure` aggregated over the conversion events matched to base events."
    )
    entity: str | Pair = Field(
        description="The entity a conversion belongs to: a column or dimension of both sources, "
        "or {base: ..., conversion: ...} when it is named differently."
    )
    window: str | None = Field(
        default=None,
        description="A conversion counts when it is less than this long after the base event "
        "(e.g. `7 days`); without a window, any time after it.",
    )
    calculation: Literal["conversion_rate", "conversions"] = Field(
        default="conversion_rate",
        description="conversion_rate (conversions / base measure) or conversions.",
    )
    time_grain: Literal["hour", "day", "week", "month", "quarter", "year"] | None = Field(
        default=None,
        description="Compare the two events' times truncated to this grain (MetricFlow "
        "compares them at its time dimension's granularity, e.g. day).",
    )
    constant_properties: list[Pair] = Field(
        default_factory=list,
        description="Properties the conversion event must share with its base event "
        "(e.g. the product).",
    )

    @field_validator("entity", mode="before")
    @classmethod
    def _entity(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError("entity must name a column or dimension of both sources")
        return value

    @field_validator("constant_properties", mode="before")
    @classmethod
    def _same_name(cls, value: Any) -> Any:
        """A bare name stands for the same name on both sides (`constant_properties: [product]`)."""
        if isinstance(value, list):
            return [{"base": v, "conversion": v} if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _window(self) -> Conversion:
        from metrics_layer.errors import FieldProblem

        if self.window is not None:
            try:
                parse_duration(self.window)
            except ValueError as exc:
                raise FieldProblem("window", str(exc)) from None
        return self

    @property
    def entities(self) -> Pair:
        """The entity as (base name, conversion name)."""
        if isinstance(self.entity, Pair):
            return self.entity
        return Pair(base=self.entity, conversion=self.entity)
