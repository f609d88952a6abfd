"""Argument handling shared by the analyses (retention, funnels)."""

from __future__ import annotations

from collections.abc import Sequence

from metrics_layer.errors import QueryError


def dimension_names(by: str | Sequence[str]) -> tuple[str, ...]:
    """`by` as a tuple of dimension names; empty or repeated names are QueryErrors."""
    names = (by,) if isinstance(by, str) else tuple(by)
    for n in names:
        if not isinstance(n, str) or not n:
            raise QueryError(f"by must name dimensions (strings), got {n!r}")
    if len(set(names)) != len(names):
        raise QueryError(f"by names a dimension twice: {list(names)}")
    return names
