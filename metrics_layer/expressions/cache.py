"""A least-recently-used cache bounded by the bytes it holds, not by its number of entries.

The expression parse cache keys on user text: a count-bounded cache of 100 one-megabyte
texts holds 100 MB of strings plus their syntax trees. Each entry here is charged its text
plus an estimate of its tree, and the oldest entries are dropped once the total passes the
budget, which is read when an entry is added (metrics_layer.limits.PARSE_CACHE_BYTES).
Safe to share between threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class ByteBoundedCache(Generic[V]):
    """text -> value, evicting least recently used entries beyond `budget()` bytes."""

    def __init__(self, budget: Callable[[], int], cost: Callable[[str, V], int]) -> None:
        self._budget = budget
        self._cost = cost
        self._entries: OrderedDict[str, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.bytes = 0

    def get(self, key: str) -> V | None:
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            self._entries.move_to_end(key)
            return hit[0]

    def put(self, key: str, value: V) -> None:
        cost = self._cost(key, value)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.bytes -= old[1]
            budget = self._budget()
            if cost > budget:
                return  # larger than the whole cache: never kept
            self._entries[key] = (value, cost)
            self.bytes += cost
            while self.bytes > budget:
                _, (_, dropped) = self._entries.popitem(last=False)
                self.bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)
