"""A layer given `audit=PATH` or `cache_ttl=SECONDS`: every call audited, answers optionally cached.

`observe(layer, ...)` turns an existing layer (restricted or not) into an observed one in place:
its class becomes a subclass that wraps the entry points, so everything else about it (and
`isinstance` checks) stays as it was. A layer restricted from an observed layer is observed too,
sharing the log and the cache.

- Audit: one JSON line per call (audit.py), written when its answer first runs (status 200,
  with rows and the time to build and run it), or at once when the call fails (400 for a user
  error, 500 for a failure of the backend). `user` is the operating-system user.
- Cache (off by default): answers are kept `cache_ttl` seconds, keyed by (operation, request,
  the policies and attributes of the layer), so callers with different views never share one.
  A cached answer's `explain()` says so and how old it is.
"""

from __future__ import annotations

import getpass
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from metrics_layer.errors import ExecutionError, MetricsLayerError
from metrics_layer.service.audit import AuditLog
from metrics_layer.service.cache import ResultCache

ENTRY_POINTS = (
    "query",
    "retention",
    "funnel",
    "lifecycle",
    "stickiness",
    "experiment",
    "dimension_values",
)


class Observer:
    def __init__(self, audit: AuditLog | None, cache: ResultCache | None) -> None:
        self.audit = audit
        self.cache = cache
        self.user: str | None
        try:
            self.user = getpass.getuser()
        except (KeyError, OSError):
            self.user = None

    def write(
        self,
        operation: str,
        request: Any,
        *,
        sql: str | None,
        rows: int | None,
        ms: float,
        status: int,
    ) -> None:
        if self.audit is not None:
            self.audit.write(
                user=self.user,
                operation=operation,
                request=request,
                sql=sql,
                rows=rows,
                ms=ms,
                status=status,
            )


def view_of(layer: Any) -> tuple[Any, ...]:
    """The policies and attributes of a layer and its parents (empty: unrestricted)."""
    out = []
    while getattr(layer, "grant", None) is not None:
        out.append((layer.grant.policies, tuple(sorted(layer.grant.attributes.items()))))
        layer = layer.parent
    return tuple(out)


class ObservedResult:
    """A Result whose first run is audited and whose answer may come from the cache."""

    def __init__(
        self, inner: Any, observer: Observer, operation: str, request: Any, key: Any, started: float
    ) -> None:
        self._inner = inner
        self._observer = observer
        self._operation = operation
        self._request = request
        self._key = key
        self._started = started
        self._audited = False
        self._age: float | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def to_pandas(self) -> Any:
        cache = self._observer.cache
        df = cache.get(self._key) if cache else None
        if df is not None:
            self._age = cache.age(self._key) if cache else None
        else:
            self._age = None
            try:
                df = self._inner.to_pandas()
            except MetricsLayerError as exc:
                self._log(500 if isinstance(exc, ExecutionError) else 400, None)
                raise
            if cache:
                cache.put(self._key, df)
        self._log(200, len(df))
        return df.copy()

    def to_pyarrow(self) -> Any:
        import pyarrow as pa

        return pa.Table.from_pandas(self.to_pandas(), preserve_index=False)

    def to_polars(self) -> Any:
        import polars as pl

        return pl.from_arrow(self.to_pyarrow())

    def explain(self) -> str:
        """The plan; when the answer came (or, not yet run, will come) from the cache, says so."""
        text = str(self._inner.explain())
        cache = self._observer.cache
        if cache is None:
            return text
        age = self._age
        if age is None and not self._audited:
            age = cache.age(self._key) if cache.get(self._key) is not None else None
        if age is not None:
            text += (
                f"\nAnswered from the result cache: computed {age:.1f} s ago "
                f"(entries live {cache.ttl:g} s)."
            )
        return text

    def _log(self, status: int, rows: int | None) -> None:
        if self._audited:
            return
        self._audited = True
        try:
            sql = str(self._inner.sql())
        except (MetricsLayerError, AttributeError, NotImplementedError):
            sql = None
        ms = (time.perf_counter() - self._started) * 1000
        self._observer.write(
            self._operation, self._request, sql=sql, rows=rows, ms=ms, status=status
        )

    def __repr__(self) -> str:
        return repr(self._inner)


def _request(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return json.loads(json.dumps({"args": list(args), **kwargs}, default=str))


def _wrap(operation: str) -> Callable[..., Any]:
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        observer: Observer = self._observer
        started = time.perf_counter()
        request = _request(args, kwargs)
        try:
            inner = getattr(super(type(self), self), operation)(*args, **kwargs)
        except MetricsLayerError:
            observer.write(
                operation,
                request,
                sql=None,
                rows=None,
                ms=(time.perf_counter() - started) * 1000,
                status=400,
            )
            raise
        key = (operation, json.dumps(request, sort_keys=True), view_of(self))
        return ObservedResult(inner, observer, operation, request, key, started)

    call.__name__ = operation
    return call


def _check(self: Any, *args: Any, **kwargs: Any) -> Any:
    observer: Observer = self._observer
    started = time.perf_counter()
    status, rows = 200, None
    try:
        report = super(type(self), self).check(*args, **kwargs)
        rows = len(report.to_pandas())
        return report
    except MetricsLayerError:
        status = 400
        raise
    finally:
        observer.write(
            "check",
            _request(args, kwargs),
            sql=None,
            rows=rows,
            ms=(time.perf_counter() - started) * 1000,
            status=status,
        )


def _restrict(self: Any, *args: Any, **kwargs: Any) -> Any:
    restricted = super(type(self), self).restrict(*args, **kwargs)
    return _apply(restricted, self._observer)


_mixins: dict[type, type] = {}


def _observed_class(cls: type) -> type:
    for observed, base in _mixins.items():
        if base is cls:
            return observed
    if cls in _mixins:
        return cls
    body: dict[str, Any] = {name: _wrap(name) for name in ENTRY_POINTS if hasattr(cls, name)}
    body.update(check=_check, restrict=_restrict, __doc__=f"{cls.__name__}, audited and cached.")
    observed = type(f"Observed{cls.__name__}", (cls,), body)
    _mixins[observed] = cls
    return observed


def _apply(layer: Any, observer: Observer) -> Any:
    layer.__class__ = _observed_class(type(layer))
    layer._observer = observer
    return layer


def observe(layer: Any, *, audit: str | Path | None = None, cache_ttl: float = 0.0) -> Any:
    """Audit the layer's calls to `audit` and/or cache its answers for `cache_ttl` seconds."""
    if cache_ttl < 0:
        raise ValueError("cache_ttl is a number of seconds >= 0")
    observer = Observer(
        AuditLog(audit) if audit else None, ResultCache(cache_ttl) if cache_ttl > 0 else None
    )
    return _apply(layer, observer)
