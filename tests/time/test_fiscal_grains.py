"""Retail-calendar grains in queries on every backend: buckets, fills, fiscal-quarter-to-date
and the same-week-last-year offset, against tests/time/reference.py (CONTRACT §9)."""

from __future__ import annotations

import copy
import datetime as _dt
from collections import defaultdict
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import metrics_layer as ml
from tests.backends import Backend
from tests.time.fixtures import DEFS, events_frame, random_rows, write_defs
from tests.time.reference import retail_attributes

D, T = _dt.date, _dt.datetime
ROWS = random_rows(21, 900, T(2022, 12, 1), T(2025, 3, 1))
GRAINS = {
    "fiscal_week": "week_start",
    "fiscal_month": "month_start",
    "fiscal_quarter": "quarter_start",
    "fiscal_year": "year_start",
}


def retail_defs() -> dict:
    defs = copy.deepcopy(DEFS)
    defs["sources"]["cal"]["calendar"] = {
        "start": "2022-01-01",
        "end": "2026-01-01",
        "retail": {
            "pattern": "4-5-4",
            "year_end_month": 1,
            "weekday": "saturday",
            "rule": "nearest",
        },
    }
    defs["sources"]["cal"]["dimensions"] = {
        "fiscal_week": {},
        "fiscal_year": {},
        "is_business_day": {},
    }
    metrics = defs["metrics"]
    metrics["value_qtd"] = {
        "type": "cumulative",
        "measure": "events.value",
        "grain_to_date": "fiscal_quarter",
    }
    metrics["value_ly"] = {"type": "offset", "metric": "value", "offset": "1 fiscal_year"}
    metrics["value_prev"] = {"type": "offset", "metric": "value", "offset": "1 fiscal_month"}
    metrics["users_last"] = {"type": "offset", "metric": "users", "offset": "1 fiscal_year"}
    defs["retention"]["fiscal_monthly"] = {**defs["retention"]["weekly"], "period": "fiscal_month"}
    defs["retention"]["fiscal_weekly"] = {**defs["retention"]["weekly"], "period": "fiscal_week"}
    return defs


