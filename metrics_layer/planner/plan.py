"""The typed plan of a KPI query: which measures come from which source, how metrics combine.

Planning is pure (no ibis, no connection), so it is cheap, testable and printable (`explain`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from metrics_layer.definitions.models import Metric
from metrics_layer.errors import MetricsLayerError, QueryError
from metrics_layer.expressions import ParsedExpression, parse_expression
from metrics_layer.planner.request import Request
from metrics_layer.registry import JoinStep, MeasureRef, Registry


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
    window: str | None = None  # cumulative: rolling window ('7 days')
    to_date: str | None = None  # cumulative: grain-to-date ('month')
    cumulative: bool = False  # all-time running total when window and to_date are None
    snapshot: tuple[str, tuple[str, ...]] | None = None  # semi-additive: (first|last, groupings)

    @property
    def scan_key(self) -> tuple[object, ...]:
        """Nodes with the same key are computed in one scan of their source."""
        return (self.source, self.time, self.cumulative, self.window, self.to_date, self.snapshot)

    def describe(self) -> str:
        arg = self.expr or "*"
        text = f"{self.agg}({arg})" if self.agg != "percentile" else f"percentile({arg}, {self.p})"
        if self.filters:
            text += " where " + " and ".join(f"({f})" for f in self.filters)
        if self.window:
            text += f", over a rolling {self.window} window"
        elif self.to_date:
            text += f", {self.to_date}-to-date"
        elif self.cumulative:
            text += ", running total over all time"
        if self.snapshot:
            text += f", {self.snapshot[0]} snapshot of each period" + (
                f" per {', '.join(self.snapshot[1])}" if self.snapshot[1] else ""
            )
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


@dataclass(frozen=True)
class Offset:
    """A metric's value at the period `offset` earlier (computed by a sub-plan, then shifted)."""

    column: str
    metric: str
    offset: str


@dataclass(frozen=True)
class Share:
    """A metric divided by its total within coarser groups (ratio of sums, NULL on zero)."""

    column: str
    metric: str
    numerator: Formula
    within: tuple[str, ...]


Formula = Col | Ratio | Derived | Offset | Share


@dataclass
class SourceQuery:
    """All measures read from one source with one time column: a single filtered-aggregate scan."""

    source: str
    time: str | None
    nodes: list[MeasureNode] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)  # the join paths it needs, in words

    @property
    def lead(self) -> MeasureNode:
        """Nodes of one scan share cumulative/snapshot settings; the first one stands for all."""
        return self.nodes[0]


@dataclass
class Plan:
    request: Request
    source_queries: list[SourceQuery]
    formulas: dict[str, Formula]
    metric_columns: list[tuple[str, str]]  # (output column, requested name)
    dim_columns: list[tuple[str, str]]  # (output column, dimension reference)
    offsets: list[Offset] = field(default_factory=list)
    shares: list[Share] = field(default_factory=list)

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
            lines.append(
                f"{i}. scan source {sq.source!r} once"
                + (f", time column {sq.time}" if sq.time else "")
            )
            lines += [f"   {join}" for join in sq.joins]
            for n in sq.nodes:
                lines.append(f"   - {n.source}.{n.measure}: {n.describe()}")
            keys = ([r.grain] if r.grain else []) + list(r.by)
            lines.append(
                "   aggregated at its own grain"
                + (f" by {', '.join(keys)}" if keys else " (totals)")
                + " before combining, so joins cannot multiply rows"
            )
        if len(self.source_queries) > 1:
            lines.append(
                f"{len(self.source_queries) + 1}. merge the per-source aggregates on the group "
                "keys (NULL keys match NULL keys)"
            )
        for out, name in self.metric_columns:
            lines.append(f"   {out} = {describe_formula(self.formulas[name])}")
        return "\n".join(lines)


def describe_formula(f: Formula) -> str:
    if isinstance(f, Col):
        return f"{f.node.source}.{f.node.measure}: {f.node.describe()}"
    if isinstance(f, Ratio):
        return f"sum-level ratio ({describe_formula(f.numerator)}) / ({describe_formula(f.denominator)}), NULL if 0"
    if isinstance(f, Offset):
        return f"{f.metric} of the period {f.offset} earlier (NULL if none)"
    if isinstance(f, Share):
        within = ", ".join(f.within) if f.within else "the whole period"
        return f"{f.metric} / total {f.metric} within {within} (NULL if 0)"
    return f.parsed.text


