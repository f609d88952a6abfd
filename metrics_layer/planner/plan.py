"""The typed plan of a KPI query: which measures come from which source, how metrics combine.

Planning is pure (no ibis, no connection), so it is cheap, testable and printable (`explain`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from metrics_layer.definitions.models import Metric
from metrics_layer.errors import QueryError
from metrics_layer.expressions import ParsedExpression, parse_expression
from metrics_layer.planner.request import Request
from metrics_layer.registry import MeasureRef, Registry


@dataclass(frozen=True)
class MeasureNode:
    """One aggregate computed at its own source (a measure, maybe narrowed by a metric filter)."""

    column: str
    source: str
    measure: str
    agg: str
    expr: str | None
    filters: tuple[str, ...]
    time: str | None
    p: float | None = None

    def describe(self) -> str:
        arg = self.expr or "*"
        text = f"{self.agg}({arg})" if self.agg != "percentile" else f"percentile({arg}, {self.p})"
        if self.filters:
            text += " where " + " and ".join(f"({f})" for f in self.filters)
        return text


@dataclass(frozen=True)
class Col:
    node: MeasureNode


@dataclass(frozen=True)
class Ratio:
    numerator: Formula
    denominator: Formula


@dataclass(frozen=True)
class Derived:
    parsed: ParsedExpression
    inputs: tuple[tuple[str, Formula], ...]


Formula = Union[Col, Ratio, Derived]


@dataclass
class SourceQuery:
    """All measures read from one source with one time column: a single filtered-aggregate scan."""

    source: str
    time: str | None
    nodes: list[MeasureNode] = field(default_factory=list)


@dataclass
class Plan:
    request: Request
    source_queries: list[SourceQuery]
    formulas: dict[str, Formula]
    metric_columns: list[tuple[str, str]]  # (output column, requested name)
    dim_columns: list[tuple[str, str]]  # (output column, dimension reference)

    def explain(self) -> str:
        r = self.request
        lines = [f"KPI query: {', '.join(r.metrics)}"]
        if r.by:
            lines.append(f"  by: {', '.join(r.by)}")
        if r.grain:
            lines.append(f"  grain: {r.grain} (periods bucketed in {r.timezone})")
        if r.where is not None:
            lines.append(f"  where: {r.where}")
        if r.start or r.end:
            lines.append(f"  time range: [{r.start or '-∞'}, {r.end or '+∞'})")
        for i, sq in enumerate(self.source_queries, 1):
            lines.append(f"{i}. scan source {sq.source!r} once"
                         + (f", time column {sq.time}" if sq.time else ""))
            for n in sq.nodes:
                lines.append(f"   - {n.source}.{n.measure}: {n.describe()}")
            keys = ([r.grain] if r.grain else []) + list(r.by)
            lines.append("   aggregated at its own grain"
                         + (f" by {', '.join(keys)}" if keys else " (totals)")
                         + " before combining, so joins cannot multiply rows")
        if len(self.source_queries) > 1:
            lines.append(f"{len(self.source_queries) + 1}. merge the per-source aggregates on the group "
                         "keys (NULL keys match NULL keys)")
        for out, name in self.metric_columns:
            lines.append(f"   {out} = {describe_formula(self.formulas[name])}")
        return "\n".join(lines)


def describe_formula(f: Formula) -> str:
    if isinstance(f, Col):
        return f"{f.node.source}.{f.node.measure}" + (
            f" [{' and '.join(f.node.filters)}]" if f.node.filters and f.node.filters != () else "")
    if isinstance(f, Ratio):
        return f"sum-level ratio ({describe_formula(f.numerator)}) / ({describe_formula(f.denominator)}), NULL if 0"
    return f.parsed.text


class Planner:
    """Turns a Request into a Plan using the registry (names resolved, grains checked)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def plan(self, request: Request) -> Plan:
        self._nodes: dict[tuple[object, ...], MeasureNode] = {}
        self._formulas: dict[str, Formula] = {}
        metric_columns: list[tuple[str, str]] = []
        for name in request.metrics:
            self._check_grain(name, request)
            self._formulas[name] = self._formula(name, (), request)
            metric_columns.append((name, name))
        dim_columns = output_names(request.by)
        metric_columns = _metric_outputs(request.metrics)
        taken = {c for c, _ in dim_columns} | ({request.grain} if request.grain else set())
        for out, name in metric_columns:
            if out in taken:
                raise QueryError(f"metric {name!r} and a dimension or the time column share the "
                                 f"output name {out!r}")
        queries: dict[tuple[str, str | None], SourceQuery] = {}
        for node in self._nodes.values():
            key = (node.source, node.time)
            queries.setdefault(key, SourceQuery(node.source, node.time)).nodes.append(node)
        return Plan(request, list(queries.values()), self._formulas, metric_columns, dim_columns)

    def _check_grain(self, name: str, request: Request) -> None:
        m = self.registry.metric(name)
        if isinstance(m, Metric) and m.grains is not None:
            if request.grain is None or request.grain not in m.grains:
                asked = request.grain or "no grain (totals)"
                raise QueryError(f"metric {name!r} can be asked only at grain "
                                 f"{', '.join(m.grains)}; the query asks {asked}")

    def _formula(self, name: str, filters: tuple[str, ...], request: Request) -> Formula:
        m = self.registry.metric(name)
        if isinstance(m, MeasureRef):
            return Col(self._node(m, filters, request, name))
        kind = m.kind
        extra = (*filters, m.filter) if m.filter else filters
        if kind == "simple":
            ref = self.registry.find_measure(m.measure or "")
            assert ref is not None  # checked by the registry
            return Col(self._node(ref, extra, request, name))
        if kind == "ratio":
            return Ratio(self._formula(m.numerator or "", extra, request),
                         self._formula(m.denominator or "", extra, request))
        if kind == "derived":
            parsed = parse_expression(m.expr or "", what=f"metric {name}")
            return Derived(parsed, tuple((n, self._formula(n, extra, request)) for n in parsed.names))
        raise QueryError(f"metric {name!r} is a {kind} metric, which this query path does not support yet")

    def _node(self, ref: MeasureRef, filters: tuple[str, ...], request: Request, asked: str) -> MeasureNode:
        src = self.registry.sources[ref.source]
        m = ref.measure
        time = m.time or src.time
        if time is None and (request.grain or request.start or request.end):
            raise QueryError(
                f"metric {asked!r} has no time column (source {ref.source!r} declares no `time:`), "
                "so it cannot be asked with a grain or a start/end"
            )
        all_filters = tuple(f for f in ((m.filter,) if m.filter else ()) + filters)
        key = (ref.source, ref.name, all_filters, time)
        node = self._nodes.get(key)
        if node is None:
            node = MeasureNode(f"__m{len(self._nodes)}", ref.source, ref.name, m.agg, m.expr,
                               all_filters, time, m.p)
            self._nodes[key] = node
        return node


def output_names(refs: tuple[str, ...]) -> list[tuple[str, str]]:
    """A dimension's column is its own name; names asked twice use their path joined by '__'."""
    short = [r.rsplit(".", 1)[-1] for r in refs]
    return [(s if short.count(s) == 1 else r.replace(".", "__"), r) for s, r in zip(short, refs, strict=True)]


def _metric_outputs(names: tuple[str, ...]) -> list[tuple[str, str]]:
    return output_names(names)
