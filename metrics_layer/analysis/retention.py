"""Cohort retention: `layer.retention(name, ...)` (semantics in CONTRACT.md §3, docs/retention.md).

This module turns a `retention:` definition plus the query's arguments into a checked
RetentionQuery; retention_compile builds the single ibis expression, retention_result wraps it
with the shapes notebook users want (pivot triangle, average curve, plots).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from metrics_layer.analysis.retention_compile import compile_retention, result_columns
from metrics_layer.analysis.retention_defs import check_retention, time_field
from metrics_layer.analysis.retention_options import (
    RetentionValue,
    label,
    value_measure,
)
from metrics_layer.analysis.retention_options import (
    brackets as check_brackets,
)
from metrics_layer.analysis.retention_options import (
    period_mode as check_period_mode,
)
from metrics_layer.analysis.retention_result import RetentionResult
from metrics_layer.compile.fiscal import Fiscal, FiscalPeriod
from metrics_layer.compile.timegrain import grain_of, parse_bound
from metrics_layer.engine import shape_of
from metrics_layer.errors import QueryError, guarded, suggest, unknown
from metrics_layer.grain import WEEKDAYS, Grain
from metrics_layer.planner import validate
from metrics_layer.planner.validate import output_names
from metrics_layer.registry import FieldRef
from metrics_layer.retail import find_retail, is_fiscal

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from metrics_layer.layer import Layer

MODES = ("exact", "rolling")
COHORT_TYPES = ("first_time", "recurring")


@dataclass(frozen=True)
class RetentionQuery:
    """A retention definition with the query's choices applied, every name resolved."""

    name: str
    source: str
    entity: str
    cohort: str
    activity: str
    time: str
    time_ref: FieldRef
    period: Grain | FiscalPeriod  # weeks start on the call's week start
    cohort_type: str
    mode: str
    periods: int | None
    by: tuple[tuple[str, str], ...]  # (output column, dimension reference)
    by_refs: tuple[tuple[str, FieldRef], ...]  # (output column, resolved field)
    start: _dt.datetime | None
    end: _dt.datetime | None
    as_of: _dt.datetime | None
    timezone: str
    period_mode: str = "calendar"
    brackets: tuple[tuple[int, int], ...] | None = None  # inclusive (lo, hi) period ranges
    value: RetentionValue | None = None

    def explain(self) -> str:
        """The computation in words (what `Result.explain()` prints)."""
        first = (
            "its FIRST cohort event over all time"
            if self.cohort_type == "first_time"
            else "its first cohort event of every period with one (recurring)"
        )
        bounds = ", ".join(
            f"{k} {'>=' if k == 'start' else '<'} {v:%Y-%m-%d %H:%M:%S}"
            for k, v in (("start", self.start), ("end", self.end))
            if v
        )
        lines = [
            f"retention {self.name!r} on source {self.source!r}, {self.period}ly cohorts "
            f"in {self.timezone}"
            + (
                f", weeks starting {WEEKDAYS[self.period.week_start]}"
                if self.period.week_start
                else ""
            ),
            f"  entity: {self.entity} (rows with a NULL entity ignored)",
            f"  cohort event: {self.cohort}; entry = {first}"
            + (f"; entry bounded by {bounds}" if bounds else ""),
            f"  activity event: {self.activity}, counted at or after entry",
            (
                f"  period k = {self.period} of the activity - {self.period} of entry; "
                if self.period_mode == "calendar"
                else f"  period k = whole elapsed {self.period}s from the entry instant "
                "(since_entry, 24-hour days); "
            )
            + ("active at k" if self.mode == "exact" else "active at k or later (rolling)"),
            "  periods: "
            + (
                "brackets " + ", ".join(label(lo, hi) for lo, hi in self.brackets)
                if self.brackets
                else "all observed"
                if self.periods is None
                else f"k = 0..{self.periods - 1}"
            ),
            "  end of observation: "
            + (
                f"as_of {self.as_of:%Y-%m-%d %H:%M:%S}"
                if self.as_of
                else f"latest {self.time} of any {self.source!r} row"
            ),
            "  plan: entries = cohort events grouped per entity; activity = distinct (entity, "
            "period) sets; one join on the entity; counts on a zero-filled cohort x period grid",
        ]
        if self.value is not None:
            lines.insert(
                -1,
                f"  value: {self.value.measure} ({self.value.agg}) over the cohort's rows at or "
                "after entry per period; value_retention = value / value of period 0",
            )
        if self.by:
            lines.insert(3, "  by (values of the entry event): " + ", ".join(r for _, r in self.by))
        return "\n".join(lines)


