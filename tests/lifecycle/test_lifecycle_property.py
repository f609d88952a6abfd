"""Random event tables: lifecycle and stickiness on DuckDB == tests/lifecycle/reference.py.

Each property runs on calendar grains and on the fiscal grains of the 4-5-4 retail calendar
(tests/lifecycle/support.py): the data starts in the last weeks of fiscal 2023, a 53-week
year whose last quarter has 14 weeks and last month 5, so previous periods, zero-filled
grids and n ranges cross a 53-week year end. Planting "the previous fiscal period is the
period holding the same day one calendar quarter/month earlier" in lifecycle_compile makes
the fiscal lifecycle property fail.
"""

from __future__ import annotations

from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metrics_layer as ml
from tests.lifecycle import reference
from tests.lifecycle.support import DEFS

BASE = pd.Timestamp("2023-12-27 00:00")
SPREAD_HOURS = {"hour": 40, "day": 24 * 12, "week": 24 * 7 * 9, "month": 24 * 30 * 7,
                "quarter": 24 * 91 * 6, "year": 24 * 365 * 3, "fiscal_week": 24 * 7 * 9,
                "fiscal_month": 24 * 30 * 7, "fiscal_quarter": 24 * 91 * 6,
                "fiscal_year": 24 * 365 * 3}  # fmt: skip
GRAINS = {"calendar": ("hour", "day", "week", "month", "quarter", "year"),
          "fiscal": ("fiscal_week", "fiscal_month", "fiscal_quarter", "fiscal_year")}  # fmt: skip
ZONES = ("UTC", "America/New_York", "Asia/Kolkata")
COUNTRY = {1: "DE", 2: "FR", 3: None, 4: "DE"}  # user 5 has no users row
ACTIVITY = {"monthly": ("session",), "any_event": ("signup", "session")}
BY = {
    "none": ([], None),
    "platform": (["platform"], lambda row: None if pd.isna(row["platform"]) else row["platform"]),
    "country": (["users.country"], lambda row: COUNTRY.get(int(row["user_id"]))),
}
STICKY_HOURS = {"day": 24, "week": 24 * 7, "month": 24 * 31, "quarter": 24 * 92,
                "fiscal_week": 24 * 7, "fiscal_month": 24 * 35, "fiscal_quarter": 24 * 91,
                "fiscal_year": 24 * 364}  # fmt: skip
STICKY = {
    "calendar": (("week", "day"), ("month", "day"), ("day", "hour"), ("quarter", "month")),
    "fiscal": (("fiscal_week", "day"), ("fiscal_month", "day"), ("fiscal_week", "hour"),
               ("fiscal_quarter", "fiscal_week"), ("fiscal_month", "fiscal_week"),
               ("fiscal_year", "fiscal_month"), ("fiscal_year", "fiscal_quarter")),
}  # fmt: skip
SCHEMA = pa.schema([("user_id", pa.int64()), ("event_type", pa.string()),
                    ("ts", pa.timestamp("us")), ("platform", pa.string())])  # fmt: skip

_LAYERS: dict[str, ml.Layer] = {}


def _layer(tmp: Path, tz: str) -> ml.Layer:
    if tz not in _LAYERS:
        con = ibis.duckdb.connect()
        con.raw_sql("SET TimeZone = 'UTC'")
        con.create_table("events", schema=ibis.schema(SCHEMA), overwrite=True)
        con.create_table(
            "users", pd.DataFrame({"user_id": list(COUNTRY), "country": list(COUNTRY.values())})
        )
        folder = tmp / f"defs_{tz.replace('/', '_')}"
        folder.mkdir(exist_ok=True)
        (folder / "lifecycle.yml").write_text(DEFS)
        _LAYERS[tz] = ml.load(folder, con=con, timezone=tz, vars={"events": "events",
                                                                  "users": "users"})  # fmt: skip
    return _LAYERS[tz]


def frames(spread: int, users: int = 4, size: int = 30) -> st.SearchStrategy[pd.DataFrame]:
    row = st.tuples(
        st.one_of(st.none(), st.integers(1, users), st.integers(1, users)),
        st.sampled_from(["signup", "session", "session", "visit"]),
        st.integers(0, spread * 60).map(lambda m: BASE + pd.Timedelta(minutes=m)),
        st.sampled_from(["web", "ios", None]),
    )

    def build(rows: list) -> pd.DataFrame:
        df = pd.DataFrame(rows, columns=["user_id", "event_type", "ts", "platform"])
        df["user_id"] = df["user_id"].astype("Int64")
        df["ts"] = df["ts"].astype("datetime64[us]")
        return df

    return st.lists(row, min_size=0, max_size=size).map(build)


def _bounds(draw, spread: int) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    at = st.integers(0, spread).map(lambda h: BASE + pd.Timedelta(hours=h))
    cut = st.one_of(st.none(), at, at)  # a bound in two cases of three
    start, end = draw(cut), draw(cut)
    if start is not None and end is not None and end <= start:
        start, end = end, start + pd.Timedelta(hours=1) if end == start else start
    return start, end


@st.composite
def lifecycle_cases(draw, kind: str):
    grain = draw(st.sampled_from(GRAINS[kind]))
    ev = draw(frames(SPREAD_HOURS[grain]))
    return dict(ev=ev, grain=grain, name=draw(st.sampled_from(list(ACTIVITY))),
                by=draw(st.sampled_from(list(BY))), tz=draw(st.sampled_from(ZONES)),
                week_start=draw(st.sampled_from(["monday", "sunday", "wednesday"])),
                bounds=_bounds(draw, SPREAD_HOURS[grain]))  # fmt: skip


