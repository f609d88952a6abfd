"""Calls already seen: the arguments of a call, exactly as given, to the request they built.

A service asks the same few requests again and again. Building one from its arguments
(resolving aliases, validating names and bounds, slotting its values, hashing its shape) is
50-250 µs of Python: several percent of a light query, more than the rest of the engine's
work. A `CallMemo` maps the arguments of a call, keyed by type and value (`1`, `1.0` and
`True` are three keys; a list is not a tuple), to what building them gave. A hit still goes
through the engine's cache, so `explain()` and the cache's bounds stay true; only the Python
that would derive the same request from the same arguments again is skipped.

Arguments that are not plain values (an ibis deferred `where`, a pandas Timestamp, a str
subclass) make no key: such calls are built every time. A call that fails is never stored,
so it fails again the same way.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Hashable
from typing import Any

MAX_CALLS = 1024

_PLAIN = frozenset({str, int, bool, type(None)})
_TIMES = frozenset({_dt.datetime, _dt.date})
_SEQUENCES = frozenset({list, tuple})


class _Unkeyable(Exception):
    """An argument that is not a plain value."""


def call_key(*arguments: Any) -> tuple[Any, ...] | None:
    """A hashable key equal only for arguments of the same types and values (None: some
    argument is not a plain value). Flat: each value is its type then its value, a sequence
    its type, its length and then its items."""
    key: list[Any] = []
    try:
        for argument in arguments:
            _add(key, argument)
    except _Unkeyable:
        return None
    return tuple(key)


def _add(key: list[Any], value: Any) -> None:
    kind = type(value)
    if kind in _PLAIN:
        key += (kind, value)
    elif kind is float:
        key += (kind, repr(value))  # -0.0 and 0.0 differ; NaN equals itself here
    elif kind in _TIMES:
        key += (kind, value.isoformat())  # an offset is part of the text
    elif kind in _SEQUENCES:
        key += (kind, len(value))
        for item in value:
            _add(key, item)
    else:
        raise _Unkeyable


class CallMemo:
    """Call keys to what those calls built, first in first out once full (thread-safe).

    Lock-free: a read is one dict lookup (atomic in CPython; this runs on every request), a
    write stores a value that any thread would have built alike, so a race loses nothing.
    """

    def __init__(self, max_entries: int = MAX_CALLS) -> None:
        self.max_entries = max_entries
        self._items: dict[Hashable, Any] = {}

    def get(self, key: Hashable) -> Any:
        return self._items.get(key)

    def put(self, key: Hashable, value: Any) -> None:
        items = self._items
        while len(items) >= self.max_entries:
            try:
                items.pop(next(iter(items)), None)
            except (StopIteration, RuntimeError):  # emptied or changed by another thread
                break
        items[key] = value

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
