"""An opt-in TTL cache of answers, keyed by (operation, request, caller's policies and
attributes): two callers with different views never share an entry. Off unless a TTL is given.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

MAX_ENTRIES = 1024


class ResultCache:
    def __init__(self, ttl: float, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl = float(ttl)
        self.max_entries = max_entries
        self._items: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            at, value = found
            if time.monotonic() - at > self.ttl:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return value

    def age(self, key: Any) -> float | None:
        with self._lock:
            found = self._items.get(key)
            return None if found is None else time.monotonic() - found[0]

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._items[key] = (time.monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)
