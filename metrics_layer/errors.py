"""One error hierarchy: every mistake a user can make surfaces as a MetricsLayerError."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where in the definitions a problem lies: file, line and dotted field path."""

    file: str | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file if self.line is None else f"{self.file}:{self.line}")
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.field:
            parts.append(self.field)
        return ": ".join(parts)


class MetricsLayerError(Exception):
    """Base of every error raised by metrics_layer."""


class DefinitionError(MetricsLayerError):
    """A definition file is malformed or inconsistent. The message names file, line and field."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        self.location = location or Location()
        self.reason = message
        where = str(self.location)
        super().__init__(f"{where}: {message}" if where else message)


class QueryError(MetricsLayerError):
    """A request cannot be answered as asked (unknown name, unreachable dimension, bad grain...)."""


class ExpressionError(MetricsLayerError):
    """An expression uses syntax outside the allowed SQL-expression grammar."""


class SchemaError(DefinitionError):
    """Definitions name a table or column that the connection does not have."""


class ConnectionError(MetricsLayerError):  # noqa: A001 - deliberate, namespaced as ml.ConnectionError
    """The backend could not be reached or a connection URL is invalid (credentials redacted)."""


class ExecutionError(MetricsLayerError):
    """The backend failed to run a compiled query."""


def suggest(name: str, candidates: Iterable[str], n: int = 3) -> str:
    """A ' (did you mean ...?)' hint with the closest known names, or '' when none is close."""
    pool = sorted(set(candidates))
    close = difflib.get_close_matches(name, pool, n=n, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in pool}
        close = [lowered[c] for c in difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)]
    if not close:
        return ""
    return " (did you mean " + ", ".join(repr(c) for c in close) + "?)"


def unknown(kind: str, name: str, candidates: Iterable[str]) -> str:
    """Standard wording for an unknown name with suggestions."""
    return f"unknown {kind} {name!r}{suggest(name, candidates)}"
