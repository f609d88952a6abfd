"""Durations in definitions ('7 days', '1 month'): parsing, hints for misspelt units, seconds."""

from __future__ import annotations

import re

from metrics_layer.errors import suggest

_DURATION = re.compile(
    r"^\s*(\d+)\s*(second|minute|hour|day|week|month|quarter|year)s?\s*$", re.IGNORECASE
)
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}


def parse_duration(text: str) -> tuple[int, str]:
    """'7 days' -> (7, 'day'). Raises ValueError with the accepted forms."""
    m = _DURATION.match(str(text))
    if not m:
        raise ValueError(
            f"invalid duration {text!r}{_duration_hint(str(text))}: use '<n> <unit>' with unit "
            "second, minute, hour, day, week, month, quarter or year (e.g. '7 days')"
        )
    return int(m.group(1)), m.group(2).lower()


_FISCAL_OFFSET = re.compile(r"^\s*(\d+)\s*(fiscal_(?:week|month|quarter|year))s?\s*$", re.I)


def parse_offset(text: str) -> tuple[int, str]:
    """An offset: a duration, or whole periods of a retail calendar ('1 fiscal_year')."""
    m = _FISCAL_OFFSET.match(str(text))
    if m:
        return int(m.group(1)), m.group(2).lower()
    return parse_duration(text)


def _duration_hint(text: str) -> str:
    """' (did you mean '7 days'?)' for a misspelt unit such as '7 dayz'."""
    m = re.match(r"^\s*(\d+)\s*([A-Za-z]+)\s*$", text)
    if not m:
        return ""
    n, unit = m.groups()
    units = ["second", "minute", "hour", "day", "week", "month", "quarter", "year"]
    options = [f"{n} {u}" + ("" if n == "1" else "s") for u in units]
    return suggest(f"{n} {unit.lower()}", options, n=1)


def duration_seconds(text: str) -> int:
    """Absolute length of a duration; a month is 31 days (PostHog's funnel convention)."""
    n, unit = parse_duration(text)
    if unit == "month":
        return n * 31 * 86400
    if unit in ("quarter", "year"):
        raise ValueError(f"duration {text!r} has no fixed length in seconds; use days or weeks")
    return n * _UNIT_SECONDS[unit]
