"""Random data and random parameters: modeling features on DuckDB vs tests/property/modeling_reference.py.

Covered: rolling / grain-to-date / all-time distinct counts (random window, grain and bounds),
period offsets (random offset units at day, week and month grain), semi-additive first/last
snapshots (random grain, with and without a breakdown) and zero/NULL fills (random grain,
dimensions and bounds). Each example replaces the one table `ev`; the definitions
(tests/fixtures/modeling/property/defs.yml) hold one metric per random parameter.

Runs in well under a minute; ML_PROPERTY_EXAMPLES=<n> hunts longer.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import metrics_layer as ml
from tests.backends import assert_frames_equal, connect_duckdb
from tests.property import modeling_reference as ref

DEFS = Path(__file__).resolve().parent.parent / "fixtures" / "modeling" / "property" / "defs.yml"
EXAMPLES = int(os.environ.get("ML_PROPERTY_EXAMPLES", "0")) or 30
BASE = pd.Timestamp("2024-01-01")
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def env() -> dict[str, Any]:
    con = connect_duckdb()
    con.create_table("ev", frame([]))
    return {"con": con, "layer": ml.load(DEFS, con=con)}


def frame(rows: list[tuple[int, int, str, str, int]]) -> pd.DataFrame:
    """(minutes after BASE, user, kind, branch, amount) -> the `ev` table."""
    ts = [BASE + pd.Timedelta(minutes=m) for m, *_ in rows]
    return pd.DataFrame(
        {
            "ts": pd.Series(ts, dtype="datetime64[us]"),
            "user_id": pd.Series([r[1] for r in rows], dtype="int64"),
            "kind": pd.Series([r[2] for r in rows], dtype="str"),
            "branch": pd.Series([r[3] for r in rows], dtype="str"),
            "amount": pd.Series([r[4] for r in rows], dtype="int64"),
        }
    )


def load(env: dict[str, Any], rows: list[tuple]) -> pd.DataFrame:
    df = frame(rows)
    env["con"].create_table("ev", df, overwrite=True)
    return df


def query(env: dict[str, Any], metrics: list[str], **kwargs: Any) -> pd.DataFrame:
    res = env["layer"].query(metrics, **kwargs)
    got = res.to_pandas()
    note(f"query {metrics} {kwargs}\n{got}")
    return got


def as_dict(got: pd.DataFrame, key: str, value: str) -> dict:
    got = got[got[value].notna()]
    return {pd.Timestamp(k): float(v) for k, v in zip(got[key], got[value], strict=True)}


DAY = 24 * 60


def rows_strategy(days: int, min_size: int = 0, max_size: int = 40, ties: bool = False) -> Any:
    # any minute, or exactly a midnight / the minute before one (period and window edges)
    minute = st.one_of(
        st.integers(0, days * DAY - 1),
        st.integers(0, days - 1).map(lambda d: d * DAY),
        st.integers(1, days - 1).map(lambda d: d * DAY - 1),
    )
    if ties:  # few distinct instants, so first/last snapshots tie
        minute = st.sampled_from([0, 1, DAY - 1, DAY, 10 * DAY, 31 * DAY - 1, 31 * DAY, 45 * DAY])
    row = st.tuples(
        minute,
        st.integers(1, 12),
        st.sampled_from(["a", "b"]),
        st.sampled_from(["x", "y"]),
        st.integers(0, 50),
    )
    return st.lists(row, min_size=min_size, max_size=max_size)


def bound(days: int) -> Any:
    """None or a bound within (or just outside) the data, sometimes mid-period."""
    return st.one_of(
        st.none(),
        st.integers(-3, days + 3).flatmap(
            lambda d: st.sampled_from([0, 13 * 60]).map(
                lambda h: BASE + pd.Timedelta(days=d, minutes=h)
            )
        ),
    )


def month_edge(days: int) -> Any:
    """None, or the first / last days of a month in the data (where month offsets clamp)."""
    firsts = [BASE + pd.DateOffset(months=k) for k in range(days // 30 + 1)]
    edges = firsts + [f - pd.Timedelta(days=d) for f in firsts[1:] for d in (1, 2)]
    return st.one_of(st.sampled_from(edges), bound(days), st.none())


def ordered(start: pd.Timestamp | None, end: pd.Timestamp | None) -> tuple:
    if start is not None and end is not None:
        if end == start:
            return start, None
        return min(start, end), max(start, end)
    return start, end


# ----------------------------------------------------------------------------- cumulative

WINDOWS = (
    [(n, "day") for n in range(1, 13)]
    + [(n, "week") for n in range(1, 6)]
    + [(n, "month") for n in range(1, 4)]
)


@SETTINGS
@given(data=st.data(), rows=rows_strategy(120, min_size=1))
def test_rolling_distinct_counts_match_the_reference(
    env: dict, data: st.DataObject, rows: list
) -> None:
    grain = data.draw(st.sampled_from(["day", "week", "month"]), "grain")
    kind = data.draw(st.sampled_from(["window", "to_date", "all"]), "kind")
    start, end = ordered(data.draw(bound(120), "start"), data.draw(bound(120), "end"))
    df = load(env, rows)
    if kind == "window":
        n, unit = data.draw(st.sampled_from(WINDOWS), "window")
        metric, kw = f"users_{n}_{unit}", {"window": ref.duration(n, unit)}
    elif kind == "to_date":
        order = ["day", "week", "month", "quarter", "year"]
        coarser = [g for g in order[1:] if order.index(g) >= order.index(grain)]
        to_date = data.draw(st.sampled_from(coarser), "to_date")
        metric, kw = f"users_{to_date}_to_date", {"to_date": to_date}
    else:
        metric, kw = "users_all", {}
    got = query(env, [metric], grain=grain, start=start, end=end)
    expected = ref.cumulative_distinct(df, "user_id", grain, start=start, end=end, **kw)
    assert as_dict(got, grain, metric) == {k: float(v) for k, v in expected.items()}


# ----------------------------------------------------------------------------- offsets

OFFSETS = {
    "day": [(n, "day") for n in range(1, 41)]
    + [(n, "week") for n in range(1, 7)]
    + [(n, "month") for n in range(1, 15)]
    + [(n, "quarter") for n in range(1, 5)]
    + [(n, "year") for n in range(1, 3)],
    "week": [(n, "week") for n in range(1, 7)]
    + [(n, "day") for n in (7, 14, 21, 28, 35)]
    + [(n, "month") for n in range(1, 15)]
    + [(n, "year") for n in range(1, 3)],
    "month": [(n, "month") for n in range(1, 15)]
    + [(n, "quarter") for n in range(1, 5)]
    + [(n, "year") for n in range(1, 3)],
}


@SETTINGS
@given(data=st.data(), rows=rows_strategy(500, min_size=10, max_size=80))
def test_offsets_match_the_reference(env: dict, data: st.DataObject, rows: list) -> None:
    grain = data.draw(st.sampled_from(["day", "week", "month"]), "grain")
    n, unit = data.draw(st.sampled_from(OFFSETS[grain]), "offset")
    start, end = ordered(data.draw(month_edge(500), "start"), data.draw(month_edge(500), "end"))
    df = load(env, rows)
    metric = f"amount_{n}_{unit}_ago"
    got = query(env, [metric], grain=grain, start=start, end=end)
    expected = ref.offset_sums(df, "amount", grain, ref.duration(n, unit), start=start, end=end)
    assert as_dict(got, grain, metric) == expected


@pytest.mark.parametrize(
    ("day", "offset", "expected"),
    [
        ("2024-03-31", (1, "month"), "2024-02-29"),
        ("2023-03-31", (1, "month"), "2023-02-28"),
        ("2024-02-29", (1, "year"), "2023-02-28"),
        ("2025-02-28", (1, "year"), "2024-02-28"),
        ("2024-05-31", (1, "quarter"), "2024-02-29"),
    ],
)
def test_reference_month_arithmetic(day: str, offset: tuple[int, str], expected: str) -> None:
    """The reference's calendar arithmetic itself (the SQL engines clamp the same way)."""
    assert pd.Timestamp(day) - ref.duration(*offset) == pd.Timestamp(expected)


