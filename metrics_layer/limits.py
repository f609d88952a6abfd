"""Bounds on the work one request or one definition file may cause.

Bad input must fail within seconds and in bounded memory with a one-line error that names the
limit and how to raise it, never run for minutes or exhaust the machine. Each limit is a
module attribute read at the moment it is checked, so a deployment that needs more sets it
once at start-up:

    import metrics_layer as ml
    ml.limits.MAX_SPINE_PERIODS = 5_000_000
"""

from __future__ import annotations

from typing import Any

from metrics_layer.errors import DefinitionError, Location, QueryError

# Definition files
MAX_RENDER_SECONDS = 5.0  # time to render one file's Jinja template
MAX_RENDERED_BYTES = 20 * 1024 * 1024  # size of one rendered file
MAX_TEMPLATE_ITEMS = 1_000_000  # length of a string/list a template builds with * or +
MAX_YAML_ALIASES = 1_000  # alias uses (*name) in one file
MAX_YAML_NODES = 500_000  # values in one file once aliases are expanded
# Requests
MAX_SPINE_PERIODS = 1_000_000  # periods of a fill= spine (hours of 114 years)
MAX_EXPRESSION_CHARS = 100_000  # length of one expression text (where=, expr, filter)
MAX_EXPRESSION_NODES = 5_000  # syntax nodes of one expression (an IN list of 5,000 items)
PARSE_CACHE_BYTES = 16 * 1024 * 1024  # texts kept by the expression parse cache
MAX_ROW_LIMIT = 2**63 - 1  # limit= of a query (a signed 64-bit count on every engine)
MAX_WINDOW_SECONDS = 100 * 366 * 86400  # a funnel's conversion window


def how_to_raise(name: str) -> str:
    return f"(limit metrics_layer.limits.{name} = {globals()[name]:,}; raise it if this is meant)"


def definition_limit(name: str, what: str, location: Location | None = None) -> DefinitionError:
    """The error for a definition file over a limit."""
    return DefinitionError(f"{what} {how_to_raise(name)}", location)


def query_limit(name: str, what: str) -> QueryError:
    """The error for a request over a limit."""
    return QueryError(f"{what} {how_to_raise(name)}")


def check_spine(periods: int, grain: str) -> None:
    """A fill= spine is built row by row: count its periods before building it."""
    if periods > MAX_SPINE_PERIODS:
        raise query_limit(
            "MAX_SPINE_PERIODS",
            f"fill= over this range needs {periods:,} {grain} periods; narrow start/end or "
            "use a coarser grain",
        )


def spine_periods(start: Any, end: Any, grain: str) -> int:
    """An upper bound of the number of `grain` periods in [start, end), computed, not built."""
    import pandas as pd

    s, e = pd.Timestamp(start), pd.Timestamp(end)
    seconds = max((e - s).total_seconds(), 0.0)
    per = {
        "hour": 3600.0,
        "day": 86400.0,
        "week": 7 * 86400.0,
        "month": 28 * 86400.0,
        "quarter": 89 * 86400.0,
        "year": 365 * 86400.0,
    }.get(grain, 3600.0)
    return int(seconds // per) + 2


def check_row_limit(limit: Any) -> None:
    """limit= is a whole number the engines can count to."""
    if limit is None:
        return
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise QueryError(f"limit must be a non-negative integer, got {limit!r}")
    if limit > MAX_ROW_LIMIT:
        raise query_limit("MAX_ROW_LIMIT", f"limit={limit} is larger than any engine can count")


def check_timezone_name(tz: Any) -> str:
    """A timezone is an IANA name as text; names that mean 'this machine' are refused, since a
    query's buckets must not depend on where it runs (and engines reject them)."""
    if not isinstance(tz, str):
        raise QueryError(
            f"timezone must be an IANA name such as 'UTC' or 'Europe/Berlin', got {tz!r}"
        )
    if tz.strip().lower() in ("localtime", "posixrules", "factory", "") or tz.startswith(
        ("posix/", "right/", "/")
    ):
        raise QueryError(
            f"timezone {tz!r} is not an IANA zone name: name the zone, such as 'UTC' or "
            "'Europe/Berlin'"
        )
    return tz
