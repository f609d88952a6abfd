"""Can one event match two steps? A conservative static answer from the step filters.

When no event can match two steps (the usual `event_type = '...'` funnels), every step's
candidates are interchangeable at equal timestamps and the compiler uses the fast plan: one
ASOF join per step on time alone. Otherwise rows get a total order and used rows are skipped
(see funnel_sequential.py). Filters are proven disjoint only when both constrain the same
expression to disjoint literal sets (`=`, `IN`, `OR` of those, under `AND`); anything else is
assumed to overlap, which is always safe (the general plan is exact for disjoint filters too).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from metrics_layer.analysis.funnel_spec import EventKind
from metrics_layer.expressions import parse_expression

Lit = tuple[str, object]
Constraints = dict[str, frozenset[Lit]]


def part_key(kind: EventKind) -> tuple[str, str, str, bool]:
    """Steps with the same key read the same rows (one row can match several of them)."""
    return (kind.source, kind.entity, kind.time, kind.main)


def overlap_groups(steps: Sequence[EventKind]) -> tuple[tuple[int, ...], ...]:
    """Connected groups (1-based step numbers) of steps whose filters may share an event."""
    n = len(steps)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    cons = [_constraints(parse_expression(s.filter).tree) for s in steps]
    for i in range(n):
        for j in range(i + 1, n):
            if part_key(steps[i]) == part_key(steps[j]) and not _disjoint(cons[i], cons[j]):
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i + 1)
    return tuple(tuple(g) for g in sorted(groups.values()))


def may_overlap(groups: Sequence[Sequence[int]], a: int, b: int) -> bool:
    """Whether steps a and b (1-based) are in the same overlap group."""
    return any(a in g and b in g for g in groups)


def _disjoint(a: Constraints, b: Constraints) -> bool:
    for key in a.keys() & b.keys():
        kinds = {k for k, _ in a[key] | b[key]}
        if len(kinds) == 1 and not (a[key] & b[key]):
            return True
    return False


def _constraints(node: exp.Expression) -> Constraints:
    """What `node` being true implies: expression text -> the literal values it must equal."""
    if isinstance(node, exp.Paren):
        return _constraints(node.this)
    if isinstance(node, exp.And):
        left, right = _constraints(node.this), _constraints(node.expression)
        out = dict(left)
        for key, values in right.items():
            out[key] = out[key] & values if key in out else values
        return out
    if isinstance(node, exp.Or):
        left, right = _constraints(node.this), _constraints(node.expression)
        return {k: left[k] | right[k] for k in left.keys() & right.keys()}
    if isinstance(node, exp.EQ):
        for key_side, lit_side in ((node.this, node.expression), (node.expression, node.this)):
            lit = _literal(lit_side)
            if lit is not None and _literal(key_side) is None:
                return {key_side.sql(): frozenset({lit})}
        return {}
    if isinstance(node, exp.In) and not node.args.get("query"):
        lits = [_literal(e) for e in node.expressions]
        if lits and all(v is not None for v in lits) and _literal(node.this) is None:
            return {node.this.sql(): frozenset(v for v in lits if v is not None)}
    return {}


def _literal(node: exp.Expression) -> Lit | None:
    if isinstance(node, exp.Paren):
        return _literal(node.this)
    if isinstance(node, exp.Literal):
        if node.is_string:
            return ("s", node.this)
        try:
            return ("n", float(node.this))
        except ValueError:
            return None
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
        return ("n", -float(node.this.this))
    if isinstance(node, exp.Boolean):
        return ("b", bool(node.this))
    return None
