"""Typed declarations of source data checks (the `checks:` list of a source).

Each item of the list is a one-key mapping naming the check (`- unique: [event_id]`), plus the
optional common keys `severity` and `where`. Items are validated here so a misspelt check or
field is a located DefinitionError at load time, not a surprise when the checks run.

This module imports nothing from `metrics_layer.definitions` at import time: the definition
models import it (for `Source.checks` and the trailing-window settings of `Anomaly`).
"""

from __future__ import annotations

import datetime as _dt
import difflib
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

Severity = Literal["error", "warn"]
GrainName = Literal["hour", "day", "week", "month", "quarter", "year"]
# A range bound: a number, a date/timestamp (YAML dates parse to date), or 'now' / 'as_of'.
Bound = int | float | _dt.datetime | _dt.date | str


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _names(v: Any) -> Any:
    """`not_null: ts` is shorthand for `not_null: [ts]`."""
    return [v] if isinstance(v, str) else v


Names = Annotated[list[str], BeforeValidator(_names), Field(min_length=1)]


class TrailingWindow(_Strict):
    """How a value is compared with the periods before it (metric anomalies, source volume).

    The reference is the last `window` periods (with `seasonality: k`, the periods k, 2k, ...
    before it, e.g. the same weekday at day grain). `mad` is a robust z-score (median and
    1.4826 × median absolute deviation), `zscore` the classic mean / sample standard deviation.
    """

    window: int = Field(default=8, ge=2)
    threshold: float = Field(default=3.0, gt=0)
    method: Literal["mad", "zscore"] = "mad"
    seasonality: int | None = Field(default=None, ge=1)
    min_periods: int | None = Field(default=None, ge=2)
    direction: Literal["both", "up", "down"] = "both"

    @model_validator(mode="after")
    def _check_min_periods(self) -> TrailingWindow:
        if self.min_periods is not None and self.min_periods > self.window:
            raise ValueError(
                f"min_periods ({self.min_periods}) cannot exceed window ({self.window})"
            )
        return self

    @property
    def needed(self) -> int:
        """Reference periods with a value needed before a period is judged."""
        return self.min_periods or self.window


class _Check(_Strict):
    severity: Severity = "error"
    where: str | None = None

    kind: ClassVar[str] = ""

    @property
    def label(self) -> str:
        """The rule name shown in reports, e.g. `unique(event_id)`."""
        return self.kind


class NotNull(_Check):
    kind: ClassVar[str] = "not_null"
    not_null: Names


class Unique(_Check):
    """The combination of the listed columns identifies a row (rows with a NULL key are skipped)."""

    kind: ClassVar[str] = "unique"
    unique: Names

    @property
    def label(self) -> str:
        return f"unique({', '.join(self.unique)})"


class AcceptedValuesSpec(_Strict):
    column: str
    values: Annotated[list[bool | int | float | str], Field(min_length=1)]


class AcceptedValues(_Check):
    kind: ClassVar[str] = "accepted_values"
    accepted_values: AcceptedValuesSpec

    @property
    def label(self) -> str:
        return f"accepted_values({self.accepted_values.column})"


class RangeSpec(_Strict):
    column: str
    min: Bound | None = None
    max: Bound | None = None

    @field_validator("min", "max")
    @classmethod
    def _bound(cls, v: Any) -> Any:
        if isinstance(v, str) and v not in ("now", "as_of"):
            try:
                return _dt.datetime.fromisoformat(v.strip())
            except ValueError:
                raise ValueError(
                    f"invalid bound {v!r}: use a number, a date (2024-01-01), a timestamp, "
                    "'now' or 'as_of'"
                ) from None
        return v

    @model_validator(mode="after")
    def _need_bound(self) -> RangeSpec:
        if self.min is None and self.max is None:
            raise ValueError("a range check needs min, max or both")
        return self


class Range(_Check):
    kind: ClassVar[str] = "range"
    range: RangeSpec

    @property
    def label(self) -> str:
        return f"range({self.range.column})"


class Relationships(_Check):
    """Every non-NULL join key of the named join roles exists in the joined source."""

    kind: ClassVar[str] = "relationships"
    relationships: Names


class FreshnessSpec(_Strict):
    max_age: str
    column: str | None = None

    @field_validator("max_age")
    @classmethod
    def _age(cls, v: str) -> str:
        freshness_limit(v)
        return v


class Freshness(_Check):
    kind: ClassVar[str] = "freshness"
    freshness: FreshnessSpec

    @property
    def label(self) -> str:
        return "freshness" + (f"({self.freshness.column})" if self.freshness.column else "")


