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

from metrics_layer.errors import DefinitionError, ExpressionTooLarge, Location, QueryError

# Definition files
MAX_RENDER_SECONDS = 5.0  # time to render one file's Jinja template
MAX_RENDERED_BYTES = 20 * 1024 * 1024  # size of one rendered file
MAX_TEMPLATE_ITEMS = 1_000_000  # length of a string/list a template builds with * or +
MAX_YAML_ALIASES = 1_000  # alias uses (*name) in one file
MAX_YAML_NODES = 500_000  # values in one file once aliases are expanded
# Requests
MAX_SPINE_PERIODS = 1_000_000  # periods of a fill= spine (hours of 114 years)
MAX_EXPRESSION_CHARS = 100_000  # length of one expression text (where=, expr, filter)
MAX_EXPRESSION_NODES = 10_000  # syntax nodes of one expression (an IN list of ~10,000 items)
PARSE_CACHE_BYTES = 16 * 1024 * 1024  # texts kept by the expression parse cache
MAX_ROW_LIMIT = 2**63 - 1  # limit= of a query (a signed 64-bit count on every engine)
MAX_WINDOW_SECONDS = 100 * 366 * 86400  # a funnel's conversion window


def how_to_raise(name: str) -> str:
    return f"(limit metrics_layer.limits.{name} = {globals()[name]:,}; raise it if this is meant)"


def definition_limit(name: str, what: str, location: Location | None = None) -> DefinitionError:
    """The error for a definition file over a limit."""
    return DefinitionError(f"{what} {how_to_raise(name)}", location)


def query_limit(name: str, what: str, cls: type[QueryError] = QueryError) -> QueryError:
    """The error for a request over a limit."""
    return cls(f"{what} {how_to_raise(name)}")


def check_spine(start: Any, end: Any, grain: str) -> None:
    """A spine of periods is generated row by row: count them from the bounds before building it."""
    periods = spine_periods(start, end, grain)
    if periods > MAX_SPINE_PERIODS:
        raise query_limit(
            "MAX_SPINE_PERIODS",
            f"a spine of every {grain} from {start} to {end} has {periods:,} periods; "
            "narrow start/end or use a coarser grain",
        )


def spine_periods(lo: Any, hi: Any, grain: str) -> int:
    """The exact number of rows of a spine: period starts lo, lo + step, ... before hi.

    `lo` is a period start (as the spine requires); computed from the calendar, not built.
    """
    import datetime as _dt

    s, e = _as_datetime(lo), _as_datetime(hi)
    if e <= s:
        return 0
    months = {"month": 1, "quarter": 3, "year": 12}.get(grain)
    if months is None:
        step = _dt.timedelta(hours=1) if grain == "hour" else _dt.timedelta(days=1)
        if grain == "week":
            step *= 7
        whole, rest = divmod(e - s, step)
        return int(whole) + (1 if rest else 0)
    # lo is the first instant of a month: lo + k steps < hi counts whole months up to hi's
    # month, plus hi's own month when hi lies after its first instant
    n = (e.year - s.year) * 12 + e.month - s.month
    past_start = e > e.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return int(-(-n // months) + (1 if past_start and n % months == 0 else 0))


def _as_datetime(value: Any) -> Any:
    import datetime as _dt

    if isinstance(value, _dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day)
    return _dt.datetime.fromisoformat(str(value)).replace(tzinfo=None)


def check_row_limit(limit: Any) -> None:
    """limit= is a whole number the engines can count to."""
    if limit is None:
        return
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise QueryError(f"limit must be a non-negative integer, got {limit!r}")
    if limit > MAX_ROW_LIMIT:
        raise query_limit("MAX_ROW_LIMIT", f"limit={limit} is larger than any engine can count")


def check_window(seconds: int, text: str) -> None:
    """A funnel window is added to timestamps in microseconds: keep it within the calendar."""
    if seconds > MAX_WINDOW_SECONDS:
        raise query_limit("MAX_WINDOW_SECONDS", f"window {text!r} is {seconds:,} seconds long")


def check_expression_text(text: str) -> None:
    """Parsing is linear in the text but not free: refuse huge texts before tokenizing them."""
    if len(text) > MAX_EXPRESSION_CHARS:
        raise query_limit(
            "MAX_EXPRESSION_CHARS",
            f"expression of {len(text):,} characters ({text[:40]!r}...) is too long",
            ExpressionTooLarge,
        )


def check_expression_nodes(nodes: int, text: str) -> None:
    """Each syntax node becomes an ibis operation and SQL text: bound the work per expression."""
    if nodes > MAX_EXPRESSION_NODES:
        shown = text if len(text) <= 60 else text[:40] + "..."
        raise query_limit(
            "MAX_EXPRESSION_NODES",
            f"expression {shown!r} has {nodes:,} syntax nodes (an IN list counts one per item); "
            "filter on a dimension or a joined table instead of a long literal list",
            ExpressionTooLarge,
        )
