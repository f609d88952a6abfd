"""The planner: a KPI Request becomes a Plan, a tree of physical steps (planner/nodes.py).

Planning is pure (no ibis tables, no connection, no state kept between calls), so it is
cheap, safe to share between threads, testable and printable (`explain`). Everything the SQL
does is decided here: which measures share a scan, the joins of each scan, eager
pre-aggregation, offsets (one shifted sub-plan per metric and offset), shares, fills, the
formulas and the final order. The compiler only translates the tree.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from dataclasses import dataclass
from typing import Any

from metrics_layer.compile.periods import check_offset, next_period, shift, truncate_literal
from metrics_layer.definitions.durations import parse_offset
from metrics_layer.definitions.models import Metric
from metrics_layer.errors import QueryError, unknown
from metrics_layer.expressions import parse_expression
from metrics_layer.grain import Grain
from metrics_layer.planner import validate
from metrics_layer.planner.conversion import ConversionSpec, events_node, spec_key
from metrics_layer.planner.conversion import measures as conversion_measures
from metrics_layer.planner.nodes import (
    Col,
    Conversions,
    Derived,
    Fill,
    Formula,
    Formulas,
    MeasureNode,
    Merge,
    Node,
    Offset,
    Output,
    Ratio,
    Scan,
    Share,
    ShareTotal,
    Shift,
    scans,
)
from metrics_layer.planner.request import Request
from metrics_layer.planner.scans import build_scan, eager, key_in_nodes, own_names
from metrics_layer.planner.validate import output_names
from metrics_layer.registry import JoinStep, MeasureRef, Registry
from metrics_layer.retail import find_calendar, find_retail, is_fiscal

__all__ = [
    "Col",
    "Derived",
    "MeasureNode",
    "Offset",
    "Plan",
    "Planner",
    "Ratio",
    "Share",
    "describe_join",
    "output_names",
]

ADDITIVE = ("count", "count_distinct", "sum")


@dataclass(frozen=True)
class Plan:
    """A planned KPI query: the request, the tree that computes it and its output columns."""

    request: Request
    root: Output | Formulas
    formulas: dict[str, Formula]
    metric_columns: list[tuple[str, str]]  # (output column, requested name)
    dim_columns: list[tuple[str, str]]  # (output column, dimension reference)

    @property
    def scans(self) -> list[Scan]:
        """Every table pass of the plan, sub-plans (offsets, share totals) included."""
        return scans(self.root)

    def explain(self) -> str:
        from metrics_layer.planner.explain import explain

        return explain(self)


class Planner:
    """Turns a Request into a Plan using the registry (names resolved, grains checked)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def plan(self, request: Request) -> Plan:
        """A new Plan for `request`; safe to call from many threads on one Planner."""
        return _Build(self.registry, request).plan(final=True)


def _whole_periods(outer: str, inner: str) -> bool:
    """Whether every `outer` period is made of whole `inner` periods (a quarter of months)."""
    months = {"month": 1, "quarter": 3, "year": 12}
    if inner in ("hour", "day") or outer == inner:
        return True
    return inner in months and outer in months and months[outer] % months[inner] == 0


