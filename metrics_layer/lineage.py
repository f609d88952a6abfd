"""Lineage: what a metric is computed from, down to columns and tables, and what depends on a table.

The graph is read from the definitions alone (no query runs): metric → metrics and measures →
dimensions and columns → tables, with the joins a measure needs to reach columns of other
sources. Without a connection, a bare name in a source's expression is that source's column
(unless it names one of its dimensions) and a dotted name follows the join roles it spells.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from metrics_layer.definitions.models import Metric
from metrics_layer.errors import MetricsLayerError, QueryError, unknown
from metrics_layer.expressions import parse_expression
from metrics_layer.registry import FieldRef, MeasureRef, Registry
from metrics_layer.registry.fields import JoinStep, suffix_matches


@dataclass(frozen=True)
class Node:
    """A metric, measure, dimension, column or table. `id` is `<kind>:<qualified name>`."""

    id: str
    kind: str
    name: str
    detail: str = ""


@dataclass(frozen=True)
class Edge:
    """`src` depends on `dst` (a metric uses a measure, a column lives in a table...)."""

    src: str
    dst: str
    kind: str  # uses | reads | in_table | join
    label: str = ""


@dataclass
class Lineage:
    """The dependency graph of one metric."""

    metric: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def node(self, id: str) -> Node:
        return next(n for n in self.nodes if n.id == id)

    def of_kind(self, kind: str) -> list[str]:
        """Names of the nodes of one kind, in discovery order (e.g. `of_kind("table")`)."""
        return [n.name for n in self.nodes if n.kind == kind]

    @property
    def tables(self) -> list[str]:
        return self.of_kind("table")

    @property
    def columns(self) -> list[str]:
        return self.of_kind("column")

    @property
    def joins(self) -> list[Edge]:
        return [e for e in self.edges if e.kind == "join"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "nodes": [asdict(n) for n in self.nodes],
            "edges": [asdict(e) for e in self.edges],
        }

    def to_mermaid(self, direction: str = "LR") -> str:
        """Mermaid flowchart text (render it with any Mermaid viewer)."""
        ids = {n.id: f"n{i}" for i, n in enumerate(self.nodes)}
        lines = [f"flowchart {direction}"]
        for n in self.nodes:
            text = _mermaid_text(
                n.name if not n.detail or n.kind != "measure" else f"{n.name}<br/>{n.detail}"
            )
            open_, close = _SHAPES[n.kind]
            lines.append(f'  {ids[n.id]}{open_}"{text}"{close}:::{n.kind}')
        for e in self.edges:
            arrow = "-.->" if e.kind == "join" else "-->"
            label = f'|"{_mermaid_text(e.label)}"|' if e.label else ""
            lines.append(f"  {ids[e.src]} {arrow}{label} {ids[e.dst]}")
        for kind, style in _STYLES.items():
            lines.append(f"  classDef {kind} {style}")
        return "\n".join(lines)


_SHAPES = {
    "metric": ("([", "])"),
    "measure": ("[", "]"),
    "dimension": ("{{", "}}"),
    "column": ("[/", "/]"),
    "table": ("[(", ")]"),
}
_STYLES = {
    "metric": "fill:#e8f0fe,stroke:#3367d6",
    "measure": "fill:#fef7e0,stroke:#f9ab00",
    "dimension": "fill:#f3e8fd,stroke:#9334e6",
    "column": "fill:#e6f4ea,stroke:#1e8e3e",
    "table": "fill:#f1f3f4,stroke:#5f6368",
}


def _mermaid_text(text: str) -> str:
    return (
        text.replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
        .replace("#lt;br/#gt;", "<br/>")
    )


class _Builder:
    def __init__(self, reg: Registry, metric: str) -> None:
        self.reg = reg
        self.out = Lineage(metric)
        self._seen: set[str] = set()
        self._edges: set[tuple[str, str, str, str]] = set()

    def add(self, kind: str, name: str, detail: str = "") -> str:
        id = f"{kind}:{name}"
        if id not in self._seen:
            self._seen.add(id)
            self.out.nodes.append(Node(id, kind, name, detail))
        return id

    def link(self, src: str, dst: str, kind: str, label: str = "") -> None:
        key = (src, dst, kind, label)
        if key not in self._edges:
            self._edges.add(key)
            self.out.edges.append(Edge(src, dst, kind, label))

    # ------------------------------------------------------------ metrics and measures
    def metric(self, name: str) -> str:
        m = self.reg.project.metrics[name]
        id = f"metric:{name}"
        if id in self._seen:
            return id
        self.add("metric", name, describe(self.reg, name))
        labels = {
            "simple": ["measure"],
            "cumulative": ["measure"],
            "ratio": ["numerator", "denominator"],
            "offset": ["metric"],
            "share": ["metric"],
            "conversion": ["base", "conversion"],
        }.get(m.kind, [])
        deps = self.reg.metric_dependencies(name)
        for i, dep in enumerate(deps):
            label = labels[i] if i < len(labels) else ""
            target = self.reg.metric(dep)
            dst = self.metric(dep) if isinstance(target, Metric) else self.measure(target)
            self.link(id, dst, "uses", label)
            if m.filter and isinstance(target, MeasureRef):
                for n in parse_expression(m.filter).names:
                    self.link(id, self.field(target.source, n, id, "filter"), "reads", "filter")
        return id

    def measure(self, ref: MeasureRef) -> str:
        m = ref.measure
        id = f"measure:{ref.qualified}"
        if id in self._seen:
            return id
        text = f"{m.agg}({m.expr or '*'})" + (f" where {m.filter}" if m.filter else "")
        self.add("measure", ref.qualified, text)
        src = self.reg.sources[ref.source]
        for part, text_ in (("expr", m.expr), ("filter", m.filter), ("time", m.time or src.time)):
            if text_:
                for n in parse_expression(text_).names:
                    self.link(id, self.field(ref.source, n, id, part), "reads", part)
        return id

    # ------------------------------------------------------------ fields, columns, tables
    def field(self, base: str, name: str, user: str, part: str) -> str:
        ref = resolve(self.reg, base, name)
        for step in ref.path:
            self.join(step, user)
        if ref.kind == "dimension":
            dim = self.reg.sources[ref.source].dimensions[ref.name]
            id = self.add("dimension", f"{ref.source}.{ref.name}", dim.expr or "")
            names = parse_expression(dim.expr).names if dim.expr else (ref.name,)
            for n in names:
                self.link(id, self.column(ref.source, n), "reads", "expr" if dim.expr else "")
            return id
        return self.column(ref.source, ref.name)

    def column(self, source: str, name: str) -> str:
        table = self.table(source)
        id = self.add("column", f"{table_name(self.reg, source)}.{name}")
        self.link(id, table, "in_table")
        return id

    def table(self, source: str) -> str:
        src = self.reg.sources[source]
        detail = "generated calendar" if src.calendar is not None else ""
        id = self.add("table", table_name(self.reg, source), detail)
        if src.scd is not None:  # point-in-time joins read the validity columns
            for col in (src.scd.valid_from, src.scd.valid_to):
                cid = f"column:{table_name(self.reg, source)}.{col}"
                if cid not in self._seen:
                    self.add("column", f"{table_name(self.reg, source)}.{col}")
                    self.link(cid, id, "in_table")
        return id

    def join(self, step: JoinStep, user: str) -> None:
        keys = ", ".join(f"{a} = {b}" for a, b in step.pairs)
        left, right = self.table(step.left), self.table(step.right)
        self.link(left, right, "join", f"{step.role}: {keys}")
        for a, b in step.pairs:
            self.link(user, self.column(step.left, a), "reads", "join key")
            self.link(user, self.column(step.right, b), "reads", "join key")


def table_name(reg: Registry, source: str) -> str:
    src = reg.sources[source]
    if src.calendar is not None and src.table is None:
        return source
    name = reg.table_name(source)
    return f"{src.database}.{name}" if src.database else name


def resolve(reg: Registry, base: str, name: str) -> FieldRef:
    """A name in `base`'s expressions: the registry's answer when it has one, else (no schema
    known) a column of the source its join roles lead to."""
    try:
        return reg.resolve_field(base, name, prefer_columns=True)
    except MetricsLayerError:
        parts = tuple(name.split("."))
        for path, target in reg.join_paths(base):
            roles = tuple(s.role for s in path)
            if suffix_matches((base, *roles), parts[:-1]) or roles == parts[:-1]:
                return FieldRef(base, path, target, parts[-1], "column")
        raise


def describe(reg: Registry, name: str) -> str:
    """A metric's formula in words, from its definition."""
    m = reg.project.metrics[name]
    kind = m.kind
    text = {
        "simple": lambda: f"{m.measure}",
        "ratio": lambda: f"sum of {m.numerator} ÷ sum of {m.denominator} (NULL when 0)",
        "derived": lambda: f"{m.expr}",
        "cumulative": lambda: (
            f"{m.measure} over the trailing {m.window}"
            if m.window
            else f"{m.measure} {m.grain_to_date}-to-date"
        ),
        "offset": lambda: (
            f"{m.metric} at the start of the {m.offset_to_grain}"
            if m.offset_to_grain
            else f"{m.metric} {m.offset} earlier"
        ),
        "share": lambda: (
            f"{m.metric} as a share of its total"
            + (f" across {', '.join(m.share_of)}" if m.share_of else " for the period")
        ),
        "conversion": lambda: _conversion_text(m),
    }.get(kind, lambda: kind)()
    return f"{kind}: {text}" + (f" where {m.filter}" if m.filter else "")


