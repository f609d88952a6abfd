"""Snapshots of the SQL generated for representative queries, in every dialect we render.

Each case is rendered with `Result.sql(dialect)` for duckdb, postgres, bigquery, snowflake,
trino, clickhouse and spark and compared with `tests/snapshots/sql/<case>.<dialect>.sql`, so
any change of the generated SQL shows up in review as a diff of those files. Where a dialect
has no exact formulation (an ASOF join on Trino, an exact median on BigQuery, a time zone
conversion on ClickHouse), the case states the QueryError expected instead.

To accept a change, rewrite the snapshots and review the diff:

    ML_UPDATE_SNAPSHOTS=1 PYTHONPATH=. .venv/bin/python -m pytest tests/unit/test_sql_snapshots.py
    # or: pytest tests/unit/test_sql_snapshots.py --update-snapshots

Besides the snapshots: every rendered SQL parses back with sqlglot in its dialect; the DuckDB
SQL run directly on DuckDB gives the rows of `res.to_pandas()`; and with the harness's
PostgreSQL and Spark (`--backends`), the SQL rendered from a DuckDB-bound layer runs there and
gives the same rows, as does SQL rendered for DuckDB from a layer bound to those backends.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pandas as pd
import pytest
import sqlglot

import metrics_layer as ml
from metrics_layer.demo.generate import all_table_names, generate
from metrics_layer.errors import QueryError
from metrics_layer.result import Result
from tests.backends import (
    Backend,
    arrow_to_frame,
    assert_frames_equal,
)

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = ROOT / "tests" / "snapshots"
SQL_DIR = SNAPSHOTS / "sql"
DEFS = {"demo": ROOT / "metric_defs", "rides": SNAPSHOTS / "defs"}
DIALECTS = ("duckdb", "postgres", "bigquery", "snowflake", "trino", "clickhouse", "spark")
UPDATE_HINT = (
    "to accept the new SQL, run `ML_UPDATE_SNAPSHOTS=1 PYTHONPATH=. .venv/bin/python "
    "-m pytest tests/unit/test_sql_snapshots.py` (or pass --update-snapshots) and "
    "review the diff of tests/snapshots/sql/"
)

Layers = Callable[..., ml.Layer]


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Layers], Result]
    refuses: Mapping[str, str] = field(default_factory=dict)  # dialect -> text of the QueryError


ASOF = "ASOF join"
CASES = (
    Case("count_distinct_by_month", lambda L: L().query(["app_active_workers"], grain="month")),
    Case(
        "ratio_two_sources_by_joined_dimension",
        lambda L: L().query(["task_fill_rate"], by=["tasks.region"], grain="month"),
    ),
    Case(
        "derived_metric",
        lambda L: L().query(
            ["revenue_per_active_worker", "hourly_rate"], by=["workers.country"], grain="quarter"
        ),
    ),
    Case(
        "where_on_joined_dimension",
        lambda L: L().query(
            ["revenue", "hours"],
            grain="month",
            where="workers.country = 'US'",
            start="2024-04-01",
            end="2025-01-01",
        ),
    ),
    Case(
        "role_playing_multi_hop",
        lambda L: L("rides").query(
            ["trips", "fare_per_trip"],
            by=["pickup.city.country", "dropoff.borough"],
            grain="month",
            where="pickup.borough <> dropoff.borough",
        ),
    ),
    Case(
        "cumulative_rolling_window",
        lambda L: L().query(
            ["active_workers_28d"], grain="week", start="2024-03-04", end="2024-06-03"
        ),
    ),
    Case(
        "offset_and_growth",
        lambda L: L().query(
            ["revenue", "revenue_prev_month", "revenue_mom"],
            grain="month",
            start="2024-06-01",
            end="2025-01-01",
        ),
    ),
    Case(
        "share_of_period",
        lambda L: L().query(["revenue", "revenue_share"], by=["workers.country"], grain="quarter"),
    ),
    Case(
        "semi_additive_last_balance",
        lambda L: L("rides").query(["balance", "postings"], grain="month"),
    ),
    Case(
        "timezone_day_buckets",
        lambda L: L(tz="America/New_York").query(
            ["app_active_workers"], grain="day", start="2024-03-08", end="2024-03-12"
        ),
        refuses={"clickhouse": "time zone"},
    ),
    Case("retention_monthly", lambda L: L().retention("worker_retention", periods=6)),
    Case(
        "funnel_window_strategy",
        lambda L: L().funnel("onboarding", strategy="window"),
        refuses={"bigquery": "Median", "trino": "Median"},
    ),
    Case(
        "funnel_asof_strategy",
        lambda L: L().funnel("onboarding"),
        refuses={"bigquery": ASOF, "trino": ASOF, "spark": ASOF},
    ),
)
BY_NAME = {c.name: c for c in CASES}


# --------------------------------------------------------------------------- data


def ride_frames() -> dict[str, pd.DataFrame]:
    """Small tables for tests/snapshots/defs (role-playing zones, balances)."""
    cities = pd.DataFrame({"city_id": [1, 2, 3], "country": ["US", "US", "CA"]})
    zones = pd.DataFrame(
        {
            "zone_id": [10, 11, 12, 13, 14],
            "borough": ["Manhattan", "Brooklyn", "Manhattan", "Downtown", None],
            "city_id": [1, 1, 2, 3, 3],
        }
    )
    trips = pd.DataFrame(
        {
            "trip_id": range(1, 11),
            "started_at": pd.to_datetime(
                [
                    "2024-01-03 08:00",
                    "2024-01-03 09:30",
                    "2024-01-17 23:59",
                    "2024-01-31 23:59",
                    "2024-02-01 00:00",
                    "2024-02-14 12:00",
                    "2024-02-20 18:45",
                    "2024-03-02 07:10",
                    "2024-03-02 07:10",
                    "2024-03-30 22:00",
                ]
            ),
            "vehicle": ["car", "bike", "car", "car", "bike", "car", "car", "bike", "car", "car"],
            "rider_id": [1, 2, 1, 3, 2, 4, 1, 5, 5, None],
            "pickup_zone": [10, 11, 12, 13, 10, 14, 11, 10, 12, 13],
            "dropoff_zone": [11, 11, 10, 14, 12, 13, 10, 12, 12, None],
            "fare": [12.5, 4.0, 30.25, 18.0, 3.5, 22.0, 15.75, 2.0, 9.99, 40.0],
        }
    )
    trips["rider_id"] = trips["rider_id"].astype("Int64")
    trips["dropoff_zone"] = trips["dropoff_zone"].astype("Int64")
    balances = pd.DataFrame(
        {
            "account": [1, 1, 1, 2, 2, 2, 3],
            "ts": pd.to_datetime(
                [
                    "2024-01-05 00:00",
                    "2024-01-31 23:00",
                    "2024-02-10 00:00",
                    "2024-01-10 08:00",
                    "2024-01-10 08:00",
                    "2024-02-28 00:00",
                    "2024-02-01 00:00",
                ]
            ),
            "amount": [100.0, 120.0, 200.0, 50.0, 5.0, 70.0, 10.0],
        }
    )
    return {"cities": cities, "zones": zones, "trips": trips, "balances": balances}


@pytest.fixture(scope="module")
def duck_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file with the demo tables (20k events) and the rides fixture tables."""
    path = tmp_path_factory.mktemp("snapshots") / "demo.duckdb"
    generate(path, events=20_000)
    con = duckdb.connect(str(path))
    try:
        for name, frame in ride_frames().items():
            con.register("_frame", frame)
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _frame')
            con.unregister("_frame")
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def duck(duck_path: Path) -> Iterator[Any]:
    con = ibis.duckdb.connect(str(duck_path), read_only=True)
    con.raw_sql("SET TimeZone = 'UTC'")
    yield con
    con.disconnect()


