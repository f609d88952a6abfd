"""Modeling features on every backend, with hand-computed expected numbers (CONTRACT §5).

Definitions: tests/fixtures/modeling/modeling.yml; rows: tests/fixtures/modeling/tables.py
(each row is commented there). Run on more backends with ``--backends all`` or
``ML_TEST_BACKENDS=duckdb,postgres,pyspark``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import metrics_layer as ml
from metrics_layer.errors import QueryError
from tests.backends import Backend, assert_frames_equal
from tests.fixtures.modeling.tables import TABLES, series_total, series_value

DEFS = Path(__file__).resolve().parent.parent / "fixtures" / "modeling" / "modeling.yml"
NA = None


@pytest.fixture(scope="module")
def tables(backend: Backend) -> dict[str, str]:
    """The fixture tables loaded once per backend under fresh names."""
    names = {key: backend.unique_name(key) for key in TABLES}
    backend.load({names[key]: make() for key, make in TABLES.items()})
    return names


@pytest.fixture(scope="module")
def layer(backend: Backend, tables: dict[str, str]) -> ml.Layer:
    return ml.load(DEFS, con=backend.con, vars={"t": tables})


def run(backend: Backend, layer: ml.Layer, metrics: Any, **kwargs: Any) -> pd.DataFrame:
    return backend.fetch(layer.query(metrics, **kwargs).expr)


def rows(columns: str, *values: tuple[Any, ...]) -> pd.DataFrame:
    """An expected frame; strings that look like dates in time columns become timestamps."""
    names = columns.split()
    frame = pd.DataFrame([list(v) for v in values], columns=names)
    for col in names:
        if col in ("hour", "day", "week", "month", "quarter", "year"):
            frame[col] = pd.to_datetime(frame[col])
    return frame


def check(got: pd.DataFrame, expected: pd.DataFrame, sort_by: Any = True) -> None:
    """Same rows in any order (sorted by all columns unless told), floats to 1e-9."""
    assert_frames_equal(got, expected, sort_by=sort_by)


# --------------------------------------------------------------------------- 1. SCD Type 2


def test_scd_point_in_time_with_exact_boundaries(backend: Backend, layer: ml.Layer) -> None:
    """valid_from <= t < valid_to; t == valid_to takes the next version; no version -> NULL."""
    got = run(backend, layer, ["amount", "actions"], by="plan")
    check(
        got,
        rows(
            "plan amount actions",
            ("free", 1 + 16, 2),
            ("pro", 2 + 4 + 64, 3),
            ("enterprise", 8, 1),
            (NA, 32 + 128 + 256, 3),
        ),
    )


def test_scd_point_in_time_by_month(backend: Backend, layer: ml.Layer) -> None:
    got = run(backend, layer, ["amount"], by="plan", grain="month")
    check(
        got,
        rows(
            "month plan amount",
            ("2024-01-01", NA, 32),
            ("2024-02-01", "free", 1),
            ("2024-03-01", "pro", 2 + 64),
            ("2024-03-01", "free", 16),
            ("2024-04-01", NA, 128),
            ("2024-05-01", "pro", 4),
            ("2024-05-01", NA, 256),
            ("2024-06-01", "enterprise", 8),
        ),
    )


def test_scd_as_of_current_uses_the_open_version(backend: Backend, layer: ml.Layer) -> None:
    got = run(backend, layer, ["amount", "actions"], by="plan", as_of="current")
    check(
        got,
        rows(
            "plan amount actions",
            ("enterprise", 1 + 2 + 4 + 8, 4),
            ("free", 16, 1),
            (NA, 32 + 64 + 128 + 256, 4),
        ),
    )  # user 3 has no open version, user 4 none


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2024-03-15", [("pro", 1 + 2 + 4 + 8 + 32 + 64 + 128), ("free", 16), (NA, 256)]),
        ("2024-06-01", [("enterprise", 15), ("free", 16), (NA, 32 + 64 + 128 + 256)]),  # a boundary
        ("2024-03-01", [("pro", 239), ("free", 16), (NA, 256)]),  # user 1: valid_from == as_of
        (dt.date(2024, 2, 29), [("free", 1 + 2 + 4 + 8 + 16), ("pro", 32 + 64 + 128), (NA, 256)]),
    ],
)
def test_scd_as_of_a_date(backend: Backend, layer: ml.Layer, as_of: Any, expected: list) -> None:
    got = run(backend, layer, ["amount"], by="plan", as_of=as_of)
    check(got, rows("plan amount", *expected))


def test_scd_dimension_in_where(backend: Backend, layer: ml.Layer) -> None:
    got = run(backend, layer, ["amount", "actions"], where="plan = 'pro'")
    check(got, rows("amount actions", (70, 3)))


def test_scd_multi_hop_beyond_the_scd_source(backend: Backend, layer: ml.Layer) -> None:
    """actions -> plans (point-in-time) -> teams: the team of the version in effect."""
    got = run(backend, layer, ["amount"], by="region")
    check(got, rows("region amount", ("EU", 1 + 8 + 16), ("US", 2 + 4 + 64), (NA, 416)))
    got = run(backend, layer, ["amount"], by="region", as_of="current")
    check(got, rows("region amount", ("EU", 1 + 2 + 4 + 8 + 16), (NA, 32 + 64 + 128 + 256)))


def test_scd_two_hops_away_uses_the_queried_fact_time(backend: Backend, layer: ml.Layer) -> None:
    """payments -> actions -> plans: the version valid at the payment's time (the fact)."""
    got = run(backend, layer, ["paid"], by="plan")
    # payment 1 (03-05) of user 1: pro (free at the action's time 02-15); payment 3 (04-02) of
    # user 3: no version any more (pro at the action's time 03-31)
    check(got, rows("plan paid", ("pro", 1000), ("free", 2000), (NA, 4000)))


