"""Timezone bucketing must not depend on the connection's session TimeZone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import pandas as pd
import pytest

import metrics_layer as ml
from metrics_layer.errors import QueryError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kpi"

# naive timestamps are UTC; `tz` holds the same instants as TIMESTAMPTZ
TICKS = """
CREATE TABLE ticks AS SELECT label, ts, CAST(ts || '+00' AS TIMESTAMPTZ) AS tstz FROM (VALUES
  ('a', TIMESTAMP '2024-03-31 23:30:00'),
  ('b', TIMESTAMP '2024-04-01 00:00:00'),
  ('c', TIMESTAMP '2024-04-01 03:30:00'),
  ('d', TIMESTAMP '2024-04-01 04:00:00')
) v(label, ts)
"""
DAYS = "CREATE TABLE days AS SELECT DATE '2024-04-01' AS d"


def layer_for(session_tz: str, layer_tz: str, time_column: str = "ts") -> ml.Layer:
    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    con.raw_sql(TICKS)
    con.raw_sql(DAYS)
    con.raw_sql(f"SET TimeZone = '{session_tz}'")
    if time_column != "ts":
        con.raw_sql(f"CREATE VIEW ticks_v AS SELECT label, {time_column} AS ts FROM ticks")
    table = "ticks" if time_column == "ts" else "ticks_v"
    return ml.load(
        FIXTURES / "time", con=con, vars={"t": {"ticks": table, "days": "days"}}, timezone=layer_tz
    )


def months(layer: ml.Layer) -> dict[str, pd.Timestamp]:
    df = layer.query("ticks", by="label", grain="month").to_pandas()
    return dict(zip(df["label"], df["month"], strict=True))


@pytest.mark.parametrize("session_tz", ["UTC", "Asia/Tokyo", "America/Los_Angeles"])
@pytest.mark.parametrize("column", ["ts", "tstz"])
def test_bucketing_ignores_the_session_timezone(session_tz: str, column: str) -> None:
    march, april = pd.Timestamp("2024-03-01"), pd.Timestamp("2024-04-01")
    utc = months(layer_for(session_tz, "UTC", column))
    assert utc == {"a": march, "b": april, "c": april, "d": april}
    ny = months(layer_for(session_tz, "America/New_York", column))  # EDT = UTC-4
    assert ny == {"a": march, "b": march, "c": march, "d": april}


@pytest.mark.parametrize("session_tz", ["UTC", "Asia/Tokyo"])
def test_hours_in_a_half_hour_offset_zone(session_tz: str) -> None:
    layer = layer_for(session_tz, "Asia/Kolkata")  # UTC+5:30
    df = layer.query("ticks", by="label", grain="hour").to_pandas()
    got = dict(zip(df["label"], df["hour"], strict=True))
    assert got["a"] == pd.Timestamp("2024-04-01 05:00")  # 05:00 IST
    assert got["d"] == pd.Timestamp("2024-04-01 09:00")  # 09:30 IST


def test_bounds_are_local_and_aware_bounds_are_converted() -> None:
    layer = layer_for("Asia/Tokyo", "America/New_York")
    # local April starts at 04:00 UTC: only d
    assert layer.query("ticks", start="2024-04-01").to_pandas()["ticks"].tolist() == [1]
    # an instant with an offset is the same instant whatever its notation
    for start in (
        "2024-04-01T03:30:00+00:00",
        dt.datetime(2024, 4, 1, 3, 30, tzinfo=dt.UTC),
        "2024-03-31T23:30:00-04:00",
    ):
        got = layer.query("ticks", by="label", start=start).to_pandas()
        assert sorted(got["label"]) == ["c", "d"], start


def test_dates_are_not_shifted() -> None:
    layer = layer_for("Asia/Tokyo", "America/New_York")
    df = layer.query("day_rows", grain="day").to_pandas()
    assert df["day"].tolist() == [pd.Timestamp("2024-04-01")]


def test_unknown_timezone_suggests() -> None:
    with pytest.raises(QueryError, match="America/New_York"):
        ml.load(
            FIXTURES / "time", vars={"t": {"ticks": "x", "days": "y"}}, timezone="America/New_Yrok"
        )