def layer_factory(con: Any) -> Layers:
    cache: dict[tuple[str, str], ml.Layer] = {}

    def get(defs: str = "demo", tz: str = "UTC") -> ml.Layer:
        if (defs, tz) not in cache:
            cache[(defs, tz)] = ml.load(DEFS[defs], con=con, timezone=tz)
        return cache[(defs, tz)]

    return get


@pytest.fixture(scope="module")
def layers(duck: Any) -> Layers:
    return layer_factory(duck)


@pytest.fixture(scope="module")
def results(layers: Layers) -> Callable[[str], Result]:
    cache: dict[str, Result] = {}

    def get(name: str) -> Result:
        if name not in cache:
            cache[name] = BY_NAME[name].build(layers)
        return cache[name]

    return get


# --------------------------------------------------------------------------- helpers


_MEMTABLE = re.compile(r"\bibis_([a-z_]+?)_([a-z2-7]{26})\b")
_GUID = re.compile(r"'[0-9a-f]{32}'")


def normalise(sql: str) -> str:
    """Replace ibis's random names (memtables, unnest sentinels) by numbered placeholders."""
    seen: dict[str, str] = {}

    def number(kind: str, text: str) -> str:
        return seen.setdefault(text, f"{kind}{sum(v.startswith(kind) for v in seen.values()) + 1}")

    sql = _MEMTABLE.sub(lambda m: f"ibis_{m.group(1)}_" + number("n", m.group(0)), sql)
    sql = _GUID.sub(lambda m: "'<guid-" + number("g", m.group(0)) + ">'", sql)
    return "\n".join(line.rstrip() for line in sql.strip().splitlines()) + "\n"