# --------------------------------------------------------------------------- 2. calendar


def test_calendar_iso_weeks_at_the_year_end(backend: Backend, layer: ml.Layer) -> None:
    got = run(backend, layer, ["visits"], by=["iso_year", "iso_week"])
    check(
        got,
        rows("iso_year iso_week visits", (2024, 52, 3), (2025, 1, 4), (2025, 14, 2), (NA, NA, 1)),
        sort_by=["iso_year", "iso_week"],
    )
    got = run(backend, layer, ["visits"], by="cal.week", where="iso_year = 2025 AND iso_week = 1")
    got["week"] = pd.to_datetime(got["week"])
    check(got, rows("week visits", ("2024-12-30", 4)))


def test_calendar_business_days_and_fiscal_quarters(backend: Backend, layer: ml.Layer) -> None:
    got = run(backend, layer, ["visits"], by="is_business_day")
    check(
        got,
        rows("is_business_day visits", (True, 6), (False, 3), (NA, 1)),
        sort_by="is_business_day",
    )
    got = run(backend, layer, ["visits"], by=["fiscal_year", "fiscal_quarter"])
    check(
        got,
        rows(
            "fiscal_year fiscal_quarter visits",
            (2025, 3, 5),
            (2025, 4, 3),
            (2026, 1, 1),
            (NA, NA, 1),
        ),
        sort_by=["fiscal_year", "fiscal_quarter"],
    )


def test_calendar_queried_as_a_source(backend: Backend, layer: ml.Layer) -> None:
    got = run(
        backend,
        layer,
        ["days", "business_days"],
        grain="month",
        start="2024-12-01",
        end="2025-02-01",
    )
    # December 2024: 22 weekdays less Christmas; January 2025: 23 weekdays less New Year
    check(got, rows("month days business_days", ("2024-12-01", 31, 21), ("2025-01-01", 31, 22)))
    got = run(backend, layer, ["days"], by="fiscal_year")
    check(
        got, rows("fiscal_year days", (2024, 91), (2025, 365), (2026, 275)), sort_by="fiscal_year"
    )


# --------------------------------------------------------------------------- 3. fill


