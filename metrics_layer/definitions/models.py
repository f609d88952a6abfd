"""Pydantic models of the definition files: the declarative vocabulary of metrics_layer.

Models are strict (`extra="forbid"`) so a misspelt key is an error naming the field, not a
silently ignored setting. Cross-references (a ratio naming a measure, a join naming a source)
are checked later by the registry, which sees all files at once.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from metrics_layer.checks.models import CheckItem, TrailingWindow
from metrics_layer.definitions.access import Access as Access
from metrics_layer.definitions.access import Policy as Policy
from metrics_layer.definitions.base import Name as Name
from metrics_layer.definitions.base import Strict as Strict
from metrics_layer.definitions.base import check_by_names, checked_expression
from metrics_layer.definitions.columns import Columns
from metrics_layer.definitions.conversion import Conversion
from metrics_layer.definitions.durations import parse_duration, parse_offset
from metrics_layer.definitions.experiments import Experiment
from metrics_layer.definitions.funnels import Funnel as Funnel
from metrics_layer.definitions.funnels import FunnelExclusion as FunnelExclusion
from metrics_layer.definitions.funnels import FunnelStep as FunnelStep
from metrics_layer.definitions.materializations import Materialization
from metrics_layer.definitions.tables import split_table
from metrics_layer.errors import FieldProblem
from metrics_layer.grain import GRAIN_NAMES

Grain = Literal["hour", "day", "week", "month", "quarter", "year"]
FiscalGrain = Literal["fiscal_week", "fiscal_month", "fiscal_quarter", "fiscal_year"]
GRAINS: tuple[str, ...] = GRAIN_NAMES
Aggregation = Literal["count", "count_distinct", "sum", "avg", "min", "max", "median", "percentile"]
AGGREGATIONS: tuple[str, ...] = (
    "count",
    "count_distinct",
    "sum",
    "avg",
    "min",
    "max",
    "median",
    "percentile",
)


class Dimension(Strict):
    expr: str | None = None
    type: Literal["string", "number", "boolean", "time", "date"] | None = None
    label: str | None = None
    description: str | None = None
    pii: bool = False  # masked on restricted layers unless a policy unmasks it (docs/service.md)


class NonAdditive(Strict):
    """Semi-additive measure: take the first/last snapshot of the period per entity."""

    dimension: str = "time"
    window: Literal["first", "last"] = "last"
    groupings: list[str] = Field(default_factory=list)


class Measure(Strict):
    agg: Aggregation
    expr: str | None = None
    filter: str | None = None
    p: float | None = Field(default=None, gt=0, lt=1)
    time: str | None = None
    non_additive: NonAdditive | None = None
    label: str | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _check_agg(self) -> Measure:
        if self.agg == "percentile" and self.p is None:
            raise FieldProblem(
                "p", "agg 'percentile' needs p (a fraction between 0 and 1, e.g. p: 0.9)"
            )
        if self.agg != "percentile" and self.p is not None:
            raise FieldProblem("p", f"p is only used by agg 'percentile', not {self.agg!r}")
        if self.agg not in ("count",) and self.expr is None:
            raise FieldProblem(
                "expr", f"agg {self.agg!r} needs expr (the column or expression to aggregate)"
            )
        return self


class Join(Strict):
    keys: str | list[str] | dict[str, str]
    source: str | None = None
    relationship: Literal["many_to_one", "one_to_one", "one_to_many"] = "many_to_one"
    description: str | None = None

    @field_validator("keys")
    @classmethod
    def _some_keys(cls, v: str | list[str] | dict[str, str]) -> str | list[str] | dict[str, str]:
        # no key columns would silently become a cross join
        if not v or (isinstance(v, str) and not v.strip()):
            raise ValueError(
                "a join needs at least one key column (keys: user_id, "
                "keys: [a, b] or keys: {left_col: right_col})"
            )
        return v

    def key_pairs(self) -> list[tuple[str, str]]:
        """(left column, right column) pairs of the join condition."""
        if isinstance(self.keys, str):
            return [(self.keys, self.keys)]
        if isinstance(self.keys, list):
            return [(k, k) for k in self.keys]
        return list(self.keys.items())


class Scd(Strict):
    key: str | list[str]
    valid_from: str
    valid_to: str


class Retail(Strict):
    """A retail (4-4-5 / 4-5-4 / 5-4-4) fiscal calendar: rules in metrics_layer/retail.py."""

    pattern: Literal["4-4-5", "4-5-4", "5-4-4"] = "4-5-4"
    year_end_month: int = Field(default=1, ge=1, le=12)
    weekday: str = "saturday"
    rule: Literal["nearest", "last"] = "nearest"
    year_label: Literal["start", "end"] = "start"

    @field_validator("weekday")
    @classmethod
    def _weekday(cls, value: str) -> str:
        from metrics_layer.grain import WEEKDAYS, weekday_number

        return WEEKDAYS[weekday_number(value)]  # a GrainError is a ValueError: a field error

    def rules(self) -> Any:
        """The pure calendar rules (metrics_layer.retail.RetailCalendar)."""
        from metrics_layer.retail import RetailCalendar

        return RetailCalendar(
            self.pattern, self.year_end_month, self.weekday, self.rule, self.year_label
        )


class Calendar(Strict):
    """A generated date dimension (time spine): one row per day in [start, end)."""

    start: date
    end: date
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)
    holidays: list[date] = Field(default_factory=list)
    retail: Retail | None = None

    @model_validator(mode="after")
    def _range(self) -> Calendar:
        if self.end <= self.start:
            raise ValueError("calendar end must be after start")
        if (self.end - self.start).days > 200 * 366:
            raise ValueError("calendar spans more than 200 years")
        return self


class Source(Strict):
    table: str | None = None
    calendar: Calendar | None = None
    database: str | None = None
    time: str | None = None
    primary_key: str | list[str] | None = None
    columns: Columns  # declared column types: SQL without a connection (definitions/columns.py)
    dimensions: dict[Name, Dimension] = Field(default_factory=dict)
    measures: dict[Name, Measure] = Field(default_factory=dict)
    joins: dict[Name, Join] = Field(default_factory=dict)
    checks: list[CheckItem] = Field(default_factory=list)
    scd: Scd | None = None
    label: str | None = None
    description: str | None = None
    owner: str | None = None

    _catalog_table = model_validator(mode="before")(split_table)

    @field_validator("dimensions", mode="before")
    @classmethod
    def _empty_dimensions(cls, v: Any) -> Any:
        # `country: {}` and a bare `country:` (None) both mean "the column of that name".
        if isinstance(v, dict):
            return {k: ({} if d is None else d) for k, d in v.items()}
        return v


class Anomaly(TrailingWindow):
    """A metric value far from its trailing window (robust z-score by default; docs/checks.md)."""


class Reconcile(Strict):
    """This metric equals another metric, or an expression of metrics, within a tolerance."""

    metric: str | None = None
    expr: str | None = None
    tolerance: float = Field(default=0.0, ge=0)
    relative: bool = True

    @model_validator(mode="after")
    def _one_target(self) -> Reconcile:
        if (self.metric is None) == (self.expr is None):
            raise ValueError(
                "reconcile takes metric (a metric name) or expr (an expression of metrics), not both"
            )
        return self

    @property
    def target(self) -> str:
        return self.metric or self.expr or ""


class Validation(Strict):
    """Rules on a metric's values at a grain (checked by `layer.check`, see docs/checks.md)."""

    min: float | None = None
    max: float | None = None
    not_null: bool = False
    max_change: float | None = Field(default=None, ge=0)
    change: Literal["relative", "absolute"] = "relative"
    anomaly: Anomaly | None = None
    reconcile: Reconcile | list[Reconcile] | None = None
    by: list[str] = Field(default_factory=list)
    grain: Grain | None = None
    severity: Literal["error", "warn"] = "error"

    @field_validator("by", mode="before")
    @classmethod
    def _one_by(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _check_bounds(self) -> Validation:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self

    @property
    def reconciles(self) -> list[Reconcile]:
        if self.reconcile is None:
            return []
        return list(self.reconcile) if isinstance(self.reconcile, list) else [self.reconcile]


MetricType = Literal["simple", "ratio", "derived", "cumulative", "offset", "share", "conversion"]


class Metric(Strict):
    type: MetricType | None = None
    measure: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    expr: str | None = None
    filter: str | None = None
    metric: str | None = None
    window: str | None = None
    grain_to_date: Grain | FiscalGrain | None = None
    offset: str | None = None
    # an offset metric: the value at the start of the period of this grain holding P
    # (MetricFlow's offset_to_grain; docs/modeling.md), instead of `offset`
    offset_to_grain: Grain | None = None
    share_of: list[str] | None = None
    grains: list[Grain] | None = None
    format: Literal["number", "percent", "currency", "integer", "duration"] | None = None
    label: str | None = None
    description: str | None = None
    owner: str | None = None
    validation: Validation | None = None
    aliases: list[Name] = Field(default_factory=list)  # former names (interchange/aliases.py)
    deprecated: str | None = None  # why not to use it; queries warn with this reason
    # a cumulative metric at a grain coarser than day: the first / last / mean daily value
    # of the period (MetricFlow's period_agg; interchange/period_agg.py). Default: last.
    period_agg: Literal["first", "last", "average"] | None = None
    # per-metric fill (MetricFlow's options; interchange/fill.py): NULL values of this metric
    # become fill_nulls_with; join_to_timespine gives it every period of the query's range
    fill_nulls_with: float | None = None
    join_to_timespine: bool = False
    # a conversion metric: conversion events matched to earlier base events (conversion.py)
    conversion: Conversion | None = None

    @model_validator(mode="after")
    def _period_agg_on_cumulative(self) -> Metric:
        if self.period_agg is not None and self.kind != "cumulative":
            raise FieldProblem(
                "period_agg", f"period_agg applies to cumulative metrics, not {self.kind}"
            )
        return self

    @model_validator(mode="after")
    def _check_shape(self) -> Metric:
        kind = self.kind
        need: dict[str, tuple[str, ...]] = {
            "simple": ("measure",),
            "ratio": ("numerator", "denominator"),
            "derived": ("expr",),
            "cumulative": ("measure",),
            "offset": ("metric", "offset"),
            "share": ("metric", "share_of"),
            "conversion": ("conversion",),
        }
        if kind == "offset" and self.offset_to_grain is not None:
            if self.offset is not None:
                raise FieldProblem(
                    "offset_to_grain", "an offset metric takes offset or offset_to_grain, not both"
                )
            need["offset"] = ("metric", "offset_to_grain")
        missing = [f for f in need[kind] if getattr(self, f) is None]
        if missing:
            raise FieldProblem(missing[0], f"{kind} metric needs {' and '.join(missing)}")
        allowed = (
            set(need[kind]) | {"filter"}
            if kind in ("simple", "cumulative", "conversion")
            else set(need[kind])
        )
        allowed |= {"window", "grain_to_date"} if kind == "cumulative" else set()
        for f in (
            "measure",
            "numerator",
            "denominator",
            "expr",
            "metric",
            "window",
            "grain_to_date",
            "offset",
            "offset_to_grain",
            "filter",
            "share_of",
            "conversion",
        ):
            if getattr(self, f) is not None and f not in allowed:
                raise FieldProblem(
                    f,
                    f"field {f!r} does not apply to a {kind} metric "
                    f"(it takes {', '.join(sorted(allowed))})",
                )
        if kind == "cumulative" and self.window and self.grain_to_date:
            raise FieldProblem(
                "grain_to_date", "a cumulative metric takes window or grain_to_date, not both"
            )
        for f in ("window", "offset"):
            if getattr(self, f) is not None:
                try:
                    (parse_duration if f == "window" else parse_offset)(getattr(self, f))
                except ValueError as exc:
                    raise FieldProblem(f, str(exc)) from None
        return self

    @property
    def kind(self) -> str:
        """The metric type, inferred from its fields when `type` is omitted."""
        if self.type:
            return self.type
        if self.conversion is not None:
            return "conversion"
        if self.numerator is not None or self.denominator is not None:
            return "ratio"
        if self.expr is not None:
            return "derived"
        if self.share_of is not None:
            return "share"
        if self.metric is not None or self.offset is not None or self.offset_to_grain is not None:
            return "offset"
        if self.window is not None or self.grain_to_date is not None:
            return "cumulative"
        return "simple"


class Retention(Strict):
    """Cohort retention: entities entering on a cohort event, returning with an activity event.

    `entity`, `cohort` and `activity` are expressions over the source's columns; they are
    parsed here so a broken filter fails at load time at its own line. Names are checked
    against the other definitions and the schema in analysis/retention_defs.py.
    """

    source: str
    entity: str
    cohort: str
    activity: str
    period: Literal["day", "week", "month", "quarter"] | FiscalGrain = "month"
    by: list[str] = Field(default_factory=list)
    cohort_type: Literal["first_time", "recurring"] = "first_time"
    time: str | None = None
    label: str | None = None
    description: str | None = None
    owner: str | None = None

    @field_validator("entity", "cohort", "activity", "time")
    @classmethod
    def _parses(cls, v: str | None, info: Any) -> str | None:
        return checked_expression(v, f"retention {info.field_name}")

    @field_validator("by")
    @classmethod
    def _by_names(cls, v: list[str]) -> list[str]:
        return check_by_names(v, "country")


class Project(Strict):
    """One definition file (or the merge of all of them)."""

    version: Literal[1] = 1
    sources: dict[Name, Source] = Field(default_factory=dict)
    metrics: dict[Name, Metric] = Field(default_factory=dict)
    retention: dict[Name, Retention] = Field(default_factory=dict)
    funnels: dict[Name, Funnel] = Field(default_factory=dict)
    experiments: dict[Name, Experiment] = Field(default_factory=dict)
    materializations: dict[Name, Materialization] = Field(default_factory=dict)
    access: Access = Field(default_factory=Access)