# ----------------------------------------------------------------------------- semi-additive


@SETTINGS
@given(data=st.data(), rows=rows_strategy(60, ties=True, max_size=25))
def test_semi_additive_snapshots_match_the_reference(
    env: dict, data: st.DataObject, rows: list
) -> None:
    grain = data.draw(st.sampled_from([None, "day", "week", "month"]), "grain")
    metric, window, groupings = data.draw(
        st.sampled_from(
            [
                ("balance", "last", ["user_id"]),
                ("opening", "first", ["user_id"]),
                ("last_rows", "last", []),
            ]
        ),
        "measure",
    )
    by = data.draw(st.sampled_from([[], ["branch"]]), "by")
    start, end = ordered(data.draw(bound(60), "start"), data.draw(bound(60), "end"))
    df = load(env, rows)
    got = query(env, [f"ev.{metric}"], grain=grain, by=by, start=start, end=end)
    expected = ref.snapshot_sums(
        df, "amount", grain, window, groupings, by=by, start=start, end=end
    )
    keys = ([grain] if grain else []) + by
    got = got[got[metric].notna()]
    if not keys:
        assert len(got) <= 1
        actual = {(0,): float(got[metric].iloc[0])} if len(got) else {}
    else:
        actual = {}
        for rec in got.itertuples(index=False):
            key = tuple(
                pd.Timestamp(getattr(rec, k)) if k == grain else getattr(rec, k) for k in keys
            )
            actual[key if grain else (0, *key)] = float(getattr(rec, metric))
    assert actual == expected


# ----------------------------------------------------------------------------- fill


@SETTINGS
@given(data=st.data(), rows=rows_strategy(75, max_size=25))
def test_fills_match_the_reference(env: dict, data: st.DataObject, rows: list) -> None:
    grain = data.draw(st.sampled_from(["day", "week", "month"]), "grain")
    dims = data.draw(st.sampled_from([[], ["kind"], ["kind", "branch"]]), "by")
    fill = data.draw(st.sampled_from(["zero", "null"]), "fill")
    start, end = ordered(data.draw(bound(75), "start"), data.draw(bound(75), "end"))
    df = load(env, rows)
    got = query(
        env,
        ["ev.n", "ev.users", "amount", "ev.avg_amount"],
        grain=grain,
        by=dims,
        start=start,
        end=end,
        fill=fill,
    )
    expected = ref.filled(
        df, grain, dims, entity="user_id", value="amount", start=start, end=end, fill=fill
    )
    assert_frames_equal(got, expected, sort_by=[grain, *dims])