FILLED = "day kind n users rev avg_amount rev_per_event rev_per_user"
METRICS = ["n", "users", "rev", "events.avg_amount", "rev_per_event", "rev_per_user"]


def test_fill_zero_every_period_times_the_values_seen(backend: Backend, layer: ml.Layer) -> None:
    got = run(
        backend,
        layer,
        METRICS,
        by="kind",
        grain="day",
        start="2024-01-01",
        end="2024-01-05",
        fill="zero",
    )
    check(
        got,
        rows(
            FILLED,
            ("2024-01-01", "a", 2, 2, 30.0, 15.0, 15.0, 15.0),
            ("2024-01-01", "b", 0, 0, 0.0, NA, NA, NA),
            ("2024-01-02", "a", 0, 0, 0.0, NA, NA, NA),
            ("2024-01-02", "b", 1, 1, 5.0, 5.0, 5.0, 5.0),
            ("2024-01-03", "a", 0, 0, 0.0, NA, NA, NA),
            ("2024-01-03", "b", 0, 0, 0.0, NA, NA, NA),
            ("2024-01-04", "a", 1, 1, 40.0, 40.0, 40.0, 40.0),
            ("2024-01-04", "b", 0, 0, 0.0, NA, NA, NA),
        ),
    )


def test_fill_null_leaves_empty_periods_null(backend: Backend, layer: ml.Layer) -> None:
    got = run(
        backend, layer, ["n", "rev"], grain="day", start="2024-01-01", end="2024-01-05", fill="null"
    )
    check(
        got,
        rows(
            "day n rev",
            ("2024-01-01", 2, 30.0),
            ("2024-01-02", 1, 5.0),
            ("2024-01-03", NA, NA),
            ("2024-01-04", 1, 40.0),
        ),
    )


def test_fill_without_bounds_spans_the_data_range(backend: Backend, layer: ml.Layer) -> None:
    got = run(backend, layer, ["n", "rev"], grain="month", where="kind = 'b'", fill="zero")
    months = pd.date_range("2024-01-01", "2025-01-01", freq="MS")
    expected = pd.DataFrame({"month": months, "n": 0, "rev": 0.0})
    expected.loc[0, ["n", "rev"]] = [3, 5.0]
    expected.loc[1, ["n", "rev"]] = [1, 3.0]
    expected.loc[12, ["n", "rev"]] = [1, 50.0]
    check(got, expected)


def test_fill_covers_a_partial_last_period(backend: Backend, layer: ml.Layer) -> None:
    got = run(
        backend,
        layer,
        ["rev", "rev_per_event"],
        grain="month",
        start="2024-01-15",
        end="2024-03-10",
        fill="zero",
    )
    check(
        got,
        rows(
            "month rev rev_per_event",
            ("2024-01-01", 100.0, 100.0),
            ("2024-02-01", 10.0, 5.0),
            ("2024-03-01", 0.0, NA),
        ),
    )


def test_zero_amounts_are_not_empty_periods(backend: Backend, layer: ml.Layer) -> None:
    got = run(
        backend,
        layer,
        ["n", "rev", "rev_per_event"],
        grain="day",
        start="2024-01-06",
        end="2024-01-08",
        fill="zero",
    )
    check(
        got,
        rows("day n rev rev_per_event", ("2024-01-06", 2, 0.0, 0.0), ("2024-01-07", 0, 0.0, NA)),
    )


def test_fill_when_nothing_matches(backend: Backend, layer: ml.Layer) -> None:
    got = run(
        backend,
        layer,
        ["n", "users_3d", "rev_per_event", "rev_prev_day"],
        grain="day",
        where="kind = 'none'",
        start="2024-01-01",
        end="2024-01-03",
        fill="zero",
    )
    check(
        got,
        rows(
            "day n users_3d rev_per_event rev_prev_day",
            ("2024-01-01", 0, 0, NA, 0.0),
            ("2024-01-02", 0, 0, NA, 0.0),
        ),
    )
    got = run(
        backend,
        layer,
        ["n", "users_3d"],
        grain="day",
        where="kind = 'none'",
        end="2024-01-03",
        fill="zero",
    )
    assert len(got) == 0


