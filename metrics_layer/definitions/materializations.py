"""The `materializations:` model: metrics stored per period and by-values (CONTRACT.md §8).

Only what the definition itself can tell is checked here (durations, batch size, repeated
names); whether each metric can be stored exactly at the grain is decided against the whole
registry in materialize/shape.py, at load.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from metrics_layer.definitions.durations import parse_duration

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class Materialization(BaseModel):
    """One stored table of metrics at a grain, kept current by incremental runs."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    metrics: list[str] = Field(min_length=1)
    by: list[str] = Field(default_factory=list)
    grain: str
    table: str
    database: str | None = None
    db_schema: str | None = Field(default=None, alias="schema")
    lookback: str = "0 days"
    batch: int = Field(default=1, ge=1)  # periods replaced per transaction
    max_lag: str | None = None  # freshness: how old the watermark may be
    description: str | None = None
    owner: str | None = None

    @field_validator("grain")
    @classmethod
    def _grain(cls, v: str) -> str:
        from metrics_layer.grain import Grain

        return Grain.of(v).name  # GrainError (a ValueError) suggests the closest grain

    @field_validator("table", "database", "db_schema")
    @classmethod
    def _identifier(cls, v: str | None) -> str | None:
        if v is not None and not _IDENT.match(v):
            raise ValueError(f"{v!r} is not a plain identifier (letters, digits, _)")
        return v

    @field_validator("lookback", "max_lag")
    @classmethod
    def _duration(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v)  # ValueError names the accepted forms
        return v

    @field_validator("metrics", "by")
    @classmethod
    def _distinct(cls, v: list[str], info: object) -> list[str]:
        for i, name in enumerate(v):
            if not _PATH.match(name):
                raise ValueError(f"{name!r} is not a name (e.g. revenue or users.country)")
            if name in v[:i]:
                raise ValueError(f"{name!r} is listed twice")
        return v