class Columns(_Check):
    """Required columns, with an optional type each (`int`, `decimal`, `timestamp`, `decimal(12,2)`...)."""

    kind: ClassVar[str] = "columns"
    columns: dict[str, str | None]

    @field_validator("columns", mode="before")
    @classmethod
    def _list_form(cls, v: Any) -> Any:
        if isinstance(v, list):
            return {str(c): None for c in v}
        return v

    @model_validator(mode="after")
    def _no_where(self) -> Columns:
        if self.where:
            raise ValueError("`where` does not apply to a columns check")
        return self


class VolumeSpec(TrailingWindow):
    grain: GrainName = "day"
    column: str | None = None


class Volume(_Check):
    kind: ClassVar[str] = "volume"
    volume: VolumeSpec

    @property
    def label(self) -> str:
        return f"volume({self.volume.grain})"


class ScdValidity(_Check):
    """SCD Type 2 versions of each key are contiguous: no overlap, no gap, valid_from < valid_to."""

    kind: ClassVar[str] = "scd_validity"
    scd_validity: Literal[True] = True


CHECK_TYPES: dict[str, type[_Check]] = {
    "not_null": NotNull,
    "unique": Unique,
    "accepted_values": AcceptedValues,
    "range": Range,
    "relationships": Relationships,
    "freshness": Freshness,
    "columns": Columns,
    "volume": Volume,
    "scd_validity": ScdValidity,
}
COMMON_KEYS = ("severity", "where")


def _tag(item: Any) -> str | None:
    if isinstance(item, dict):
        found = [k for k in item if k in CHECK_TYPES]
        return found[0] if len(found) == 1 else None
    if isinstance(item, _Check):
        return item.kind
    return None


def _check_item(item: Any) -> Any:
    """Friendly errors for the shape of an item: which check, which keys (before pydantic)."""
    if isinstance(item, _Check):
        return item
    known = ", ".join(CHECK_TYPES)
    if isinstance(item, str):
        raise ValueError(
            f"a check is a mapping such as `- {item}: ...`, got the text {item!r}; checks: {known}"
        )
    if not isinstance(item, dict):
        raise ValueError(f"a check is a mapping with one of: {known}")
    kinds = [k for k in item if k in CHECK_TYPES]
    others = [k for k in item if k not in CHECK_TYPES and k not in COMMON_KEYS]
    if len(kinds) > 1:
        raise ValueError(
            f"one check per list item, got {' and '.join(kinds)}: write them as separate items"
        )
    if not kinds:
        name = str(others[0]) if others else ""
        close = difflib.get_close_matches(name, list(CHECK_TYPES), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown check {name!r}{hint}; checks: {known}")
    if others:
        raise ValueError(
            f"unknown key {others[0]!r} in a {kinds[0]} check; an item takes the check and "
            f"optionally {' and '.join(COMMON_KEYS)}"
            + (
                " (the check's own settings go inside it, e.g. `range: {column: x, min: 0}`)"
                if kinds[0] in ("range", "accepted_values", "freshness", "volume")
                else ""
            )
        )
    try:
        return CHECK_TYPES[kinds[0]].model_validate(item)
    except ValidationError as exc:
        raise ValueError(_explain(kinds[0], exc)) from None


def _explain(kind: str, exc: ValidationError) -> str:
    """The first pydantic error of a check as one sentence naming the check and field."""
    err = exc.errors(include_url=False)[0]
    loc = [str(p) for p in err["loc"]]
    where = ".".join(loc) or kind
    model: type[BaseModel] = CHECK_TYPES[kind]
    for part in loc[:-1]:  # the model holding the offending field, for suggestions
        field = model.model_fields.get(part)
        sub = getattr(field, "annotation", None) if field else None
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            model = sub
    known = [f for f in model.model_fields if f not in COMMON_KEYS or model is CHECK_TYPES[kind]]
    if err["type"] == "missing":
        return f"{kind} check: missing required field {where!r}"
    if err["type"] == "extra_forbidden":
        close = difflib.get_close_matches(loc[-1], known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else f"; fields: {', '.join(known)}"
        return f"{kind} check: unknown field {where!r}{hint}"
    msg = str(err["msg"]).removeprefix("Value error, ").replace("Input should be", "expected")
    return f"{kind} check: {where}: {msg}"


if TYPE_CHECKING:  # the union below is built at run time, so type checkers see the base
    SourceCheck = _Check
else:
    SourceCheck = Annotated[
        Union[tuple(Annotated[cls, Tag(name)] for name, cls in CHECK_TYPES.items())],  # noqa: UP007
        Discriminator(_tag),
    ]


# The type of one item of `Source.checks`: shape errors first, then the typed check.
CheckItem = Annotated[SourceCheck, BeforeValidator(_check_item)]


def freshness_limit(text: str) -> _dt.timedelta:
    """A max_age such as '2 days' or '6 hours' as a timedelta (a month is 31 days)."""
    from metrics_layer.definitions.durations import duration_seconds

    return _dt.timedelta(seconds=duration_seconds(text))
