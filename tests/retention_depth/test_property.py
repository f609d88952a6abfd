"""Random event tables: layer.retention with period_mode / brackets / value on DuckDB equals
the plain-Python reference (tests/retention_depth/reference.py)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.backends import Backend, connect_duckdb
from tests.retention_depth import reference
from tests.retention_depth.support import as_dicts, frame, make_layer, rows

BASE = dt.datetime(2024, 1, 1)
BRACKETS = [None, [(0, 0), (1, 1), (2, 4)], [(1, 2), (5, 9)], [(0, 3)]]


@st.composite
def scenarios(draw: st.DrawFn, period: str) -> dict:
    unit = 30 if period == "day" else 3 * 60  # minutes between possible instants
    span = (6 * 24 * 60 if period == "day" else 5 * 7 * 24 * 60) // unit
    instant = st.integers(0, span).map(lambda i: BASE + dt.timedelta(minutes=i * unit))
    row = st.tuples(
        st.sampled_from([1, 2, 3, 4, 5, 6, None]),
        st.sampled_from(["signup", "signup", "session", "session", "purchase"]),
        instant,
        st.sampled_from([None, 1.0, 2.5, 10.0]),
    )
    data = draw(st.lists(row, min_size=10, max_size=40))
    as_of = draw(st.one_of(st.none(), instant))
    return {
        "rows": data,
        "as_of": as_of,
        "periods": draw(st.sampled_from([None, 1, 4])),
        "brackets": draw(st.sampled_from(BRACKETS)),
        "value": draw(st.booleans()),
    }


@pytest.fixture(scope="module")
def duck() -> Backend:
    return Backend("duckdb", connect_duckdb())


@pytest.mark.parametrize("cohort_type", ["first_time", "recurring"])
@pytest.mark.parametrize("mode", ["exact", "rolling"])
@pytest.mark.parametrize("period_mode", ["calendar", "since_entry"])
@pytest.mark.parametrize("period", ["day", "week"])
def test_matches_the_reference(duck, tmp_path_factory, period, period_mode, mode, cohort_type):
    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(s=scenarios(period))
    def check(s: dict) -> None:
        ev = frame(s["rows"])
        layer = make_layer(duck, tmp_path_factory.mktemp("p"), ev)
        res = layer.retention(
            f"{period}ly",
            period_mode=period_mode,
            mode=mode,
            cohort_type=cohort_type,
            periods=s["periods"],
            brackets=s["brackets"],
            as_of=s["as_of"],
            value="revenue" if s["value"] else None,
        )
        got = rows(duck, res, value=s["value"])
        want = reference.retention(
            as_dicts(ev),
            period=period,
            period_mode=period_mode,
            mode=mode,
            cohort_type=cohort_type,
            periods=s["periods"],
            brackets=s["brackets"],
            as_of=s["as_of"],
            value=reference.amount_sum if s["value"] else None,
        )
        want = [
            tuple(pd.Timestamp(v).to_pydatetime() if i == 0 else v for i, v in enumerate(r))
            for r in want
        ]
        assert got == sorted(want, key=_key)

    check()


def _key(row: tuple) -> tuple:
    return tuple((v is None, v) for v in row)
