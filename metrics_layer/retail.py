"""Retail (4-4-5, 4-5-4, 5-4-4) fiscal calendars: the pure date rules, nothing else.

A retail year is whole weeks ending on one weekday: with rule `nearest` the one nearest to the
last day of `year_end_month` (it may fall in the next month), with `last` the last one in that
month. Each quarter is 13 weeks split by the pattern (4-5-4: 4, 5 and 4 weeks); a year of 53
weeks puts its extra week in the last month. The NRF 4-5-4 calendar is
`RetailCalendar("4-5-4", 1, "saturday", "nearest")`: fiscal 2023 ran from 2023-01-29 to
2024-02-03 (53 weeks).

A year's label (`fiscal_year`) is, with `year_label: start` (default, the NRF convention), the
calendar year in which its nominal first month falls (fiscal 2023 ends in January 2024), with
`end` the calendar year of the `year_end_month` it closes (another retailer's fiscal 2024).

Everything here is plain Python on dates, so the rules are checked on their own against
published calendars (tests/time/test_retail_rules.py); calendar.py builds the calendar
source's columns and compile/fiscal.py the query grains from `fiscal_weeks`.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as _dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from metrics_layer.grain import weekday_number

PATTERNS: dict[str, tuple[int, int, int]] = {
    "4-4-5": (4, 4, 5),
    "4-5-4": (4, 5, 4),
    "5-4-4": (5, 4, 4),
}
RULES = ("nearest", "last")
FISCAL_GRAINS: tuple[str, ...] = ("fiscal_week", "fiscal_month", "fiscal_quarter", "fiscal_year")


@dataclass(frozen=True)
class FiscalWeek:
    """One week of a retail year with the periods that hold it (first days; ends exclusive)."""

    start: _dt.date
    year: int  # the year's label
    year_start: _dt.date
    year_end: _dt.date
    quarter: int  # 1 … 4
    quarter_start: _dt.date
    quarter_end: _dt.date
    month: int  # 1 … 12
    month_start: _dt.date
    month_end: _dt.date
    week: int  # 1 … 52 or 53


@dataclass(frozen=True)
class RetailCalendar:
    pattern: str = "4-5-4"
    year_end_month: int = 1
    weekday: str | int = "saturday"
    rule: str = "nearest"
    year_label: str = "start"

    def __post_init__(self) -> None:
        if self.pattern not in PATTERNS:
            raise ValueError(f"retail pattern must be one of {', '.join(PATTERNS)}")
        if not 1 <= self.year_end_month <= 12:
            raise ValueError("year_end_month must be 1 … 12")
        if self.rule not in RULES:
            raise ValueError("retail rule must be 'nearest' or 'last'")
        if self.year_label not in ("start", "end"):
            raise ValueError("year_label must be 'start' or 'end'")
        weekday_number(self.weekday)

    @property
    def end_weekday(self) -> int:
        """0 = Monday … 6 = Sunday: the last day of every fiscal week."""
        return weekday_number(self.weekday)

    @property
    def week_start(self) -> int:
        """The first weekday of every fiscal week (the day after `end_weekday`)."""
        return (self.end_weekday + 1) % 7

    def year_end(self, year: int) -> _dt.date:
        """Last day of the fiscal year that closes `year_end_month` of calendar year `year`."""
        m = self.year_end_month
        last = _dt.date(year, m, _calendar.monthrange(year, m)[1])
        back = (last.weekday() - self.end_weekday) % 7  # days back to that weekday
        if self.rule == "last" or back <= 3:
            return last - _dt.timedelta(days=back)
        return last + _dt.timedelta(days=7 - back)

    def label(self, closing_year: int) -> int:
        """The label of the fiscal year closing in `closing_year` (see the module docstring)."""
        if self.year_label == "end" or self.year_end_month == 12:
            return closing_year
        return closing_year - 1

    def closing_year(self, day: _dt.date) -> int:
        """The calendar year whose `year_end_month` the fiscal year holding `day` closes."""
        y = day.year - 1
        while day > self.year_end(y):
            y += 1
        return y

    def year_bounds(self, closing_year: int) -> tuple[_dt.date, _dt.date]:
        """(first day, day after the last) of the fiscal year closing in `closing_year`."""
        one = _dt.timedelta(days=1)
        return self.year_end(closing_year - 1) + one, self.year_end(closing_year) + one

    def weeks_of_year(self, closing_year: int) -> Iterator[FiscalWeek]:
        """The 52 or 53 weeks of one fiscal year, in order."""
        start, end = self.year_bounds(closing_year)
        n_weeks = (end - start).days // 7
        months: list[int] = [w for _ in range(4) for w in PATTERNS[self.pattern]]
        months[-1] += n_weeks - 52  # a 53rd week belongs to the last month
        label = self.label(closing_year)
        week = 0
        m_start = start
        for m, weeks in enumerate(months, 1):
            m_end = m_start + _dt.timedelta(weeks=weeks)
            q = (m - 1) // 3 + 1
            q_start = start + _dt.timedelta(weeks=13 * (q - 1))
            q_end = end if q == 4 else q_start + _dt.timedelta(weeks=13)
            for i in range(weeks):
                week += 1
                yield FiscalWeek(
                    start=m_start + _dt.timedelta(weeks=i),
                    year=label,
                    year_start=start,
                    year_end=end,
                    quarter=q,
                    quarter_start=q_start,
                    quarter_end=q_end,
                    month=m,
                    month_start=m_start,
                    month_end=m_end,
                    week=week,
                )
            m_start = m_end

    def weeks(self, first: _dt.date, last: _dt.date) -> list[FiscalWeek]:
        """Every week of the fiscal years holding the days first … last (inclusive)."""
        out: list[FiscalWeek] = []
        for y in range(self.closing_year(first), self.closing_year(last) + 1):
            out.extend(self.weeks_of_year(y))
        return out

    def week_of(self, day: _dt.date) -> FiscalWeek:
        """The fiscal week holding `day`."""
        start = day - _dt.timedelta(days=(day.weekday() - self.week_start) % 7)
        for w in self.weeks_of_year(self.closing_year(day)):
            if w.start == start:
                return w
        raise AssertionError(day)  # every day lies in a week of its own year


def is_fiscal(grain: object) -> bool:
    """Whether a grain name is one of the retail calendar's."""
    return isinstance(grain, str) and grain in FISCAL_GRAINS


