"""Scans: which fields one pass over a source needs, resolved once, and whether to aggregate early.

Everything the compiler needs to join, filter and aggregate a source is decided here from the
registry alone (no tables, no connection): dimension and filter names become FieldRefs, their
join paths become the scan's joins, and fan-out through one_to_many joins is refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlglot import exp

from metrics_layer.errors import QueryError
from metrics_layer.expressions import parse_expression
from metrics_layer.planner.nodes import EagerAggregate, KeyIn, MeasureNode, Names, Scan
from metrics_layer.planner.request import Request
from metrics_layer.registry import FieldRef, JoinStep, Registry

REAGGREGATE = {"count": "sum", "sum": "sum", "min": "min", "max": "max"}


def own_names(registry: Registry, source: str, texts: Sequence[str | None]) -> Names:
    """The names of a source's own expressions (a measure's expr and filters), resolved.

    A bare name is the source's own column first; without a known schema, a bare name that is
    no dimension anywhere is taken as that column (the backend reports it if it is not).
    """
    out: dict[str, FieldRef] = {}
    for text in texts:
        if not text:
            continue
        for name in parse_expression(text).names:
            if name in out:
                continue
            try:
                out[name] = registry.resolve_field(source, name, prefer_columns=True)
            except QueryError:
                if "." in name or registry.columns(source) is not None:
                    raise
                out[name] = FieldRef(source, (), source, name, "column")
    return tuple(out.items())


def build_scan(
    registry: Registry,
    request: Request,
    nodes: tuple[MeasureNode, ...],
    dim_columns: list[tuple[str, str]],
) -> Scan:
    """The scan of `nodes` (one source, one time column) for `request`."""
    lead = nodes[0]
    base = lead.source
    keys: list[tuple[str, FieldRef]] = []
    for out, text in dim_columns:
        try:
            ref = registry.resolve_field(base, text)
        except QueryError as exc:
            needed = ", ".join(sorted({f"{n.source}.{n.measure}" for n in nodes}))
            raise QueryError(f"cannot group {needed} by {text!r}: {exc}") from None
        if ref.fans_out:
            raise QueryError(
                f"dimension {ref.full_name} is reached from {base!r} through a one_to_many join "
                f"({ref.describe_path()}), which would multiply {base!r} rows; ask it from a source "
                "that reaches it many-to-one"
            )
        keys.append((out, ref))
    others: list[FieldRef] = []
    if isinstance(request.where, str):
        names = parse_expression(request.where, what="where").names
        others += [registry.resolve_field(base, n) for n in names]
    for node in nodes:
        others += [ref for _, ref in node.names]
    snapshot_by: tuple[FieldRef, ...] = ()
    if lead.snapshot:
        snapshot_by = tuple(
            registry.resolve_field(base, n, prefer_columns=True) for n in lead.snapshot[1]
        )
        others += snapshot_by
    time = None
    if lead.time:
        time = dict(own_names(registry, base, [lead.time]))[lead.time]
        others.append(time)
    for ref in others:
        if ref.fans_out:  # a where or measure on it would repeat each base row per match
            raise QueryError(
                f"{ref.full_name} is reached from {base!r} through a one_to_many join "
                f"({ref.describe_path()}); filtering or aggregating {base!r} rows by it would "
                f"multiply them, so a where or a measure of {base!r} cannot use it"
            )
    fields = tuple(dict.fromkeys([r for _, r in keys] + others))
    steps: dict[tuple[JoinStep, ...], None] = {}
    for ref in fields:
        for depth in range(1, len(ref.path) + 1):
            steps.setdefault(ref.path[:depth], None)
    return Scan(
        source=base,
        time=time,
        grain=request.grain,
        start=request.start,
        end=request.end,
        keys=tuple(keys),
        where=request.where,
        nodes=nodes,
        fields=fields,
        joins=tuple(steps),
        as_of=request.as_of,
        snapshot_by=snapshot_by,
        row_fields=tuple(dict.fromkeys(others)),
        implied=_implied(request, nodes, time),
    )


def _implied(
    request: Request, nodes: tuple[MeasureNode, ...], time: FieldRef | None
) -> tuple[str, ...]:
    """The measure filters that only say the scan's time is set: with a grain or a time
    range the scan keeps only rows whose time is set (a row without one is in no period and
    no range), so such a filter holds on every row and is not checked again (a plain count
    instead of a FILTER clause: the same number, less work per row)."""
    lead = nodes[0]
    if time is None or lead.cumulative or lead.snapshot:
        return ()
    if not (request.grain or request.start or request.end):
        return ()
    found: dict[str, None] = {}
    for node in nodes:
        names = dict(node.names)
        for text, cond in zip(node.filters, node.conditions, strict=True):
            if (
                len(cond.names) == 1
                and names.get(cond.names[0]) == time
                and _is_not_null(cond.tree)
            ):
                found[text] = None
    return tuple(found)


def _is_not_null(tree: exp.Expression) -> bool:
    """True for `x IS NOT NULL` (a NOT of `x IS NULL`, in any parentheses)."""
    while isinstance(tree, exp.Paren):
        tree = tree.this
    if not isinstance(tree, exp.Not):
        return False
    inner = tree.this
    while isinstance(inner, exp.Paren):
        inner = inner.this
    return (
        isinstance(inner, exp.Is)
        and isinstance(inner.expression, exp.Null)
        and isinstance(inner.this, exp.Column | exp.Dot)
    )


def eager(registry: Registry, scan: Scan) -> EagerAggregate | None:
    """Aggregate below many-to-one joins (eager aggregation) when joined fields are only keys.

    A dimension reached through a many-to-one join is a function of the join key, so grouping
    the fact rows by (period, own dimensions, join key) first and joining the much smaller
    partial result gives the same groups. count/sum/min/max re-aggregate exactly; a distinct
    count of the join key is a count of the partial rows (with one join key each key value
    occurs once per output group; with several keys it stays a distinct count). Applied only
    when a distinct count of a join key is asked: the backend builds a hash table of the same
    (period, key) pairs for it anyway, so the rewrite adds no work, while the join and the final
    aggregation see the partial rows instead of every fact row (10M events -> 2.4M worker-weeks
    in the benchmarks). A where on joined fields keeps the plain plan: DuckDB turns that join
    into a filtering join on the fact scan, which beats aggregating first; a deferred where
    cannot be inspected before it is applied, so it keeps the plain plan too.
    """
    lead = scan.lead
    deferred = scan.where is not None and not isinstance(scan.where, str)
    if lead.cumulative or lead.snapshot or deferred or any(n.key_in for n in scan.nodes):
        return None
    joined = [ref for _, ref in scan.keys if ref.path]
    if not joined or any(r.path for r in scan.row_fields):
        return None  # where, measures and time must use own columns only
    steps = {s for r in joined for s in r.path}
    if any(registry.sources[s.right].scd is not None or s.right == scan.source for s in steps):
        return None
    join_keys = tuple(dict.fromkeys(left for r in joined for left, _ in r.path[0].pairs))
    if not all(_is_column(registry, scan.source, k) for k in join_keys):
        return None
    distinct_on_key = False
    how: list[tuple[str, str]] = []
    for node in scan.nodes:
        if node.agg == "count_distinct" and (node.expr or "").strip() in join_keys:
            distinct_on_key = True
            how.append((node.column, "count" if len(join_keys) == 1 else "count_distinct"))
        elif node.agg in REAGGREGATE:
            how.append((node.column, REAGGREGATE[node.agg]))
        else:
            return None
    if not distinct_on_key:
        return None
    names = ", ".join(".".join((*r.roles, r.name)) for r in joined)
    reason = (
        f"only {names} come through joins and a distinct count of the join key "
        f"{', '.join(join_keys)} is asked"
    )
    return EagerAggregate(scan, join_keys, tuple(how), reason)


def _is_column(registry: Registry, source: str, name: str) -> bool:
    """True when `name` is a column of the source's table (not a computed dimension)."""
    columns = registry.columns(source)
    if columns is not None:
        return name in columns
    dim = registry.sources[source].dimensions.get(name)
    return dim is None or dim.expr is None


