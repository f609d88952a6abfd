"""A KPI request, normalised: what the user asked, validated before anything is planned."""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from metrics_layer import limits
from metrics_layer.compile.timegrain import check_timezone, check_week_start, parse_bound
from metrics_layer.errors import QueryError
from metrics_layer.planner import validate


@dataclass(frozen=True)
class Request:
    metrics: tuple[str, ...]
    by: tuple[str, ...] = ()
    grain: str | None = None
    where: Any = None  # SQL-expression text or an ibis Deferred
    start: _dt.datetime | None = None
    end: _dt.datetime | None = None
    order_by: tuple[str, ...] = ()
    limit: int | None = None
    timezone: str = "UTC"
    fill: str | None = None  # "zero" | "null": every period of the range, even without data
    as_of: Any = None  # SCD joins: None = point in time, "current", or a date
    week_start: int = 0  # 0 = Monday … 6 = Sunday: the first day of the week grain
    fill_days: str = "all"  # "business": a day-grain fill spans the calendar's business days

    def __hash__(self) -> int:
        """The fields' hash, computed once: a request keys a compiled-query lookup on every
        call (the dataclass's own hash would hash its thirteen fields each time)."""
        found = self.__dict__.get("_hash")
        if found is None:
            found = hash(tuple(getattr(self, f.name) for f in dataclasses.fields(self)))
            object.__setattr__(self, "_hash", found)
        return found

    @classmethod
    def build(
        cls,
        metrics: str | Sequence[str],
        *,
        by: str | Sequence[str] | None = None,
        grain: str | None = None,
        where: Any = None,
        start: Any = None,
        end: Any = None,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        timezone: str = "UTC",
        fill: str | None = None,
        as_of: Any = None,
        week_start: str | int | None = None,
        fill_days: str | None = None,
    ) -> Request:
        """Validate the shape of a request (names are checked later against the registry)."""
        ms = validate.names(metrics, "metrics", "metric")
        if not ms:
            raise QueryError("ask for at least one metric")
        dims = validate.names(by, "by", "dimension")
        validate.grain(grain)
        timezone = check_timezone(timezone)
        s, e = validate.bounds(start, end, timezone)
        limits.check_row_limit(limit)
        if where is not None and not isinstance(where, str) and not _is_deferred(where):
            raise QueryError(
                "where must be SQL-expression text or an ibis deferred expression "
                f"(ibis._.column == value), got {type(where).__name__}"
            )
        if fill is not None and fill not in ("zero", "null"):
            raise QueryError(f"fill must be 'zero' or 'null', got {fill!r}")
        if fill is not None and grain is None:
            raise QueryError("fill needs a grain: it yields every period of the range")
        if fill_days not in (None, "all", "business"):
            raise QueryError(f"fill_days must be 'all' or 'business', got {fill_days!r}")
        if fill_days == "business" and (fill is None or grain != "day"):
            raise QueryError("fill_days='business' needs fill= and grain='day'")
        if as_of is not None and as_of != "current":
            as_of = parse_bound(as_of, "as_of")
        return cls(
            ms,
            dims,
            grain,
            where,
            s,
            e,
            validate.names(order_by, "order_by", "column"),
            limit,
            timezone,
            fill,
            as_of,
            check_week_start(week_start),
            fill_days or "all",
        )


def _is_deferred(value: Any) -> bool:
    from ibis.common.deferred import Deferred

    return isinstance(value, Deferred)
