"""Query bounds and time zones as the user gives them, validated before anything is built.

Below every other layer (planner, analyses and checks read bounds the same way): a bound is a
naive wall-clock datetime in the effective time zone; a zone is an IANA name, passed to the
engine as a literal, never as SQL text.
"""

from __future__ import annotations

import datetime as _dt
from zoneinfo import ZoneInfo, available_timezones

from metrics_layer.errors import QueryError, suggest


def check_timezone(tz: str) -> str:
    """Validate an IANA timezone name (it is passed to the backend as a literal, never as SQL)."""
    if not isinstance(tz, str):
        raise QueryError(f"timezone must be an IANA name such as 'Europe/Paris', got {tz!r}")
    if tz.upper() == "UTC":
        return "UTC"
    if tz in _MACHINE_ZONES or tz.startswith(("posix/", "right/", "/")):
        # names of this machine's files, not zones: buckets must not depend on where a query
        # runs, and the engines reject them
        raise QueryError(
            f"timezone {tz!r} is not an IANA zone name: name the zone, such as 'UTC' or "
            "'Europe/Berlin'"
        )
    try:
        ZoneInfo(tz)
    except Exception:  # noqa: BLE001 - ZoneInfo raises several kinds of errors for bad names
        raise QueryError(f"unknown timezone {tz!r}{suggest(tz, available_timezones())}") from None
    return tz


_MACHINE_ZONES = frozenset({"localtime", "posixrules", "Factory", ""})


def parse_bound(value: object, name: str, tz: str = "UTC") -> _dt.datetime | None:
    """A start/end bound as a naive local datetime ('2024-01-01', a date or a datetime).

    Naive values are already local (wall-clock in `tz`); an instant with an offset, given as a
    datetime or as text, is converted to the wall-clock time in `tz` it is compared with.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = _dt.datetime.fromisoformat(text)
        except ValueError:
            raise QueryError(
                f"{name}={text!r} is not a date or timestamp (use e.g. '2024-01-01')"
            ) from None
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            return value
        return value.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day)
    raise QueryError(f"{name}={value!r} is not a date or timestamp (use e.g. '2024-01-01')")
