"""Column types inferred from how the definitions use each column (no connection needed).

A column's use says what it holds: a time column is a timestamp, a column summed or averaged
is a number, a column compared with `'text'` is a string, a column in AND/OR a boolean; a join
key takes the type known for the other side. Whatever is left (distinct-counted ids, plain
dimensions) is a string. The rules are deliberately few: types only decide how the compiler
phrases SQL, and registry/schemas.py makes sure a guess can never change a number (the
columns a median or percentile reads are cast explicitly, see `Inferred.to_float`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlglot import exp

from metrics_layer.errors import MetricsLayerError
from metrics_layer.expressions import parse_expression
from metrics_layer.registry.fields import suffix_matches

if TYPE_CHECKING:
    from metrics_layer.definitions.models import Metric
    from metrics_layer.registry.registry import Registry

Key = tuple[str, str | None]  # (table, database)
Node = tuple[Key, str]  # a column of a table

# kind -> ibis type; earlier kinds win when one column is used in several ways
KIND_TYPES = {
    "time": "timestamp",
    "date": "date",
    "boolean": "boolean",
    "number": "float64",
    "string": "string",
}
_DIMENSION_KINDS = {
    "string": "string",
    "number": "number",
    "boolean": "boolean",
    "time": "time",
    "date": "date",
}
_NUMBER_AGGS = ("sum", "avg", "min", "max", "median", "percentile")
_QUANTILE_AGGS = ("median", "percentile")
# the coarse spellings of a `columns` source check (docs/checks.md), as ibis types
_CHECK_TYPES = {"int": "int64", "integer": "int64", "bigint": "int64", "float": "float64"}
_CHECK_TYPES |= {"double": "float64", "bool": "boolean", "text": "string", "varchar": "string"}

_STRING_FUNCS = (exp.Lower, exp.Upper, exp.Length, exp.Substring, exp.Concat, exp.DPipe, exp.Trim)
_NUMBER_FUNCS = (exp.Abs, exp.Round, exp.Floor, exp.Ceil, exp.Ln, exp.Exp, exp.Sqrt, exp.Pow)
_ARITHMETIC = (exp.Mul, exp.Div, exp.Mod, exp.IntDiv)
_COMPARISON = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ)


@dataclass
class Inferred:
    """What the definitions say about the columns of each table."""

    kinds: dict[Key, dict[str, set[str]]] = field(default_factory=dict)
    to_float: dict[Key, set[str]] = field(default_factory=dict)
    links: dict[Node, set[Node]] = field(default_factory=dict)
    hints: dict[Key, dict[str, str]] = field(default_factory=dict)

    def types(self, key: Key, known: dict[Key, dict[str, str]]) -> dict[str, str]:
        """Column → ibis type for a table: `known` types (declared, other tables' real schemas),
        then hints, then kinds of use, then a join partner's type, else string."""
        out: dict[str, str] = {}
        for col in sorted(self.kinds.get(key, {})):
            out[col] = self._own(key, col, known) or self._partner(key, col, known) or "string"
        return out

    def _own(self, key: Key, col: str, known: dict[Key, dict[str, str]]) -> str | None:
        if col in known.get(key, {}):
            return known[key][col]
        if col in self.hints.get(key, {}):
            return self.hints[key][col]
        kinds = self.kinds.get(key, {}).get(col, set())
        return next((KIND_TYPES[k] for k in KIND_TYPES if k in kinds and k != "string"), None)

    def _partner(self, key: Key, col: str, known: dict[Key, dict[str, str]]) -> str | None:
        seen: set[Node] = set()
        todo = [(key, col)]
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            if node != (key, col):
                typ = self._own(node[0], node[1], known)
                if typ:
                    return typ
            todo.extend(self.links.get(node, ()))
        return None


def infer(reg: Registry) -> Inferred:
    """Walk every definition once and record how each column is used."""
    walker = _Walker(reg)
    walker.run()
    return walker.out


class _Walker:
    def __init__(self, reg: Registry) -> None:
        self.reg = reg
        self.out = Inferred()
        self._active: set[tuple[str, str]] = set()  # dimensions being expanded (no cycles)
        self._quantile = False

    def key(self, source: str) -> Key:
        return (self.reg.table_name(source), self.reg.sources[source].database)

    # ------------------------------------------------------------------ recording
    def column(self, source: str, column: str, kind: str | None) -> Node | None:
        key = self.key(source)
        if self.reg.sources[source].calendar is not None:
            return (key, column)  # a generated calendar's schema is known: only link to it
        kinds = self.out.kinds.setdefault(key, {}).setdefault(column, set())
        if kind:
            kinds.add(kind)
        if self._quantile and kind == "number":
            self.out.to_float.setdefault(key, set()).add(column)
        return (key, column)

    def name(self, base: str, name: str, kind: str | None, own: str | None = None) -> Node | None:
        """A name in an expression of `base`; `own` is the dimension being defined, if any."""
        parts = tuple(name.split("."))
        src = self.reg.sources[base]
        if len(parts) == 1:
            dim = src.dimensions.get(name)
            if (
                dim is not None
                and name != own
                and (dim.expr is None or name not in parse_expression(dim.expr).names)
            ):
                return self.dimension(base, name, kind)
            return self.column(base, name, kind)  # a source's own names are its columns first
        dims: list[str] = []
        cols: list[str] = []
        for path, target in self.reg.join_paths(base):
            roles = tuple(s.role for s in path)
            if suffix_matches((base, *roles, parts[-1]), parts):
                (dims if parts[-1] in self.reg.sources[target].dimensions else cols).append(target)
        if dims:
            return self.dimension(dims[0], parts[-1], kind)
        if cols:
            return self.column(cols[0], parts[-1], kind)
        return None  # unknown: the registry reports it with suggestions

    def dimension(self, source: str, name: str, kind: str | None) -> Node | None:
        dim = self.reg.sources[source].dimensions[name]
        kind = _DIMENSION_KINDS.get(dim.type or "", kind)
        if dim.expr is None:
            return self.column(source, name, kind)
        if (source, name) not in self._active:
            self._active.add((source, name))
            self.expr(source, dim.expr, kind, own=name)
            self._active.discard((source, name))
        return None

    def expr(self, base: str, text: str | None, kind: str | None, own: str | None = None) -> None:
        if not text:
            return
        try:
            tree = parse_expression(text).tree
        except MetricsLayerError:
            return  # the registry reports it at its field
        self.visit(base, tree, kind, own)

    def link(self, a: Node | None, b: Node | None) -> None:
        if a and b:
            self.out.links.setdefault(a, set()).add(b)
            self.out.links.setdefault(b, set()).add(a)

    # ------------------------------------------------------------------ the tree
    def visit(self, base: str, node: exp.Expression, kind: str | None, own: str | None) -> None:
        def go(child: exp.Expression | None, k: str | None) -> None:
            if isinstance(child, exp.Expression):
                self.visit(base, child, k, own)

        if isinstance(node, exp.Column):
            self.name(base, ".".join(p.name for p in node.parts), kind, own)
        elif isinstance(node, exp.Paren):
            go(node.this, kind)
        elif isinstance(node, exp.Add | exp.Sub):
            interval = any(isinstance(c, exp.Interval) for c in (node.this, node.expression))
            k: str | None = "time" if interval or kind in ("time", "date") else "number"
            go(node.this, k)
            go(node.expression, k)
        elif isinstance(node, (*_ARITHMETIC, exp.Neg)):
            for child in node.iter_expressions():
                go(child, "number")
        elif isinstance(node, _COMPARISON):
            k = _kind_of(node.this) or _kind_of(node.expression)
            go(node.this, k)
            go(node.expression, k)
        elif isinstance(node, exp.Between):
            k = _kind_of(node.args.get("low")) or _kind_of(node.args.get("high"))
            for child in node.iter_expressions():
                go(child, k)
        elif isinstance(node, exp.In):
            k = next((_kind_of(e) for e in node.expressions if _kind_of(e)), None)
            for child in node.iter_expressions():
                go(child, k)
        elif isinstance(node, (exp.Like, exp.ILike, *_STRING_FUNCS)):
            for child in node.iter_expressions():
                go(child, "string" if not isinstance(child, exp.Literal) else None)
        elif isinstance(node, exp.And | exp.Or | exp.Xor | exp.Not):
            for child in node.iter_expressions():
                go(child, "boolean")
        elif isinstance(node, _NUMBER_FUNCS):
            go(node.this, "number")
        elif isinstance(node, exp.Extract | exp.DateTrunc | exp.TimestampTrunc):
            for child in node.iter_expressions():
                go(child, "time" if isinstance(child, exp.Column) else None)
        elif isinstance(node, exp.Case):
            for branch in node.args.get("ifs") or []:
                go(branch.this, "boolean")
                go(branch.args.get("true"), kind)
            go(node.args.get("default"), kind)
        elif isinstance(node, exp.If):
            go(node.this, "boolean")
            go(node.args.get("true"), kind)
            go(node.args.get("false"), kind)
        elif isinstance(node, exp.Coalesce | exp.Nullif | exp.Greatest | exp.Least):
            for child in node.iter_expressions():
                go(child, kind)
        else:  # CAST, IS NULL and the rest: the operand's type is not implied
            for child in node.iter_expressions():
                go(child, None)

    # ------------------------------------------------------------------ definitions
    def run(self) -> None:
        reg = self.reg
        for name in reg.sources:
            self.source(name)
        for metric in reg.project.metrics.values():
            if metric.filter and metric.measure:
                ref = reg.find_measure(metric.measure)
                if ref is not None:
                    self.expr(ref.source, metric.filter, "boolean")
            if metric.conversion is not None:
                self.conversion(metric)
        for ret in reg.project.retention.values():
            self.expr(ret.source, ret.entity, None)
            self.expr(ret.source, ret.time or reg.sources[ret.source].time, "time")
            self.expr(ret.source, ret.cohort, "boolean")
            self.expr(ret.source, ret.activity, "boolean")
            self.names(ret.source, ret.by)
        for fun in reg.project.funnels.values():
            self.expr(fun.source, fun.entity, None)
            self.expr(fun.source, fun.time or reg.sources[fun.source].time, "time")
            self.names(fun.source, fun.by)
            for step in fun.steps:
                source = step.source or fun.source
                self.expr(source, step.filter, "boolean")
                self.expr(source, step.entity or fun.entity, None)
                self.expr(source, step.time or reg.sources[source].time, "time")
            for x in fun.exclusions:
                self.expr(fun.source, x.filter, "boolean")
        for xp in reg.project.experiments.values():
            self.expr(xp.source, xp.entity, None)
            self.expr(xp.source, xp.variant, "string")
            self.expr(xp.source, xp.time or reg.sources[xp.source].time, "time")
            for source in self.metric_sources(xp.metrics):  # each reaches the entity
                self.expr(source, xp.entity, None)

    def conversion(self, metric: Metric) -> None:
        """A conversion metric reads its entity and constant properties on both sides (the two
        sides of a pair are compared, so they share a type)."""
        conv = metric.conversion
        assert conv is not None
        refs = []
        for ref_name in (conv.base, conv.conversion):
            try:
                refs.append(self.reg.find_measure(ref_name))
            except MetricsLayerError:
                return  # reported by the registry
        base, target = refs
        if base is None or target is None:
            return
        for pair in [conv.entities, *conv.constant_properties]:
            self.link(
                self.name(base.source, pair.base, None),
                self.name(target.source, pair.conversion, None),
            )
        if metric.filter:
            self.expr(base.source, metric.filter, "boolean")

    def metric_sources(self, names: Iterable[str]) -> list[str]:
        """Sources of the measures of simple and ratio metrics (what an experiment reads)."""
        out: list[str] = []
        todo, seen = list(names), set()
        while todo:
            name = todo.pop()
            if name in seen:  # a cycle is reported by the registry, not here
                continue
            seen.add(name)
            metric = self.reg.project.metrics.get(name)
            if metric is not None:
                todo += [n for n in (metric.measure, metric.numerator, metric.denominator) if n]
                continue
            try:
                ref = self.reg.find_measure(name)
            except MetricsLayerError:
                ref = None
            if ref is not None and ref.source not in out:
                out.append(ref.source)
        return out

    def names(self, base: str, names: Iterable[str]) -> None:
        for n in names:
            self.name(base, n, None)

    def source(self, name: str) -> None:
        src = self.reg.sources[name]
        if src.calendar is not None:
            return
        key = self.key(name)
        for col, typ in src.columns.items():
            self.column(name, col, None)
            self.out.hints.setdefault(key, {})[col] = typ
        for check in src.checks:
            for col, typ in (getattr(check, "columns", None) or {}).items():
                self.column(name, col, None)
                hint = _check_type(typ)
                if hint:
                    self.out.hints.setdefault(key, {}).setdefault(col, hint)
        self.expr(name, src.time, "time")
        pks = [src.primary_key] if isinstance(src.primary_key, str) else (src.primary_key or [])
        for pk in pks:
            self.column(name, pk, None)
        for role, join in src.joins.items():
            target = join.source or role
            for left, right in join.key_pairs():
                a = self.name(name, left, None)
                b = self.column(target, right, None) if target in self.reg.sources else None
                self.link(a, b)
        for dname in src.dimensions:
            self.dimension(name, dname, None)
        for m in src.measures.values():
            kind = "number" if m.agg in _NUMBER_AGGS else None
            self._quantile = m.agg in _QUANTILE_AGGS
            self.expr(name, m.expr, kind)
            self._quantile = False
            self.expr(name, m.filter, "boolean")
            self.expr(name, m.time, "time")
            if m.non_additive is not None:
                self.names(name, m.non_additive.groupings)
        if src.scd is not None:
            keys = [src.scd.key] if isinstance(src.scd.key, str) else src.scd.key
            for k in keys:
                self.column(name, k, None)
            self.column(name, src.scd.valid_from, "time")
            self.column(name, src.scd.valid_to, "time")


def _kind_of(node: exp.Expression | None) -> str | None:
    """The kind of value an expression evidently produces (literals, casts, functions)."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Literal):
        return "string" if node.is_string else "number"
    if isinstance(node, exp.Boolean):
        return "boolean"
    if isinstance(node, exp.Cast):
        to = node.to
        if to.is_type(*exp.DataType.TEMPORAL_TYPES):
            return "date" if to.is_type(exp.DataType.Type.DATE) else "time"
        if to.is_type(*exp.DataType.NUMERIC_TYPES):
            return "number"
        if to.is_type(*exp.DataType.TEXT_TYPES):
            return "string"
        if to.is_type(exp.DataType.Type.BOOLEAN):
            return "boolean"
    if isinstance(node, (exp.Neg, *_ARITHMETIC, *_NUMBER_FUNCS)):
        return "number"
    if isinstance(node, _STRING_FUNCS):
        return "string"
    return None


def _check_type(text: str | None) -> str | None:
    """The ibis type of a `columns` check's type ('int', 'timestamp', 'decimal(12,2)')."""
    if not text:
        return None
    text = text.strip().lower()
    if text in _CHECK_TYPES:
        return _CHECK_TYPES[text]
    if text in ("decimal", "numeric", "number"):
        return None  # a scale is needed for exact SQL; inferred from use instead
    from metrics_layer.definitions.columns import column_type

    try:
        return str(column_type(text))
    except ValueError:
        return None
