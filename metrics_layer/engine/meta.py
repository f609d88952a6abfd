"""A Result's `meta` whose costly entries (the plan of a cached query) are built on first use."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class LazyMeta(dict[str, Any]):
    """A dict whose values given as factories are computed once, when first read."""

    def __init__(self, **factories: Callable[[], Any]) -> None:
        super().__init__()
        self._factories = factories
        self._lock = threading.Lock()

    def __missing__(self, key: str) -> Any:
        factory = self._factories.get(key)
        if factory is None:
            raise KeyError(key)
        with self._lock:
            if not dict.__contains__(self, key):
                self[key] = factory()
        return dict.__getitem__(self, key)

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or key in self._factories
