"""Load-time checks of the `access:` block, each failure naming file, line and field."""

from __future__ import annotations

from metrics_layer.access.placeholders import column_names, parse_filter
from metrics_layer.definitions.access import locate_policy
from metrics_layer.errors import DefinitionError, Location, MetricsLayerError, unknown
from metrics_layer.registry import Registry


def check_access(registry: Registry, *, resolve_names: bool = True) -> None:
    """Every policy names existing sources and dimensions; row filters parse (and, with a
    schema, their names resolve); `unmask` lists only `pii: true` dimensions."""
    sources = registry.sources
    for pname, policy in registry.project.access.policies.items():

        def at(*fields: str | int, _p: str = pname) -> Location:
            return locate_policy(registry.origins, _p, *fields)

        for i, source in enumerate(policy.sources):
            if source not in sources:
                raise DefinitionError(unknown("source", source, sources), at("sources", i))
        for source, text in policy.row_filters.items():
            if source not in policy.sources:
                raise DefinitionError(
                    f"row filter on {source!r}, which the policy does not list under `sources`",
                    at("row_filters", source),
                )
            try:
                parsed = parse_filter(text, "row filter")
                if resolve_names:
                    for name in column_names(parsed):
                        registry.resolve_field(source, name, prefer_columns=True)
            except MetricsLayerError as exc:
                raise DefinitionError(str(exc), at("row_filters", source)) from None
        for key in ("hidden", "unmask"):
            for i, entry in enumerate(getattr(policy, key)):
                source, _, dim = entry.partition(".")
                if not dim or source not in sources:
                    raise DefinitionError(
                        f"{entry!r}: name a dimension as source.dimension"
                        + ("" if not dim else f"; {unknown('source', source, sources)}"),
                        at(key, i),
                    )
                dims = sources[source].dimensions
                if dim not in dims:
                    raise DefinitionError(
                        unknown("dimension", dim, dims) + f" of source {source!r}", at(key, i)
                    )
                if key == "unmask" and not dims[dim].pii:
                    raise DefinitionError(
                        f"{entry!r} is not a pii dimension; only `pii: true` ones are masked",
                        at(key, i),
                    )