class _Build:
    """The state of planning one request (nodes found so far), never shared between calls."""

    def __init__(self, registry: Registry, request: Request) -> None:
        self.registry = registry
        self.request = request
        self._nodes: dict[tuple[object, ...], MeasureNode] = {}
        self._offsets: dict[tuple[str, str, str], Offset] = {}
        self._offset_users: dict[tuple[str, str, str], list[str]] = {}
        self._shares: dict[tuple[object, ...], Share] = {}
        self._conversions: dict[tuple[object, ...], ConversionSpec] = {}

    # -------------------------------------------------------------------------- the tree
    def plan(self, *, final: bool) -> Plan:
        request = self.request
        formulas: dict[str, Formula] = {}
        for name in request.metrics:
            formulas[name] = self._formula(name, (), name)
        if is_fiscal(request.grain):
            find_retail(self.registry.sources, self._source())  # a QueryError without one
        if request.fill_days == "business":
            find_calendar(self.registry.sources, self._source())
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
        keys = tuple(([request.grain] if request.grain else []) + [c for c, _ in dim_columns])
        groups: dict[tuple[object, ...], list[MeasureNode]] = {}
        for node in key_in_nodes(self.registry, request, list(self._nodes.values()), dim_columns):
            groups.setdefault(node.scan_key, []).append(node)
        parts: list[Node] = []
        for nodes in groups.values():
            scan = build_scan(self.registry, request, tuple(nodes), dim_columns)
            parts.append(eager(self.registry, scan) or scan)
        parts += [self._shift(key, off, dim_columns) for key, off in self._offsets.items()]
        parts += [
            events_node(self.registry, request, c, dim_columns) for c in self._conversions.values()
        ]
        merged: Node = Merge(tuple(parts), keys)
        if request.fill and request.grain:
            zero = (
                [n.column for n in self._nodes.values() if n.agg in ADDITIVE]
                if request.fill == "zero"
                else []
            )
            merged = Fill(
                merged,
                request.grain,
                keys[1:],
                request.start,
                request.end,
                tuple(zero),
                request.fill,
                request.fill_days == "business",
            )
        for share in self._shares.values():
            merged = self._share_total(merged, share, dim_columns)
        outputs = tuple((out, formulas[name]) for out, name in metric_columns)
        body = Formulas(merged, keys, outputs)
        root: Output | Formulas = body
        if final:
            columns = [*keys, *(out for out, _ in metric_columns)]
            root = Output(body, _order(request, keys, columns), request.limit)
        return Plan(request, root, formulas, metric_columns, dim_columns)

    def _sub(self, **changes: Any) -> Plan:
        """A sub-plan of this request (another metric set, range or grouping), unordered."""
        req = dataclasses.replace(
            self.request, **{"order_by": (), "limit": None, "fill": None, **changes}
        )
        return _Build(self.registry, req).plan(final=False)

    def _shift(self, key: tuple[str, str, str], off: Offset, dims: list[tuple[str, str]]) -> Shift:
        """The metric computed for the periods P - offset of every output period P.

        The shifted periods are computed whole (start/end only choose the output periods P),
        with the query's fill, so the offset of a period equals that period's own value.
        """
        if off.to_grain is not None:
            return self._to_grain_shift(key, off, dims)
        req = self.request
        grain = req.grain or "month"
        start = end = None
        if is_fiscal(grain):
            start, end = self._fiscal_shift_range(off.offset)
            g = None
        else:
            g = Grain.of(grain, req.week_start)
        if g is not None and req.start:
            start = truncate_literal(shift(truncate_literal(req.start, g), off.offset, -1), g)
        if g is not None and req.end:
            last = truncate_literal(req.end - _dt.timedelta(microseconds=1), g)
            end = next_period(truncate_literal(shift(last, off.offset, -1), g), g)
        sub = self._sub(metrics=(off.metric,), start=start, end=end, fill=req.fill)
        return self._shift_node(key, off, dims, sub, offset=off.offset, grain=grain)

    def _to_grain_shift(
        self, key: tuple[str, str, str], off: Offset, dims: list[tuple[str, str]]
    ) -> Shift:
        """offset_to_grain: for each output period P, the metric's value of the first period
        of the `to_grain` period holding P: at the query's grain when the to_grain is made of
        whole query periods (the first month of a quarter, at month grain), else at day grain
        (the first day of the month, at week grain). That is MetricFlow's meaning."""
        req = self.request
        grain = req.grain or "day"
        to_grain = off.to_grain or grain
        g = Grain.of(grain, req.week_start)
        first = Grain.of(to_grain, req.week_start)
        by = grain if _whole_periods(to_grain, grain) else "day"
        start = first.floor_literal(g.floor_literal(req.start)) if req.start else None
        sub = self._sub(metrics=(off.metric,), grain=by, start=start, end=req.end, fill=req.fill)
        return self._shift_node(
            key, off, dims, sub, offset="", grain=grain, to_grain=to_grain, input_grain=by
        )

    def _shift_node(
        self,
        key: tuple[str, str, str],
        off: Offset,
        dims: list[tuple[str, str]],
        sub: Plan,
        *,
        offset: str,
        grain: str,
        to_grain: str | None = None,
        input_grain: str | None = None,
    ) -> Shift:
        """The Shift node over a sub-plan of the offset metric (by `offset`, or to the start
        of `to_grain` periods read at `input_grain`)."""
        assert isinstance(sub.root, Formulas)
        return Shift(
            offset=offset,
            grain=grain,
            to_grain=to_grain,
            input_grain=input_grain,
            column=off.column,
            value=sub.metric_columns[0][0],
            metric=off.metric,
            used_by=tuple(self._offset_users[key]),
            dims=tuple(c for c, _ in dims),
            start=self.request.start,
            end=self.request.end,
            input=sub.root,
        )

    def _fiscal_shift_range(self, offset: str) -> tuple[_dt.datetime | None, _dt.datetime | None]:
        """Whole fiscal years covering every period an offset at a fiscal grain may read: a
        year boundary is a boundary of every fiscal period, so the sub-plan's periods are whole."""
        req = self.request
        rules = find_retail(self.registry.sources, self._source())[1].retail.rules()
        n, unit = parse_offset(offset)
        back = {"fiscal_week": n // 52 + 1, "fiscal_month": n // 12 + 1}.get(unit, n)
        back = max(back, n // 4 + 1) if unit == "fiscal_quarter" else back

        def day(moment: _dt.datetime) -> _dt.datetime:
            return _dt.datetime(moment.year, moment.month, moment.day)

        start = end = None
        if req.start:
            first = rules.year_bounds(rules.closing_year(req.start.date()) - back)[0]
            start = day(_dt.datetime.combine(first, _dt.time()))
        if req.end:
            last = (req.end - _dt.timedelta(microseconds=1)).date()
            stop = rules.year_bounds(rules.closing_year(last))[1]
            end = day(_dt.datetime.combine(stop, _dt.time()))
        return start, end

    def _source(self) -> str | None:
        """The source of the request's first measure (which retail calendar it joins)."""
        node = next(iter(self._nodes.values()), None)
        return node.source if node is not None else None

    def _share_total(self, merged: Node, share: Share, dims: list[tuple[str, str]]) -> ShareTotal:
        """The metric's total within the `share_of` groups (same filters, same periods)."""
        kept = [(out, ref) for out, ref in dims if _within(ref, share.within)]
        sub = self._sub(metrics=(share.metric,), by=tuple(ref for _, ref in kept))
        assert isinstance(sub.root, Formulas)
        sub_outs = {ref: out for out, ref in sub.dim_columns}
        return ShareTotal(
            input=merged,
            column=share.column,
            metric=share.metric,
            on=tuple((out, sub_outs[ref]) for out, ref in kept),
            grain=self.request.grain,
            value=sub.metric_columns[0][0],
            totals=sub.root,
        )

    # -------------------------------------------------------------------------- formulas
    def _check_grain(self, name: str) -> None:
        m = self.registry.metric(name)
        grain = self.request.grain
        if isinstance(m, Metric) and m.grains is not None and grain not in m.grains:
            asked = grain or "no grain (totals)"
            raise QueryError(
                f"metric {name!r} can be asked only at grain "
                f"{', '.join(m.grains)}; the query asks {asked}"
            )

    def _formula(self, name: str, filters: tuple[str, ...], asked: str) -> Formula:
        self._check_grain(name)  # also for the metrics a ratio or derived metric uses
        request = self.request
        m = self.registry.metric(name)
        if isinstance(m, MeasureRef):
            return Col(self._node(m, filters, name))
        kind = m.kind
        extra = (*filters, m.filter) if m.filter else filters
        if kind == "simple":
            ref = self.registry.find_measure(m.measure or "")
            assert ref is not None  # checked by the registry
            return Col(self._node(ref, extra, name))
        if kind == "ratio":
            return Ratio(
                self._formula(m.numerator or "", extra, asked),
                self._formula(m.denominator or "", extra, asked),
            )
        if kind == "derived":
            parsed = parse_expression(m.expr or "", what=f"metric {name}")
            return Derived(parsed, tuple((n, self._formula(n, extra, asked)) for n in parsed.names))
        if kind == "cumulative":
            if request.grain is None:
                raise QueryError(f"cumulative metric {name!r} needs a grain (e.g. grain='day')")
            to_date = m.grain_to_date
            if to_date:
                validate.to_date(to_date, request.grain)
            ref = self.registry.find_measure(m.measure or "")
            assert ref is not None
            return Col(
                self._node(ref, extra, name, window=m.window, to_date=to_date, cumulative=True)
            )
        if kind == "offset":
            if request.grain is None:
                raise QueryError(f"offset metric {name!r} needs a grain (e.g. grain='month')")
            if filters:
                raise QueryError(f"offset metric {name!r} cannot inherit a metric filter")
            if m.offset_to_grain is not None and is_fiscal(request.grain):
                raise QueryError(
                    f"offset metric {name!r} (offset_to_grain) cannot be asked at a fiscal grain"
                )
            if m.offset_to_grain is None:
                check_offset(m.offset or "", request.grain, m.metric or "")
            key = (m.metric or "", m.offset or "", m.offset_to_grain or "")
            off = self._offsets.get(key)
            if off is None:
                off = self._offsets[key] = Offset(
                    f"__o{len(self._offsets)}", key[0], key[1], m.offset_to_grain
                )
            users = self._offset_users.setdefault(key, [])
            if asked not in users:
                users.append(asked)
            return off
        if kind == "conversion":
            return self._conversion(name, m, extra)
        if kind == "share":
            base = m.metric or ""
            within = tuple(m.share_of or ())
            skey = (base, within, extra)
            share = self._shares.get(skey)
            if share is None:
                share = Share(
                    f"__s{len(self._shares)}", base, self._formula(base, extra, asked), within
                )
                self._shares[skey] = share
            return share
        raise QueryError(
            f"metric {name!r} is a {kind} metric, which this query path does not support"
        )

    def _conversion(self, name: str, m: Metric, filters: tuple[str, ...]) -> Formula:
        """conversions, or conversions / the base measure (planner/conversion.py)."""
        assert m.conversion is not None
        base, _ = conversion_measures(self.registry, m)
        key = spec_key(m, filters)
        spec = self._conversions.get(key)
        if spec is None:
            spec = ConversionSpec(f"__c{len(self._conversions)}", name, m, filters)
            self._conversions[key] = spec
        found = Conversions(spec.column, name)
        # the base measure is planned either way: its groups are the metric's rows (NULL
        # where no conversion followed), as in MetricFlow
        opportunities = Col(self._node(base, filters, name))
        if m.conversion.calculation == "conversions":
            return found
        return Ratio(found, opportunities)

    def _node(
        self,
        ref: MeasureRef,
        filters: tuple[str, ...],
        asked: str,
        window: str | None = None,
        to_date: str | None = None,
        cumulative: bool = False,
    ) -> MeasureNode:
        request = self.request
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
                value=parse_expression(m.expr) if m.expr else None,
                conditions=tuple(parse_expression(f) for f in all_filters),
                names=own_names(self.registry, ref.source, [m.expr, *all_filters]),
            )
            self._nodes[key] = node
        return node


def _within(ref: str, within: tuple[str, ...]) -> bool:
    return any(ref == w or ref.endswith("." + w) or w.endswith("." + ref) for w in within)


def _order(
    request: Request, keys: tuple[str, ...], columns: list[str]
) -> tuple[tuple[str, bool], ...]:
    """The result order: the request's order_by (checked), else the group keys ascending."""
    if not request.order_by:
        return tuple((k, False) for k in keys)
    out = []
    for item in request.order_by:
        desc = item.startswith("-")
        name = item[1:] if desc else item
        if name not in columns:
            raise QueryError(
                unknown("order_by column", name, columns) + " (prefix with '-' for descending)"
            )
        out.append((name, desc))
    return tuple(out)


def describe_join(step: JoinStep) -> str:
    """One hop in words, so a reader of explain() sees which rows can (not) multiply."""
    role = step.role + (f" ({step.right})" if step.role != step.right else "")
    on = " and ".join(f"{step.left}.{a} = {step.role}.{b}" for a, b in step.pairs)
    return f"LEFT JOIN {role} on {on}, {step.relationship}"