def find_retail(sources: Any, source: str | None) -> tuple[str, Any]:
    """(name, Calendar) of the retail calendar a query on `source` uses: the one its joins
    reach directly, else the project's only one. `sources` maps names to Source models."""
    from metrics_layer.errors import QueryError

    found = {n: s.calendar for n, s in sources.items() if s.calendar and s.calendar.retail}
    if not found:
        raise QueryError(
            "fiscal grains need a calendar source with a retail block, e.g. calendar: "
            "{start: 2020-01-01, end: 2030-01-01, retail: {pattern: 4-5-4, year_end_month: 1, "
            "weekday: saturday, rule: nearest}}"
        )
    return _pick(found, sources, source, "retail calendars")


def find_calendar(sources: Any, source: str | None) -> tuple[str, Any]:
    """(name, Calendar) of the calendar source (its business days) a query on `source` uses."""
    from metrics_layer.errors import QueryError

    found = {n: s.calendar for n, s in sources.items() if s.calendar}
    if not found:
        raise QueryError(
            "business days come from a calendar source: declare one, e.g. calendar: "
            "{start: 2024-01-01, end: 2026-01-01, holidays: [2024-12-25]}"
        )
    return _pick(found, sources, source, "calendars")


def _pick(found: dict[str, Any], sources: Any, source: str | None, what: str) -> tuple[str, Any]:
    """The only one found, else the one `source` joins directly."""
    from metrics_layer.errors import QueryError

    if len(found) == 1:
        return next(iter(found.items()))
    if source is not None and source in sources:
        joined = {j.source or role for role, j in sources[source].joins.items()} & set(found)
        if len(joined) == 1:
            name = joined.pop()
            return name, found[name]
    raise QueryError(
        f"several {what} ({', '.join(sorted(found))}) and source {source!r} joins "
        "not exactly one of them: join the one its queries should use"
    )
