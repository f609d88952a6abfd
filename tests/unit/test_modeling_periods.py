"""Period arithmetic in Python (offset ranges, period starts) and offset/grain alignment."""

from __future__ import annotations

import datetime as dt

import pytest

from metrics_layer.compile.periods import check_offset, next_period, shift, truncate_literal
from metrics_layer.errors import QueryError

T = dt.datetime


@pytest.mark.parametrize(
    ("moment", "text", "sign", "expected"),
    [
        (T(2024, 3, 31), "1 month", -1, T(2024, 2, 29)),
        (T(2023, 3, 31), "1 month", -1, T(2023, 2, 28)),
        (T(2024, 1, 31), "1 month", 1, T(2024, 2, 29)),
        (T(2024, 2, 29), "1 year", -1, T(2023, 2, 28)),
        (T(2025, 2, 28), "1 year", -1, T(2024, 2, 28)),
        (T(2024, 2, 29), "4 years", 1, T(2028, 2, 29)),
        (T(2024, 5, 31, 13, 30), "1 quarter", -1, T(2024, 2, 29, 13, 30)),
        (T(2024, 1, 15), "13 months", -1, T(2022, 12, 15)),
        (T(2024, 3, 1), "30 days", -1, T(2024, 1, 31)),
        (T(2024, 3, 10, 12), "2 weeks", -1, T(2024, 2, 25, 12)),
        (T(2024, 1, 1), "36 hours", -1, T(2023, 12, 30, 12)),
    ],
)
def test_shift_clamps_to_the_month_end(moment: T, text: str, sign: int, expected: T) -> None:
    assert shift(moment, text, sign) == expected


@pytest.mark.parametrize(
    ("moment", "grain", "start", "after"),
    [
        (T(2024, 12, 31, 23, 59), "hour", T(2024, 12, 31, 23), T(2025, 1, 1)),
        (T(2024, 12, 31, 23, 59), "day", T(2024, 12, 31), T(2025, 1, 1)),
        (T(2024, 12, 31, 23, 59), "week", T(2024, 12, 30), T(2025, 1, 6)),
        (T(2024, 3, 3), "week", T(2024, 2, 26), T(2024, 3, 4)),  # Sunday -> the Monday before
        (T(2024, 2, 29, 8), "month", T(2024, 2, 1), T(2024, 3, 1)),
        (T(2024, 11, 5), "quarter", T(2024, 10, 1), T(2025, 1, 1)),
        (T(2024, 6, 30), "year", T(2024, 1, 1), T(2025, 1, 1)),
    ],
)
def test_period_start_and_next(moment: T, grain: str, start: T, after: T) -> None:
    assert truncate_literal(moment, grain) == start
    assert next_period(start, grain) == after


@pytest.mark.parametrize(
    ("text", "grain"),
    [
        ("1 day", "day"),
        ("30 days", "day"),
        ("2 weeks", "day"),
        ("1 month", "day"),
        ("1 year", "day"),
        ("48 hours", "day"),
        ("3 hours", "hour"),
        ("1 day", "hour"),
        ("1 week", "week"),
        ("14 days", "week"),
        ("1 month", "week"),
        ("1 year", "week"),
        ("1 month", "month"),
        ("1 quarter", "month"),
        ("1 year", "month"),
        ("3 months", "quarter"),
        ("1 quarter", "quarter"),
        ("2 years", "quarter"),
        ("12 months", "year"),
        ("4 quarters", "year"),
        ("1 year", "year"),
    ],
)
def test_aligned_offsets(text: str, grain: str) -> None:
    check_offset(text, grain, "m")


@pytest.mark.parametrize(
    ("text", "grain"),
    [
        ("36 hours", "day"),
        ("30 minutes", "hour"),
        ("1 day", "week"),
        ("10 days", "week"),
        ("30 days", "month"),
        ("4 weeks", "month"),
        ("1 month", "quarter"),
        ("2 quarters", "year"),
        ("6 months", "year"),
        ("52 weeks", "year"),
    ],
)
def test_misaligned_offsets_are_query_errors(text: str, grain: str) -> None:
    with pytest.raises(
        QueryError, match=f"an offset of '{text}' on metric 'm' does not move whole {grain}s"
    ):
        check_offset(text, grain, "m")