def updating(config: pytest.Config) -> bool:
    flag = os.environ.get("ML_UPDATE_SNAPSHOTS", "").strip().lower() not in ("", "0", "false", "no")
    with contextlib.suppress(ValueError):
        flag = flag or bool(config.getoption("--update-snapshots"))
    return flag


def snapshot_path(case: str, dialect: str) -> Path:
    return SQL_DIR / f"{case}.{dialect}.sql"


_rendered: dict[tuple[str, str], str] = {}


def render(results: Callable[[str], Result], case: str, dialect: str) -> str:
    key = (case, dialect)
    if key not in _rendered:
        _rendered[key] = normalise(results(case).sql(dialect))
    return _rendered[key]


def expected_pairs() -> list[tuple[str, str]]:
    return [(c.name, d) for c in CASES for d in DIALECTS if d not in c.refuses]


def raw_duckdb(con: Any, sql: str) -> pd.DataFrame:
    cur = con.con.cursor()
    try:
        return cur.execute(sql).fetchdf()
    finally:
        cur.close()


# --------------------------------------------------------------------------- snapshots


@pytest.mark.parametrize(("case", "dialect"), expected_pairs(), ids=lambda v: v)
def test_sql_snapshot(
    request: pytest.FixtureRequest, results: Callable[[str], Result], case: str, dialect: str
) -> None:
    sql = render(results, case, dialect)
    path = snapshot_path(case, dialect)
    if updating(request.config):
        if not path.exists() or path.read_text() != sql:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(sql)
        return
    if not path.exists():
        pytest.fail(f"no snapshot {path.relative_to(ROOT)} yet; {UPDATE_HINT}", pytrace=False)
    want = path.read_text()
    if want != sql:
        diff = "".join(
            difflib.unified_diff(
                want.splitlines(True),
                sql.splitlines(True),
                fromfile=f"{path.relative_to(ROOT)} (snapshot)",
                tofile=f"{case} rendered for {dialect} (now)",
                n=2,
            )
        )
        pytest.fail(
            f"the generated {dialect} SQL of {case!r} changed:\n{diff}\n{UPDATE_HINT}",
            pytrace=False,
        )


@pytest.mark.parametrize(("case", "dialect"), expected_pairs(), ids=lambda v: v)
def test_sql_parses_in_its_dialect(
    results: Callable[[str], Result], case: str, dialect: str
) -> None:
    sql = render(results, case, dialect)
    statements = sqlglot.parse(sql, read=dialect)
    assert len([s for s in statements if s is not None]) == 1


@pytest.mark.parametrize(
    ("case", "dialect"), [(c.name, d) for c in CASES for d in c.refuses], ids=lambda v: v
)
def test_dialects_without_an_exact_formulation_refuse(
    results: Callable[[str], Result], case: str, dialect: str
) -> None:
    with pytest.raises(QueryError, match=re.escape(BY_NAME[case].refuses[dialect])):
        results(case).sql(dialect)
    assert not snapshot_path(case, dialect).exists(), "a stale snapshot for a refused dialect"


def test_no_orphan_snapshots(request: pytest.FixtureRequest) -> None:
    wanted = {snapshot_path(c, d).name for c, d in expected_pairs()}
    orphans = sorted(p for p in SQL_DIR.glob("*.sql") if p.name not in wanted)
    if orphans and updating(request.config):
        for p in orphans:
            p.unlink()
        return
    assert not orphans, f"snapshots of no case/dialect: {[p.name for p in orphans]}; {UPDATE_HINT}"


def test_snapshots_are_deterministic(layers: Layers) -> None:
    """ibis numbers its aliases per expression, so a rebuilt query renders the same text."""
    for name in ("offset_and_growth", "cumulative_rolling_window", "funnel_asof_strategy"):
        for dialect in ("duckdb", "snowflake"):
            first, again = (normalise(BY_NAME[name].build(layers).sql(dialect)) for _ in range(2))
            assert first == again, (name, dialect)


# --------------------------------------------------------------------------- same rows


@pytest.mark.parametrize("case", [c.name for c in CASES])
def test_duckdb_sql_gives_the_result_rows(
    duck: Any, results: Callable[[str], Result], case: str
) -> None:
    res = results(case)
    got = raw_duckdb(duck, res.sql("duckdb"))
    want = res.to_pandas()
    assert len(want) > 0
    assert_frames_equal(got, want, sort_by=True)