# --------------------------------------------------------------------------- 4. cumulative


def test_rolling_distinct_reaches_before_start(backend: Backend, layer: ml.Layer) -> None:
    """users_3d at P covers [P - 2 days, P + 1 day); 01-02 counts 01-01's users once each."""
    got = run(
        backend, layer, ["users_3d", "users"], grain="day", start="2024-01-02", end="2024-01-08"
    )
    check(
        got,
        rows(
            "day users_3d users",
            ("2024-01-02", 2, 1),
            ("2024-01-03", 2, NA),
            ("2024-01-04", 2, 1),
            ("2024-01-05", 1, NA),
            ("2024-01-06", 3, 2),
            ("2024-01-07", 2, NA),
        ),
    )


def test_rolling_window_at_week_grain(backend: Backend, layer: ml.Layer) -> None:
    got = run(backend, layer, ["users_7d"], grain="week", start="2024-01-01", end="2024-02-12")
    check(got, rows("week users_7d", ("2024-01-01", 4), ("2024-01-29", 2)))
    got = run(
        backend,
        layer,
        ["users_7d"],
        grain="week",
        start="2024-01-01",
        end="2024-02-12",
        fill="zero",
    )
    check(
        got,
        rows(
            "week users_7d",
            ("2024-01-01", 4),
            ("2024-01-08", 0),
            ("2024-01-15", 0),
            ("2024-01-22", 0),
            ("2024-01-29", 2),
            ("2024-02-05", 0),
        ),
    )


def test_rolling_months_are_exact_not_sums(backend: Backend, layer: ml.Layer) -> None:
    """users_2m for February covers January and February: 5 users, not 4 + 2."""
    got = run(
        backend, layer, ["users_2m", "users"], grain="month", start="2024-01-01", end="2024-06-01"
    )
    check(
        got,
        rows(
            "month users_2m users",
            ("2024-01-01", 4, 4),
            ("2024-02-01", 5, 2),
            ("2024-03-01", 3, 1),
            ("2024-04-01", 1, NA),
        ),
    )


def test_all_time_running_distinct(backend: Backend, layer: ml.Layer) -> None:
    got = run(backend, layer, ["users_all"], grain="month")
    expected = [("2024-01-01", 4), ("2024-02-01", 5)]
    expected += [(f"2024-{m:02d}-01", 6) for m in range(3, 13)] + [("2025-01-01", 6)]
    check(got, rows("month users_all", *expected))


def test_grain_to_date(backend: Backend, layer: ml.Layer) -> None:
    got = run(backend, layer, ["rev_mtd", "rev"], grain="day", start="2024-01-30", end="2024-02-03")
    check(
        got,
        rows(
            "day rev_mtd rev",
            ("2024-01-30", 75.0, NA),
            ("2024-01-31", 175.0, 100.0),
            ("2024-02-01", 7.0, 7.0),
            ("2024-02-02", 7.0, NA),
        ),
    )
    got = run(backend, layer, ["rev_ytd"], grain="month", start="2024-11-01", end="2025-02-01")
    check(
        got,
        rows("month rev_ytd", ("2024-11-01", 186.0), ("2024-12-01", 186.0), ("2025-01-01", 50.0)),
    )


def test_running_total_and_end_bound(backend: Backend, layer: ml.Layer) -> None:
    got = run(backend, layer, ["rev_total"], grain="day", start="2024-03-30", end="2024-04-02")
    check(
        got,
        rows("day rev_total", ("2024-03-30", 185.0), ("2024-03-31", 186.0), ("2024-04-01", 186.0)),
    )


