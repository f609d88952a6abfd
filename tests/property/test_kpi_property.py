"""Random tables and random KPI queries: DuckDB through metrics_layer vs the pandas reference.

Data: a fact table f (NULL keys, keys missing from the dimension, duplicate keys, NULL values,
NULL times, timestamps over ~4 months including period and DST boundaries) and a second fact
table g, both joined many-to-one to the dimension table d. Queries: a random subset of metrics
(sums, counts, distinct counts, avg, max, median, percentile, filtered measures, ratios within
and across sources, a derived difference), random `by` from the dimension (and f's own column
when only f is asked), a random grain or none, a random `where` from a small grammar with
NULL-sensitive operators, random start/end and a random layer timezone.

The whole file runs in well under a minute on two cores; raise the example counts with
ML_PROPERTY_EXAMPLES=<n> for a longer hunt.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import metrics_layer as ml
from tests.backends import Backend, arrow_to_frame, assert_frames_equal, connect_duckdb
from tests.property.pandas_reference import (
    And,
    Between,
    Cmp,
    Difference,
    Fact,
    InList,
    IsNull,
    Measure,
    Model,
    Not,
    Or,
    Pred,
    Ratio,
    reference_query,
)

MODEL_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "kpi" / "property"
EXAMPLES = int(os.environ.get("ML_PROPERTY_EXAMPLES", "0")) or None

CATS = ["a", "b", "c"]
GRAINS = ["hour", "day", "week", "month", "quarter", "year"]
TIMEZONES = ["UTC", "America/New_York", "Asia/Kolkata"]
BASE = pd.Timestamp("2024-01-20")
# instants at or next to period boundaries in UTC, New York (UTC-5/-4) and Kolkata (UTC+5:30)
BOUNDARIES = [
    pd.Timestamp(s)
    for s in (
        "2024-02-01 00:00:00",
        "2024-01-31 23:59:59",
        "2024-02-01 05:00:00",
        "2024-02-01 04:59:59",
        "2024-03-10 06:59:59",
        "2024-03-10 07:00:00",  # New York's DST jump
        "2024-03-03 23:59:59",
        "2024-03-04 00:00:00",  # Sunday night / Monday (ISO week)
        "2024-03-31 18:29:59",
        "2024-03-31 18:30:00",  # midnight in Kolkata
        "2024-03-31 23:59:59",
        "2024-04-01 00:00:00",
        "2024-04-01 04:00:00",
    )
]
BOUNDS = [
    None,
    None,
    None,
    None,
    dt.datetime(2024, 2, 1),
    dt.datetime(2024, 3, 4),
    dt.datetime(2024, 3, 10, 3),
    dt.datetime(2024, 4, 1),
    dt.datetime(2024, 2, 15, 12, 30),
    dt.datetime(2024, 5, 1),
]

F_METRICS = [
    "f_rows",
    "f_v_sum",
    "f_v_count",
    "f_users",
    "f_v_avg",
    "f_v_max",
    "f_v_median",
    "f_v_p25",
    "f_big",
    "f_cat_a_users",
    "vw_ratio",
    "users_ratio",
]
G_METRICS = ["g_rows", "g_amount", "g_users", "cross_ratio", "v_minus_amount"]

MEASURES = {
    "f_rows": Measure("f", "count"),
    "f_v_sum": Measure("f", "sum", "v"),
    "f_v_count": Measure("f", "count", "v"),
    "f_users": Measure("f", "count_distinct", "u"),
    "f_v_avg": Measure("f", "avg", "v"),
    "f_v_max": Measure("f", "max", "v"),
    "f_v_median": Measure("f", "median", "v"),
    "f_v_p25": Measure("f", "percentile", "v", p=0.25),
    "f_w_sum": Measure("f", "sum", "w"),
    "f_big": Measure("f", "count", filter=Cmp("v", ">", 5)),
    "f_cat_a_users": Measure("f", "count_distinct", "u", filter=Cmp("d.cat", "=", "a")),
    "g_rows": Measure("g", "count"),
    "g_amount": Measure("g", "sum", "amount"),
    "g_users": Measure("g", "count_distinct", "u"),
}
METRICS = {
    "vw_ratio": Ratio("f_v_sum", "f_w_sum"),
    "cross_ratio": Ratio("g_amount", "f_rows"),
    "users_ratio": Ratio("f_cat_a_users", "f_users"),
    "v_minus_amount": Difference("f_v_sum", "g_amount"),
}
SCHEMAS = {
    "f": {
        "id": "int64",
        "k": "int64",
        "ts": "timestamp",
        "kind": "string",
        "v": "int64",
        "w": "int64",
        "u": "int64",
    },
    "g": {"id": "int64", "k": "int64", "ts": "timestamp", "amount": "int64", "u": "int64"},
    "d": {"key": "int64", "cat": "string", "grp": "int64"},
}


# --------------------------------------------------------------------------- strategies


def nullable(values: list[Any]) -> st.SearchStrategy:
    """One of `values` or NULL (about one time in five), in a single cheap draw."""
    return st.sampled_from([None] * max(1, len(values) // 4) + values)


SPREAD = 110 * 86400


def timestamp_of(n: int) -> pd.Timestamp | None:
    """-1, -2: NULL; other negatives: a boundary instant; else seconds after BASE."""
    if n in (-1, -2):
        return None
    if n < 0:
        return BOUNDARIES[(-n - 3) % len(BOUNDARIES)]
    return BASE + pd.Timedelta(seconds=n)


def timestamps() -> st.SearchStrategy:
    return st.one_of(
        st.integers(-2 - 2 * len(BOUNDARIES), -1), st.integers(0, SPREAD), st.integers(0, SPREAD)
    )


def column(values: list[Any], dtype: str) -> pd.Series:
    if dtype == "timestamp":
        return pd.Series(
            pd.to_datetime([pd.NaT if v is None else v for v in values]), dtype="datetime64[us]"
        )
    if dtype == "int64":
        return pd.Series(values, dtype="Int64")
    return pd.Series(values, dtype=object)


def table(rows: list[tuple[Any, ...]], schema: dict[str, str]) -> pd.DataFrame:
    cols = list(schema)
    return pd.DataFrame({c: column([r[i] for r in rows], schema[c]) for i, c in enumerate(cols)})


FACT_KEY = nullable(list(range(8)))  # 6 and 7 are never in d


@st.composite
def datasets(draw: st.DrawFn) -> dict[str, pd.DataFrame]:
    keys = draw(st.permutations(range(6)))[: draw(st.integers(0, 6))]
    d_rows = [(k, *draw(st.tuples(nullable(CATS), nullable([1, 2, 3])))) for k in keys]
    f_rows = draw(
        st.lists(
            st.tuples(
                FACT_KEY,
                timestamps(),
                nullable(["x", "y"]),
                nullable(list(range(-3, 11))),
                nullable(list(range(5))),
                nullable(list(range(6))),
            ),
            min_size=3,
            max_size=20,
        )
    )
    g_rows = draw(
        st.lists(
            st.tuples(
                FACT_KEY, timestamps(), nullable(list(range(-5, 21))), nullable(list(range(6)))
            ),
            min_size=1,
            max_size=12,
        )
    )
    f_rows = [(i, k, timestamp_of(t), *rest) for i, (k, t, *rest) in enumerate(f_rows)]
    g_rows = [(i, k, timestamp_of(t), *rest) for i, (k, t, *rest) in enumerate(g_rows)]
    return {
        "f": table(f_rows, SCHEMAS["f"]),
        "g": table(g_rows, SCHEMAS["g"]),
        "d": table(d_rows, SCHEMAS["d"]),
    }


def predicates(with_kind: bool) -> st.SearchStrategy:
    leaves = [
        st.builds(Cmp, st.just("d.cat"), st.sampled_from(["=", "<>"]), st.sampled_from(CATS)),
        st.builds(
            Cmp,
            st.just("d.grp"),
            st.sampled_from(["=", "<>", "<", "<=", ">", ">="]),
            st.integers(1, 3),
        ),
        st.builds(IsNull, st.sampled_from(["d.cat", "d.grp"]), st.booleans()),
        st.builds(
            InList,
            st.just("d.cat"),
            st.sampled_from([("a",), ("a", "c"), ("b", "c")]),
            st.booleans(),
        ),
        st.builds(InList, st.just("d.grp"), st.sampled_from([(1,), (1, 3)]), st.booleans()),
        st.builds(Between, st.just("d.grp"), st.just(1), st.integers(1, 3)),
    ]
    if with_kind:
        leaves += [
            st.builds(
                Cmp, st.just("kind"), st.sampled_from(["=", "<>"]), st.sampled_from(["x", "y"])
            ),
            st.builds(IsNull, st.just("kind"), st.booleans()),
        ]
    return st.recursive(
        st.one_of(leaves),
        lambda inner: st.one_of(
            st.builds(Not, inner), st.builds(And, inner, inner), st.builds(Or, inner, inner)
        ),
        max_leaves=4,
    )


def subset(draw: st.DrawFn, items: list[str], low: int, high: int) -> list[str]:
    """Each item in or out with even odds (shrinks towards fewer), then low..high of them."""
    chosen = [x for x in items if draw(st.booleans())]
    if len(chosen) < low:
        chosen += [x for x in items if x not in chosen][: low - len(chosen)]
    return draw(st.permutations(chosen))[:high]


@st.composite
def queries(draw: st.DrawFn) -> dict[str, Any]:
    metrics = subset(draw, F_METRICS + G_METRICS, 1, 4)
    only_f = not any(m in G_METRICS for m in metrics)
    dims = ["d.cat", "d.grp"] + (["kind"] if only_f else [])
    by = subset(draw, dims, 0, 2)
    grain = draw(st.sampled_from([None, None, *GRAINS]))
    where = draw(st.one_of(st.none(), predicates(only_f)))
    start, end = draw(st.sampled_from(BOUNDS)), draw(st.sampled_from(BOUNDS))
    if start is not None and end is not None and end <= start:
        start, end = (end, start) if end < start else (start, None)
    tz = draw(st.sampled_from(TIMEZONES))
    return {
        "metrics": metrics,
        "by": by,
        "grain": grain,
        "where": where,
        "start": start,
        "end": end,
        "tz": tz,
    }


# --------------------------------------------------------------------------- running both sides


def run_layer(frames: dict[str, pd.DataFrame], q: dict[str, Any]) -> pd.DataFrame:
    backend = Backend("duckdb", connect_duckdb())
    names = {k: f"{k}_{backend.unique_name('p')}" for k in frames}
    backend.load(
        {names[k]: v for k, v in frames.items()}, schemas={names[k]: SCHEMAS[k] for k in frames}
    )
    layer = ml.load(MODEL_DIR, con=backend.con, vars={"t": names}, timezone=q["tz"])
    where: Pred | None = q["where"]
    res = layer.query(
        q["metrics"],
        by=q["by"],
        grain=q["grain"],
        where=None if where is None else where.sql(),
        start=q["start"],
        end=q["end"],
    )
    note(f"where: {None if where is None else where.sql()}")
    note(res.explain())
    try:
        table = backend.to_arrow(res.expr)
    finally:
        backend.con.disconnect()
    for name, col in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_floating(col.type):  # the harness's frames would read NaN as NULL
            values = [v for v in col.to_pylist() if v is not None]
            assert all(math.isfinite(v) for v in values), f"NaN or infinity in {name}: {values}"
    return arrow_to_frame(table)


def run_reference(frames: dict[str, pd.DataFrame], q: dict[str, Any]) -> pd.DataFrame:
    model = Model(
        facts={"f": Fact(frames["f"], "ts", "k"), "g": Fact(frames["g"], "ts", "k")},
        dimension=frames["d"],
        dimension_key="key",
        prefix="d",
        measures=MEASURES,
        metrics=METRICS,
    )
    return reference_query(
        model, q["metrics"], q["by"], q["grain"], q["where"], q["start"], q["end"], q["tz"]
    )


def compare(got: pd.DataFrame, expected: pd.DataFrame, q: dict[str, Any]) -> None:
    note(f"query: {q}")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        note(f"metrics_layer:\n{got}\nreference:\n{expected}")
    keys = ([q["grain"]] if q["grain"] else []) + [b.rsplit(".", 1)[-1] for b in q["by"]]
    assert list(got.columns) == list(expected.columns)
    assert_frames_equal(got, expected, sort_by=keys or None, rtol=1e-9, atol=1e-9)


SETTINGS = {
    "deadline": None,
    "derandomize": False,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}


@settings(max_examples=EXAMPLES or 90, **SETTINGS)
@given(frames=datasets(), q=queries())
def test_random_queries_match_the_pandas_reference(
    frames: dict[str, pd.DataFrame], q: dict[str, Any]
) -> None:
    compare(run_layer(frames, q), run_reference(frames, q), q)


@settings(max_examples=EXAMPLES or 30, **SETTINGS)
@given(
    frames=datasets(),
    grain=st.sampled_from(GRAINS),
    tz=st.sampled_from(TIMEZONES),
    by=st.lists(st.sampled_from(["d.cat", "d.grp"]), unique=True, max_size=2),
)
def test_two_sources_with_a_grain_merge_null_safely(
    frames: dict[str, pd.DataFrame], grain: str, tz: str, by: list[str]
) -> None:
    """Every group of either source appears once, with NULL for the other source's measures."""
    q = {
        "metrics": ["f_rows", "f_users", "g_rows", "g_amount", "cross_ratio"],
        "by": by,
        "grain": grain,
        "where": None,
        "start": None,
        "end": None,
        "tz": tz,
    }
    got = run_layer(frames, q)
    keys = [grain] + [b.rsplit(".", 1)[-1] for b in by]
    assert not got.duplicated(subset=keys).any()
    compare(got, run_reference(frames, q), q)


