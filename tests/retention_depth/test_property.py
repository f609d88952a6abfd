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


MINUTE = dt.timedelta(minutes=1)
# minutes off a period boundary: the boundary itself, a minute or an hour either side of it
NEAR = st.sampled_from([0, 1, -1, 59, 60, 61, -59, -60, -61])


@st.composite
def member_rows(
    draw: st.DrawFn, user: int, length: dt.timedelta, amount: st.SearchStrategy
) -> list:
    """One entity: a signup at any minute of one of the first three periods, then activity at
    a whole number of periods after it, on or near the boundary (since_entry's k changes
    there) or anywhere in the period; sometimes a second signup (a recurring entry)."""
    minutes = int(length / MINUTE)
    entry = BASE + draw(st.integers(0, 2)) * length + draw(st.integers(0, minutes - 1)) * MINUTE
    out = [(user, "signup", entry, draw(amount))]
    for _ in range(draw(st.integers(0, 5))):
        k = draw(st.integers(0, 4))
        off = draw(st.one_of(NEAR, st.integers(0, minutes - 1)))
        kind = draw(st.sampled_from(["session", "session", "purchase", "signup"]))
        out.append((user, kind, entry + k * length + off * MINUTE, draw(amount)))
    return out


@st.composite
def scenarios(draw: st.DrawFn, period: str) -> dict:
    unit = 30 if period == "day" else 3 * 60  # minutes between possible instants
    length = dt.timedelta(days=1 if period == "day" else 7)
    span = (6 * 24 * 60 if period == "day" else 5 * 7 * 24 * 60) // unit
    instant = st.integers(0, span).map(lambda i: BASE + dt.timedelta(minutes=i * unit))
    amount = st.sampled_from([None, 1.0, 2.5, 10.0])
    row = st.tuples(
        st.sampled_from([1, 2, 3, 4, 5, 6, None]),
        st.sampled_from(["signup", "signup", "session", "session", "purchase"]),
        instant,
        amount,
    )
    # entities drawn around their own entry (several per cohort, entering at other instants),
    # plus rows anywhere on a grid: NULL entities, activity before entry, calendar boundaries
    users = draw(st.lists(st.integers(1, 6), min_size=1, max_size=4, unique=True))
    data = [r for u in users for r in draw(member_rows(u, length, amount))]
    data += draw(st.lists(row, min_size=4, max_size=25))
    # observation may end on or near the end of a member's period (`complete` changes there)
    entries = [r[2] for r in data if r[1] == "signup"]
    near_end = st.builds(
        lambda e, k, off: e + k * length + off * MINUTE,
        st.sampled_from(entries),
        st.integers(1, 4),
        NEAR,
    )
    as_of = draw(st.one_of(st.none(), instant, near_end))
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
