"""The `experiments:` model: an A/B test read out on registry metrics (CONTRACT.md §7).

Only what the definition itself can tell is checked here (durations, weights, a control arm
among the weights); names are checked against the other definitions in
analysis/experiment_defs.py, which sees the whole registry.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from metrics_layer.definitions.durations import duration_seconds
from metrics_layer.errors import FieldProblem, suggest

WEIGHT_TOLERANCE = 1e-6


def check_duration(value: str, what: str) -> str:
    """A fixed, positive length ('14 days'); months count 31 days, quarters and years refused."""
    seconds = duration_seconds(value)  # ValueError names the accepted forms
    if seconds <= 0:
        raise ValueError(f"{what} {value!r} must be longer than 0 seconds")
    return value


class Cuped(BaseModel):
    """CUPED variance reduction: the covariate is the same metric over `lookback` before exposure."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lookback: str

    @field_validator("lookback")
    @classmethod
    def _lookback(cls, v: str) -> str:
        return check_duration(v, "lookback")


class Experiment(BaseModel):
    """One experiment: exposures of entities to arms, and the metrics to compare between arms."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    entity: str
    variant: str
    time: str | None = None
    control: str
    weights: dict[str, float] | None = None
    metrics: list[str] = Field(min_length=1)
    window: str | None = None
    cuped: Cuped | None = None
    label: str | None = None
    description: str | None = None
    owner: str | None = None

    @field_validator("window")
    @classmethod
    def _window(cls, v: str | None) -> str | None:
        return None if v is None else check_duration(v, "window")

    @field_validator("metrics")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        for i, name in enumerate(v):
            if name in v[:i]:
                raise ValueError(f"metric {name!r} is listed twice")
        return v

    @field_validator("weights", mode="before")
    @classmethod
    def _arm_names(cls, v: Any) -> Any:
        # YAML reads arms such as `on`, `1` or `true` as booleans and numbers; arms are text
        if isinstance(v, dict):
            return {str(k).lower() if isinstance(k, bool) else str(k): w for k, w in v.items()}
        return v

    @model_validator(mode="after")
    def _check_weights(self) -> Experiment:
        if self.weights is None:
            return self
        if len(self.weights) < 2:
            raise FieldProblem("weights", "weights need at least two arms (control and one more)")
        for arm, w in self.weights.items():
            if not math.isfinite(w) or w < 0:
                raise FieldProblem("weights", f"weight of arm {arm!r} must be >= 0, got {w!r}")
        total = sum(self.weights.values())
        if abs(total - 1) > WEIGHT_TOLERANCE:
            raise FieldProblem(
                "weights", f"weights must sum to 1, they sum to {total:g}: {self.weights}"
            )
        if self.control not in self.weights:
            raise FieldProblem(
                "control",
                f"control arm {self.control!r} is not among the weights' arms "
                f"{list(self.weights)}{suggest(self.control, self.weights)}",
            )
        if self.weights[self.control] <= 0:
            raise FieldProblem("weights", f"control arm {self.control!r} has weight 0")
        return self
