"""The one primitive of ordered funnels: for each attempt, the next matching event.

`next_match(left, right, ...)` adds to every `left` row the payload of the `right` row of the
same entity with the smallest key at or after the left row's key (strictly after when
`strict`), or NULLs. Two formulations give the same rows:

- "asof": an ASOF LEFT JOIN (DuckDB; also Snowflake, ClickHouse, ...): one sort-merge per step.
- "window": for backends without ASOF (PostgreSQL, PySpark): left and right rows are unioned
  and scanned per entity in descending key order; a running MIN over the rows seen so far is
  the smallest right key at or after each left row. Every payload column must be
  non-decreasing in the right key (times, ranks, row numbers and their leads are), so its
  running MIN is the payload of that same row. NULL left keys match nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from metrics_layer.analysis.funnel_events import E

_RE, _RK, _K, _SIDE = "__re", "__rk", "__mk", "__side"

Get = Callable[[str], ir.Value]
Derive = Callable[[Get], dict[str, ir.Value]]


def next_match(
    left: ir.Table,
    right: ir.Table,
    *,
    left_key: str,
    right_key: str,
    payload: Mapping[str, str],
    strategy: str,
    derive: Derive,
    strict: bool = False,
    keys: tuple[str, ...] = (),
) -> ir.Table:
    """`left`'s columns plus `derive(get)`: `get(name)` reads a left column or a payload column
    (right column -> its new name) of the row's next right row (NULL when there is none).

    `keys` are columns of both tables that must be equal besides the entity (a funnel's held
    dimensions); a NULL key matches nothing, and callers drop right rows with NULL keys, so
    the window formulation's NULL groups find nothing either.

    Deriving the new columns in the same projection as the join keeps the expression shallow
    (ibis compiles faster, the SQL has fewer nested selects).
    """
    if strategy == "asof":
        return _asof(left, right, left_key, right_key, payload, strict, derive, keys)
    return _window(left, right, left_key, right_key, payload, strict, derive, keys)


def _asof(
    left: ir.Table,
    right: ir.Table,
    left_key: str,
    right_key: str,
    payload: Mapping[str, str],
    strict: bool,
    derive: Derive,
    keys: tuple[str, ...],
) -> ir.Table:
    alias = {out: _RK for src, out in payload.items() if src == right_key}  # no duplicate column
    r = right.select(
        **{_RE: right[E], _RK: right[right_key]},
        **{f"{_RE}{i}": right[c] for i, c in enumerate(keys)},
        **{out: right[src] for src, out in payload.items() if out not in alias},
    )
    left = left.view()  # a fresh relation: do not extend the previous step's join chain
    on = left[left_key] < r[_RK] if strict else left[left_key] <= r[_RK]
    preds = [left[E] == r[_RE], *(left[c] == r[f"{_RE}{i}"] for i, c in enumerate(keys))]
    joined = left.asof_join(r, on=on, predicates=preds)
    outs = set(payload.values())
    new = derive(lambda name: r[alias.get(name, name)] if name in outs else left[name])
    return joined.select(*(left[c] for c in left.columns if c not in new), **new)


def _window(
    left: ir.Table,
    right: ir.Table,
    left_key: str,
    right_key: str,
    payload: Mapping[str, str],
    strict: bool,
    derive: Derive,
    keys: tuple[str, ...],
) -> ir.Table:
    ltypes = left.schema()
    rtypes = {out: right[src].type() for src, out in payload.items()}
    key_type = dt.int64
    lhs = left.select(
        *left.columns,
        **{_K: left[left_key].cast(key_type), _SIDE: ibis.literal(0, type=dt.int8)},
        **{out: ibis.null().cast(typ) for out, typ in rtypes.items()},
    )
    rhs_cols: dict[str, ir.Value] = {}
    for name in left.columns:
        if name == E or name in keys:
            rhs_cols[name] = right[name].cast(ltypes[name])
        else:
            rhs_cols[name] = ibis.null().cast(ltypes[name])
    rhs_cols[_K] = right[right_key].cast(key_type)
    rhs_cols[_SIDE] = ibis.literal(1, type=dt.int8)
    for src, out in payload.items():
        rhs_cols[out] = right[src]
    rhs = right.select(**rhs_cols)
    both = lhs.union(rhs, distinct=False)
    # Descending key: rows already scanned have larger keys. At equal keys, right rows come
    # first for "at or after" (they are in the frame), last for "strictly after".
    side = ibis.desc(both[_SIDE]) if not strict else ibis.asc(both[_SIDE])
    group = [both[E], *(both[c] for c in keys)]
    w = ibis.window(group_by=group, order_by=[ibis.desc(both[_K]), side], rows=(None, 0))
    found = {
        out: ibis.ifelse(both[_K].isnull(), ibis.null().cast(typ), both[out].min().over(w))
        for out, typ in rtypes.items()
    }
    scanned = both.mutate(**found)
    rows = scanned.filter(scanned[_SIDE] == 0)
    new = derive(lambda name: rows[name])
    return rows.select(*(c for c in left.columns if c not in new), **new)
