"""Checks of `funnels:` definitions against the other definitions and the real schema.

The model (definitions/models.py `Funnel`) already rejects what one definition alone can get
wrong (unparsable filters, duplicate step names, `between` naming unknown steps). These checks
need the whole project and, with a connection bound, the tables' columns. Each problem is a
DefinitionError (SchemaError for a missing column) naming the file, the line and the field.
"""

from __future__ import annotations

from metrics_layer.analysis.funnel_spec import EventKind, Exclusion
from metrics_layer.definitions.models import Funnel
from metrics_layer.errors import DefinitionError, MetricsLayerError, SchemaError, suggest, unknown
from metrics_layer.registry import FieldRef, Registry

SECTION = "funnels"


def check_all_funnels(registry: Registry) -> None:
    """Check every funnel definition (for the load-time validation of a project)."""
    for name in registry.project.funnels:
        check_funnel(registry, name)


def check_funnel(registry: Registry, name: str) -> None:
    """Raise a located DefinitionError for the first problem of funnel `name`."""
    d = registry.project.funnels[name]
    if d.source not in registry.sources:
        raise DefinitionError(
            unknown("source", d.source, registry.sources), registry.locate(SECTION, name, "source")
        )
    event_kinds(registry, name)
    if d.order == "any" and d.exclusions:
        raise DefinitionError(
            "exclusions need an ordered funnel (order sequential or strict): "
            "with order 'any' steps have no 'between'",
            registry.locate(SECTION, name, "exclusions"),
        )
    if d.steps[0].within is not None:
        raise DefinitionError(
            f"step {d.steps[0].name!r} is the first step: `within` bounds the time from the "
            "previous step, so it belongs on a later step",
            registry.locate(SECTION, name, "steps", 0, "within"),
        )
    columns = registry.columns(d.source)
    for i, ref in enumerate(d.hold):
        try:
            hold_refs(registry, steps_sources(d), ref)
        except MetricsLayerError as exc:
            cls = SchemaError if columns is not None else DefinitionError
            raise cls(str(exc), registry.locate(SECTION, name, "hold", i)) from None
    for i, ref in enumerate(d.by):
        try:
            field = registry.resolve_field(d.source, ref)
        except MetricsLayerError as exc:
            cls = SchemaError if columns is not None else DefinitionError
            raise cls(str(exc), registry.locate(SECTION, name, "by", i)) from None
        if field.fans_out:
            raise DefinitionError(
                f"by {ref!r} is reached through a one_to_many join "
                f"({field.describe_path()}) and has no single value per event",
                registry.locate(SECTION, name, "by", i),
            )


def steps_sources(d: Funnel) -> tuple[str, ...]:
    """The sources the funnel's steps read (its own first)."""
    out = [d.source]
    for s in d.steps:
        if s.source and s.source not in out:
            out.append(s.source)
    return tuple(out)


def hold_refs(registry: Registry, sources: tuple[str, ...], ref: str) -> dict[str, FieldRef]:
    """A hold dimension resolved from every source the steps read (it must have one value
    per event on each); an unknown name suggests the close ones."""
    out = {}
    for src in sources:
        field = registry.resolve_field(src, ref)
        if field.fans_out:
            raise MetricsLayerError(
                f"hold {ref!r} is reached through a one_to_many join "
                f"({field.describe_path()}) and has no single value per event"
            )
        out[src] = field
    return out


def event_kinds(
    registry: Registry, name: str
) -> tuple[tuple[EventKind, ...], tuple[Exclusion, ...]]:
    """The funnel's steps and exclusions with source, entity and time resolved and checked."""
    d = registry.project.funnels[name]
    main_time = _time_of(registry, name, d, d.source, d.time, ("time",) if d.time else ("source",))
    steps = []
    for i, s in enumerate(d.steps):
        steps.append(
            _kind(
                registry,
                name,
                d,
                ("steps", i),
                s.name,
                s.filter,
                s.source,
                s.entity,
                s.time,
                main_time,
            )
        )
    names = [s.name for s in d.steps]
    exclusions = []
    for i, x in enumerate(d.exclusions):
        kind = _kind(
            registry, name, d, ("exclusions", i), x.name, x.filter, None, None, None, main_time
        )
        lo, hi = x.between or (names[0], names[-1])
        exclusions.append(Exclusion(kind, names.index(lo) + 1, names.index(hi) + 1))
    return tuple(steps), tuple(exclusions)


def _kind(
    registry: Registry,
    name: str,
    d: Funnel,
    path: tuple[str, int],
    kind_name: str,
    filter_: str,
    source: str | None,
    entity: str | None,
    time: str | None,
    main_time: str,
) -> EventKind:
    src = source or d.source
    if src not in registry.sources:
        raise DefinitionError(
            unknown("source", src, registry.sources),
            registry.locate(SECTION, name, *path, "source"),
        )
    main = src == d.source and entity is None and time is None
    ent = entity or d.entity
    if main:
        t = main_time
    else:
        field = (*path, "time") if time else ((*path, "source") if source else (*path, "time"))
        t = _time_of(registry, name, d, src, time, field)
    ent_field = (*path, "entity") if entity else ("entity",)
    _names_exist(registry, name, src, ent, ent_field)
    _names_exist(registry, name, src, filter_, (*path, "filter"))
    return EventKind(kind_name, src, ent, t, filter_, main, path)


def _time_of(
    registry: Registry,
    name: str,
    d: Funnel,
    source: str,
    time: str | None,
    field: tuple[str | int, ...],
) -> str:
    """The time column of events from `source`: the one named here, else the source's."""
    own = time or (d.time if source == d.source else None) or registry.sources[source].time
    if not own:
        raise DefinitionError(
            f"funnel {name!r} needs a time column for source {source!r}: set `time:` here or "
            f"on source {source!r}",
            registry.locate(SECTION, name, *field),
        )
    _names_exist(registry, name, source, own, field)
    return own


def _names_exist(
    registry: Registry, name: str, source: str, text: str, field: tuple[str | int, ...]
) -> None:
    """Every name of an expression resolves from `source` (own column first, then joins)."""
    parsed = registry.parse(text, SECTION, name, *field)
    columns = registry.columns(source)
    for col in parsed.names:
        if columns is not None and col in columns:
            continue
        if columns is None and "." not in col:
            continue  # no schema known (no connection): a bare name cannot be checked yet
        try:
            registry.resolve_field(source, col, prefer_columns=True)
        except MetricsLayerError as exc:
            if columns is None:
                raise DefinitionError(str(exc), registry.locate(SECTION, name, *field)) from None
            raise SchemaError(
                f"column {col!r} not found in table {registry.table_name(source)!r} of source "
                f"{source!r}{suggest(col, columns)}",
                registry.locate(SECTION, name, *field),
            ) from None
