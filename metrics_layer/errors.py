"""One error hierarchy: every mistake a user can make surfaces as a MetricsLayerError."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


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
    """Base of every error raised by metrics_layer. Its message is one line, whatever the
    cause was worded as (engines and drivers often answer in several)."""

    def __init__(self, *args: Any) -> None:
        if args and isinstance(args[0], str):
            args = (_one_line(args[0]), *args[1:])
        super().__init__(*args)


class DefinitionError(MetricsLayerError):
    """A definition file is malformed or inconsistent. The message names file, line and field."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        self.location = location or Location()
        self.reason = _one_line(message)
        where = str(self.location)
        super().__init__(f"{where}: {self.reason}" if where else self.reason)

    def __reduce__(self) -> tuple[Any, ...]:
        # keep the location across pickling (multiprocessing, Spark workers)
        return (type(self), (self.reason, self.location))

    @property
    def file(self) -> str | None:
        return self.location.file

    @property
    def line(self) -> int | None:
        return self.location.line

    @property
    def field(self) -> str | None:
        return self.location.field


class FieldProblem(ValueError):
    """Raised inside a definition model's validator to blame one of its fields.

    pydantic would locate a model-level error at the model itself; the loader appends
    `field` to the path so the message points at the line of the offending key.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _one_line(message: str) -> str:
    """Messages are read in logs and terminals: one line, however the cause was worded."""
    message = re.sub(r"<class '(?:[\w.]+\.)?(\w+)'>", r"\1", message)  # no Python reprs
    return re.sub(r"\s*\n\s*", " ", message.strip())


class QueryError(MetricsLayerError):
    """A request cannot be answered as asked (unknown name, unreachable dimension, bad grain...)."""


class ExpressionError(MetricsLayerError):
    """An expression uses syntax outside the allowed SQL-expression grammar."""


class ExpressionTooLarge(ExpressionError, QueryError):
    """An expression over a size limit (metrics_layer.limits): a QueryError in a request, and
    an ExpressionError, so that a definition's expression is reported at its file and line."""


class SchemaError(DefinitionError):
    """Definitions name a table or column that the connection does not have."""


class ConnectionError(MetricsLayerError):  # noqa: A001 - deliberate, namespaced as ml.ConnectionError
    """The backend could not be reached or a connection URL is invalid (credentials redacted)."""


class ExecutionError(MetricsLayerError):
    """The backend failed to run a compiled query."""


def guarded(build: Callable[[], T], what: str) -> T:
    """Run an expression builder; ibis type errors on user input become QueryErrors."""
    try:
        return build()
    except MetricsLayerError:
        raise
    except Exception as exc:  # noqa: BLE001 - ibis raises many kinds of type errors
        raise QueryError(f"cannot build {what}: {plain_reason(exc)}") from exc


_NO_METHOD = re.compile(r"'(\w*?)(?:Column|Scalar|Value)' object has no attribute '(\w+)'")


def plain_reason(exc: BaseException) -> str:
    """What went wrong in the user's terms: the first line of the cause, without the
    expression-tree dumps and class names of the library that raised it."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    missing = _NO_METHOD.search(first)
    if missing:
        kind = missing.group(1).lower() or "this"
        return f"{missing.group(2)} does not apply to {kind} values"
    if type(exc).__name__ == "SignatureValidationError" or "(r0 :=" in first:
        return (
            "an argument has the wrong type (a filter that is not a condition, or numbers "
            "and text mixed)"
        )
    return first or type(exc).__name__


def suggest(name: str, candidates: Iterable[str], n: int = 3) -> str:
    """A ' (did you mean ...?)' hint with the closest known names, or '' when none is close."""
    pool = sorted(set(candidates))
    close = difflib.get_close_matches(name, pool, n=n, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in pool}
        close = [
            lowered[c]
            for c in difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)
        ]
    if not close:
        return ""
    return " (did you mean " + ", ".join(repr(c) for c in close) + "?)"


def unknown(kind: str, name: str, candidates: Iterable[str]) -> str:
    """Standard wording for an unknown name with suggestions."""
    return f"unknown {kind} {name!r}{suggest(name, candidates)}"
