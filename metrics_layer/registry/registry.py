"""The registry: all definitions merged, cross-references resolved and checked.

It answers the questions later stages ask — which measure is `events.revenue`, how is
`users.country` reached from `events`, what does `revenue_per_user` depend on — and raises a
located DefinitionError or QueryError (with close-match suggestions) when the answer is no.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from metrics_layer.definitions.loader import Origins
from metrics_layer.definitions.models import Measure, Metric, Project, Source
from metrics_layer.errors import (
    DefinitionError,
    ExpressionError,
    Location,
    QueryError,
    suggest,
    unknown,
)
from metrics_layer.expressions import ParsedExpression, compile_expression, parse_expression
from metrics_layer.registry.fields import FieldRef, JoinStep, suffix_matches

if TYPE_CHECKING:
    from metrics_layer.registry.schemas import Schemas

MAX_JOIN_DEPTH = 6


@dataclass(frozen=True)
class MeasureRef:
    source: str
    name: str
    measure: Measure

    @property
    def qualified(self) -> str:
        return f"{self.source}.{self.name}"


class Registry:
    """Resolved view of a Project. Column types come from `schema_of(table, database)`."""

    schemas: Schemas | None = None  # set by ml.load: where `schema_of` finds its types

    def __init__(
        self,
        project: Project,
        origins: Origins | None = None,
        schema_of: Callable[[str, str | None], dict[str, str] | None] | None = None,
        *,
        strict: bool = False,
    ) -> None:
        self.project = project
        self.strict = strict
        self.origins = origins or Origins()
        self._schema_of = schema_of
        self._paths: dict[str, list[tuple[tuple[JoinStep, ...], str]]] = {}
        self._field_cache: dict[tuple[str, str, bool, bool], FieldRef] = {}
        self._check_sources()
        self._check_metrics()
        self._check_analyses()

    # ------------------------------------------------------------------ locations
    def locate(self, section: str, name: str, *fields: str | int) -> Location:
        return self.origins.locate(section, name, *fields)

    def parse(self, text: str, section: str, name: str, *fields: str | int) -> ParsedExpression:
        """Parse a definition's expression; an invalid one is a DefinitionError at its field."""
        try:
            return parse_expression(text, what="expression")  # the location names the field
        except ExpressionError as exc:
            raise DefinitionError(str(exc), self.locate(section, name, *fields)) from None

    # ------------------------------------------------------------------ sources
    @property
    def sources(self) -> dict[str, Source]:
        return self.project.sources

    def source(self, name: str) -> Source:
        try:
            return self.project.sources[name]
        except KeyError:
            raise QueryError(unknown("source", name, self.project.sources)) from None

    def table_name(self, source: str) -> str:
        return self.sources[source].table or source

    def columns(self, source: str) -> dict[str, str] | None:
        """Column name → type of a source's table, or None when no schema is known."""
        if self._schema_of is None:
            return None
        src = self.sources[source]
        if src.calendar is not None:
            from metrics_layer.calendar import CALENDAR_SCHEMA

            return dict(CALENDAR_SCHEMA)
        return self._schema_of(self.table_name(source), src.database)

    def _check_sources(self) -> None:
        for name, src in self.sources.items():
            for role, join in src.joins.items():
                target = join.source or role
                if target not in self.sources:
                    raise DefinitionError(
                        unknown("source", target, self.sources) + f" in join {role!r}",
                        self.locate(
                            "sources", name, "joins", role, *(("source",) if join.source else ())
                        ),
                    )
            for dname, dim in src.dimensions.items():
                if dim.expr:
                    self.parse(dim.expr, "sources", name, "dimensions", dname, "expr")
            for mname, m in src.measures.items():
                for f in ("expr", "filter", "time"):
                    if getattr(m, f):
                        self.parse(getattr(m, f), "sources", name, "measures", mname, f)
                problem = _constant_measure_problem(m.agg, m.expr)
                if problem:
                    raise DefinitionError(
                        problem, self.locate("sources", name, "measures", mname, "expr")
                    )

    # ------------------------------------------------------------------ measures & metrics
    @cached_property
    def _measures_by_name(self) -> dict[str, list[MeasureRef]]:
        out: dict[str, list[MeasureRef]] = {}
        for sname, src in self.sources.items():
            for mname, m in src.measures.items():
                out.setdefault(mname, []).append(MeasureRef(sname, mname, m))
        return out

    def all_measures(self) -> list[MeasureRef]:
        return [r for refs in self._measures_by_name.values() for r in refs]

    def find_measure(self, ref: str) -> MeasureRef | None:
        """`source.measure`, or a bare measure name that is unique across sources."""
        if "." in ref:
            sname, _, mname = ref.partition(".")
            src = self.sources.get(sname)
            if src is not None and mname in src.measures:
                return MeasureRef(sname, mname, src.measures[mname])
            return None
        refs = self._measures_by_name.get(ref, [])
        if len(refs) > 1:
            raise QueryError(
                f"measure name {ref!r} is ambiguous: use one of "
                + ", ".join(r.qualified for r in refs)
            )
        return refs[0] if refs else None

    def queryable_names(self) -> list[str]:
        """Every name `query` accepts: metrics, then measures as source.measure (and bare if unique)."""
        names = list(self.project.metrics)
        for mname, refs in self._measures_by_name.items():
            names.extend(r.qualified for r in refs)
            if len(refs) == 1 and mname not in self.project.metrics:
                names.append(mname)
        return names

    def metric(self, name: str) -> Metric | MeasureRef:
        """A metric by name, or a measure used as a metric. Unknown names suggest close ones."""
        if name in self.project.metrics:
            return self.project.metrics[name]
        measure = self.find_measure(name)
        if measure is not None:
            return measure
        raise QueryError(unknown("metric", name, self.queryable_names()))

    def metric_dependencies(self, name: str) -> list[str]:
        """Names a metric refers to directly (metrics or measures)."""
        m = self.project.metrics[name]
        kind = m.kind
        if kind in ("simple", "cumulative"):
            return [m.measure] if m.measure else []
        if kind == "ratio":
            return [m.numerator or "", m.denominator or ""]
        if kind in ("offset", "share"):
            return [m.metric or ""]
        if kind == "derived":
            return list(self.parse(m.expr or "", "metrics", name, "expr").names)
        if kind == "conversion" and m.conversion is not None:
            return [m.conversion.base, m.conversion.conversion]
        return []

    def _check_metrics(self) -> None:
        metrics = self.project.metrics
        for name, m in metrics.items():
            kind = m.kind
            if m.filter:
                self.parse(m.filter, "metrics", name, "filter")
            if kind in ("simple", "cumulative"):
                self._measure_or_error(m.measure or "", name, "measure")
                continue
            if kind == "conversion":
                from metrics_layer.registry.conversion import check_conversion

                check_conversion(self, name, m)
                continue
            fields = {
                "ratio": ["numerator", "denominator"],
                "offset": ["metric"],
                "share": ["metric"],
            }.get(kind, ["expr"])
            deps = self.metric_dependencies(name)
            if kind == "derived":
                self._check_formula(name, m.expr or "", deps)
            for field, dep in zip(
                fields * len(deps) if kind == "derived" else fields, deps, strict=False
            ):
                if dep not in metrics and self._safe_find_measure(dep, name, field) is None:
                    raise DefinitionError(
                        unknown("metric or measure", dep, self.queryable_names())
                        + f" in {kind} metric {name!r}",
                        self.locate("metrics", name, field),
                    )
        self._check_cycles()

    def _check_formula(self, name: str, text: str, deps: list[str]) -> None:
        """A derived metric is a number computed from metrics: typed here with every metric a
        number, so a constant or a text result fails at load, not inside the query."""
        import ibis

        from metrics_layer.expressions.compile import compile_expression

        where = self.locate("metrics", name, "expr")
        if not deps:
            raise DefinitionError(
                f"derived metric {name!r}: expr {text!r} uses no metric or measure; a derived "
                "metric is a formula of other metrics",
                where,
            )
        frame = ibis.table({f"m{i}": "float64" for i in range(len(deps))}, name="metrics")
        columns = {d: frame[f"m{i}"] for i, d in enumerate(deps)}
        try:
            kind = compile_expression(
                self.parse(text, "metrics", name, "expr"), columns.__getitem__
            )
        except ExpressionError as exc:
            raise DefinitionError(str(exc), where) from None
        if not (kind.type().is_numeric() or kind.type().is_boolean()):
            raise DefinitionError(
                f"derived metric {name!r}: expr {text!r} gives a {kind.type()} value, not a number",
                where,
            )

    def _safe_find_measure(self, ref: str, metric: str, field: str) -> MeasureRef | None:
        try:
            return self.find_measure(ref)
        except QueryError as exc:
            raise DefinitionError(str(exc), self.locate("metrics", metric, field)) from None

    def _measure_or_error(self, ref: str, metric: str, field: str) -> MeasureRef:
        found = self._safe_find_measure(ref, metric, field)
        if found is None:
            names = [r.qualified for r in self.all_measures()]
            hint = (
                " (it is a metric; a simple metric wraps a measure)"
                if ref in self.project.metrics
                else ""
            )
            raise DefinitionError(
                unknown("measure", ref, names) + hint, self.locate("metrics", metric, field)
            )
        return found

    def _check_cycles(self) -> None:
        metrics = self.project.metrics
        state: dict[str, int] = {}

        def visit(name: str, stack: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = stack[stack.index(name) :] + [name]
                raise DefinitionError(
                    "metrics refer to each other in a cycle: " + " → ".join(cycle),
                    self.locate("metrics", cycle[0]),
                )
            state[name] = 1
            for dep in self.metric_dependencies(name):
                if dep in metrics:
                    visit(dep, [*stack, name])
            state[name] = 2

        for name in metrics:
            visit(name, [])

    def _check_analyses(self) -> None:
        """Retention and funnels name existing sources and parseable filters."""
        for name, ret in self.project.retention.items():
            self._source_or_error(ret.source, "retention", name, "source")
            for f in ("cohort", "activity"):
                self.parse(getattr(ret, f), "retention", name, f)
        for name, fun in self.project.funnels.items():
            self._source_or_error(fun.source, "funnels", name, "source")
            for i, step in enumerate(fun.steps):
                if step.source:
                    self._source_or_error(step.source, "funnels", name, "steps", i, "source")
                self.parse(step.filter, "funnels", name, "steps", i, "filter")
            for i, exc in enumerate(fun.exclusions):
                self.parse(exc.filter, "funnels", name, "exclusions", i, "filter")

    def _source_or_error(self, source: str, *where: str | int) -> None:
        if source not in self.sources:
            raise DefinitionError(unknown("source", source, self.sources), self.locate(*where))  # type: ignore[arg-type]

    # ------------------------------------------------------------------ join paths & fields
    def join_paths(self, base: str) -> list[tuple[tuple[JoinStep, ...], str]]:
        """Every join path from `base` (no source twice on one path), with its target source."""
        if base not in self._paths:
            out: list[tuple[tuple[JoinStep, ...], str]] = [((), base)]
            frontier: list[tuple[tuple[JoinStep, ...], str, frozenset[str]]] = [
                ((), base, frozenset({base}))
            ]
            while frontier:
                path, at, seen = frontier.pop(0)
                if len(path) >= MAX_JOIN_DEPTH:
                    continue
                for role, join in self.sources[at].joins.items():
                    target = join.source or role
                    if target in seen:
                        continue
                    step = JoinStep(at, role, target, tuple(join.key_pairs()), join.relationship)
                    new = (*path, step)
                    out.append((new, target))
                    frontier.append((new, target, seen | {target}))
            self._paths[base] = out
        return self._paths[base]

    def resolve_field(
        self,
        base: str,
        ref: str,
        *,
        prefer_columns: bool = False,
        declared_only: bool | None = None,
    ) -> FieldRef:
        """Resolve a (dotted) name from `base`: a dimension by path suffix, else a raw column.

        With prefer_columns (a source's own expressions), a bare name is the base's own column first.
        A strict registry resolves the names of requests (prefer_columns=False: by, where) to
        declared dimensions only, never to raw columns of the tables; definitions, which their
        authors control, keep their sources' columns. This is the one place that decides it.
        """
        if declared_only is None:
            declared_only = self.strict and not prefer_columns
        key = (base, ref, prefer_columns, declared_only)
        cached = self._field_cache.get(key)
        if cached is not None:
            return cached
        parts = tuple(ref.split("."))
        if prefer_columns and len(parts) == 1:
            cols = self.columns(base)
            if cols is not None and ref in cols:
                found = FieldRef(base, (), base, ref, "column")
                self._field_cache[key] = found
                return found
        dims: list[FieldRef] = []
        cols_found: list[FieldRef] = []
        for path, target in self.join_paths(base):
            roles = tuple(s.role for s in path)
            src = self.sources[target]
            for dname in src.dimensions:
                if suffix_matches((base, *roles, dname), parts):
                    dims.append(FieldRef(base, path, target, dname, "dimension"))
            columns = self.columns(target)
            if (
                columns is not None
                and not declared_only
                and parts[-1] in columns
                and parts[-1] not in src.dimensions
                and suffix_matches((base, *roles, parts[-1]), parts)
            ):
                cols_found.append(FieldRef(base, path, target, parts[-1], "column"))
        matches = dims or cols_found
        if not matches and declared_only:
            declared = self.field_names(base)
            hint = suggest(ref, declared) or (
                f"; declared: {', '.join(declared[:12])}{', ...' if len(declared) > 12 else ''}"
                if declared
                else "; it declares none"
            )
            raise QueryError(
                f"{ref!r} is not a declared dimension of source {base!r} (this layer is strict: "
                f"raw columns are not visible){hint}"
            )
        if not matches:
            at_grain = self._at_grain(base, parts, prefer_columns, declared_only)
            if at_grain is not None:
                self._field_cache[key] = at_grain
                return at_grain
            raise QueryError(
                unknown("dimension", ref, self.field_names(base))
                + f" for source {base!r}"
                + self._schema_note(base, parts)
            )
        if len(matches) > 1:
            raise QueryError(
                f"dimension {ref!r} is ambiguous from {base!r}; name one of: "
                + ", ".join(sorted(m.full_name for m in matches))
            )
        self._field_cache[key] = matches[0]
        return matches[0]

    def _at_grain(
        self, base: str, parts: tuple[str, ...], prefer_columns: bool, declared_only: bool
    ) -> FieldRef | None:
        """`<time field>__<grain>` (MetricFlow's naming, e.g. `customer.ds__month`): the field
        truncated to the start of its period, for any time dimension or column."""
        name, sep, grain = parts[-1].rpartition("__")
        if not sep or not name or grain not in ("day", "week", "month", "quarter", "year"):
            return None
        try:
            ref = self.resolve_field(
                base,
                ".".join((*parts[:-1], name)),
                prefer_columns=prefer_columns,
                declared_only=declared_only,
            )
        except QueryError:
            return None
        return None if ref.grain else replace(ref, grain=grain)

    def _schema_note(self, base: str, parts: tuple[str, ...]) -> str:
        """Without a connection a table has only the columns the definitions use: say so when
        the name could be a raw column of such a table."""
        if self.schemas is None:
            return ""
        for path, target in self.join_paths(base):
            if suffix_matches((base, *(s.role for s in path), parts[-1]), parts):
                note = self.schemas.note(self.table_name(target), self.sources[target].database)
                if note:
                    return note
        return ""

    def field_names(self, base: str) -> list[str]:
        """Names a user could write for the fields reachable from base (for suggestions)."""
        names: list[str] = []
        for path, target in self.join_paths(base):
            roles = [s.role for s in path]
            for dname in self.sources[target].dimensions:
                names.append(".".join([*roles, dname]) if roles else dname)
                names.append(dname)
        return sorted(set(names))

    def describe(self) -> dict[str, Any]:
        return {
            "sources": list(self.sources),
            "metrics": list(self.project.metrics),
            "retention": list(self.project.retention),
            "funnels": list(self.project.funnels),
        }


def _constant_measure_problem(agg: str, text: str | None) -> str | None:
    """Why a constant measure expression (`expr: "1"`, no column) has no meaning, if it has none.

    dbt projects write `{agg: sum, expr: "1"}` to count rows; sum, count, avg, min, max, median
    and percentile of a number are well defined. A distinct count of a constant is always 1 and
    a sum of a text is no number: both are refused here rather than at query time.
    """
    if not text:
        return None
    parsed = parse_expression(text)
    if parsed.names:
        return None
    if agg == "count_distinct":
        return (
            f"count_distinct of the constant {text!r} is always 1; "
            "count rows with agg: count (or sum of 1)"
        )
    try:
        typ = compile_expression(parsed, lambda name: None).type()
    except ExpressionError as exc:
        return str(exc)
    if agg in ("sum", "avg", "median", "percentile") and not (
        typ.is_numeric() or typ.is_boolean() or typ.is_null()
    ):
        return f"agg {agg!r} needs a number, but the constant {text!r} is of type {typ}"
    return None


def did_you_mean(name: str, names: list[str]) -> str:
    return suggest(name, names)
