"""SQL of a metric written from its definitions alone, for catalogs built without tables.

With a connection holding the tables, the catalog shows the real compiled SQL
(`layer.query([metric]).sql()`); without one, ibis cannot type the columns, so this sketch
assembles the same shape from the definitions: one aggregate scan per source (measures as
filtered aggregates, LEFT joins for joined fields), then the metric formula on the aggregates.
The expressions come from the definitions (already validated by the expression grammar).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import sqlglot
import sqlglot.expressions as sge

from metrics_layer.definitions.models import Metric
from metrics_layer.lineage import resolve, table_name
from metrics_layer.registry import MeasureRef, Registry

_AGG = {
    "count": "COUNT",
    "count_distinct": "COUNT",
    "sum": "SUM",
    "avg": "AVG",
    "min": "MIN",
    "max": "MAX",
    "median": "MEDIAN",
    "percentile": "QUANTILE_CONT",
}


@dataclass
class _Scan:
    source: str
    aggs: dict[str, str] = field(default_factory=dict)  # alias -> aggregate SQL
    joins: dict[str, str] = field(default_factory=dict)  # alias -> JOIN clause


class Sketch:
    """Builds the sketch of one metric; `sql()` returns pretty DuckDB-flavoured SQL."""

    def __init__(self, reg: Registry, metric: str) -> None:
        self.reg = reg
        self.metric = metric
        self.scans: dict[str, _Scan] = {}
        self.notes: list[str] = []
        self._aliases: dict[tuple[str, str, tuple[str, ...]], str] = {}

    def sql(self) -> str:
        formula = self._formula(self.metric, ())
        ctes = []
        for src, scan in self.scans.items():
            cols = ",\n  ".join(f"{sql} AS {alias}" for alias, sql in scan.aggs.items())
            joins = "".join(f"\n{j}" for j in scan.joins.values())
            ctes.append(
                f"{src}_agg AS (\nSELECT\n  {cols}\nFROM {_table(self.reg, src)} AS {src}{joins}\n)"
            )
        froms = " CROSS JOIN ".join(f"{src}_agg" for src in self.scans)
        text = f"WITH {', '.join(ctes)}\nSELECT {formula} AS {self.metric}\nFROM {froms}"
        with contextlib.suppress(sqlglot.errors.SqlglotError):
            text = sqlglot.transpile(text, read="duckdb", write="duckdb", pretty=True)[0]
        notes = "".join(f"-- {n}\n" for n in self.notes)
        return notes + text

    # ------------------------------------------------------------------ formulas
    def _formula(self, name: str, filters: tuple[str, ...]) -> str:
        target = self.reg.metric(name)
        if isinstance(target, MeasureRef):
            return self._measure(target, filters)
        m: Metric = target
        extra = (*filters, m.filter) if m.filter else filters
        kind = m.kind
        if kind in ("simple", "cumulative"):
            ref = self.reg.find_measure(m.measure or "")
            assert ref is not None
            if kind == "cumulative":
                span = f"the trailing {m.window}" if m.window else f"{m.grain_to_date}-to-date"
                self.notes.append(
                    f"{name}: at a grain, each period aggregates {span} (totals shown)"
                )
            return self._measure(ref, extra)
        if kind == "ratio":
            num = self._formula(m.numerator or "", extra)
            den = self._formula(m.denominator or "", extra)
            return f"CAST({num} AS DOUBLE) / NULLIF({den}, 0)"
        if kind == "derived":
            tree = sqlglot.parse_one(m.expr or "", read="duckdb")

            def swap(node: sge.Expression) -> sge.Expression:
                if isinstance(node, sge.Column):
                    ref = ".".join(p.name for p in node.parts)
                    return sqlglot.parse_one(f"({self._formula(ref, extra)})", read="duckdb")
                return node

            return tree.transform(swap).sql("duckdb")
        if kind == "offset":
            self.notes.append(
                f"{name}: at a grain, the value of {m.metric} {m.offset} earlier "
                "(NULL in a totals query)"
            )
            self._formula(m.metric or "", extra)  # its inputs still appear in the scans
            return "NULL"
        if kind == "share":
            self.notes.append(
                f"{name}: {m.metric} divided by its total over the period"
                + (f" across {', '.join(m.share_of)}" if m.share_of else "")
            )
            inner = self._formula(m.metric or "", extra)
            return f"CAST({inner} AS DOUBLE) / NULLIF({inner}, 0)"
        return "NULL"

    def _measure(self, ref: MeasureRef, filters: tuple[str, ...]) -> str:
        m = ref.measure
        scan = self.scans.setdefault(ref.source, _Scan(ref.source))
        conds = [
            self._expr(ref.source, f, scan) for f in ((m.filter,) if m.filter else ()) + filters
        ]
        key = (ref.source, ref.name, tuple(conds))
        if key in self._aliases:
            return f"{ref.source}_agg.{self._aliases[key]}"
        value = self._expr(ref.source, m.expr, scan) if m.expr else "*"
        agg = _AGG[m.agg]
        if m.agg == "count_distinct":
            value = f"DISTINCT {value}"
        call = f"{agg}({value}, {m.p})" if m.agg == "percentile" else f"{agg}({value})"
        if conds:
            call += " FILTER (WHERE " + " AND ".join(f"({c})" for c in conds) + ")"
        alias = ref.name if ref.name not in scan.aggs else f"{ref.name}_{len(scan.aggs)}"
        scan.aggs[alias] = call
        self._aliases[key] = alias
        return f"{ref.source}_agg.{alias}"

    def _expr(self, source: str, text: str, scan: _Scan) -> str:
        """An expression of the source with dotted names pointing at joined aliases."""
        tree = sqlglot.parse_one(text, read="duckdb")

        def swap(node: sge.Expression) -> sge.Expression:
            if not isinstance(node, sge.Column):
                return node
            name = ".".join(p.name for p in node.parts)
            try:
                ref = resolve(self.reg, source, name)
            except Exception:  # noqa: BLE001 - an unknown name stays as written
                return node
            alias = source
            for depth, step in enumerate(ref.path, 1):
                prev, alias = alias, "__".join(s.role for s in ref.path[:depth])
                on = " AND ".join(f"{prev}.{a} = {alias}.{b}" for a, b in step.pairs)
                scan.joins.setdefault(
                    alias, f"LEFT JOIN {_table(self.reg, step.right)} AS {alias} ON {on}"
                )
            col = ref.name
            if ref.kind == "dimension":
                dim = self.reg.sources[ref.source].dimensions[ref.name]
                if dim.expr:
                    inner = sqlglot.parse_one(dim.expr, read="duckdb")
                    qualified = inner.transform(
                        lambda n: (
                            sge.column(n.name, table=alias) if isinstance(n, sge.Column) else n
                        )
                    )
                    return sge.Paren(this=qualified)
            return sge.column(col, table=alias)

        return tree.transform(swap).sql("duckdb")


def _table(reg: Registry, source: str) -> str:
    src = reg.sources[source]
    if src.calendar is not None and src.table is None:
        return f"{source} /* generated calendar */"
    return table_name(reg, source)


def sketch_sql(reg: Registry, metric: str) -> str:
    """The sketch SQL of a metric (totals, no grain)."""
    return Sketch(reg, metric).sql()
