"""offset_to_grain on offset metrics: hand-built boundary cases and a property against a
plain-Python reference computed from the raw rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metrics_layer as ml
from metrics_layer.errors import DefinitionError, QueryError

START = dt.datetime(2024, 1, 1)  # a Monday
MONTHS = {"month": 1, "quarter": 3, "year": 12}


def _layer(rows: list[tuple[dt.datetime, str | None, float]], to_grain: str) -> ml.Layer:
    con = ibis.duckdb.connect()
    df = pd.DataFrame(
        {
            "ts": [t for t, _, _ in rows],
            "team": pd.Series([k for _, k, _ in rows], dtype="string"),
            "v": [v for *_, v in rows],
        }
    )
    con.create_table("ev", df, schema={"ts": "timestamp", "team": "string", "v": "float64"})
    return ml.load(
        {
            "sources": {
                "ev": {
                    "time": "ts",
                    "dimensions": {"team": {}},
                    "measures": {"v": {"agg": "sum", "expr": "v"}},
                }
            },
            "metrics": {
                "v": {"measure": "ev.v"},
                "v_start": {"type": "offset", "metric": "v", "offset_to_grain": to_grain},
                "v_growth": {"type": "derived", "expr": "v - v_start"},
            },
        },
        con=con,
    )


# ------------------------------------------------------------------ the reference
def floor(moment: dt.datetime, grain: str) -> dt.datetime:
    day = dt.datetime(moment.year, moment.month, moment.day)
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    month = {"month": moment.month, "quarter": 3 * ((moment.month - 1) // 3) + 1, "year": 1}
    return dt.datetime(moment.year, month[grain], 1)


def step(moment: dt.datetime, grain: str) -> dt.datetime:
    if grain == "day":
        return moment + dt.timedelta(days=1)
    if grain == "week":
        return moment + dt.timedelta(days=7)
    total = moment.year * 12 + moment.month - 1 + MONTHS[grain]
    return dt.datetime(total // 12, total % 12 + 1, 1)


def whole(outer: str, inner: str) -> bool:
    if inner == "day" or outer == inner:
        return True
    return inner in MONTHS and outer in MONTHS and MONTHS[outer] % MONTHS[inner] == 0


def reference(
    rows: list[tuple[dt.datetime, str | None, float]],
    grain: str,
    to_grain: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
    by_team: bool,
) -> dict[tuple[Any, ...], float]:
    """{(period, [team]): value} for every output period whose start-of-grain period has rows
    (before `end`: rows at or after it are not read, as for any metric; before `start` they are)."""
    lo = floor(start, grain) if start else floor(min(t for t, _, _ in rows), grain)
    hi = end if end else step(floor(max(t for t, _, _ in rows), grain), grain)
    read = grain if whole(to_grain, grain) else "day"
    out: dict[tuple[Any, ...], float] = {}
    p = lo
    while p < hi:
        first = floor(p, to_grain)
        last = step(first, read)
        for t, team, v in rows:
            if first <= t < last and (end is None or t < end):  # `end` cuts the rows read
                key = (p, team) if by_team else (p,)
                out[key] = out.get(key, 0.0) + v
        p = step(p, grain)
    return out


def ours(layer: ml.Layer, grain: str, by_team: bool, **bounds: Any) -> dict[tuple[Any, ...], float]:
    df = layer.query(["v_start"], grain=grain, by=["team"] if by_team else [], **bounds)
    out = {}
    for row in df.to_pandas().itertuples(index=False):
        period = pd.Timestamp(row[0]).to_pydatetime()
        team = None if by_team and pd.isna(row[1]) else (row[1] if by_team else None)
        value = row[-1]
        if value is None or pd.isna(value):
            continue
        out[(period, team) if by_team else (period,)] = float(value)
    return out


def same(a: dict[tuple[Any, ...], float], b: dict[tuple[Any, ...], float]) -> bool:
    return a.keys() == b.keys() and all(abs(a[k] - b[k]) < 1e-6 for k in a)


# ------------------------------------------------------------------ hand-built cases
def _at(day: str, hour: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(day) + dt.timedelta(hours=hour)


def test_day_grain_reads_the_first_day_of_the_month() -> None:
    rows = [
        (_at("2024-01-01", 3), "a", 2.0),
        (_at("2024-01-01", 20), "b", 3.0),
        (_at("2024-01-31"), "a", 7.0),
        (_at("2024-02-02"), "a", 1.0),  # February 1 has no rows: February reads NULL
        (_at("2024-03-01"), "a", 4.0),
        (_at("2024-03-31"), "a", 9.0),
    ]
    layer = _layer(rows, "month")
    df = layer.query(["v", "v_start", "v_growth"], grain="day").to_pandas().set_index("day")
    assert df.loc["2024-01-31", "v_start"] == 5.0
    assert df.loc["2024-01-31", "v_growth"] == 2.0
    assert pd.isna(df.loc["2024-02-02", "v_start"])
    assert df.loc["2024-03-31", "v_start"] == 4.0
    assert df.loc["2024-03-31", "v_growth"] == 5.0
    # days without rows of their own still read the month's first day
    got = ours(layer, "day", False, start="2024-01-02", end="2024-01-05")
    assert got == {(_at(d),): 5.0 for d in ("2024-01-02", "2024-01-03", "2024-01-04")}


def test_week_grain_reads_the_day_of_the_weeks_monday_month() -> None:
    # 2024-09-01 is a Sunday: the week of Monday 2024-08-26 reads August 1, not September 1
    rows = [(_at("2024-08-01"), "a", 6.0), (_at("2024-09-01"), "a", 8.0)]
    layer = _layer(rows, "month")
    got = ours(layer, "week", False, start="2024-08-26", end="2024-09-09")
    assert got == {(_at("2024-08-26"),): 6.0, (_at("2024-09-02"),): 8.0}


def test_month_grain_reads_the_first_month_of_the_quarter() -> None:
    rows = [
        (_at("2024-01-01"), "a", 1.0),
        (_at("2024-01-20"), "a", 2.0),
        (_at("2024-02-10"), "a", 5.0),
        (_at("2024-04-15"), "b", 7.0),
    ]
    layer = _layer(rows, "quarter")
    got = ours(layer, "month", False, start="2024-02-01", end="2024-06-01")
    # February and March read January's whole month; April and May read April's
    assert got == {
        (_at("2024-02-01"),): 3.0,
        (_at("2024-03-01"),): 3.0,
        (_at("2024-04-01"),): 7.0,
        (_at("2024-05-01"),): 7.0,
    }


def test_at_its_own_grain_the_period_is_its_own_start() -> None:
    rows = [(_at("2024-01-01"), "a", 1.0), (_at("2024-01-20"), "a", 2.0)]
    layer = _layer(rows, "month")
    assert ours(layer, "month", False) == {(_at("2024-01-01"),): 3.0}


def test_quarter_grain_with_a_month_to_grain_reads_the_first_day() -> None:
    rows = [(_at("2024-01-01"), "a", 1.0), (_at("2024-01-20"), "a", 2.0)]
    layer = _layer(rows, "month")
    assert ours(layer, "quarter", False) == {(_at("2024-01-01"),): 1.0}


def test_bounds_start_mid_period_read_back_before_start() -> None:
    rows = [(_at("2024-03-01"), "a", 4.0), (_at("2024-03-20"), "a", 1.0)]
    layer = _layer(rows, "month")
    got = ours(layer, "day", False, start="2024-03-20", end="2024-03-22")
    assert got == {(_at("2024-03-20"),): 4.0, (_at("2024-03-21"),): 4.0}


def test_errors() -> None:
    layer = _layer([(_at("2024-01-01"), "a", 1.0)], "month")
    with pytest.raises(QueryError, match="needs a grain"):
        layer.query(["v_start"])
    with pytest.raises(DefinitionError, match="not both"):
        ml.load(
            {
                "sources": {"ev": {"time": "ts", "measures": {"v": {"agg": "sum", "expr": "v"}}}},
                "metrics": {
                    "v": {"measure": "ev.v"},
                    "x": {"metric": "v", "offset": "1 month", "offset_to_grain": "month"},
                },
            }
        )
    with pytest.raises(DefinitionError, match="offset_to_grain"):
        ml.load(
            {
                "sources": {"ev": {"time": "ts", "measures": {"v": {"agg": "sum", "expr": "v"}}}},
                "metrics": {
                    "v": {"measure": "ev.v"},
                    "x": {"metric": "v", "offset_to_grain": "fortnight"},
                },
            }
        )


def test_explain_says_what_it_reads() -> None:
    layer = _layer([(_at("2024-01-01"), "a", 1.0)], "quarter")
    text = layer.query(["v_start"], grain="month").explain()
    assert "start of the quarter" in text


# ------------------------------------------------------------------ property
rows_strategy = st.lists(
    st.tuples(
        st.integers(0, 400),
        st.integers(0, 23),
        st.sampled_from(["a", "b", None]),
        st.integers(-20, 50).map(float),
    ),
    min_size=1,
    max_size=40,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    raw=rows_strategy,
    grain=st.sampled_from(["day", "week", "month", "quarter"]),
    to_grain=st.sampled_from(["day", "week", "month", "quarter", "year"]),
    by_team=st.booleans(),
    bounds=st.one_of(st.none(), st.tuples(st.integers(0, 300), st.integers(1, 120))),
)
def test_matches_the_reference(
    raw: list[tuple[int, int, str | None, float]],
    grain: str,
    to_grain: str,
    by_team: bool,
    bounds: tuple[int, int] | None,
) -> None:
    rows = [(START + dt.timedelta(days=d, hours=h), team, v) for d, h, team, v in raw]
    layer = _layer(rows, to_grain)
    start = end = None
    kwargs: dict[str, Any] = {}
    if bounds is not None:
        start = START + dt.timedelta(days=bounds[0])
        end = start + dt.timedelta(days=bounds[1])
        kwargs = {"start": start.isoformat(), "end": end.isoformat()}
    want = reference(rows, grain, to_grain, start, end, by_team)
    got = ours(layer, grain, by_team, **kwargs)
    assert same(got, want), (sorted(got.items())[:6], sorted(want.items())[:6])
