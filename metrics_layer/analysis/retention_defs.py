"""Checks of `retention:` definitions against the other definitions and the real schema.

Each problem is a DefinitionError (SchemaError for a missing column) naming the file, line and
field, like every other definition. At load time the model (definitions/models.py `Retention`)
rejects unparsable expressions, the registry unknown sources and registry/schema_check.py
unknown columns. `check_retention` repeats what concerns one retention when it is queried and
adds what those do not see: a missing time column, `by` names that do not resolve when no
schema is known, a time column on a joined source.
"""

from __future__ import annotations

from metrics_layer.errors import DefinitionError, MetricsLayerError, SchemaError, suggest, unknown
from metrics_layer.registry import FieldRef, Registry

SECTION = "retention"


def check_all_retention(registry: Registry) -> None:
    """Check every retention definition (for the load-time validation of a project)."""
    for name in registry.project.retention:
        check_retention(registry, name)


def check_retention(registry: Registry, name: str) -> None:
    """Raise a located DefinitionError for the first problem of retention `name`."""
    d = registry.project.retention[name]
    if d.source not in registry.sources:
        raise DefinitionError(
            unknown("source", d.source, registry.sources), registry.locate(SECTION, name, "source")
        )
    parsed = {
        f: registry.parse(getattr(d, f), SECTION, name, f) for f in ("entity", "cohort", "activity")
    }
    time_field(registry, name)
    columns = registry.columns(d.source)
    if columns is not None:
        for f, expr in parsed.items():
            for col in expr.names:
                _own_field(registry, name, d.source, col, f, columns)
    for i, ref in enumerate(d.by):
        try:
            registry.resolve_field(d.source, ref)
        except MetricsLayerError as exc:
            cls = SchemaError if columns is not None else DefinitionError
            raise cls(str(exc), registry.locate(SECTION, name, "by", i)) from None


def time_field(registry: Registry, name: str) -> tuple[str, FieldRef]:
    """The time column of a retention (its own `time`, else its source's) and its field."""
    d = registry.project.retention[name]
    src = registry.sources[d.source]
    time = d.time or src.time
    if not time:
        raise DefinitionError(
            f"retention {name!r} needs a time column: set `time:` here or on source {d.source!r}",
            registry.locate(SECTION, name, "source"),
        )
    field = "time" if d.time else "source"
    columns = registry.columns(d.source)
    if columns is not None:
        _own_field(registry, name, d.source, time, field, columns)
    try:
        ref = registry.resolve_field(d.source, time, prefer_columns=True)
    except MetricsLayerError as exc:
        raise DefinitionError(str(exc), registry.locate(SECTION, name, field)) from None
    if ref.path:
        raise DefinitionError(
            f"time {time!r} of retention {name!r} must be a column of source "
            f"{d.source!r} itself, not of a joined source",
            registry.locate(SECTION, name, field),
        )
    return time, ref


def _own_field(
    registry: Registry, name: str, source: str, col: str, field: str, columns: dict[str, str]
) -> None:
    """A name in a retention expression must be a column (or dimension) reachable from source."""
    if col in columns:
        return
    try:
        registry.resolve_field(source, col, prefer_columns=True)
        return
    except MetricsLayerError:
        pass
    raise SchemaError(
        f"column {col!r} not found in table {registry.table_name(source)!r} of source "
        f"{source!r}{suggest(col, columns)}",
        registry.locate(SECTION, name, field),
    )