def _load_everywhere(backend: Backend, duck: Any) -> Iterator[Backend]:
    """The demo and rides tables under their plain names: a fresh schema on PostgreSQL (its
    search_path), temporary views on Spark (dropped afterwards)."""
    tables = all_table_names() + list(ride_frames())
    frames = {t: duck.table(t).to_pyarrow() for t in tables}
    if backend.name == "postgres":
        with backend.fresh_connection() as con:
            schema = f"ml_snap_{uuid.uuid4().hex[:10]}"
            con.raw_sql(f'CREATE SCHEMA "{schema}"')
            con.raw_sql(f'SET search_path TO "{schema}"')
            try:
                scoped = Backend("postgres", con)
                scoped.load(frames)
                yield scoped
            finally:
                con.raw_sql(f'DROP SCHEMA "{schema}" CASCADE')
    else:
        backend.load(frames)
        try:
            yield backend
        finally:
            backend.drop(*tables)


@pytest.fixture(scope="module")
def loaded(backend: Backend, duck: Any) -> Iterator[Backend]:
    yield from _load_everywhere(backend, duck)


def run_raw(be: Backend, sql: str) -> pd.DataFrame:
    if be.name == "pyspark":
        return arrow_to_frame(be.spark.sql(sql).toArrow())
    if be.name == "postgres":
        with be.con.con.cursor() as cur:
            cur.execute(sql)
            cols = [d.name for d in cur.description]
            return pd.DataFrame(cur.fetchall(), columns=cols)
    return raw_duckdb(be.con, sql)


ENGINE_DIALECT = {"postgres": "postgres", "pyspark": "spark"}


@pytest.mark.backends("postgres", "pyspark")
@pytest.mark.parametrize("case", [c.name for c in CASES])
def test_rendered_sql_runs_on_the_backend(
    loaded: Backend, results: Callable[[str], Result], case: str
) -> None:
    """SQL rendered from the DuckDB-bound layer, run on PostgreSQL / Spark: the same rows."""
    dialect = ENGINE_DIALECT[loaded.name]
    if dialect in BY_NAME[case].refuses:
        pytest.skip(f"{case} has no {dialect} formulation")
    res = results(case)
    assert_frames_equal(run_raw(loaded, res.sql(dialect)), res.expr.execute(), sort_by=True)


@pytest.mark.backends("postgres", "pyspark")
@pytest.mark.parametrize("case", [c.name for c in CASES if c.name != "funnel_asof_strategy"])
def test_sql_for_duckdb_from_a_backend_layer(
    loaded: Backend, duck: Any, results: Callable[[str], Result], case: str
) -> None:
    """The reverse: a layer bound to PostgreSQL / Spark renders DuckDB SQL that DuckDB runs
    to the same rows (Spark's from_utc_timestamp/unix_micros become DuckDB functions)."""
    res = BY_NAME[case].build(layer_factory(loaded.con))
    assert_frames_equal(
        raw_duckdb(duck, res.sql("duckdb")), results(case).expr.execute(), sort_by=True
    )


# --------------------------------------------------------------------------- dialect rules


def test_clickhouse_percentiles_are_exact(tmp_path: Path, layers: Layers) -> None:
    """ClickHouse's `quantile` samples; the rendered SQL uses quantileExactInclusive."""
    (tmp_path / "p.yml").write_text(
        "version: 1\nsources:\n  trips:\n    table: trips\n    time: started_at\n"
        "    measures:\n      p90: {agg: percentile, expr: fare, p: 0.9}\n"
        "      med: {agg: median, expr: fare}\n"
        "metrics:\n  p90_fare: {measure: trips.p90}\n  median_fare: {measure: trips.med}\n"
    )
    layer = ml.load(tmp_path, con=layers("rides").con)
    sql = layer.query(["p90_fare", "median_fare"], grain="month").sql("clickhouse")
    assert "quantileExactInclusive(0.9)" in sql and "quantile(" not in sql
    for dialect in ("bigquery", "trino"):  # no exact median aggregate: refused, not transpiled
        with pytest.raises(QueryError, match="median"):
            layer.query(["median_fare"]).sql(dialect)


def test_unknown_dialect_is_a_query_error(results: Callable[[str], Result]) -> None:
    with pytest.raises(QueryError, match="nosuchdialect"):
        results("count_distinct_by_month").sql("nosuchdialect")


def test_sqlglot_only_dialect_transpiles_plain_queries(results: Callable[[str], Result]) -> None:
    """A dialect ibis does not compile (Redshift) is transpiled from DuckDB by sqlglot, but
    not when backend-specific functions would be copied through unchanged."""
    assert "COUNT(DISTINCT" in results("count_distinct_by_month").sql("redshift")
    with pytest.raises(QueryError, match="epoch_us"):
        results("funnel_window_strategy").sql("redshift")
