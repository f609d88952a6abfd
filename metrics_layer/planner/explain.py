"""`Plan.explain()`: the plan tree in words, step by step, in the order the SQL computes it.

Every node of the tree prints as one numbered step (sub-plans of offsets and share totals as
nested steps), so the text always matches the compiled query: a scan here is a table pass
there, a pre-aggregation here is a GROUP BY below the joins there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from metrics_layer.grain import GRAIN_NAMES, Grain
from metrics_layer.planner.nodes import (
    Col,
    ConversionEvents,
    Conversions,
    Derived,
    EagerAggregate,
    Fill,
    Formula,
    Formulas,
    Merge,
    Node,
    Offset,
    Output,
    Ratio,
    Scan,
    Share,
    ShareTotal,
    Shift,
    same_scan,
)

if TYPE_CHECKING:
    from metrics_layer.planner.plan import Plan
    from metrics_layer.registry import FieldRef


Step = Callable[[str], str]  # prints a numbered step of the current level, returns its number


def explain(plan: Plan) -> str:
    r = plan.request
    lines = [f"KPI query: {', '.join(r.metrics)}"]
    if r.by:
        lines.append(f"  by: {', '.join(r.by)}")
    if r.grain:
        shown = Grain.of(r.grain, r.week_start).describe() if r.grain in GRAIN_NAMES else r.grain
        lines.append(f"  grain: {shown} (periods bucketed in {r.timezone})")
    if r.where is not None:
        lines.append(f"  where: {r.where}")
    if r.start or r.end:
        lines.append(f"  time range: [{r.start or '-∞'}, {r.end or '+∞'})")
    _Printer(lines).node(plan.root, "", "")
    return "\n".join(lines)


class _Printer:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.printed: list[tuple[Scan, str]] = []  # scans printed so far, with their step number

    def node(self, node: Node, prefix: str, indent: str) -> int:
        """Print `node` and its inputs numbered from `prefix`; returns the last number used."""
        counter = [0]

        def step(text: str) -> str:
            counter[0] += 1
            number = f"{prefix}{counter[0]}"
            self.lines.append(f"{indent}{number}. {text}")
            return number

        self._walk(node, step, indent)
        return counter[0]

    def _walk(self, node: Node, step: Step, indent: str) -> None:
        emit = step
        out = self.lines
        body = indent + "   "
        if isinstance(node, Output):
            self._walk(node.input, step, indent)
            order = ", ".join(f"{c} {'desc' if d else 'asc'}" for c, d in node.order)
            if order:
                out.append(f"{body}order by {order}")
            if node.limit is not None:
                out.append(f"{body}limit {node.limit}")
        elif isinstance(node, Formulas):
            self._walk(node.input, step, indent)
            for column, f in node.outputs:
                out.append(f"{body}{column} = {describe_formula(f)}")
        elif isinstance(node, Merge):
            for part in node.parts:
                self._walk(part, step, indent)
            if len(node.parts) > 1:
                emit(
                    "merge the per-source aggregates on the group keys (NULL keys match NULL keys)"
                )
        elif isinstance(node, Scan):
            self._scan(node, emit, body, None)
        elif isinstance(node, ConversionEvents):
            emit(node.describe())
        elif isinstance(node, EagerAggregate):
            self._scan(node.scan, emit, body, node)
        elif isinstance(node, Shift) and node.to_grain is not None:
            number = emit(
                f"offset to {node.to_grain}: {node.metric} at the start of the {node.to_grain}, "
                f"once for {', '.join(node.used_by)}"
            )
            self.node(node.input, f"{number}.", body)
            out.append(
                f"{body}each output {node.grain} P takes the {node.input_grain} row starting "
                f"at the start of the {node.to_grain} holding P (NULL if none); "
                f"P runs over {_range(node.start, node.end)}"
            )
        elif isinstance(node, Shift):
            number = emit(
                f"shift by {node.offset}: {node.metric} of the period {node.offset} earlier, "
                f"once for {', '.join(node.used_by)}"
            )
            self.node(node.input, f"{number}.", body)
            out.append(
                f"{body}each output {node.grain} P takes the row of the {node.grain} holding "
                f"P - {node.offset} (NULL if none); P runs over {_range(node.start, node.end)}"
            )
        elif isinstance(node, Fill):
            self._walk(node.input, step, indent)
            dims = " x the dimension values seen" if node.dims else ""
            every = "business day" if node.business_days else node.grain
            emit(
                f"fill: a spine of every {every} of {_range(node.start, node.end)}{dims}, "
                "left-joined to the aggregates"
            )
            if node.zero:
                out.append(
                    f"{body}counts, distinct counts and sums are 0 where a period has no rows"
                )
        elif isinstance(node, ShareTotal):
            self._walk(node.input, step, indent)
            keys = [k for _, k in node.on] + ([node.grain] if node.grain else [])
            number = emit(
                f"share total: {node.metric} "
                + (f"by {', '.join(keys)}" if keys else "over everything")
                + ", left-joined on those keys"
            )
            self.node(node.totals, f"{number}.", body)
        else:
            raise TypeError(node)

    def _scan(self, scan: Scan, emit: Step, body: str, pre: EagerAggregate | None) -> None:
        from metrics_layer.planner.plan import describe_join

        out = self.lines
        for seen, number in self.printed:
            if same_scan(scan, seen):
                emit(f"reuse step {number}: the same pass over {scan.source!r}, computed once")
                return
        bounds = f"[{scan.start or '-∞'}, {scan.end or '+∞'})"
        reach = ""
        if scan.lead.cumulative and (scan.start or scan.end):
            reach = f", output periods in {bounds} (rows reach back as far as the window needs)"
        elif scan.start or scan.end:
            reach = f", rows in {bounds}"
        number = emit(
            f"scan source {scan.source!r} once"
            + (f", time column {scan.lead.time}" if scan.time else "")
            + reach
        )
        self.printed.append((scan, number))
        keys = ([scan.grain] if scan.grain else []) + [_name(ref) for _, ref in scan.keys]
        joins = [f"{body}{describe_join(path[-1])}" for path in scan.joins]
        for n in scan.nodes:
            of = n.source if n.key_in is None else n.key_in.source
            out.append(f"{body}- {of}.{n.measure}: {n.describe()}")
            if n.key_in is not None:
                out.append(
                    f"{body}  (the distinct count of {of}.{n.key_in.column}, counted at "
                    f"{n.source} by a semi-join: each {n.key_in.column} is one {n.source} row)"
                )
        for f in scan.implied:
            out.append(f"{body}({f}) holds on every row kept (its time is set): not checked again")
        if scan.lead.cumulative:
            out.append(
                f"{body}each row repeated for every {scan.grain} period whose window holds it "
                "(a range join to a spine of periods)"
            )
        if pre is not None:
            partial = [scan.grain] if scan.grain else []
            partial += [_name(ref) for _, ref in scan.keys if not ref.path]
            partial += list(pre.join_keys)
            out.append(
                f"{body}pre-aggregated below its joins: grouped by {', '.join(partial)} first, "
                f"because {pre.reason}"
            )
            out += joins
            out.append(
                f"{body}then re-aggregated by {', '.join(keys)} "
                f"({', '.join(sorted({how for _, how in pre.reaggregate}))} of the partial rows)"
            )
            return
        out += joins
        out.append(
            f"{body}aggregated at its own grain"
            + (f" by {', '.join(keys)}" if keys else " (totals)")
            + " before combining, so joins cannot multiply rows"
        )


def _name(ref: FieldRef) -> str:
    """A field as the user names it: its join roles and name, without the queried source."""
    return ".".join((*ref.roles, ref.name))


def _range(start: object, end: object) -> str:
    if start is None and end is None:
        return "the periods with data"
    return f"[{start or 'first period with data'}, {end or 'after the last period with data'})"


def describe_formula(f: Formula) -> str:
    if isinstance(f, Col):
        return f"{f.node.source}.{f.node.measure}: {f.node.describe()}"
    if isinstance(f, Ratio):
        return f"sum-level ratio ({describe_formula(f.numerator)}) / ({describe_formula(f.denominator)}), NULL if 0"
    if isinstance(f, Offset) and f.to_grain is not None:
        return f"{f.metric} at the start of the {f.to_grain} (NULL if none)"
    if isinstance(f, Offset):
        return f"{f.metric} of the period {f.offset} earlier (NULL if none)"
    if isinstance(f, Share):
        within = ", ".join(f.within) if f.within else "the whole period"
        return f"{f.metric} / total {f.metric} within {within} (NULL if 0)"
    if isinstance(f, Derived):
        return f.parsed.text
    if isinstance(f, Conversions):
        return f"conversions of {f.metric} (NULL if none)"
    raise TypeError(f)
