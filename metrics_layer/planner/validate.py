"""Request validation shared by every entry point: KPI queries, retention, funnels and checks.

Each rule lives here once, so the same mistake gets the same one-line QueryError whichever
analysis it is made in: lists of names (strings, none repeated), time bounds (parsed in the
layer's timezone, end after start), grains, output columns that would clash, and `by`
dimensions that must have one value per row of the analysed source.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from typing import Any

from metrics_layer.bounds import parse_bound
from metrics_layer.definitions.models import GRAINS
from metrics_layer.errors import QueryError, suggest
from metrics_layer.grain import GRAIN_NAMES as GRAIN_UNITS
from metrics_layer.registry import FieldRef, Registry
from metrics_layer.retail import FISCAL_GRAINS


def names(value: str | Sequence[str] | None, what: str, kind: str = "name") -> tuple[str, ...]:
    """A name or a list of names as a tuple; a non-string, empty or repeated name is an error."""
    if value is None:
        return ()
    out = (value,) if isinstance(value, str) else tuple(value)
    for v in out:
        if not isinstance(v, str) or not v:
            raise QueryError(f"{what} must be names (strings), got {v!r}")
    seen: set[str] = set()
    for v in out:
        if v in seen:
            raise QueryError(f"{kind} {v!r} listed twice in {what}={list(out)}")
        seen.add(v)
    return out


def bounds(
    start: Any, end: Any, timezone: str = "UTC"
) -> tuple[_dt.datetime | None, _dt.datetime | None]:
    """`start` (inclusive) and `end` (exclusive) as naive wall-clock datetimes; end after start."""
    s, e = parse_bound(start, "start", timezone), parse_bound(end, "end", timezone)
    if s is not None and e is not None and e <= s:
        raise QueryError(f"end ({e}) must be after start ({s})")
    return s, e


def grain(value: str | None, fiscal: bool = True) -> str | None:
    """A grain name (or None); an unknown one suggests the closest. `fiscal`: whether the
    retail calendar's grains (fiscal_week … fiscal_year) are accepted here."""
    known = (*GRAINS, *FISCAL_GRAINS)
    if value is not None and value not in known:
        raise QueryError(
            f"unknown grain {value!r}{suggest(str(value), known)}; use one of {', '.join(known)}"
        )
    if not fiscal and value in FISCAL_GRAINS:
        raise QueryError(f"grain {value!r} is for KPI queries; use one of {', '.join(GRAINS)}")
    return value


_RANK = {
    **{g: i for i, g in enumerate(GRAIN_UNITS)},
    **{f"fiscal_{g}": GRAIN_UNITS.index(g) for g in ("week", "month", "quarter", "year")},
}


def to_date(period: str, grain: str) -> None:
    """A to-date period must hold whole periods of the grain: not finer, and fiscal periods
    hold whole days and fiscal periods, never calendar weeks or months (and vice versa)."""
    if _RANK[period] < _RANK[grain]:
        raise QueryError(f"{period}-to-date cannot be shown at the coarser grain {grain!r}")
    fine = grain in ("hour", "day") or grain == period
    if not fine and (period in FISCAL_GRAINS) != (grain in FISCAL_GRAINS):
        raise QueryError(
            f"{period}-to-date does not line up with {grain} periods: ask it at grain 'day' "
            f"or at a {'fiscal' if period in FISCAL_GRAINS else 'calendar'} grain"
        )


def no_clash(columns: Iterable[str], reserved: Iterable[str | None], what: str, hint: str) -> None:
    """An output column may not take a name the analysis already uses for its own columns.

    `hint` may name the clashing column as `{column}`.
    """
    taken = {r for r in reserved if r is not None}
    for column in columns:
        if column in taken:
            raise QueryError(
                f"by column {column!r} would clash with {what}; {hint.format(column=column)}"
            )


def single_valued(
    registry: Registry, source: str, by: Sequence[tuple[str, str]]
) -> tuple[tuple[str, FieldRef], ...]:
    """`by` dimensions resolved from `source`; one reached through a one_to_many join is refused."""
    out = []
    for column, text in by:
        ref = registry.resolve_field(source, text)
        if ref.fans_out:
            raise QueryError(
                f"by {text!r} is reached through a one_to_many join "
                f"({ref.describe_path()}) and has no single value per event"
            )
        out.append((column, ref))
    return tuple(out)


def output_names(refs: tuple[str, ...]) -> list[tuple[str, str]]:
    """A dimension's column is its own name; names asked twice use their path joined by '__'."""
    short = [r.rsplit(".", 1)[-1] for r in refs]
    return [
        (s if short.count(s) == 1 else r.replace(".", "__"), r)
        for s, r in zip(short, refs, strict=True)
    ]
