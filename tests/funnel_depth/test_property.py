"""Random event logs: `within` and `hold` on DuckDB == the plain-Python reference.

The reference is tests/unit/test_funnel_oracle.py, extended with the rules of CONTRACT.md §12
(attempts enumerated literally; it shares nothing with the compiler). Logs have few entities
on a coarse clock, so ties, repeated steps, NULL users and NULL held values are frequent, and
the random bounds often hit a gap exactly. Every example runs through every plan (ASOF joins
and the window formulation, the fast plan and the forced plan for overlapping filters, with
and without the step-2 pruning's preconditions), and all must equal the reference.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metrics_layer as ml
from metrics_layer.analysis.funnel import funnel
from tests.property.test_funnel_property import (
    TYPES,
    UNIT,
    _con,
    _got,
    _in,
    _same,
    filter_st,
)
from tests.unit.test_funnel_oracle import Row, Spec
from tests.unit.test_funnel_oracle import funnel as reference

_n = iter(range(10**9))
# many entities with few events on a dense clock: an entity's count then rests on one or two
# attempts, and gaps of exactly a step's bound are frequent
events_st = st.lists(
    st.tuples(
        st.sampled_from([1, 2, 3, 4, None]),
        st.sampled_from(TYPES),
        st.integers(0, 10),
        st.sampled_from([None, None, "x"]),  # NULL held values are frequent
    ),
    min_size=4,
    max_size=16,
)


@st.composite
def specs(draw: Any, order: str) -> dict[str, Any]:
    n = draw(st.integers(2, 4))
    if order == "any":  # `within` in any order needs disjoint step filters
        steps = [{t} for t in draw(st.permutations(TYPES[:3]))[:n]] if n <= 3 else None
        if steps is None:
            n, steps = 3, [{t} for t in TYPES[:3]]
    else:
        steps = [draw(filter_st) for _ in range(n)]
    within = [None] + [draw(st.sampled_from([None, 1, 1, 2, 3])) for _ in range(n - 1)]
    excl = []
    if order != "any" and draw(st.booleans()):
        lo = draw(st.integers(1, n - 1))
        hi = draw(st.integers(lo + 1, n))
        excl.append((draw(st.sets(st.sampled_from(TYPES), min_size=1, max_size=2)), lo, hi))
    start = draw(st.one_of(st.none(), st.integers(0, 6)))
    return {
        "order": order,
        "steps": steps,
        "excl": excl,
        "window": draw(st.integers(2, 12)),
        "within": within,
        "hold": draw(st.booleans()),
        "start": start,
        "end": None,
        "by": False,
        "grain": draw(st.sampled_from([None, None, "hour"])),
        "tz": "UTC",
    }


def _yaml_layer(tmp: Path, rows: list[tuple[Any, ...]], sp: dict[str, Any]) -> Any:
    import datetime as dt

    import pyarrow as pa

    from tests.property.test_funnel_property import BASE

    name = f"fd_{next(_n)}"
    data = pa.table(
        {
            "user_id": pa.array([r[0] for r in rows], pa.int64()),
            "event_type": pa.array([r[1] for r in rows], pa.string()),
            "ts": pa.array(
                [BASE + dt.timedelta(seconds=r[2] * UNIT) for r in rows], pa.timestamp("us")
            ),
            "platform": pa.array([r[3] for r in rows], pa.string()),
        }
    )
    con = _con()
    con.create_table(name, data, overwrite=True)
    lines = []
    for k, f in enumerate(sp["steps"], 1):
        w = sp["within"][k - 1]
        bound = "" if w is None else f", within: {w * UNIT} seconds"
        lines.append(f'      - {{name: s{k}, filter: "{_in(f)}"{bound}}}')
    excl = "".join(
        f'\n      - {{name: x{m}, filter: "{_in(f)}", between: [s{lo}, s{hi}]}}'
        for m, (f, lo, hi) in enumerate(sp["excl"])
    )
    text = (
        f"""
version: 1
sources:
  events:
    table: {name}
    time: ts
    dimensions: {{event_type: {{}}, platform: {{}}}}
funnels:
  f:
    source: events
    entity: user_id
    window: {sp["window"] * UNIT} seconds
    order: {sp["order"]}
{"    hold: [platform]" if sp["hold"] else ""}
    steps:
"""
        + "\n".join(lines)
        + "\n"
        + (f"    exclusions:{excl}\n" if excl else "")
    )
    folder = tmp / name
    folder.mkdir()
    (folder / "defs.yml").write_text(text)
    return ml.load(folder, con=con, timezone=sp["tz"])


def _want(rows: list[tuple[Any, ...]], sp: dict[str, Any]) -> dict:
    out = []
    import datetime as dt

    from tests.property.test_funnel_property import BASE

    for user, kind, tick, platform in rows:
        steps = frozenset(k for k, f in enumerate(sp["steps"], 1) if kind in f)
        excl = frozenset(m for m, (f, _, _) in enumerate(sp["excl"]) if kind in f)
        local = BASE + dt.timedelta(seconds=tick * UNIT)
        period = local.replace(minute=0, second=0)
        out.append(Row(user, tick * UNIT, steps, excl, None, period, platform))
    spec = Spec(
        n=len(sp["steps"]),
        window=sp["window"] * UNIT,
        order=sp["order"],
        exclusions=[(lo, hi) for _, lo, hi in sp["excl"]],
        start=None if sp["start"] is None else sp["start"] * UNIT,
        grain=(lambda r: r.period) if sp["grain"] else None,
        within=[None if w is None else w * UNIT for w in sp["within"]],
        hold=sp["hold"],
    )
    return reference(out, spec)


def _check(tmp_path: Path, rows: list[tuple[Any, ...]], sp: dict[str, Any]) -> None:
    from tests.property.test_funnel_property import _bound

    layer = _yaml_layer(tmp_path, rows, sp)
    want = _want(rows, sp)
    plans = [{"strategy": s} for s in ("asof", "window")]
    if sp["order"] != "any":
        plans += [{"strategy": s, "overlap": "assume"} for s in ("asof", "window")]
    for plan in plans:
        res = funnel(layer, "f", start=_bound(sp["start"]), grain=sp["grain"], **plan)
        _same(_got(res.to_pandas(), sp), want, sp)


SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(rows=events_st, sp=specs("sequential"))
def test_sequential_within_hold_match_the_reference(tmp_path, rows, sp):
    _check(tmp_path, rows, sp)


@SETTINGS
@given(rows=events_st, sp=specs("strict"))
def test_strict_within_hold_match_the_reference(tmp_path, rows, sp):
    _check(tmp_path, rows, sp)


@SETTINGS
@given(rows=events_st, sp=specs("any"))
def test_any_order_within_hold_match_the_reference(tmp_path, rows, sp):
    _check(tmp_path, rows, sp)