@settings(max_examples=EXAMPLES or 30, **SETTINGS)
@given(
    frames=datasets(),
    tz=st.sampled_from(TIMEZONES),
    grain=st.sampled_from([None, *GRAINS]),
    picks=st.tuples(st.integers(0, 30), st.integers(0, 30)),
)
def test_bounds_on_the_exact_times_of_rows(
    frames: dict[str, pd.DataFrame], tz: str, grain: str | None, picks: tuple[int, int]
) -> None:
    """start and end equal to rows' own local times: the start row is in, the end row out."""
    local = (
        frames["f"]["ts"]
        .dt.tz_localize("UTC")
        .dt.tz_convert(tz)
        .dt.tz_localize(None)
        .dropna()
        .sort_values()
        .tolist()
    )
    if not local:
        return
    start = local[picks[0] % len(local)].to_pydatetime()
    later = [t for t in local if t > start]
    end = later[picks[1] % len(later)].to_pydatetime() if later else None
    q = {
        "metrics": ["f_rows", "f_users", "g_rows"],
        "by": [],
        "grain": grain,
        "where": None,
        "start": start,
        "end": end,
        "tz": tz,
    }
    compare(run_layer(frames, q), run_reference(frames, q), q)


def test_reference_three_valued_logic() -> None:
    """The reference itself: NULL in a comparison is unknown, and NOT unknown is unknown."""
    row = {"x": None, "y": 2}
    assert Cmp("x", "=", 1).truth(row) is None
    assert Not(Cmp("x", "=", 1)).truth(row) is None
    assert Or(Cmp("x", "=", 1), Cmp("y", "=", 2)).truth(row) is True
    assert And(Cmp("x", "=", 1), Cmp("y", "=", 3)).truth(row) is False
    assert InList("x", (1,), negated=True).truth(row) is None
    assert IsNull("x").truth(row) is True
