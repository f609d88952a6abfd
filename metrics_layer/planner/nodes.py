"""The physical plan of a KPI query: small immutable nodes, each one step of the SQL.

A plan is a tree. Its leaves are scans of one source (with the joins they need, every field
already resolved to a FieldRef); above them sit eager pre-aggregations, the merge of
per-source aggregates, shifted copies of sub-plans (offset metrics), zero-filled spines,
share totals, the metric formulas and the final order/limit. The compiler visits the tree and
`explain()` prints it, so what is printed is what runs.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from dataclasses import dataclass
from typing import Any

from metrics_layer.expressions import ParsedExpression
from metrics_layer.registry import FieldRef, JoinStep

Names = tuple[tuple[str, FieldRef], ...]  # an expression's names, resolved from its source


@dataclass(frozen=True)
class KeyIn:
    """A distinct count of a many-to-one join key, computed at the joined source: a semi-join.

    count(DISTINCT a.k) of the `source` rows joined to the scanned rows, when every group key,
    the where and the time are fields of the joined source, equals the number of scanned rows
    whose `key` is among the `column` values of `source` rows passing `filters` (each key value
    names one scanned row, the join being many-to-one). `none_if_unmatched`: a group with no
    `source` row at all is NULL, as it is when the two sources are aggregated apart and merged.
    """

    source: str  # the measure's own source, whose rows hold the keys
    measure: str
    column: str  # its key column (the join's left side)
    key: FieldRef  # the scanned source's own key it matches (the join's right side)
    filters: tuple[str, ...]
    conditions: tuple[ParsedExpression, ...]
    names: Names  # the names of `filters`, resolved from `source`
    none_if_unmatched: bool

    def describe(self) -> str:
        text = f"count(*) of rows whose {self.key.name} is a {self.column} of {self.source}"
        if self.filters:
            text += " where " + " and ".join(f"({f})" for f in self.filters)
        if self.none_if_unmatched:
            text += f" (NULL in a group no {self.source} row matches)"
        return text


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
    value: ParsedExpression | None = None  # `expr`, parsed once
    conditions: tuple[ParsedExpression, ...] = ()  # `filters`, parsed once
    names: Names = ()  # every name of expr and filters, resolved from `source`
    key_in: KeyIn | None = None  # a distinct count of a join key, computed as a semi-join

    @property
    def scan_key(self) -> tuple[object, ...]:
        """Nodes with the same key are computed in one scan of their source."""
        return (self.source, self.time, self.cumulative, self.window, self.to_date, self.snapshot)

    def describe(self) -> str:
        if self.key_in is not None:
            return self.key_in.describe()
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


# ------------------------------------------------------------------------------ formulas
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
    """A metric's value at the period `offset` earlier, or at the start of the `to_grain`
    period holding the period (offset_to_grain): a column of a Shift node."""

    column: str
    metric: str
    offset: str
    to_grain: str | None = None


@dataclass(frozen=True)
class Share:
    """A metric divided by its total within coarser groups (ratio of sums, NULL on zero)."""

    column: str
    metric: str
    numerator: Formula
    within: tuple[str, ...]


@dataclass(frozen=True)
class Conversions:
    """The conversions of a conversion metric: a column of its ConversionEvents node."""

    column: str
    metric: str


Formula = Col | Ratio | Derived | Offset | Share | Conversions


# ------------------------------------------------------------------------------ tree nodes
@dataclass(frozen=True)
class Scan:
    """One pass over one source: joined, filtered, bucketed, every measure a filtered aggregate.

    `fields` are all the fields the frame must carry (keys, where, measures, time), each resolved
    once; `joins` are the distinct join paths they need, outermost last.
    """

    source: str
    time: FieldRef | None
    grain: str | None
    start: _dt.datetime | None
    end: _dt.datetime | None
    keys: tuple[tuple[str, FieldRef], ...]  # output column -> dimension
    where: Any  # text or an ibis Deferred (resolved against the frame when compiled)
    nodes: tuple[MeasureNode, ...]
    fields: tuple[FieldRef, ...]
    joins: tuple[tuple[JoinStep, ...], ...]
    as_of: Any = None
    snapshot_by: tuple[FieldRef, ...] = ()  # semi-additive groupings, resolved
    row_fields: tuple[FieldRef, ...] = ()  # the fields rows are filtered or aggregated on
    # measure filters that hold on every row the scan keeps ("<its time> IS NOT NULL" when
    # the time is bucketed or bounded): not checked again
    implied: tuple[str, ...] = ()

    @property
    def lead(self) -> MeasureNode:
        """Nodes of one scan share cumulative/snapshot settings; the first one stands for all."""
        return self.nodes[0]


@dataclass(frozen=True)
class EagerAggregate:
    """The facts of `scan` grouped by (period, own keys, join keys) BELOW its joins.

    The joins then look up each partial group once instead of each fact row; the partial
    aggregates are re-aggregated above the joins (`reaggregate`: node column -> how).
    """

    scan: Scan
    join_keys: tuple[str, ...]  # own columns that reach the joined dimensions
    reaggregate: tuple[tuple[str, str], ...]
    reason: str


@dataclass(frozen=True)
class Merge:
    """Per-source aggregates combined on the group keys (UNION ALL + GROUP BY: NULL-safe)."""

    parts: tuple[Node, ...]
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Formulas:
    """The metric formulas evaluated on aggregates: one column per requested metric."""

    input: Node
    keys: tuple[str, ...]
    outputs: tuple[tuple[str, Formula], ...]


@dataclass(frozen=True)
class Shift:
    """Sub-plan values moved forward by `offset`: row P holds the value of the period of P - offset.

    One Shift per (metric, offset) however many metrics use it. The output periods run over
    [start, end) (from the sub-plan's data where a bound is open).
    """

    offset: str
    grain: str
    column: str
    value: str  # the column of `input` holding the metric
    metric: str
    used_by: tuple[str, ...]
    dims: tuple[str, ...]
    start: _dt.datetime | None
    end: _dt.datetime | None
    input: Formulas
    # offset_to_grain: row P holds the sub-plan's row (at `input_grain`) starting at the start
    # of the `to_grain` period holding P, instead of the period of P - offset
    to_grain: str | None = None
    input_grain: str | None = None


@dataclass(frozen=True)
class Fill:
    """Every period of [start, end) x the dimension values seen; `zero` columns 0 where empty."""

    input: Node
    grain: str
    dims: tuple[str, ...]
    start: _dt.datetime | None
    end: _dt.datetime | None
    zero: tuple[str, ...]
    mode: str
    business_days: bool = False  # the spine holds only the calendar's business days


@dataclass(frozen=True)
class ShareTotal:
    """Attach a metric's total within coarser groups: a left join to a sub-plan on those keys."""

    input: Node
    column: str
    metric: str
    on: tuple[tuple[str, str], ...]  # (key of input, key of totals)
    grain: str | None
    value: str
    totals: Formulas


@dataclass(frozen=True)
class Output:
    """The final ordering and row limit (absent from sub-plans)."""

    input: Formulas
    order: tuple[tuple[str, bool], ...]  # (column, descending)
    limit: int | None


@dataclass(frozen=True)
class ConversionEvents:
    """A conversion metric's conversions per group (planner/conversion.py, compile/conversion.py).

    Each row of `conversion` (the conversion measure's events, its own filter only) is matched
    to the rows of `base` (the base measure's events: the query's keys, where and bounds and
    the metric's filters) of the same non-NULL entity and constant properties with
    base time <= conversion time < base time + window, and attributed to the latest of them;
    the conversion measure is aggregated over the attributed events by the base's keys.
    """

    column: str
    metric: str
    base: Scan
    conversion: Scan
    entity: tuple[FieldRef, FieldRef]  # (on base, on conversion)
    properties: tuple[tuple[FieldRef, FieldRef], ...]
    window: str | None
    time_grain: str | None = None  # times compared truncated to this grain

    def describe(self) -> str:
        c = self.conversion.lead
        within = (
            f"the {c.source} event less than {self.window} after it"
            if self.window
            else "any time later"
        )
        same = "".join(
            f", the same {b.name}" + (f" (= {v.name})" if v.name != b.name else "")
            for b, v in self.properties
        )
        entity = self.entity[0].name
        if self.time_grain:
            within += f" (times compared at {self.time_grain} grain)"
        narrowed = [f"({f})" for f in self.base.lead.filters]
        if isinstance(self.base.where, str):
            narrowed.append(f"({self.base.where})")
        if self.base.start or self.base.end:
            narrowed.append(f"in [{self.base.start or '-∞'}, {self.base.end or '+∞'})")
        base = f"{self.base.source} event" + (f" ({' and '.join(narrowed)})" if narrowed else "")
        return (
            f"conversions of {self.metric}: each {c.source} event ({c.describe()}) is matched to "
            f"the latest {base} of the same {entity}{same} at or before it, "
            f"{within}; aggregated by that event's groups"
        )


Node = (
    Scan | EagerAggregate | Merge | Formulas | Shift | Fill | ShareTotal | Output | ConversionEvents
)


def children(node: Node) -> tuple[Node, ...]:
    """The inputs of a node, in the order they are computed."""
    if isinstance(node, Scan):
        return ()
    if isinstance(node, ConversionEvents):
        return (node.base, node.conversion)
    if isinstance(node, EagerAggregate):
        return (node.scan,)
    if isinstance(node, Merge):
        return node.parts
    if isinstance(node, ShareTotal):
        return (node.input, node.totals)
    if isinstance(node, Shift | Formulas | Fill | Output):
        return (node.input,)
    raise TypeError(node)


def same_scan(a: Scan, b: Scan) -> bool:
    """True when two scans read the same rows into the same aggregates.

    The compiled query computes such scans once (ibis shares equal subexpressions as one CTE),
    e.g. a metric and its offset when the query has no time bounds.
    """
    if a is b:
        return True
    where_equal = a.where is b.where or (isinstance(a.where, str) and a.where == b.where)
    return where_equal and dataclasses.replace(a, where=None) == dataclasses.replace(b, where=None)


def scans(node: Node) -> list[Scan]:
    """The distinct scans of the tree (sub-plans included): one table pass each."""
    found: list[Scan] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Scan):
            if not any(same_scan(n, seen) for seen in found):
                found.append(n)
        elif isinstance(n, EagerAggregate):
            stack.append(n.scan)
        else:
            stack.extend(reversed(children(n)))
    return found
