"""The pure retail-calendar rules (metrics_layer/retail.py) and the calendar source's fiscal
columns, against published NRF years and a brute-force reference (tests/time/reference.py)."""

from __future__ import annotations

import datetime as _dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics_layer.calendar import calendar_frame
from metrics_layer.definitions.models import Calendar, Retail
from metrics_layer.retail import RetailCalendar
from tests.time.reference import retail_attributes, retail_year_end

D = _dt.date
NRF = RetailCalendar("4-5-4", 1, "saturday", "nearest")


def test_nrf_fiscal_2023_is_53_weeks() -> None:
    """NRF / Coresight: fiscal 2023 ends 2024-02-03 and has 53 weeks (the last 53-week year
    before it was fiscal 2017)."""
    start, end = NRF.year_bounds(2024)
    assert (start, end - _dt.timedelta(days=1)) == (D(2023, 1, 29), D(2024, 2, 3))
    weeks = list(NRF.weeks_of_year(2024))
    assert len(weeks) == 53 and weeks[0].year == 2023
    assert [w.week for w in weeks] == list(range(1, 54))
    last_month = [w for w in weeks if w.month == 12]
    assert len(last_month) == 5  # 4 + the 53rd week
    assert NRF.year_end(2018) == D(2018, 2, 3)  # fiscal 2017, also 53 weeks


def test_nrf_53_week_years_since_2000() -> None:
    """NRF: the 53-week years were FY'00, FY'06, FY'12, FY'17 and FY'23."""
    long = [y for y in range(2000, 2027) if len(list(NRF.weeks_of_year(y + 1))) == 53]
    assert long == [2000, 2006, 2012, 2017, 2023]


@pytest.mark.parametrize(
    ("year", "end"), [(2006, D(2006, 8, 26)), (2007, D(2007, 8, 25)), (2008, D(2008, 8, 30))]
)
def test_last_saturday_of_august(year: int, end: D) -> None:
    """The published example of the 'last weekday of the month' method (52-53-week years)."""
    assert RetailCalendar("4-4-5", 8, "saturday", "last").year_end(year) == end


@pytest.mark.parametrize(
    ("pattern", "months"),
    [("4-4-5", [4, 4, 5]), ("4-5-4", [4, 5, 4]), ("5-4-4", [5, 4, 4])],
)
def test_patterns_split_quarters(pattern: str, months: list[int]) -> None:
    weeks = list(RetailCalendar(pattern, 1, "saturday", "nearest").weeks_of_year(2025))
    counts = [sum(1 for w in weeks if w.month == m) for m in range(1, 13)]
    assert counts == months * 4
    assert [sum(1 for w in weeks if w.quarter == q) for q in range(1, 5)] == [13] * 4


def test_year_labels() -> None:
    end = RetailCalendar("4-5-4", 1, "saturday", "nearest", "end")
    assert NRF.week_of(D(2023, 6, 1)).year == 2023 and end.week_of(D(2023, 6, 1)).year == 2024
    dec = RetailCalendar("4-4-5", 12, "sunday", "nearest")
    assert dec.week_of(D(2024, 6, 1)).year == 2024  # a year closing in December is its own


@settings(max_examples=300, deadline=None)
@given(
    day=st.dates(D(1990, 1, 1), D(2060, 12, 31)),
    pattern=st.sampled_from(["4-4-5", "4-5-4", "5-4-4"]),
    month=st.integers(1, 12),
    weekday=st.integers(0, 6),
    rule=st.sampled_from(["nearest", "last"]),
    label=st.sampled_from(["start", "end"]),
)
def test_rules_match_the_reference(
    day: D, pattern: str, month: int, weekday: int, rule: str, label: str
) -> None:
    cal = RetailCalendar(pattern, month, weekday, rule, label)
    w = cal.week_of(day)
    want = retail_attributes(day, pattern, month, weekday, rule, label)
    got = {
        "year": w.year,
        "n_weeks": (w.year_end - w.year_start).days // 7,
        "quarter": w.quarter,
        "month": w.month,
        "week": w.week,
        "year_start": w.year_start,
        "quarter_start": w.quarter_start,
        "month_start": w.month_start,
        "week_start": w.start,
    }
    assert got == want
    assert cal.year_end(day.year) == retail_year_end(day.year, month, weekday, rule)
    assert (w.year_end - _dt.timedelta(days=1)).weekday() == weekday


@settings(max_examples=20, deadline=None)
@given(
    start=st.dates(D(2015, 1, 1), D(2030, 1, 1)),
    pattern=st.sampled_from(["4-4-5", "4-5-4", "5-4-4"]),
    month=st.integers(1, 12),
    weekday=st.sampled_from(["monday", "saturday", "sunday", "wed"]),
    rule=st.sampled_from(["nearest", "last"]),
)
def test_calendar_source_columns(
    start: D, pattern: str, month: int, weekday: str, rule: str
) -> None:
    spec = Calendar(
        start=start,
        end=start + _dt.timedelta(days=400),
        retail=Retail(pattern=pattern, year_end_month=month, weekday=weekday, rule=rule),
    )
    frame = calendar_frame(spec)
    wd = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"].index(
        spec.retail.weekday
    )
    for row in frame.iloc[::17].itertuples():
        want = retail_attributes(row.date, pattern, month, wd, rule)
        assert (row.fiscal_year, row.fiscal_quarter, row.fiscal_month, row.fiscal_week) == (
            want["year"],
            want["quarter"],
            want["month"],
            want["week"],
        )
        assert (
            row.fiscal_year_start,
            row.fiscal_quarter_start,
            row.fiscal_month_start,
            row.fiscal_week_start,
        ) == (want["year_start"], want["quarter_start"], want["month_start"], want["week_start"])


def test_bad_retail_blocks() -> None:
    for bad in (
        {"pattern": "4-4-4"},
        {"year_end_month": 13},
        {"weekday": "saturdy"},
        {"rule": "first"},
        {"extra": 1},
    ):
        with pytest.raises(ValueError):
            Retail(**bad)