@st.composite
def stickiness_cases(draw, kind: str):
    grain, unit = draw(st.sampled_from(STICKY[kind]))
    # dense: three periods, three entities, so n reaches the top of the range
    ev = draw(frames(3 * STICKY_HOURS[grain], users=3, size=60))
    # a burst: one entity active on k consecutive units (reaches n = all units of a period)
    user = draw(st.integers(1, 3))
    first = BASE + pd.Timedelta(hours=draw(st.integers(0, 2 * STICKY_HOURS[grain])))
    k = draw(st.integers(0, 40))
    burst = [reference.step(first, unit, i) for i in range(k)]
    ev = pd.concat([ev, pd.DataFrame({"user_id": pd.array([user] * k, dtype="Int64"),
                                      "event_type": ["session"] * k, "ts": burst,
                                      "platform": ["web"] * k})])  # fmt: skip
    ev["ts"] = ev["ts"].astype("datetime64[us]")
    return dict(ev=ev, grain=grain, unit=unit, name=draw(st.sampled_from(list(ACTIVITY))),
                by=draw(st.sampled_from(list(BY))), tz=draw(st.sampled_from(ZONES)),
                week_start=draw(st.sampled_from(["monday", "sunday"])),
                bounds=_bounds(draw, SPREAD_HOURS[grain]))  # fmt: skip


def _rows(layer: ml.Layer, ev: pd.DataFrame, res_of, by: str) -> list[tuple]:
    layer.con.create_table(
        "events", pa.Table.from_pandas(ev, schema=SCHEMA, preserve_index=False), overwrite=True
    )
    res = res_of(layer)
    df = res.to_pandas()
    cols = list(df.columns)
    out = []
    for r in df.itertuples(index=False):
        value = "-" if by == "none" else (None if pd.isna(r[1]) else r[1])
        out.append((pd.Timestamp(r[0]), value, r[-2], int(r[-1])))
    assert cols[0] == res.query.grain.name
    return sorted(out, key=reference._key)


SETTINGS = settings(
    max_examples=int(__import__("os").environ.get("ML_LC_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.mark.parametrize("kind", list(GRAINS))
def test_lifecycle_matches_the_reference(tmp_path_factory, kind):
    @SETTINGS
    @given(case=lifecycle_cases(kind))
    def check(case):
        _lifecycle_case(tmp_path_factory, case)

    check()


@pytest.mark.parametrize("kind", list(STICKY))
def test_stickiness_matches_the_reference(tmp_path_factory, kind):
    @SETTINGS
    @given(case=stickiness_cases(kind))
    def check(case):
        _stickiness_case(tmp_path_factory, case)

    check()


def _lifecycle_case(tmp_path_factory, case):
    tmp = tmp_path_factory.getbasetemp()
    layer = _layer(tmp, case["tz"])
    start, end = case["bounds"]
    by_dims, by_fn = BY[case["by"]]
    got = _rows(
        layer,
        case["ev"],
        lambda lay: lay.lifecycle(
            case["name"],
            grain=case["grain"],
            start=start,
            end=end,
            by=by_dims,
            week_start=case["week_start"],
        ),  # fmt: skip
        case["by"],
    )
    want = reference.lifecycle(
        case["ev"], activity=ACTIVITY[case["name"]], grain=case["grain"], tz=case["tz"],
        week_start=reference.WEEKDAY[case["week_start"]], by=by_fn, start=start, end=end,
    )  # fmt: skip
    assert got == want


def _stickiness_case(tmp_path_factory, case):
    tmp = tmp_path_factory.getbasetemp()
    layer = _layer(tmp, case["tz"])
    start, end = case["bounds"]
    by_dims, by_fn = BY[case["by"]]
    got = _rows(
        layer,
        case["ev"],
        lambda lay: lay.stickiness(
            case["name"],
            grain=case["grain"],
            unit=case["unit"],
            start=start,
            end=end,
            by=by_dims,
            week_start=case["week_start"],
        ),  # fmt: skip
        case["by"],
    )
    want = reference.stickiness(
        case["ev"], activity=ACTIVITY[case["name"]], grain=case["grain"], unit=case["unit"],
        tz=case["tz"], week_start=reference.WEEKDAY[case["week_start"]], by=by_fn,
        start=start, end=end,
    )  # fmt: skip
    assert got == want


@pytest.mark.parametrize("grain", ["week", "month"])
def test_reference_agrees_on_a_known_case(grain):
    """The oracle itself on the hand-built 'dormant twice then back' data (monthly)."""
    ev = pd.DataFrame({"user_id": pd.array([1, 1, 1], dtype="Int64"),
                       "event_type": ["session"] * 3,
                       "ts": pd.to_datetime(["2024-01-05", "2024-01-06", "2024-04-02"]),
                       "platform": ["web"] * 3})  # fmt: skip
    rows = reference.lifecycle(ev, activity=("session",), grain=grain)
    dormant = [r for r in rows if r[2] == "dormant" and r[3]]
    resurrecting = [r for r in rows if r[2] == "resurrecting" and r[3]]
    assert len(dormant) == 1 and len(resurrecting) == 1