def _conversion_text(m: Metric) -> str:
    c = m.conversion
    assert c is not None
    within = f" within {c.window}" if c.window else ""
    text = (
        f"{c.conversion} of the events matched to the latest earlier {c.base} event "
        f"of the same {c.entities.base}{within}"
    )
    return f"({text}) ÷ {c.base}" if c.calculation == "conversion_rate" else text


def lineage(reg: Registry, metric: str) -> Lineage:
    """The dependency graph of a metric (a measure name works too)."""
    if metric not in reg.project.metrics:
        target = reg.metric(metric)  # raises with suggestions for unknown names
        b = _Builder(reg, metric)
        b.measure(target)  # type: ignore[arg-type]
        return b.out
    b = _Builder(reg, metric)
    b.metric(metric)
    return b.out


def impact(reg: Registry, target: str) -> list[str]:
    """Every metric depending on a table (`assignments`) or column (`assignments.revenue`).

    The table part may be a source name or a table name; metrics come in definition order.
    """
    table, _, column = target.partition(".")
    tables = {table_name(reg, s) for s in reg.sources}
    sources = {s: table_name(reg, s) for s in reg.sources}
    if table in sources:
        table = sources[table]
    elif table not in tables:
        raise QueryError(unknown("table or source", table, [*sources, *tables]))
    if column:
        for s, t in sources.items():
            cols = reg.columns(s) if t == table else None
            if cols is not None and column not in cols:
                raise QueryError(unknown("column", column, cols) + f" in table {table!r}")
    wanted = f"column:{table}.{column}" if column else f"table:{table}"
    out = []
    for name in reg.project.metrics:
        graph = lineage(reg, name)
        if any(n.id == wanted for n in graph.nodes):
            out.append(name)
    return out
