"""Random event streams: layer.funnel on DuckDB == the plain-Python reading of the contract.

The reference is tests/unit/test_funnel_oracle.py (attempts enumerated per entity, written from
CONTRACT.md §3 and docs/funnels.md, sharing nothing with the ibis compiler). Streams have few
entities and a few dozen events on a coarse clock, so ties, repeated steps, steps before step
1, boundary hits and NULL entities are frequent; step filters are random subsets of the event
types, so they often overlap. Every example runs through every plan (ASOF joins and the window
formulation, each with the fast plan where it applies and the general plan forced): all must
equal the reference, hence each other.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metrics_layer as ml
from metrics_layer.analysis.funnel import funnel
from tests.unit.test_funnel_oracle import Row, Spec
from tests.unit.test_funnel_oracle import funnel as reference

UNIT = 600  # seconds per clock tick: 40 ticks span several hours
BASE = dt.datetime(2024, 3, 1, 22, 0)
TYPES = ("A", "B", "C", "D")  # D matches no step unless a filter names it
ZONES = {"UTC": 0, "Asia/Kolkata": 19800}  # fixed offsets: local time = UTC + offset
_counter = itertools.count()
_CON: Any = None


def _con() -> Any:
    global _CON
    if _CON is None:
        _CON = ibis.duckdb.connect()
        _CON.raw_sql("SET TimeZone = 'UTC'")
    return _CON


events_st = st.lists(
    st.tuples(
        st.sampled_from([1, 2, 3, None]),
        st.sampled_from(TYPES),
        st.integers(0, 40),
        st.sampled_from([None, "x", "y"]),
    ),
    min_size=0,
    max_size=40,
)
filter_st = st.sets(st.sampled_from(TYPES[:3]), min_size=1, max_size=2)


@st.composite
def specs(draw: Any, order: str) -> dict[str, Any]:
    n = draw(st.integers(2, 4))
    steps = [draw(filter_st) for _ in range(n)]
    excl = []
    if order != "any" and draw(st.booleans()):
        lo = draw(st.integers(1, n - 1))
        hi = draw(st.integers(lo + 1, n))
        excl.append((draw(st.sets(st.sampled_from(TYPES), min_size=1, max_size=2)), lo, hi))
    start = draw(st.one_of(st.none(), st.integers(0, 20)))
    end = draw(st.one_of(st.none(), st.integers(5, 40)))
    if start is not None and end is not None and end <= start:
        end = start + 1
    return {
        "order": order,
        "steps": steps,
        "excl": excl,
        "window": draw(st.integers(1, 12)),
        "start": start,
        "end": end,
        "by": draw(st.booleans()),
        "grain": draw(st.sampled_from([None, None, "hour"])),
        "tz": draw(st.sampled_from(list(ZONES))),
    }


def _in(types: set[str]) -> str:
    return "event_type IN (" + ", ".join(f"'{t}'" for t in sorted(types)) + ")"


def _layer(tmp: Path, rows: list[tuple[Any, ...]], sp: dict[str, Any]) -> tuple[Any, str]:
    name = f"ev_{next(_counter)}"
    data = pa.table(
        {
            "event_id": pa.array(range(1, len(rows) + 1), pa.int64()),
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
    steps = "\n".join(
        f'      - {{name: s{k}, filter: "{_in(f)}"}}' for k, f in enumerate(sp["steps"], 1)
    )
    excl = "".join(
        f'\n      - {{name: x{m}, filter: "{_in(f)}", between: [s{lo}, s{hi}]}}'
        for m, (f, lo, hi) in enumerate(sp["excl"])
    )
    text = f"""
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
    steps:
{steps}
""" + (f"    exclusions:{excl}\n" if excl else "")
    folder = tmp / name
    folder.mkdir()
    (folder / "defs.yml").write_text(text)
    return ml.load(folder, con=con, timezone=sp["tz"]), name


def _expected(rows: list[tuple[Any, ...]], sp: dict[str, Any]) -> dict[tuple[Any, ...], list[dict]]:
    offset = ZONES[sp["tz"]]
    out = []
    for user, kind, tick, platform in rows:
        t = tick * UNIT
        steps = frozenset(k for k, f in enumerate(sp["steps"], 1) if kind in f)
        excl = frozenset(m for m, (f, _, _) in enumerate(sp["excl"]) if kind in f)
        local = BASE + dt.timedelta(seconds=t + offset)
        out.append(Row(user, t, steps, excl, platform, local.replace(minute=0, second=0)))
    # start/end are wall-clock bounds: in UTC seconds they move by the zone's fixed offset
    start = None if sp["start"] is None else sp["start"] * UNIT - offset
    end = None if sp["end"] is None else sp["end"] * UNIT - offset
    spec = Spec(
        n=len(sp["steps"]),
        window=sp["window"] * UNIT,
        order=sp["order"],
        exclusions=[(lo, hi) for _, lo, hi in sp["excl"]],
        start=start,
        end=end,
        grain=(lambda r: r.period) if sp["grain"] else None,
        by=sp["by"],
    )
    return reference(out, spec)


def _bound(tick: int | None) -> dt.datetime | None:
    return None if tick is None else BASE + dt.timedelta(seconds=tick * UNIT)


def _got(df: pd.DataFrame, sp: dict[str, Any]) -> dict[tuple[Any, ...], list[dict]]:
    keys = (["hour"] if sp["grain"] else []) + (["platform"] if sp["by"] else [])
    out: dict[tuple[Any, ...], list[dict]] = {}
    for r in df.sort_values("step").to_dict("records"):
        key = tuple(_plain(r[k]) for k in keys)
        out.setdefault(key, []).append(
            {
                "entities": int(r["entities"]),
                "median_seconds": _plain(r["median_seconds"]),
                "avg_seconds": _plain(r["avg_seconds"]),
            }
        )
    return out


def _plain(v: Any) -> Any:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    return v


def _same(got: dict, want: dict, sp: dict[str, Any]) -> None:
    if not sp["grain"] and not sp["by"] and () not in want:
        want = {
            (): [{"entities": 0, "median_seconds": None, "avg_seconds": None} for _ in sp["steps"]]
        }
    assert set(got) == set(want), (got, want)
    for key, steps in want.items():
        for g, w in zip(got[key], steps, strict=True):
            assert g["entities"] == w["entities"], (key, got[key], steps)
            for c in ("median_seconds", "avg_seconds"):
                if w[c] is None:
                    assert g[c] is None, (key, c, got[key], steps)
                else:
                    assert g[c] is not None and abs(g[c] - w[c]) < 1e-6, (key, c, got[key], steps)


def _check(tmp: Path, rows: list[tuple[Any, ...]], sp: dict[str, Any]) -> None:
    layer, _ = _layer(tmp, rows, sp)
    want = _expected(rows, sp)
    kw = {
        "by": "platform" if sp["by"] else None,
        "grain": sp["grain"],
        "start": _bound(sp["start"]),
        "end": _bound(sp["end"]),
    }
    plans = [{"strategy": s, "overlap": o} for s in ("asof", "window") for o in ("auto", "assume")]
    if sp["order"] == "any":
        plans = [{"overlap": "auto"}, {"overlap": "assume"}]
    for plan in plans:
        df = funnel(layer, "f", **kw, **plan).to_pandas()
        _same(_got(df, sp), want, sp)


SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(rows=events_st, sp=specs("sequential"))
def test_sequential_matches_reference(tmp_path: Path, rows: list, sp: dict) -> None:
    _check(tmp_path, rows, sp)


@SETTINGS
@given(rows=events_st, sp=specs("strict"))
def test_strict_matches_reference(tmp_path: Path, rows: list, sp: dict) -> None:
    _check(tmp_path, rows, sp)


@SETTINGS
@given(rows=events_st, sp=specs("any"))
def test_any_matches_reference(tmp_path: Path, rows: list, sp: dict) -> None:
    _check(tmp_path, rows, sp)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 2**31 - 1),
    order=st.sampled_from(["sequential", "strict"]),
    overlap=st.booleans(),
)
def test_asof_and_window_plans_agree_on_larger_streams(
    tmp_path: Path, seed: int, order: str, overlap: bool
) -> None:
    """Thousands of events over 50 entities: the two strategies (and both tie plans) agree."""
    import random

    rnd = random.Random(seed)
    rows = [
        (
            rnd.choice([*range(1, 51), None]),
            rnd.choice(TYPES),
            rnd.randint(0, 400),
            rnd.choice([None, "x", "y"]),
        )
        for _ in range(3000)
    ]
    steps = [{"A"}, {"A", "B"} if overlap else {"B"}, {"C"}, {"A"}]
    sp = {
        "order": order,
        "steps": steps,
        "excl": [({"D"}, 2, 4)],
        "window": 60,
        "start": 10,
        "end": 300,
        "by": True,
        "grain": "hour",
        "tz": "UTC",
    }
    layer, _ = _layer(tmp_path, rows, sp)
    kw = {"by": "platform", "grain": "hour", "start": _bound(10), "end": _bound(300)}
    frames = [
        funnel(layer, "f", **kw, strategy=s, overlap=o).to_pandas()
        for s in ("asof", "window")
        for o in ("auto", "assume")
    ]
    for df in frames[1:]:
        pd.testing.assert_frame_equal(df, frames[0])
    _same(_got(frames[0], sp), _expected(rows, sp), sp)


@st.composite
def prunable_specs(draw: Any) -> dict[str, Any]:
    """Disjoint steps in sequential order, no exclusions, no grain: the plan that keeps only
    the last step-1 event before each step-2 event."""
    n = draw(st.integers(2, 4))
    order = draw(st.permutations(TYPES))
    start = draw(st.one_of(st.none(), st.integers(0, 10)))
    end = draw(st.one_of(st.none(), st.integers(3, 20)))
    if start is not None and end is not None and end <= start:
        end = start + 1
    return {
        "order": "sequential",
        "steps": [{t} for t in order[:n]],
        "excl": [],
        "window": draw(st.integers(1, 8)),
        "start": start,
        "end": end,
        "by": draw(st.booleans()),
        "grain": None,
        "tz": draw(st.sampled_from(list(ZONES))),
    }


# step 1 is the most frequent type, so entities repeat it before the later steps; a short
# clock makes ties between steps frequent
repeated_events_st = st.lists(
    st.tuples(
        st.sampled_from([1, 2, None]),
        st.sampled_from(["A", "A", "A", "B", "C", "D"]),
        st.integers(0, 15),
        st.sampled_from([None, "x", "y"]),
    ),
    min_size=0,
    max_size=40,
)


@SETTINGS
@given(rows=repeated_events_st, sp=prunable_specs())
def test_pruned_attempts_match_reference(tmp_path: Path, rows: list, sp: dict) -> None:
    from metrics_layer.analysis.funnel import build_query
    from metrics_layer.analysis.funnel_sequential import prunable

    layer, _ = _layer(tmp_path, rows, sp)
    kw = {
        "by": "platform" if sp["by"] else None,
        "start": _bound(sp["start"]),
        "end": _bound(sp["end"]),
    }
    for s in ("asof", "window"):
        q = build_query(layer, "f", **kw, order=None, window=None, grain=None, strategy=s)
        assert prunable(q)
        df = funnel(layer, "f", **kw, strategy=s).to_pandas()
        _same(_got(df, sp), _expected(rows, sp), sp)
    # counts only: the same entities
    counts = funnel(layer, "f", **kw, times=False).to_pandas()
    assert counts["entities"].tolist() == df["entities"].tolist()