def key_in_nodes(
    registry: Registry,
    request: Request,
    nodes: Sequence[MeasureNode],
    dim_columns: list[tuple[str, str]],
) -> list[MeasureNode]:
    """`nodes` with each distinct count of a join key that can be computed at the joined
    source (a KeyIn, see nodes.py) moved there, into the scan of that source's own measures.

    A source's rows are then scanned once, with a semi-join to the keys, instead of two scans
    (one joining every row of the other source just to count distinct keys) merged by UNION
    ALL and a second GROUP BY. Moved only when that scan exists: its groups are then the same
    as the two merged scans' (each joined row lies in a group of the joined source's rows).
    """
    out = []
    for node in nodes:
        moved = _key_in(registry, request, node, dim_columns)
        if moved is not None and any(
            n.key_in is None and n.source == moved.source and n.scan_key == moved.scan_key
            for n in nodes
        ):
            node = moved
        out.append(node)
    return out


def _key_in(
    registry: Registry,
    request: Request,
    node: MeasureNode,
    dim_columns: list[tuple[str, str]],
) -> MeasureNode | None:
    """The node as a KeyIn count at its joined source, or None when that would not be exact.

    Exact when the node counts distinct values of its own key column k of a single-key
    many-to-one join to a source B (not SCD), its filters read its own fields only, and the
    time, every group key and the where are fields of B through that one join: then each
    counted value of k is one B row, in the group of that row. The request must bound or
    bucket the time: that drops the rows whose k matches no B row (their B time is NULL),
    which a count at B cannot see.
    """
    if node.agg != "count_distinct" or node.cumulative or node.snapshot or node.time is None:
        return None
    if not (request.grain or request.start or request.end):
        return None
    if request.where is not None and not isinstance(request.where, str):
        return None  # a deferred where cannot be inspected before it is applied
    names = dict(node.names)
    k = (node.expr or "").strip()
    key = names.get(k)
    if key is None or key.path or not _is_column(registry, node.source, k):
        return None
    if any(ref.path for ref in names.values()):
        return None  # a filter on a joined field
    try:
        time = dict(own_names(registry, node.source, [node.time]))[node.time]
    except QueryError:
        return None
    if len(time.path) != 1:
        return None
    step = time.path[0]
    target = step.right
    if (
        step.relationship not in ("many_to_one", "one_to_one")
        or len(step.pairs) != 1
        or step.pairs[0][0] != k
        or target == node.source
        or registry.sources[target].scd is not None
        or not _is_column(registry, target, step.pairs[0][1])
    ):
        return None
    texts = [text for _, text in dim_columns]
    if isinstance(request.where, str):
        texts += parse_expression(request.where, what="where").names
    for text in texts:  # each must name the same field of `target` from both sources
        if not _same_field(registry, node.source, target, step, text, prefer_columns=False):
            return None
    here = dict(own_names(registry, target, [time.name])).get(time.name)
    if time.grain or here is None or here.path or not _same_value(registry, time, here):
        return None  # the scan of `target` must bucket the same time value
    pk = step.pairs[0][1]
    pk_ref = FieldRef(target, (), target, pk, "column")
    key_in = KeyIn(
        source=node.source,
        measure=node.measure,
        column=k,
        key=pk_ref,
        filters=node.filters,
        conditions=node.conditions,
        names=node.names,
        none_if_unmatched=bool(request.grain or dim_columns),
    )
    return dataclasses.replace(
        node,
        source=target,
        agg="count",
        expr=None,
        filters=(),
        time=time.name,
        value=None,
        conditions=(),
        names=((pk, pk_ref),),
        key_in=key_in,
    )


def _same_field(
    registry: Registry, source: str, target: str, step: JoinStep, text: str, *, prefer_columns: bool
) -> bool:
    """True when `text` names, from `source`, a field of `target` through `step`, and names
    the same field from `target` itself."""
    try:
        there = registry.resolve_field(source, text, prefer_columns=prefer_columns)
        here = registry.resolve_field(target, text, prefer_columns=prefer_columns)
    except QueryError:
        return False
    return there.path == (step,) and not here.path and _same_value(registry, there, here)


def _same_value(registry: Registry, a: FieldRef, b: FieldRef) -> bool:
    """True when two fields of one source compute the same value (the same field, or a column
    and the dimension of that name that declares no expression)."""
    if (a.source, a.name, a.grain) != (b.source, b.name, b.grain):
        return False
    if a.kind == b.kind:
        return True
    dim = registry.sources[a.source].dimensions.get(a.name)
    return dim is not None and dim.expr is None
