"""Random orders and tasks, random queries of the join-key distinct count shape: DuckDB
through metrics_layer (which counts them at tasks with a semi-join where it can) vs a plain
pandas reference that joins every order to its task and merges the two sources' aggregates.

Data: task ids unique (the join is many-to-one) with NULL posting times and NULL regions;
orders with duplicate, NULL and dangling task keys and NULL acceptance flags. Queries: any
of the three distinct counts, their ratios and the task count, a grain or none, a breakdown
by a task dimension (plain or computed), a where on the task, start/end bounds.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import metrics_layer as ml
from tests.backends import arrow_to_frame, assert_frames_equal, connect_duckdb

MODEL = Path(__file__).resolve().parent.parent / "fixtures" / "kpi" / "keyin"
EXAMPLES = int(os.environ.get("ML_PROPERTY_EXAMPLES", "0")) or 60
TIMES = [
    pd.Timestamp(s) for s in ("2024-01-31 23:00", "2024-02-01", "2024-02-01 10:00", "2024-03-15")
]
STARTS = [None, dt.datetime(2024, 2, 1), dt.datetime(2024, 2, 1, 5)]
ENDS = [None, dt.datetime(2024, 3, 1), dt.datetime(2024, 2, 1, 10)]
WHERES = {  # the where text and the same test in pandas, on a frame with a `region` column
    None: None,
    "region = 'EU'": lambda f: f["region"].eq("EU").fillna(False).astype(bool),
    "region IS NULL": lambda f: f["region"].isna(),
    "region <> 'US'": lambda f: (f["region"].notna() & f["region"].ne("US")).astype(bool),
}
NUMERATORS = {"filled": "filled", "touched": "touched", "big_filled": "big_filled"}
RATIOS = {"fill_rate": "filled", "touch_rate": "touched", "big_fill_rate": "big_filled"}


@st.composite
def data(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = draw(st.lists(st.integers(1, 8), max_size=7, unique=True))
    tasks = pd.DataFrame(
        {
            "task_id": pd.array(ids, dtype="Int64"),
            "posted_at": pd.to_datetime(
                pd.Series([draw(st.sampled_from([*TIMES, None])) for _ in ids], dtype=object)
            ).astype("datetime64[us]"),
            "region": pd.array(
                [draw(st.sampled_from(["EU", "US", "eu", None])) for _ in ids], dtype="string"
            ),
        }
    )
    keys = st.sampled_from([*ids, 99, None]) if ids else st.sampled_from([99, None])
    n = draw(st.integers(0, 12))
    orders = pd.DataFrame(
        {
            "order_id": pd.array(range(n), dtype="Int64"),
            "task_ref": pd.array([draw(keys) for _ in range(n)], dtype="Int64"),
            "accepted": pd.array([draw(st.sampled_from([0, 1, None])) for _ in range(n)], "Int64"),
            "amount": pd.array([draw(st.integers(0, 20)) for _ in range(n)], dtype="Int64"),
            "placed_at": pd.Series([TIMES[0]] * n, dtype="datetime64[us]"),
        }
    )
    return orders, tasks


@st.composite
def queries(draw: st.DrawFn) -> tuple[list[str], dict[str, Any]]:
    pool = [*RATIOS, *(f"orders.{m}" for m in NUMERATORS), "tasks.posted"]
    metrics = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True))
    kw: dict[str, Any] = {}
    time = draw(st.sampled_from(["none", "grain", "range", "both"]))  # unbounded 1 in 4
    grain = draw(st.sampled_from(["day", "month"])) if time in ("grain", "both") else None
    if grain:
        kw["grain"] = grain
    by = draw(st.sampled_from([None, "tasks.region", "region_lc"]))
    if by:
        kw["by"] = [by]
    where = draw(st.sampled_from(list(WHERES)))
    if where:
        kw["where"] = where
    if time in ("range", "both"):
        kw["start"], kw["end"] = draw(st.sampled_from(STARTS)), draw(st.sampled_from(ENDS))
        kw = {k: v for k, v in kw.items() if v is not None}
    return metrics, kw


def _rows(frame: pd.DataFrame, kw: dict[str, Any]) -> pd.DataFrame:
    """The rows of a frame with task fields that the query keeps, with their group keys."""
    t = frame["posted_at"]
    keep = pd.Series(True, index=frame.index)
    if kw.get("grain"):
        keep &= t.notna()
    if kw.get("start"):
        keep &= (t >= pd.Timestamp(kw["start"])).fillna(False)
    if kw.get("end"):
        keep &= (t < pd.Timestamp(kw["end"])).fillna(False)
    if kw.get("where"):
        keep &= WHERES[kw["where"]](frame)
    out = frame[keep.astype(bool)].copy()
    if kw.get("grain") == "day":
        out["__g"] = out["posted_at"].dt.floor("D")
    elif kw.get("grain") == "month":
        out["__g"] = out["posted_at"].dt.to_period("M").dt.start_time
    if kw.get("by") == ["tasks.region"]:
        out["__b"] = out["region"]
    elif kw.get("by") == ["region_lc"]:
        out["__b"] = out["region"].str.lower()
    return out


def _keys(kw: dict[str, Any]) -> list[str]:
    return (["__g"] if kw.get("grain") else []) + (["__b"] if kw.get("by") else [])


def _aggregate(rows: pd.DataFrame, keys: list[str], values: dict[str, Any]) -> dict[Any, dict]:
    """{group key tuple: {name: value}}; NULL keys form their own group (as in SQL)."""
    if not keys:
        return {(): {name: fn(rows) for name, fn in values.items()}}
    out: dict[Any, dict] = {}
    for key, part in rows.groupby(keys, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        out[tuple(None if pd.isna(k) else k for k in key)] = {n: f(part) for n, f in values.items()}
    return out


def _distinct(flag: Any) -> Any:
    def count(part: pd.DataFrame) -> int:
        mask = flag(part) if flag is not None else pd.Series(True, index=part.index)
        return int(part.loc[mask.astype(bool), "task_ref"].dropna().nunique())

    return count


def reference(
    orders: pd.DataFrame, tasks: pd.DataFrame, metrics: list[str], kw: dict[str, Any]
) -> pd.DataFrame:
    """Each order joined to its task (LEFT), the two sources aggregated apart, then merged."""
    joined = orders.merge(tasks, how="left", left_on="task_ref", right_on="task_id")
    keys = _keys(kw)
    accepted = lambda p: p["accepted"].eq(1).fillna(False)  # noqa: E731
    a = _aggregate(
        _rows(joined, kw),
        keys,
        {
            "filled": _distinct(accepted),
            "touched": _distinct(None),
            "big_filled": _distinct(lambda p: accepted(p) & p["amount"].gt(10).fillna(False)),
        },
    )
    b = _aggregate(_rows(tasks, kw), keys, {"posted": len})
    uses_a = any(m in RATIOS or m.startswith("orders.") for m in metrics)
    uses_b = any(m in RATIOS or m == "tasks.posted" for m in metrics)
    groups = list(dict.fromkeys([*(a if uses_a else []), *(b if uses_b else [])]))
    names = {"grain": kw.get("grain"), "by": kw.get("by", [""])[0].split(".")[-1]}
    columns = ([names["grain"]] if kw.get("grain") else []) + (
        [names["by"]] if kw.get("by") else []
    )
    rows = []
    for g in groups:
        va, vb = a.get(g, {}), b.get(g, {})
        row = list(g)
        for m in metrics:
            if m in RATIOS:
                num, den = va.get(RATIOS[m]), vb.get("posted")
                row.append(None if num is None or not den else num / den)
            elif m == "tasks.posted":
                row.append(vb.get("posted"))
            else:
                row.append(va.get(m.split(".")[1]))
        rows.append(tuple(row))
    out_names = [m.split(".")[-1] for m in metrics]
    return pd.DataFrame(rows, columns=columns + out_names)


def moved(metrics: list[str], kw: dict[str, Any]) -> bool:
    """Whether the planner must count at tasks: a bounded or bucketed time, and a task
    measure in the query beside a distinct count of orders."""
    bounded = bool(kw.get("grain") or kw.get("start") or kw.get("end"))
    has_b = any(m in RATIOS or m == "tasks.posted" for m in metrics)
    has_a = any(m in RATIOS or m.startswith("orders.") for m in metrics)
    return bounded and has_a and has_b


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data(), queries())
def test_key_in_matches_the_joined_reference(
    tables: tuple[pd.DataFrame, pd.DataFrame], query: tuple[list[str], dict[str, Any]]
) -> None:
    orders, tasks = tables
    metrics, kw = query
    con = connect_duckdb()
    con.create_table("orders", orders)
    con.create_table("tasks", tasks)
    layer = ml.load(MODEL, con=con, vars={"t": {"orders": "orders", "tasks": "tasks"}})
    res = layer.query(metrics, **kw)
    plan = res.explain()
    note(plan)
    assert ("semi-join" in plan) == moved(metrics, kw), plan
    expected = reference(orders, tasks, metrics, kw)
    got = arrow_to_frame(res.to_pyarrow())
    note(f"expected:\n{expected}\ngot:\n{got}")
    assert list(got.columns) == list(expected.columns)
    keys = list(expected.columns[: len(_keys(kw))])
    if not keys:
        assert len(got) == len(expected) == 1
    assert_frames_equal(got, expected, sort_by=keys or None)