def test_rolling_window_at_hour_grain(backend: Backend, layer: ml.Layer) -> None:
    got = run(
        backend,
        layer,
        ["users_2h"],
        grain="hour",
        start="2024-01-01 22:00",
        end="2024-01-02 02:00",
        fill="zero",
    )
    check(
        got,
        rows(
            "hour users_2h",
            ("2024-01-01 22:00", 0),
            ("2024-01-01 23:00", 1),
            ("2024-01-02 00:00", 2),
            ("2024-01-02 01:00", 1),
        ),
    )


def test_rolling_window_on_a_date_column(backend: Backend, layer: ml.Layer) -> None:
    got = run(backend, layer, ["daily_users_7d"], grain="day", start="2024-01-07", end="2024-01-13")
    check(
        got,
        rows(
            "day daily_users_7d",
            ("2024-01-07", 2),
            ("2024-01-08", 2),
            ("2024-01-09", 3),
            ("2024-01-10", 2),
            ("2024-01-11", 2),
            ("2024-01-12", 1),
        ),
    )


def test_cumulative_by_dimension(backend: Backend, layer: ml.Layer) -> None:
    got = run(
        backend, layer, ["users_7d"], grain="day", by="kind", start="2024-01-06", end="2024-01-08"
    )
    # a: [12-31, 01-07) users 1, 2, 3; b: users 1, 2, 4 -- then [01-01, 01-08) the same
    check(
        got,
        rows(
            "day kind users_7d",
            ("2024-01-06", "a", 3),
            ("2024-01-06", "b", 3),
            ("2024-01-07", "a", 3),
            ("2024-01-07", "b", 3),
        ),
    )


def test_periods_in_the_layer_timezone(backend: Backend, tables: dict[str, str]) -> None:
    """In New York (UTC-5) events 1-3 all fall on 2024-01-01; bounds are local midnights."""
    ny = ml.load(DEFS, con=backend.con, vars={"t": tables}, timezone="America/New_York")
    got = run(
        backend,
        ny,
        ["n", "rev", "users_3d", "rev_prev_day"],
        grain="day",
        start="2024-01-01",
        end="2024-01-05",
        fill="zero",
    )
    check(
        got,
        rows(
            "day n rev users_3d rev_prev_day",
            ("2024-01-01", 3, 35.0, 2, 0.0),
            ("2024-01-02", 0, 0.0, 2, 35.0),
            ("2024-01-03", 0, 0.0, 2, 0.0),
            ("2024-01-04", 1, 40.0, 1, 0.0),
        ),
    )


# --------------------------------------------------------------------------- 5. offset


def v(day: str) -> int:
    return series_value(dt.date.fromisoformat(day))


def total(start: str, end: str) -> int:
    return series_total(dt.date.fromisoformat(start), dt.date.fromisoformat(end))


def test_offset_month_at_day_grain_clamps_to_month_end(backend: Backend, layer: ml.Layer) -> None:
    got = run(
        backend,
        layer,
        ["value", "value_prev_month"],
        grain="day",
        start="2024-03-28",
        end="2024-04-01",
    )
    check(
        got,
        rows(
            "day value value_prev_month",
            ("2024-03-28", v("2024-03-28"), v("2024-02-28")),
            ("2024-03-29", v("2024-03-29"), v("2024-02-29")),
            ("2024-03-30", v("2024-03-30"), v("2024-02-29")),
            ("2024-03-31", v("2024-03-31"), v("2024-02-29")),
        ),
    )
    got = run(
        backend, layer, ["value_prev_month"], grain="day", start="2023-03-30", end="2023-04-01"
    )
    check(
        got,
        rows(
            "day value_prev_month", ("2023-03-30", v("2023-02-28")), ("2023-03-31", v("2023-02-28"))
        ),
    )


def test_offset_year_at_day_grain_across_leap_days(backend: Backend, layer: ml.Layer) -> None:
    got = run(
        backend, layer, ["value_prev_year"], grain="day", start="2024-02-28", end="2024-03-02"
    )
    check(
        got,
        rows(
            "day value_prev_year",
            ("2024-02-28", v("2023-02-28")),
            ("2024-02-29", v("2023-02-28")),
            ("2024-03-01", v("2023-03-01")),
        ),
    )
    got = run(
        backend, layer, ["value_prev_year"], grain="day", start="2025-02-28", end="2025-03-02"
    )
    check(
        got,
        rows(
            "day value_prev_year", ("2025-02-28", v("2024-02-28")), ("2025-03-01", v("2024-03-01"))
        ),
    )


