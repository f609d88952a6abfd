"""The generated calendar (time spine): one row per day, ISO weeks, fiscal periods, business days."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from metrics_layer.calendar import CALENDAR_SCHEMA, calendar_frame, calendar_table
from metrics_layer.definitions.models import Calendar

D = dt.date


def day(frame, value: str) -> dict:
    rows = frame[frame["date"] == D.fromisoformat(value)]
    assert len(rows) == 1, value
    return rows.iloc[0].to_dict()


def test_one_row_per_day_of_start_to_end_exclusive() -> None:
    frame = calendar_frame(Calendar(start=D(2024, 2, 27), end=D(2024, 3, 2)))
    assert list(frame["date"]) == [D(2024, 2, 27), D(2024, 2, 28), D(2024, 2, 29), D(2024, 3, 1)]
    assert list(frame.columns) == list(CALENDAR_SCHEMA)
    full = calendar_frame(Calendar(start=D(2024, 1, 1), end=D(2026, 1, 1)))
    assert len(full) == 366 + 365
    assert full["date"].is_unique


@pytest.mark.parametrize(
    ("value", "iso_year", "iso_week", "monday", "dow"),
    [
        ("2024-12-29", 2024, 52, "2024-12-23", 7),  # Sunday: still 2024-W52
        ("2024-12-30", 2025, 1, "2024-12-30", 1),  # Monday: ISO 2025-W01
        ("2025-01-01", 2025, 1, "2024-12-30", 3),
        ("2021-01-03", 2020, 53, "2020-12-28", 7),  # 2020 has 53 ISO weeks
        ("2021-01-04", 2021, 1, "2021-01-04", 1),
        ("2026-12-31", 2026, 53, "2026-12-28", 4),
        ("2027-01-01", 2026, 53, "2026-12-28", 5),
    ],
)
def test_iso_weeks_at_year_ends(
    value: str, iso_year: int, iso_week: int, monday: str, dow: int
) -> None:
    frame = calendar_frame(Calendar(start=D(2020, 12, 1), end=D(2027, 2, 1)))
    row = day(frame, value)
    assert (row["iso_year"], row["iso_week"], row["week"], row["day_of_week"]) == (
        iso_year,
        iso_week,
        D.fromisoformat(monday),
        dow,
    )
    assert row["year"] == int(value[:4])


@pytest.mark.parametrize(
    ("start_month", "cases"),
    [
        (
            1,
            [
                ("2024-01-01", 2024, 1),
                ("2024-03-31", 2024, 1),
                ("2024-04-01", 2024, 2),
                ("2024-12-31", 2024, 4),
            ],
        ),
        (
            4,
            [
                ("2024-03-31", 2024, 4),
                ("2024-04-01", 2025, 1),
                ("2024-12-31", 2025, 3),
                ("2025-01-01", 2025, 4),
                ("2025-03-31", 2025, 4),
                ("2025-04-01", 2026, 1),
            ],
        ),
        (
            10,
            [
                ("2024-09-30", 2024, 4),
                ("2024-10-01", 2025, 1),
                ("2024-12-31", 2025, 1),
                ("2025-01-01", 2025, 2),
                ("2025-07-01", 2025, 4),
            ],
        ),
        (
            2,
            [
                ("2024-01-31", 2024, 4),
                ("2024-02-01", 2025, 1),
                ("2024-04-30", 2025, 1),
                ("2024-05-01", 2025, 2),
            ],
        ),
    ],
)
def test_fiscal_year_is_named_after_the_year_it_ends(start_month: int, cases: list) -> None:
    frame = calendar_frame(
        Calendar(start=D(2024, 1, 1), end=D(2026, 1, 1), fiscal_year_start_month=start_month)
    )
    for value, fy, fq in cases:
        row = day(frame, value)
        assert (row["fiscal_year"], row["fiscal_quarter"]) == (fy, fq), value


def test_business_days_exclude_weekends_and_holidays() -> None:
    frame = calendar_frame(
        Calendar(
            start=D(2024, 12, 1),
            end=D(2025, 2, 1),
            holidays=[D(2024, 12, 25), D(2025, 1, 1), D(2025, 1, 4)],
        )
    )
    dec = frame[[d.month == 12 for d in frame["date"]]]
    assert int(dec["is_business_day"].sum()) == 22 - 1
    assert int((~dec["is_weekend"]).sum()) == 22
    assert not day(frame, "2024-12-25")["is_business_day"]
    assert not day(frame, "2025-01-04")["is_business_day"]  # a holiday on a Saturday
    assert day(frame, "2025-01-04")["is_weekend"]
    row = day(frame, "2024-12-27")
    assert (row["day_name"], row["is_weekend"], row["is_business_day"]) == ("Friday", False, True)


def test_month_and_quarter_starts() -> None:
    frame = calendar_frame(Calendar(start=D(2024, 1, 1), end=D(2025, 1, 1)))
    row = day(frame, "2024-08-17")
    assert (row["month"], row["quarter"], row["month_name"]) == (
        D(2024, 8, 1),
        D(2024, 7, 1),
        "August",
    )


def test_calendar_table_has_the_declared_schema() -> None:
    table = calendar_table(Calendar(start=D(2024, 1, 1), end=D(2024, 2, 1)))
    assert dict(table.schema().items()) == {k: table.schema()[k] for k in CALENDAR_SCHEMA}
    assert str(table.schema()["date"]) == "date"
    assert table.count().execute() == 31


@pytest.mark.parametrize(
    "bad",
    [
        {"start": D(2024, 1, 1), "end": D(2024, 1, 1)},
        {"start": D(2024, 1, 1), "end": D(2025, 1, 1), "fiscal_year_start_month": 13},
        {"start": D(2024, 1, 1), "end": D(2025, 1, 1), "fiscal_year_start_month": 0},
        {"start": D(1800, 1, 1), "end": D(2100, 1, 1)},
    ],
)
def test_invalid_calendars(bad: dict) -> None:
    with pytest.raises(ValidationError):
        Calendar(**bad)