class Planner:
    """Turns a Request into a Plan using the registry (names resolved, grains checked)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def plan(self, request: Request) -> Plan:
        """A new Plan for `request`; safe to call from many threads on one Planner."""
        return _Build(self.registry).plan(request)


class _Build:
    """The state of planning one request (nodes found so far), never shared between calls."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._nodes: dict[tuple[object, ...], MeasureNode] = {}
        self._formulas: dict[str, Formula] = {}
        self._offsets: list[Offset] = []
        self._shares: list[Share] = []

    def plan(self, request: Request) -> Plan:
        for name in request.metrics:
            self._check_grain(name, request)
            self._formulas[name] = self._formula(name, (), request)
        dim_columns = output_names(request.by)
        metric_columns = output_names(request.metrics)
        if request.grain and request.grain in {c for c, _ in dim_columns}:
            raise QueryError(
                f"a dimension and the time column would both be named {request.grain!r}; "
                f"the time column is named after the grain, so drop the dimension or "
                f"ask another grain"
            )
        taken = {c for c, _ in dim_columns} | ({request.grain} if request.grain else set())
        for out, name in metric_columns:
            if out in taken:
                raise QueryError(
                    f"metric {name!r} and a dimension or the time column share the "
                    f"output name {out!r}"
                )
        queries: dict[tuple[object, ...], SourceQuery] = {}
        for node in self._nodes.values():
            queries.setdefault(node.scan_key, SourceQuery(node.source, node.time)).nodes.append(
                node
            )
        for sq in queries.values():
            sq.joins = self._joins(sq, request)
        return Plan(
            request,
            list(queries.values()),
            self._formulas,
            metric_columns,
            dim_columns,
            self._offsets,
            self._shares,
        )

    def _joins(self, sq: SourceQuery, request: Request) -> list[str]:
        """The joins a scan needs for its dimensions, where and measures, for explain().

        Names that do not resolve are skipped here: compiling the query reports them.
        """
        names = [(b, False) for b in request.by]
        if isinstance(request.where, str):
            with contextlib.suppress(MetricsLayerError):
                names += [(n, False) for n in parse_expression(request.where).names]
        for node in sq.nodes:
            for text in (node.expr, *node.filters):
                if text:
                    names += [(n, True) for n in parse_expression(text).names]
        steps: dict[tuple[JoinStep, ...], None] = {}
        for name, own in names:
            try:
                ref = self.registry.resolve_field(sq.source, name, prefer_columns=own)
            except MetricsLayerError:
                continue
            for depth in range(1, len(ref.path) + 1):
                steps.setdefault(ref.path[:depth], None)
        return [describe_join(path[-1]) for path in steps]

    def _check_grain(self, name: str, request: Request) -> None:
        m = self.registry.metric(name)
        if isinstance(m, Metric) and m.grains is not None and request.grain not in m.grains:
            asked = request.grain or "no grain (totals)"
            raise QueryError(
                f"metric {name!r} can be asked only at grain "
                f"{', '.join(m.grains)}; the query asks {asked}"
            )

    def _formula(self, name: str, filters: tuple[str, ...], request: Request) -> Formula:
        self._check_grain(name, request)  # also for the metrics a ratio or derived metric uses
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
            return Ratio(
                self._formula(m.numerator or "", extra, request),
                self._formula(m.denominator or "", extra, request),
            )
        if kind == "derived":
            parsed = parse_expression(m.expr or "", what=f"metric {name}")
            return Derived(
                parsed, tuple((n, self._formula(n, extra, request)) for n in parsed.names)
            )
        if kind == "cumulative":
            if request.grain is None:
                raise QueryError(f"cumulative metric {name!r} needs a grain (e.g. grain='day')")
            ref = self.registry.find_measure(m.measure or "")
            assert ref is not None
            return Col(
                self._node(
                    ref,
                    extra,
                    request,
                    name,
                    window=m.window,
                    to_date=m.grain_to_date,
                    cumulative=True,
                )
            )
        if kind == "offset":
            if request.grain is None:
                raise QueryError(f"offset metric {name!r} needs a grain (e.g. grain='month')")
            if filters:
                raise QueryError(f"offset metric {name!r} cannot inherit a metric filter")
            off = Offset(f"__o{len(self._offsets)}", m.metric or "", m.offset or "")
            self._offsets.append(off)
            return off
        if kind == "share":
            base = m.metric or ""
            share = Share(
                f"__s{len(self._shares)}",
                base,
                self._formula(base, extra, request),
                tuple(m.share_of or ()),
            )
            self._shares.append(share)
            return share
        raise QueryError(
            f"metric {name!r} is a {kind} metric, which this query path does not support"
        )

    def _node(
        self,
        ref: MeasureRef,
        filters: tuple[str, ...],
        request: Request,
        asked: str,
        window: str | None = None,
        to_date: str | None = None,
        cumulative: bool = False,
    ) -> MeasureNode:
        src = self.registry.sources[ref.source]
        m = ref.measure
        time = m.time or src.time
        if time is None and (request.grain or request.start or request.end or cumulative):
            raise QueryError(
                f"metric {asked!r} has no time column (source {ref.source!r} declares no `time:`), "
                "so it cannot be asked with a grain or a start/end"
            )
        all_filters = tuple(f for f in ((m.filter,) if m.filter else ()) + filters)
        snapshot = None
        if m.non_additive is not None:
            if time is None:
                raise QueryError(f"semi-additive measure {ref.qualified} needs a time column")
            snapshot = (m.non_additive.window, tuple(m.non_additive.groupings))
        key = (ref.source, ref.name, all_filters, time, window, to_date, cumulative, snapshot)
        node = self._nodes.get(key)
        if node is None:
            node = MeasureNode(
                f"__m{len(self._nodes)}",
                ref.source,
                ref.name,
                m.agg,
                m.expr,
                all_filters,
                time,
                m.p,
                window,
                to_date,
                cumulative,
                snapshot,
            )
            self._nodes[key] = node
        return node


def describe_join(step: JoinStep) -> str:
    """One hop in words, so a reader of explain() sees which rows can (not) multiply."""
    role = step.role + (f" ({step.right})" if step.role != step.right else "")
    on = " and ".join(f"{step.left}.{a} = {step.role}.{b}" for a, b in step.pairs)
    return f"LEFT JOIN {role} on {on}, {step.relationship}"


def output_names(refs: tuple[str, ...]) -> list[tuple[str, str]]:
    """A dimension's column is its own name; names asked twice use their path joined by '__'."""
    short = [r.rsplit(".", 1)[-1] for r in refs]
    return [
        (s if short.count(s) == 1 else r.replace(".", "__"), r)
        for s, r in zip(short, refs, strict=True)
    ]