@pytest.fixture(scope="module")
def layer(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> ml.Layer:
    name = backend.unique_name("events")
    backend.load({name: events_frame(ROWS)})
    folder = write_defs(tmp_path_factory.mktemp("retail"), retail_defs())
    return ml.load(folder, con=backend.con, vars={"t": {"events": name}})


def attrs(day: D) -> dict:
    return retail_attributes(day, "4-5-4", 1, 5, "nearest")


def sums(rows: list[tuple], grain: str) -> dict[T, int]:
    out: dict[T, int] = defaultdict(int)
    for ts, _, _, v in rows:
        d = attrs(ts.date())[GRAINS[grain]]
        out[T(d.year, d.month, d.day)] += v
    return dict(out)


def as_dict(frame: pd.DataFrame, key: str, value: str) -> dict[T, object]:
    return {
        pd.Timestamp(k).to_pydatetime(): (None if pd.isna(v) else int(v))
        for k, v in zip(frame[key], frame[value], strict=True)
    }


@pytest.mark.parametrize("grain", list(GRAINS))
def test_fiscal_buckets(backend: Backend, layer: ml.Layer, grain: str) -> None:
    got = as_dict(backend.fetch(layer.query("value", grain=grain).expr), grain, "value")
    assert got == sums(ROWS, grain)


def test_fiscal_year_2023_has_its_53rd_week(backend: Backend, layer: ml.Layer) -> None:
    got = backend.fetch(
        layer.query("value", grain="fiscal_week", start="2024-01-28", end="2024-02-04").expr
    )
    assert list(got.fiscal_week) == [pd.Timestamp("2024-01-28")]
    by_week = backend.fetch(
        layer.query("value", by="cal.fiscal_week", where="cal.fiscal_year = 2023").expr
    )
    assert max(by_week.fiscal_week) == 53


def test_fill_every_fiscal_month(backend: Backend, layer: ml.Layer) -> None:
    got = backend.fetch(
        layer.query(
            "value",
            grain="fiscal_month",
            start="2023-03-01",
            end="2023-09-01",
            where="event_type = 'nothing'",
            fill="zero",
        ).expr
    )
    months = sorted(
        {
            T(*attrs(D(2023, 3, 1) + _dt.timedelta(days=i))["month_start"].timetuple()[:3])
            for i in range((D(2023, 9, 1) - D(2023, 3, 1)).days)
        }
    )
    assert list(got.fiscal_month.map(lambda v: pd.Timestamp(v).to_pydatetime())) == months
    assert set(got.value) == {0}


@pytest.mark.parametrize("grain", ["day", "fiscal_week", "fiscal_month"])
def test_fiscal_quarter_to_date(backend: Backend, layer: ml.Layer, grain: str) -> None:
    got = backend.fetch(
        layer.query(["value_qtd"], grain=grain, start="2023-12-01", end="2024-06-01").expr
    )
    assert len(got) > 3
    for row in got.itertuples():
        p = pd.Timestamp(getattr(row, grain)).to_pydatetime()
        end = p + _dt.timedelta(days=1)
        if grain != "day":  # the period ends where the next one starts
            key = GRAINS[grain]
            while attrs(end.date())[key] == attrs(p.date())[key]:
                end += _dt.timedelta(days=1)
        q = attrs(p.date())["quarter_start"]
        lo, hi = T(q.year, q.month, q.day), min(end, T(2024, 6, 1))
        assert row.value_qtd == sum(v for ts, _, _, v in ROWS if lo <= ts < hi), (grain, p)


def test_offset_one_fiscal_year_aligns_week_numbers(backend: Backend, layer: ml.Layer) -> None:
    got = backend.fetch(
        layer.query(
            ["value", "value_ly"], grain="fiscal_week", start="2023-11-01", end="2024-04-01"
        ).expr
    )
    weekly = sums(ROWS, "fiscal_week")
    by_place = {(attrs(k.date())["year"], attrs(k.date())["week"]): v for k, v in weekly.items()}
    seen_53 = False
    for row in got.itertuples():
        a = attrs(pd.Timestamp(row.fiscal_week).date())
        want = by_place.get((a["year"] - 1, a["week"]))
        have = None if pd.isna(row.value_ly) else int(row.value_ly)
        assert have == want, a
        seen_53 |= a["week"] == 53
    assert seen_53  # week 53 of fiscal 2023 has no week a year back: NULL


def test_offset_one_fiscal_month_and_distinct_counts(backend: Backend, layer: ml.Layer) -> None:
    got = backend.fetch(
        layer.query(
            ["value", "value_prev", "users_last"], grain="fiscal_month", start="2024-02-04"
        ).expr
    )
    monthly = sums(ROWS, "fiscal_month")
    keys = sorted(monthly)
    users: dict[tuple[int, int], set[int]] = defaultdict(set)
    for ts, u, _, _ in ROWS:
        a = attrs(ts.date())
        users[(a["year"], a["month"])].add(u)
    for row in got.itertuples():
        p = pd.Timestamp(row.fiscal_month).to_pydatetime()
        i = keys.index(p)
        assert row.value_prev == (monthly[keys[i - 1]] if i else None)
        a = attrs(p.date())
        assert int(row.users_last) == len(users[(a["year"] - 1, a["month"])])


def test_fiscal_errors(backend: Backend, layer: ml.Layer, tmp_path: Path) -> None:
    plain = ml.load(
        write_defs(tmp_path / "plain"),
        con=backend.con,
        vars={"t": {"events": "x"}},
        check_schema=False,
    )
    with pytest.raises(ml.QueryError, match="retail"):
        plain.query("value", grain="fiscal_week")
    with pytest.raises(ml.QueryError, match="fiscal"):
        layer.query("value_ly", grain="month")
    with pytest.raises(ml.QueryError, match="unknown grain"):
        layer.query("value", grain="fiscal_wek")
    defs = retail_defs()
    defs["sources"]["cal"]["calendar"]["retail"]["pattern"] = "4-4-4"
    with pytest.raises(ml.DefinitionError) as err:
        ml.load(write_defs(tmp_path / "bad", defs), vars={"t": {"events": "x"}})
    assert "pattern" in str(err.value) and "time.yml" in str(err.value)


@pytest.mark.parametrize("period", ["fiscal_week", "fiscal_month"])
def test_retention_in_fiscal_periods(backend: Backend, layer: ml.Layer, period: str) -> None:
    name = {"fiscal_week": "fiscal_weekly", "fiscal_month": "fiscal_monthly"}[period]
    got = backend.fetch(layer.retention(name, periods=None).expr)
    key = GRAINS[period]

    def ordinal(day: D) -> int:  # consecutive numbers of fiscal weeks / months
        a = attrs(day)
        return (
            (a[key] - D(2000, 1, 1)).days // 7
            if period == "fiscal_week"
            else a["year"] * 12 + a["month"]
        )

    entry: dict[int, T] = {}
    for ts, user, kind, _ in sorted(ROWS):
        if kind == "signup" and user not in entry:
            entry[user] = ts
    active: dict[tuple[D, int], set[int]] = defaultdict(set)
    for ts, user, kind, _ in ROWS:
        if kind == "visit" and user in entry and ts >= entry[user]:
            c = attrs(entry[user].date())[key]
            active[(c, ordinal(ts.date()) - ordinal(entry[user].date()))].add(user)
    want = {k: len(v) for k, v in active.items()}
    have = {
        (pd.Timestamp(r.cohort).date(), int(r.period)): int(r.active)
        for r in got.itertuples()
        if r.active
    }
    assert have == want
    last = ordinal(max(ts for ts, _, _, _ in ROWS).date())
    for r in got.itertuples():
        assert bool(r.complete) == (ordinal(pd.Timestamp(r.cohort).date()) + r.period < last)


def test_fiscal_periods_reuse_the_compiled_query(backend: Backend, layer: ml.Layer) -> None:
    """A fiscal period is part of the request that keys the compiled-query cache: asking the
    same fiscal retention or lifecycle again is a cache hit, another fiscal grain is not."""

    def cached(res: Any) -> bool:
        lines = [ln for ln in res.explain().splitlines() if "compiled query" in ln]
        assert len(lines) == 1, lines
        return "cache hit" in lines[0]

    assert not cached(layer.retention("fiscal_monthly", periods=2))
    assert cached(layer.retention("fiscal_monthly", periods=2))
    assert not cached(layer.retention("fiscal_weekly", periods=2))
    assert cached(layer.retention("fiscal_weekly", periods=2))
    assert not cached(layer.lifecycle("fiscal_monthly", grain="fiscal_quarter"))
    assert cached(layer.lifecycle("fiscal_monthly", grain="fiscal_quarter"))
    assert not cached(layer.lifecycle("fiscal_monthly", grain="fiscal_year"))
    assert cached(layer.lifecycle("fiscal_monthly", grain="fiscal_year"))
