"""Load-time checks of conversion metrics: both measures exist and have a time column (when
the registry is built), and the entity and constant properties name fields of their sources
(with the schema check of a connected load); definitions/conversion.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from metrics_layer.errors import DefinitionError, QueryError, unknown

if TYPE_CHECKING:
    from metrics_layer.definitions.models import Metric
    from metrics_layer.registry.fields import FieldRef
    from metrics_layer.registry.registry import Registry


def conversion_field(registry: Registry, source: str, name: str) -> FieldRef:
    """An entity or constant property of a conversion metric as a field of `source`: its own
    column first, else a dimension (joined ones by path). Without a known schema a bare name
    that is no dimension is taken as the column (the backend reports it if it is not)."""
    from metrics_layer.registry.fields import FieldRef

    if "." not in name and name in registry.sources[source].dimensions:
        name = f"{source}.{name}"  # the source's own dimension, not a joined one of that name
    try:
        ref = registry.resolve_field(source, name, prefer_columns=True)
    except QueryError:
        if "." in name or registry.columns(source) is not None:
            raise
        return FieldRef(source, (), source, name, "column")
    if ref.fans_out:
        raise QueryError(
            f"{ref.full_name} is reached from {source!r} through a one_to_many join "
            f"({ref.describe_path()}), which would multiply {source!r} rows"
        )
    return ref


def check_conversion(registry: Registry, name: str, metric: Metric) -> None:
    """Raise a located DefinitionError for a conversion metric that cannot be computed."""
    conv = metric.conversion
    assert conv is not None  # the model requires it
    for side in ("base", "conversion"):
        at = registry.locate("metrics", name, "conversion", side)
        try:
            found = registry.find_measure(getattr(conv, side))
        except QueryError as exc:
            raise DefinitionError(str(exc), at) from None
        if found is None:
            names = [r.qualified for r in registry.all_measures()]
            raise DefinitionError(
                f"conversion metric {name!r}: "
                + unknown(f"{side} measure", getattr(conv, side), names),
                at,
            )
        ref = found
        src = registry.sources[ref.source]
        if (ref.measure.time or src.time) is None:
            raise DefinitionError(
                f"conversion metric {name!r}: measure {ref.qualified} has no time column "
                f"(source {ref.source!r} declares no `time:`); conversions are matched in time",
                at,
            )


def check_conversion_fields(registry: Registry, name: str, metric: Metric) -> None:
    """With a known schema (ml.load given a connection): the entity, constant properties
    and filter name fields of their sources; a located SchemaError otherwise."""
    from metrics_layer.errors import SchemaError

    conv = metric.conversion
    assert conv is not None
    base = registry.find_measure(conv.base)
    target = registry.find_measure(conv.conversion)
    assert base is not None and target is not None  # checked when the registry was built
    sources = {"base": base.source, "conversion": target.source}
    for field in (
        registry.parse(metric.filter, "metrics", name, "filter").names if metric.filter else ()
    ):
        try:
            registry.resolve_field(base.source, field, prefer_columns=True)
        except QueryError as exc:
            raise SchemaError(
                f"conversion metric {name!r}: the filter narrows {base.source!r} rows: {exc}",
                registry.locate("metrics", name, "filter"),
            ) from None
    pairs = [("entity", conv.entities)] + [
        (f"constant_properties.{i}", p) for i, p in enumerate(conv.constant_properties)
    ]
    for where, pair in pairs:
        for side in ("base", "conversion"):
            field = getattr(pair, side)
            try:
                conversion_field(registry, sources[side], field)
            except QueryError as exc:
                if "ambiguous" not in str(exc):
                    source = sources[side]
                    known = [*(registry.columns(source) or {}), *registry.field_names(source)]
                    exc = QueryError(
                        unknown("column or dimension", field, known) + f" of source {source!r}"
                    )
                path = ["conversion", *where.split(".")]
                if where != "entity" or not isinstance(conv.entity, str):
                    path.append(side)
                raise SchemaError(
                    f"conversion metric {name!r}: {exc}",
                    registry.locate("metrics", name, *[int(p) if p.isdigit() else p for p in path]),
                ) from None
