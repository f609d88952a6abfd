"""Random event tables: layer.retention on DuckDB == a plain-pandas reading of the contract.

The oracle below is written from CONTRACT.md §3 (Retention) and docs/retention.md, row by
row with Python loops and pandas calendar arithmetic (DateOffset, weekday), deliberately
sharing nothing with the ibis implementation (no period indexes, no joins):

- observation ends at `as_of` (rows after it are not seen), else at the latest local time
  of any row; rows with a NULL entity are dropped;
- first_time: entry = the entity's first cohort event (over all observed time), kept only if
  start <= entry < end; recurring: one entry per calendar period with a cohort event, at the
  first cohort event of that period, same bounds;
- by value = the value on the entry event (ties at the entry instant: smallest, NULL last);
  for users.country, the user's country (NULL when the user has no users row);
- k = calendar period of an activity at or after the entry − the entry's period;
- exact counts entities with k in their set, rolling those with any k' >= k;
- rows for k = 0 … min(N, periods up to the last observed one) − 1, complete when the
  period after k starts at or before the end of observation.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metrics_layer as ml

PERIODS = ("day", "week", "month", "quarter")
SPREAD_HOURS = {"day": 24 * 12, "week": 24 * 7 * 9, "month": 24 * 30 * 7, "quarter": 24 * 91 * 6}
BASE = pd.Timestamp("2023-12-27 00:00")
ZONES = ("UTC", "America/New_York", "Asia/Kolkata")
ACTIVITY = {"session": ("session",), "any": ("signup", "session")}
COUNTRY = {1: "DE", 2: "FR", 3: None, 4: "DE"}  # user 5 has no users row: NULL through the join
BY = {"none": [], "platform": ["platform"], "country": ["users.country"]}

DEFS = """
version: 1
sources:
  events:
    table: events
    time: ts
    dimensions: {event_type: {}, platform: {}}
    joins:
      users: {keys: user_id, relationship: many_to_one}
  users:
    table: users
    primary_key: user_id
    dimensions: {country: {}}