def test_offset_month_grain_and_percent_change(backend: Backend, layer: ml.Layer) -> None:
    got = run(
        backend,
        layer,
        ["value", "value_prev_month", "value_mom"],
        grain="month",
        start="2024-01-01",
        end="2024-04-01",
    )
    months = ["2023-12-01", "2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]
    tot = [total(a, b) for a, b in zip(months, months[1:], strict=False)]
    check(
        got,
        rows(
            "month value value_prev_month value_mom",
            *[(months[i + 1], tot[i + 1], tot[i], tot[i + 1] / tot[i] - 1) for i in range(3)],
        ),
    )


def test_offset_uses_whole_shifted_periods(backend: Backend, layer: ml.Layer) -> None:
    """A partial last period (end mid-month) still compares with the whole previous month."""
    got = run(
        backend,
        layer,
        ["value", "value_prev_month"],
        grain="month",
        start="2024-02-10",
        end="2024-03-15",
    )
    check(
        got,
        rows(
            "month value value_prev_month",
            ("2024-02-01", total("2024-02-10", "2024-03-01"), total("2024-01-01", "2024-02-01")),
            ("2024-03-01", total("2024-03-01", "2024-03-15"), total("2024-02-01", "2024-03-01")),
        ),
    )


def test_offset_null_when_there_is_no_earlier_period(backend: Backend, layer: ml.Layer) -> None:
    got = run(
        backend,
        layer,
        ["value", "value_prev_year"],
        grain="month",
        start="2023-01-01",
        end="2023-03-01",
    )
    check(
        got,
        rows(
            "month value value_prev_year",
            ("2023-01-01", total("2023-01-01", "2023-02-01"), NA),
            ("2023-02-01", total("2023-02-01", "2023-03-01"), NA),
        ),
    )


def test_offset_produces_no_rows_past_the_range(backend: Backend, layer: ml.Layer) -> None:
    got = run(backend, layer, ["value_prev_month"], grain="month", start="2025-11-01")
    check(
        got,
        rows(
            "month value_prev_month",
            ("2025-11-01", total("2025-10-01", "2025-11-01")),
            ("2025-12-01", total("2025-11-01", "2025-12-01")),
        ),
    )
    got = run(
        backend, layer, ["value_prev_month"], grain="month", start="2024-01-01", end="2024-03-01"
    )
    assert list(got["month"]) == list(pd.to_datetime(["2024-01-01", "2024-02-01"]))


def test_offset_week_quarter_and_fixed_days(backend: Backend, layer: ml.Layer) -> None:
    got = run(
        backend, layer, ["value_prev_week"], grain="week", start="2024-01-01", end="2024-01-15"
    )
    check(
        got,
        rows(
            "week value_prev_week",
            ("2024-01-01", total("2023-12-25", "2024-01-01")),
            ("2024-01-08", total("2024-01-01", "2024-01-08")),
        ),
    )
    got = run(
        backend,
        layer,
        ["value_prev_quarter"],
        grain="quarter",
        start="2024-01-01",
        end="2024-07-01",
    )
    check(
        got,
        rows(
            "quarter value_prev_quarter",
            ("2024-01-01", total("2023-10-01", "2024-01-01")),
            ("2024-04-01", total("2024-01-01", "2024-04-01")),
        ),
    )
    got = run(backend, layer, ["value_prev_30d"], grain="day", start="2024-03-01", end="2024-03-02")
    check(got, rows("day value_prev_30d", ("2024-03-01", v("2024-01-31"))))


def test_offset_year_at_week_grain_is_the_week_holding_that_day(
    backend: Backend, layer: ml.Layer
) -> None:
    got = run(
        backend, layer, ["value_prev_year"], grain="week", start="2024-03-04", end="2024-03-11"
    )
    # 2024-03-04 - 1 year = 2023-03-04 (a Saturday): the ISO week starting Monday 2023-02-27
    check(got, rows("week value_prev_year", ("2024-03-04", total("2023-02-27", "2023-03-06"))))


def test_offset_misaligned_with_the_grain_is_an_error(layer: ml.Layer) -> None:
    with pytest.raises(QueryError, match="does not move whole months"):
        layer.query(["value_prev_30d"], grain="month")
    with pytest.raises(QueryError, match="does not move whole weeks"):
        layer.query(["value_prev_day"], grain="week")


def test_offset_with_fill_matches_the_filled_periods(backend: Backend, layer: ml.Layer) -> None:
    got = run(
        backend,
        layer,
        ["rev", "rev_prev_day"],
        grain="day",
        start="2024-01-01",
        end="2024-01-05",
        fill="zero",
    )
    check(
        got,
        rows(
            "day rev rev_prev_day",
            ("2024-01-01", 30.0, 0.0),
            ("2024-01-02", 5.0, 30.0),
            ("2024-01-03", 0.0, 5.0),
            ("2024-01-04", 40.0, 0.0),
        ),
    )
    got = run(
        backend, layer, ["rev", "rev_prev_day"], grain="day", start="2024-01-01", end="2024-01-05"
    )
    check(
        got,
        rows(
            "day rev rev_prev_day",
            ("2024-01-01", 30.0, NA),
            ("2024-01-02", 5.0, 30.0),
            ("2024-01-03", NA, 5.0),
            ("2024-01-04", 40.0, NA),
        ),
    )


def test_offset_by_dimension(backend: Backend, layer: ml.Layer) -> None:
    got = run(
        backend,
        layer,
        ["rev", "rev_prev_day"],
        grain="day",
        by="kind",
        start="2024-01-02",
        end="2024-01-03",
    )
    check(
        got,
        rows(
            "day kind rev rev_prev_day", ("2024-01-02", "a", NA, 30.0), ("2024-01-02", "b", 5.0, NA)
        ),
    )


# --------------------------------------------------------------------------- 6. semi-additive


def test_semi_additive_last_and_first_per_account(backend: Backend, layer: ml.Layer) -> None:
    got = run(
        backend,
        layer,
        ["balances.balance", "balances.opening", "balances.last_posting", "balances.postings"],
        grain="month",
    )
    check(
        got,
        rows(
            "month balance opening last_posting postings",
            ("2024-01-01", 120.0 + 55.0, 100.0 + 55.0, 120.0, 5),
            ("2024-02-01", 200.0 + 70.0 + 10.0, 280.0, 70.0, 3),
        ),
    )


def test_semi_additive_at_week_grain_and_totals(backend: Backend, layer: ml.Layer) -> None:
    got = run(backend, layer, ["balances.balance"], grain="week")
    check(
        got,
        rows(
            "week balance",
            ("2024-01-01", 100.0),
            ("2024-01-08", 55.0),
            ("2024-01-15", 150.0),
            ("2024-01-29", 130.0),
            ("2024-02-05", 200.0),
            ("2024-02-26", 70.0),
        ),
    )
    got = run(backend, layer, ["balances.balance", "balances.opening"])
    check(got, rows("balance opening", (280.0, 165.0)))
    got = run(backend, layer, ["balances.balance"], start="2024-01-01", end="2024-02-01")
    check(got, rows("balance", (175.0,)))


def test_semi_additive_snapshot_is_per_entity_not_per_dimension(
    backend: Backend, layer: ml.Layer
) -> None:
    """Account 1 ends January in branch Y: its earlier X rows are not January's X balance."""
    got = run(backend, layer, ["balances.balance"], grain="month", by="branch")
    check(
        got,
        rows(
            "month branch balance",
            ("2024-01-01", "X", 55.0),
            ("2024-01-01", "Y", 120.0),
            ("2024-02-01", "X", 80.0),
            ("2024-02-01", "Y", 200.0),
        ),
    )
    got = run(backend, layer, ["balances.balance"], grain="month", where="account <> 1")
    check(got, rows("month balance", ("2024-01-01", 55.0), ("2024-02-01", 80.0)))


# --------------------------------------------------------------------------- 7. share


def test_share_of_the_period_and_within_a_dimension(backend: Backend, layer: ml.Layer) -> None:
    got = run(
        backend,
        layer,
        ["rev", "rev_share", "rev_share_in_kind"],
        grain="day",
        by=["kind", "channel"],
        start="2024-01-01",
        end="2024-01-07",
    )
    check(
        got,
        rows(
            "day kind channel rev rev_share rev_share_in_kind",
            ("2024-01-01", "a", "app", 20.0, 20 / 30, 20 / 30),
            ("2024-01-01", "a", "web", 10.0, 10 / 30, 10 / 30),
            ("2024-01-02", "b", "web", 5.0, 1.0, 1.0),
            ("2024-01-04", "a", "web", 40.0, 1.0, 1.0),
            ("2024-01-06", "b", "app", 0.0, NA, NA),  # zero total: NULL
            ("2024-01-06", "b", "web", 0.0, NA, NA),
        ),
    )


def test_share_within_kind_sums_to_one(backend: Backend, layer: ml.Layer) -> None:
    got = run(
        backend,
        layer,
        ["rev", "rev_share_in_kind", "rev_share"],
        grain="month",
        by=["kind", "channel"],
    )
    jan = got[got["month"] == pd.Timestamp("2024-01-01")].set_index(["kind", "channel"])
    assert jan.loc[("a", "web"), "rev_share_in_kind"] == pytest.approx(50 / 170)
    assert jan.loc[("a", "app"), "rev_share_in_kind"] == pytest.approx(120 / 170)
    assert jan.loc[("b", "app"), "rev_share_in_kind"] == pytest.approx(0.0)
    assert jan.loc[("a", "web"), "rev_share"] == pytest.approx(50 / 175)
    sums = got.groupby(["month", "kind"])["rev_share_in_kind"].sum()
    assert sums.to_numpy() == pytest.approx([1.0] * len(sums))
    assert got.groupby("month")["rev_share"].sum().to_numpy() == pytest.approx([1.0] * 4)


def test_share_keeps_the_query_filter(backend: Backend, layer: ml.Layer) -> None:
    got = run(
        backend,
        layer,
        ["rev", "rev_share"],
        grain="month",
        by="kind",
        where="channel = 'web'",
        end="2024-03-01",
    )
    check(
        got,
        rows(
            "month kind rev rev_share",
            ("2024-01-01", "a", 50.0, 50 / 55),
            ("2024-01-01", "b", 5.0, 5 / 55),
            ("2024-02-01", "a", 7.0, 0.7),
            ("2024-02-01", "b", 3.0, 0.3),
        ),
    )


# --------------------------------------------------------------------------- 8. conformed dims


def test_conformed_dimension_across_two_facts(backend: Backend, layer: ml.Layer) -> None:
    """tasks_posted (tasks) and revenue (assignments -> tasks) grouped by the task category."""
    expected = rows(
        "month category tasks_posted revenue",
        ("2024-01-01", "code", 1, 30.0),
        ("2024-01-01", "design", 2, NA),
        ("2024-02-01", "code", 1, 80.0),
        ("2024-02-01", "design", NA, 100.0),
        ("2024-02-01", "writing", 1, NA),
        ("2024-02-01", NA, NA, 5.0),
    )
    for by in ("category", "tasks.category"):
        got = run(backend, layer, ["tasks_posted", "revenue"], by=by, grain="month")
        check(got, expected)
    got = run(backend, layer, ["tasks_posted", "revenue"], by="region")
    check(
        got, rows("region tasks_posted revenue", ("EU", 2, 150.0), ("US", 3, 60.0), (NA, NA, 5.0))
    )
