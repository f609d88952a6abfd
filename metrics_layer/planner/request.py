"""A KPI request, normalised: what the user asked, validated before anything is planned."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from metrics_layer.compile.timegrain import GRAIN_UNITS, parse_bound
from metrics_layer.definitions.models import GRAINS
from metrics_layer.errors import QueryError, suggest


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
    ) -> Request:
        """Validate the shape of a request (names are checked later against the registry)."""
        ms = _names(metrics, "metrics")
        if not ms:
            raise QueryError("ask for at least one metric")
        if len(set(ms)) != len(ms):
            raise QueryError(f"metric listed twice in {list(ms)}")
        dims = _names(by, "by")
        if len(set(dims)) != len(dims):
            raise QueryError(f"dimension listed twice in by={list(dims)}")
        if grain is not None and grain not in GRAIN_UNITS:
            raise QueryError(
                f"unknown grain {grain!r}{suggest(str(grain), GRAINS)}; "
                f"use one of {', '.join(GRAINS)}"
            )
        s, e = parse_bound(start, "start", timezone), parse_bound(end, "end", timezone)
        if s is not None and e is not None and e <= s:
            raise QueryError(f"end ({e}) must be after start ({s})")
        if limit is not None and (
            not isinstance(limit, int) or isinstance(limit, bool) or limit < 0
        ):
            raise QueryError(f"limit must be a non-negative integer, got {limit!r}")
        if where is not None and not isinstance(where, str) and not _is_deferred(where):
            raise QueryError(
                "where must be SQL-expression text or an ibis deferred expression "
                f"(ibis._.column == value), got {type(where).__name__}"
            )
        if fill is not None and fill not in ("zero", "null"):
            raise QueryError(f"fill must be 'zero' or 'null', got {fill!r}")
        if fill is not None and grain is None:
            raise QueryError("fill needs a grain: it yields every period of the range")
        if as_of is not None and as_of != "current":
            as_of = parse_bound(as_of, "as_of")
        return cls(
            ms, dims, grain, where, s, e, _names(order_by, "order_by"), limit, timezone, fill, as_of
        )


def _names(value: str | Sequence[str] | None, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    out = tuple(value)
    for v in out:
        if not isinstance(v, str) or not v:
            raise QueryError(f"{what} must be names (strings), got {v!r}")
    return out


def _is_deferred(value: Any) -> bool:
    from ibis.common.deferred import Deferred

    return isinstance(value, Deferred)
