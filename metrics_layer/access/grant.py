"""A Grant: the named policies of one caller, resolved into what that caller may see.

Several policies grant the union of what each grants: a source is visible when any policy
lists it; its rows are the OR of the row filters of the policies that list it (all rows when
one of them has no filter for it); a dimension is hidden only when every policy that shows its
source hides it; a `pii: true` dimension is unmasked when any of those policies unmasks it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from metrics_layer.access.placeholders import check_attributes, parse_filter, placeholders
from metrics_layer.definitions.access import Policy
from metrics_layer.errors import QueryError, suggest, unknown
from metrics_layer.expressions import ParsedExpression

Field = tuple[str, str]  # (source, dimension)


@dataclass(frozen=True)
class Grant:
    """What a set of policies shows, with the caller's attributes that bind its row filters."""

    policies: tuple[str, ...]
    attributes: Mapping[str, Any]
    sources: frozenset[str]
    row_filters: Mapping[str, tuple[ParsedExpression, ...] | None]  # None: every row
    hidden: frozenset[Field]
    unmasked: frozenset[Field]


def _field(entry: str) -> Field:
    source, _, dim = entry.partition(".")
    return source, dim


def resolve_grant(
    policies_defined: Mapping[str, Policy],
    names: Sequence[str] | str,
    attributes: Mapping[str, Any] | None,
) -> Grant:
    """Resolve policy names; an unknown or empty list or a missing attribute is an error."""
    if isinstance(names, str):
        names = [names]
    names = list(dict.fromkeys(names or []))
    if not names:
        raise QueryError("restrict needs at least one policy (an empty list would show nothing)")
    if not policies_defined:
        raise QueryError("restrict: the definitions declare no access policies")
    for name in names:
        if not isinstance(name, str) or name not in policies_defined:
            raise QueryError(unknown("policy", str(name), policies_defined))
    attrs = check_attributes(attributes or {})
    chosen = [(n, policies_defined[n]) for n in names]
    for pname, policy in chosen:
        for source, text in policy.row_filters.items():
            for key in placeholders(text):
                if key not in attrs:
                    raise QueryError(
                        f"policy {pname!r} filters {source!r} by the attribute {key!r}, which "
                        f"the caller does not have{suggest(key, attrs)}"
                    )
    sources = frozenset(s for _, p in chosen for s in p.sources)
    filters: dict[str, tuple[ParsedExpression, ...] | None] = {}
    hidden: set[Field] = set()
    unmasked: set[Field] = set()
    for source in sources:
        granting = [(n, p) for n, p in chosen if source in p.sources]
        if any(source not in p.row_filters for _, p in granting):
            filters[source] = None
        else:
            filters[source] = tuple(
                parse_filter(p.row_filters[source], f"row filter of policy {n!r} on {source!r}")
                for n, p in granting
            )
        hides = [{_field(h) for h in p.hidden if _field(h)[0] == source} for _, p in granting]
        hidden |= set.intersection(*hides) if hides else set()
        unmasked |= {_field(u) for _, p in granting for u in p.unmask if _field(u)[0] == source}
    return Grant(
        tuple(names),
        attrs,
        sources,
        filters,
        frozenset(hidden),
        frozenset(unmasked - hidden),
    )