retention:
{%- for period in ["day", "week", "month", "quarter"] %}
  {{ period }}_session:
    source: events
    entity: user_id
    cohort: "event_type = 'signup'"
    activity: "event_type = 'session'"
    period: {{ period }}
  {{ period }}_any:
    source: events
    entity: user_id
    cohort: "event_type = 'signup'"
    activity: "event_type IN ('signup', 'session')"
    period: {{ period }}
{%- endfor %}
"""

SCHEMA = pa.schema(
    [
        ("user_id", pa.int64()),
        ("event_type", pa.string()),
        ("ts", pa.timestamp("us")),
        ("platform", pa.string()),
    ]
)


# ------------------------------------------------------------------------------- the oracle
def _start(x: pd.Timestamp, period: str) -> pd.Timestamp:
    if period == "day":
        return x.normalize()
    if period == "week":
        return (x - pd.Timedelta(days=x.weekday())).normalize()
    month = x.month if period == "month" else 3 * ((x.month - 1) // 3) + 1
    return pd.Timestamp(x.year, month, 1)


def _between(later: pd.Timestamp, earlier: pd.Timestamp, period: str) -> int:
    if period == "day":
        return (later - earlier).days
    if period == "week":
        return (later - earlier).days // 7
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months if period == "month" else months // 3


def _shift(start: pd.Timestamp, n: int, period: str) -> pd.Timestamp:
    if period == "day":
        return start + pd.Timedelta(days=n)
    if period == "week":
        return start + pd.Timedelta(days=7 * n)
    return start + pd.DateOffset(months=n if period == "month" else 3 * n)


def oracle(
    ev: pd.DataFrame,
    *,
    period: str,
    activity: tuple[str, ...],
    mode: str,
    cohort_type: str,
    periods: int | None,
    by: str,
    tz: str,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    as_of: pd.Timestamp | None,
) -> list[tuple]:
    ev = ev.copy()
    if tz != "UTC":
        ev["ts"] = ev["ts"].dt.tz_localize("UTC").dt.tz_convert(tz).dt.tz_localize(None)
    if ev.empty:
        return []
    end_of_obs = as_of if as_of is not None else ev["ts"].max()
    ev = ev[(ev["ts"] <= end_of_obs) & ev["user_id"].notna()]
    last = _start(end_of_obs, period)
    sizes: dict[tuple, int] = {}
    active: dict[tuple, int] = {}
    for _, g in ev.groupby("user_id"):
        signups = g[g["event_type"] == "signup"]
        if signups.empty:
            continue
        if cohort_type == "first_time":
            candidates = [signups["ts"].min()]
        else:
            firsts: dict[pd.Timestamp, pd.Timestamp] = {}
            for t in signups["ts"]:
                p = _start(t, period)
                firsts[p] = min(firsts.get(p, t), t)
            candidates = list(firsts.values())
        acts = g[g["event_type"].isin(activity)]["ts"]
        for entry in candidates:
            if (start is not None and entry < start) or (end is not None and entry >= end):
                continue
            at_entry = [
                None if pd.isna(v) else v for v in signups[signups["ts"] == entry]["platform"]
            ]
            value = {
                "none": "-",
                "country": COUNTRY.get(int(g["user_id"].iloc[0])),
                "platform": sorted(at_entry, key=lambda v: (v is None, v or ""))[0],
            }[by]
            cohort = _start(entry, period)
            ks = {_between(_start(a, period), cohort, period) for a in acts if a >= entry}
            n = _between(last, cohort, period) + 1
            n = n if periods is None else min(n, periods)
            sizes[(cohort, value)] = sizes.get((cohort, value), 0) + 1
            for k in range(n):
                hit = k in ks if mode == "exact" else any(j >= k for j in ks)
                active[(cohort, value, k)] = active.get((cohort, value, k), 0) + int(hit)
    out = []
    for (cohort, value, k), n_active in active.items():
        size = sizes[(cohort, value)]
        complete = _shift(cohort, k + 1, period) <= end_of_obs
        out.append((cohort, value, size, k, n_active, complete))
    return sorted(out, key=_key)


def _key(row: tuple) -> tuple:
    return tuple((v is None, v) for v in row)


# ------------------------------------------------------------------------------- the layer
_LAYERS: dict[str, ml.Layer] = {}


def _layer(tmp: Path, tz: str) -> ml.Layer:
    if tz not in _LAYERS:
        con = ibis.duckdb.connect()
        con.raw_sql("SET TimeZone = 'UTC'")
        con.create_table("events", schema=ibis.schema(SCHEMA), overwrite=True)
        con.create_table(
            "users", pd.DataFrame({"user_id": list(COUNTRY), "country": list(COUNTRY.values())})
        )
        folder = tmp / "defs"
        folder.mkdir(exist_ok=True)
        (folder / "retention.yml").write_text(DEFS)
        _LAYERS[tz] = ml.load(folder, con=con, timezone=tz)
    return _LAYERS[tz]


def _run(layer: ml.Layer, ev: pd.DataFrame, name: str, by: str, **kwargs) -> list[tuple]:
    layer.con.create_table(
        "events", pa.Table.from_pandas(ev, schema=SCHEMA, preserve_index=False), overwrite=True
    )
    df = layer.retention(name, by=BY[by], **kwargs).to_pandas()
    out = []
    for r in df.to_dict("records"):
        assert r["retention"] == pytest.approx(r["active"] / r["cohort_size"])
        value = r[by] if by != "none" else "-"
        value = None if pd.isna(value) else value
        out.append(
            (
                pd.Timestamp(r["cohort"]),
                value,
                int(r["cohort_size"]),
                int(r["period"]),
                int(r["active"]),
                bool(r["complete"]),
            )
        )
    return sorted(out, key=_key)


# ------------------------------------------------------------------------------- strategies
@st.composite
def scenarios(draw: st.DrawFn, period: str) -> dict:
    spread = SPREAD_HOURS[period]
    step = 1 if period in ("day", "week") else 6
    instant = st.integers(0, spread // step).map(lambda h: BASE + pd.Timedelta(hours=h * step))
    row = st.tuples(
        st.sampled_from([1, 2, 3, 4, 5, None]),
        st.sampled_from(["signup", "signup", "session", "session", "visit"]),
        instant,
        st.sampled_from(["ios", "web", None]),
    )
    data = draw(st.lists(row, min_size=0, max_size=40))
    ev = pd.DataFrame(data, columns=["user_id", "event_type", "ts", "platform"])
    ev["user_id"] = ev["user_id"].astype("Int64")
    ev["ts"] = ev["ts"].astype("datetime64[us]")
    ev["platform"] = ev["platform"].astype(object)
    bound = st.one_of(st.none(), instant)
    start, end, as_of = draw(bound), draw(bound), draw(bound)
    if start is not None and end is not None and start >= end:
        start, end = None, end
    return {
        "ev": ev,
        "start": start,
        "end": end,
        "as_of": as_of,
        "tz": draw(st.sampled_from(ZONES)),
        "periods": draw(st.sampled_from([None, 1, 3, 12])),
        "activity": draw(st.sampled_from(sorted(ACTIVITY))),
        "by": draw(st.sampled_from(sorted(BY))),
    }


def _bound(ts: pd.Timestamp | None) -> dt.datetime | None:
    return None if ts is None else ts.to_pydatetime()


@pytest.mark.parametrize("cohort_type", ["first_time", "recurring"])
@pytest.mark.parametrize("mode", ["exact", "rolling"])
@pytest.mark.parametrize("period", PERIODS)
def test_retention_matches_the_pandas_oracle(tmp_path_factory, period, mode, cohort_type):
    tmp = tmp_path_factory.getbasetemp()

    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(s=scenarios(period))
    def check(s: dict) -> None:
        layer = _layer(tmp, s["tz"])
        got = _run(
            layer,
            s["ev"],
            f"{period}_{s['activity']}",
            s["by"],
            periods=s["periods"],
            mode=mode,
            cohort_type=cohort_type,
            start=_bound(s["start"]),
            end=_bound(s["end"]),
            as_of=_bound(s["as_of"]),
        )
        want = oracle(
            s["ev"],
            period=period,
            activity=ACTIVITY[s["activity"]],
            mode=mode,
            cohort_type=cohort_type,
            periods=s["periods"],
            by=s["by"],
            tz=s["tz"],
            start=s["start"],
            end=s["end"],
            as_of=s["as_of"],
        )
        assert got == want

    check()
