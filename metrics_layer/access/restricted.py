"""RestrictedLayer: the Layer API over pruned definitions and filtered, masked tables.

Every analysis reads a source's rows through `Layer.table`, so overriding it here applies the
row filters and the PII mask to KPIs, SQL, retention, funnels, experiments, checks, dimension
values and catalog pages alike, including rows reached through joins. The registry is strict
and built from the pruned definitions (prune.py), so hidden names do not exist for a caller.
Restricting a restricted layer only narrows: its tables are read through its parent's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ibis.expr.types as ir

from metrics_layer.access.grant import Field, Grant, resolve_grant
from metrics_layer.access.keys import (
    add_masked_copies,
    read_masked_copies,
    schema_with_copies,
    structural_columns,
)
from metrics_layer.access.mask import mask_table, masked_columns
from metrics_layer.access.prune import drop_hidden, prune_project
from metrics_layer.access.rows import filtered_rows
from metrics_layer.errors import QueryError, unknown
from metrics_layer.expressions import parse_expression
from metrics_layer.layer import Layer
from metrics_layer.registry import Registry
from metrics_layer.result import Result


def restrict(
    layer: Layer, policies: Sequence[str] | str, attributes: Mapping[str, Any] | None = None
) -> RestrictedLayer:
    """A restricted view of `layer` under the named policies (see docs/service.md)."""
    root = layer.root if isinstance(layer, RestrictedLayer) else layer
    grant = resolve_grant(root.registry.project.access.policies, policies, attributes)
    return RestrictedLayer(layer, grant)


class RestrictedLayer(Layer):
    """A Layer that sees only what its grant (and its parent's) shows."""

    def __init__(self, parent: Layer, grant: Grant) -> None:
        self.parent = parent
        self.root: Layer = parent.root if isinstance(parent, RestrictedLayer) else parent
        self.grant = grant
        full = self.root.registry
        visible = frozenset(parent.registry.sources) & grant.sources
        inherited = parent.hidden if isinstance(parent, RestrictedLayer) else frozenset()
        self.hidden: frozenset[Field] = inherited | grant.hidden
        pii = {
            (s, d)
            for s, src in full.sources.items()
            for d, dim in src.dimensions.items()
            if getattr(dim, "pii", False)
        }
        shown = (
            parent.unmasked & grant.unmasked
            if isinstance(parent, RestrictedLayer)
            else grant.unmasked
        )
        self.unmasked: frozenset[Field] = frozenset(shown)
        self.masked: frozenset[Field] = frozenset(pii - self.unmasked - self.hidden)
        # per source: the columns masked in its table, and those kept raw for joins and the
        # like, read through a masked copy (keys.py)
        self._masked_cols: dict[str, set[str]] = {}
        self._kept_raw: dict[str, set[str]] = {}
        for source in visible:
            cols = masked_columns(full, source, [d for s, d in self.masked if s == source])
            cols -= masked_columns(full, source, [d for s, d in self.unmasked if s == source])
            kept = cols & structural_columns(full, source) if cols else set()
            self._masked_cols[source] = cols - kept
            self._kept_raw[source] = kept
        registry = Registry(
            read_masked_copies(prune_project(full, visible, self.hidden), self._kept_raw),
            full.origins,
            schema_with_copies(full._schema_of, full, self._kept_raw),
            strict=True,
        )
        registry.schemas = full.schemas
        super().__init__(
            registry,
            parent.con,
            timezone=parent.timezone,
            path=parent.path,
            week_start=getattr(parent, "week_start", None),
        )
        # compiled queries differ per grant, but the connections are the root's: a restricted
        # layer opens no cursor or PostgreSQL pool of its own
        self.engine.executor = self.root.engine.executor
        self._rows_cache: dict[str, ir.Table] = {}

    # ---------------------------------------------------------------- rows
    def rows(self, source: str) -> ir.Table:
        """The allowed, unmasked rows of any source: the parent's rows, then this grant's filter.

        Row filters of a grant look up joined sources through here, so they see the parent's
        allowed rows; a source this grant does not list keeps the parent's rows.
        """
        t = self._rows_cache.get(source)
        if t is None:
            parent_rows = (
                self.parent.rows if isinstance(self.parent, RestrictedLayer) else self.parent.table
            )
            filters = self.grant.row_filters.get(source)
            if not filters:
                t = parent_rows(source)
            else:
                t = filtered_rows(
                    self.root.registry,
                    parent_rows,
                    source,
                    filters,
                    self.grant.attributes,
                    backend=self.backend,
                    timezone=self.timezone,
                )
            t = self._rows_cache.setdefault(source, t)
        return t

    def table(self, source: str) -> ir.Table:
        """A visible source's allowed rows, with its pii columns masked (mask.py, keys.py)."""
        if source not in self.registry.sources:
            raise QueryError(unknown("source", source, self.registry.sources))
        cached = self._tables.get(source)
        if cached is None:
            # a column is shown when a policy unmasks a dimension that is that column (or reads it)
            shown = drop_hidden(self.root.registry, source, self.rows(source), self.hidden)
            copied = add_masked_copies(shown, self._kept_raw.get(source, ()))
            masked = mask_table(copied, self._masked_cols.get(source, ()))
            cached = self._tables.setdefault(source, masked)
        return cached

    # ---------------------------------------------------------------- requests
    def _refuse_masked(self, text: Any, what: str) -> None:
        """A `where` must be SQL text, and may not filter on a masked (pii) dimension."""
        if text is None:
            return
        if not isinstance(text, str):
            raise QueryError(f"{what} of a restricted layer must be SQL expression text")
        for name in parse_expression(text, what=what).names:
            for source in self.registry.sources:
                try:
                    ref = self.registry.resolve_field(source, name)
                except QueryError:
                    continue
                if (ref.source, ref.name) in self.masked:
                    raise QueryError(
                        f"{what}: {name!r} is a masked (pii) dimension and cannot be filtered on"
                    )

    def query(self, metrics: str | Sequence[str], *args: Any, **kwargs: Any) -> Result:
        if args:
            raise QueryError("pass the options of a restricted query by keyword")
        if kwargs.get("use_materializations"):
            raise QueryError("a restricted layer answers from raw data only")
        self._refuse_masked(kwargs.get("where"), "where")
        return super().query(metrics, **kwargs)

    def dimension_values(
        self, dimension: str, search: str | None = None, limit: int = 100
    ) -> Result:
        source, _, ref = str(dimension).partition(".")
        if source in self.registry.sources and ref:
            found = self.registry.resolve_field(source, ref)
            if search is not None and (found.source, found.name) in self.masked:
                raise QueryError(
                    f"{dimension!r} is a masked (pii) dimension: its values cannot be searched"
                )
        return super().dimension_values(dimension, search=search, limit=limit)

    def check_sources(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("quarantine"):
            raise QueryError("a restricted layer cannot write quarantine tables")
        return super().check_sources(*args, **kwargs)

    def materialize(self, *args: Any, **kwargs: Any) -> Any:
        raise QueryError("a restricted layer cannot write materializations")

    def __repr__(self) -> str:
        return f"<RestrictedLayer {', '.join(self.grant.policies)} of {self.root!r}>"