def retention(
    layer: Layer,
    name: str,
    periods: int | None = 12,
    by: str | Sequence[str] | None = None,
    mode: str = "exact",
    cohort_type: str | None = None,
    start: Any = None,
    end: Any = None,
    as_of: Any = None,
    timezone: Any = None,
    week_start: Any = None,
    period_mode: str = "calendar",
    brackets: Any = None,
    value: str | None = None,
) -> RetentionResult:
    """Cohort retention of the definition `name` as a lazy RetentionResult (one ibis expression)."""
    q = build_query(
        layer,
        name,
        periods=periods,
        by=by,
        mode=mode,
        cohort_type=cohort_type,
        start=start,
        end=end,
        as_of=as_of,
        timezone=timezone,
        week_start=week_start,
        period_mode=period_mode,
        brackets=brackets,
        value=value,
    )

    def build(query: RetentionQuery) -> ir.Table:
        ctx = layer.context(query.timezone, query.period.week_start)
        return guarded(lambda: compile_retention(ctx, query), f"retention {name!r}")

    # as_of is compiled in: the last observed period index is computed from it in Python
    shape = shape_of(q, bounds=("start", "end"), where=False)
    return RetentionResult(
        explain=q.explain,
        backend=layer.backend,
        kind="retention",
        meta={"query": q},
        prepared=layer.engine.prepare("retention", shape, q, build),
        engine=layer.engine,
    )


def _period(reg: Any, source: str, name: str, week_start: int) -> Grain | FiscalPeriod:
    """The retention's period: a Grain, or a fiscal grain of the source's retail calendar."""
    if is_fiscal(name):
        return FiscalPeriod(Fiscal(find_retail(reg.sources, source)[1]), name)
    return grain_of(name, week_start)


def build_query(
    layer: Layer,
    name: str,
    *,
    periods: int | None,
    by: str | Sequence[str] | None,
    mode: str,
    cohort_type: str | None,
    start: Any,
    end: Any,
    as_of: Any,
    timezone: Any = None,
    week_start: Any = None,
    period_mode: str = "calendar",
    brackets: Any = None,
    value: str | None = None,
) -> RetentionQuery:
    """Check the arguments against the definition; every mistake is a QueryError."""
    reg = layer.registry
    tz, ws = layer.time_settings(timezone, week_start)
    defs = reg.project.retention
    if name not in defs:
        raise QueryError(unknown("retention", name, defs))
    check_retention(reg, name)
    d = defs[name]
    if mode not in MODES:
        raise QueryError(
            f"unknown retention mode {mode!r}{suggest(str(mode), MODES)}: "
            "use 'exact' (active in period k) or 'rolling' (in k or later)"
        )
    kind = cohort_type or d.cohort_type
    if kind not in COHORT_TYPES:
        raise QueryError(
            f"unknown cohort_type {kind!r}{suggest(str(kind), COHORT_TYPES)}: "
            "use 'first_time' or 'recurring'"
        )
    if periods is not None and (
        isinstance(periods, bool) or not isinstance(periods, int) or periods < 1
    ):
        raise QueryError(f"periods must be a positive integer (or None for all), got {periods!r}")
    by_cols = output_names(validate.names(d.by if by is None else by, "by", "dimension"))
    time, time_ref = time_field(reg, name)
    grain = _period(reg, d.source, d.period, ws)
    pmode = check_period_mode(period_mode, grain, name)
    ranges = check_brackets(brackets)
    measure = None if value is None else value_measure(reg, d.source, time, name, value)
    validate.no_clash(
        (c for c, _ in by_cols),
        result_columns(ranges is not None, measure is not None),
        "a retention result column",
        f"name the dimension by its path (e.g. {d.source}.{{column}})",
    )
    by_refs = validate.single_valued(reg, d.source, by_cols)
    b_start, b_end = validate.bounds(start, end, tz)
    b_as_of = parse_bound(as_of, "as_of", tz)
    return RetentionQuery(
        name=name,
        source=d.source,
        entity=d.entity,
        cohort=d.cohort,
        activity=d.activity,
        time=time,
        time_ref=time_ref,
        period=grain,
        cohort_type=kind,
        mode=mode,
        periods=periods,
        by=tuple(by_cols),
        by_refs=tuple(by_refs),
        start=b_start,
        end=b_end,
        as_of=b_as_of,
        timezone=tz,
        period_mode=pmode,
        brackets=ranges,
        value=measure,
    )
