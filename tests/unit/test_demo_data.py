"""The demo marketplace data: deterministic, internally consistent, and planted issues on demand.

Examples, docs and benchmarks rely on these properties (funnels reconcile with assignments,
SCD history is well formed, data-quality checks find exactly the planted problems).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from metrics_layer.demo import generate, table_names

EVENTS = 50_000
SEED = 7


@pytest.fixture(scope="module")
def dbs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Planted, clean and repeated databases generated once for the module."""
    root = tmp_path_factory.mktemp("demo")
    paths = {k: root / f"{k}.duckdb" for k in ("planted", "clean", "repeat", "other")}
    generate(paths["planted"], events=EVENTS, seed=SEED)
    generate(paths["clean"], events=EVENTS, seed=SEED, plant_issues=False)
    generate(paths["repeat"], events=EVENTS, seed=SEED)
    generate(paths["other"], events=EVENTS, seed=SEED + 1)
    return paths


@pytest.fixture(scope="module")
def con(dbs: dict[str, Path]) -> duckdb.DuckDBPyConnection:
    """Read-only connection to the planted database."""
    c = duckdb.connect(str(dbs["planted"]), read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def clean(dbs: dict[str, Path]) -> duckdb.DuckDBPyConnection:
    """Read-only connection to the database generated without planted issues."""
    c = duckdb.connect(str(dbs["clean"]), read_only=True)
    yield c
    c.close()


def one(c: duckdb.DuckDBPyConnection, sql: str) -> object:
    """The single value of a scalar query."""
    return c.execute(sql).fetchone()[0]


def checksums(path: Path) -> dict[str, tuple[int, int]]:
    """(row count, sum of row hashes) per table: equal iff the data is equal in practice."""
    with duckdb.connect(str(path), read_only=True) as c:
        return {
            t: c.execute(f"SELECT count(*), sum(hash(x)) FROM {t} x").fetchone()
            for t in table_names()
        }


SCHEMA = {
    "workers": [
        ("worker_id", "BIGINT"),
        ("name", "VARCHAR"),
        ("country", "VARCHAR"),
        ("skill", "VARCHAR"),
        ("skill_level", "VARCHAR"),
        ("rating", "DOUBLE"),
        ("tier", "VARCHAR"),
        ("signup_at", "TIMESTAMP"),
    ],
    "worker_history": [
        ("worker_id", "BIGINT"),
        ("skill_level", "VARCHAR"),
        ("rating", "DOUBLE"),
        ("tier", "VARCHAR"),
        ("valid_from", "TIMESTAMP"),
        ("valid_to", "TIMESTAMP"),
    ],
    "tasks": [
        ("task_id", "BIGINT"),
        ("client_id", "BIGINT"),
        ("category", "VARCHAR"),
        ("region", "VARCHAR"),
        ("posted_at", "TIMESTAMP"),
        ("budget", "DECIMAL(12,2)"),
    ],
    "assignments": [
        ("assignment_id", "BIGINT"),
        ("task_id", "BIGINT"),
        ("worker_id", "BIGINT"),
        ("accepted_at", "TIMESTAMP"),
        ("completed_at", "TIMESTAMP"),
        ("hours", "DECIMAL(8,2)"),
        ("revenue", "DECIMAL(12,2)"),
    ],
    "payments": [
        ("payment_id", "BIGINT"),
        ("assignment_id", "BIGINT"),
        ("amount", "DECIMAL(12,2)"),
        ("paid_at", "TIMESTAMP"),
    ],
    "events": [
        ("event_id", "BIGINT"),
        ("worker_id", "BIGINT"),
        ("event_type", "VARCHAR"),
        ("ts", "TIMESTAMP"),
        ("platform", "VARCHAR"),
        ("task_id", "BIGINT"),
    ],
}

PRIMARY_KEYS = {
    "workers": "worker_id",
    "tasks": "task_id",
    "assignments": "assignment_id",
    "payments": "payment_id",
    "events": "event_id",
}


def test_table_names_and_counts(tmp_path: Path) -> None:
    messages: list[str] = []
    counts = generate(tmp_path / "d.duckdb", events=10_000, seed=3, progress=messages.append)
    assert list(counts) == table_names() == list(SCHEMA)
    assert len(messages) == len(SCHEMA) and all(
        t in m for t, m in zip(SCHEMA, messages, strict=True)
    )
    with duckdb.connect(str(tmp_path / "d.duckdb"), read_only=True) as c:
        for t, n in counts.items():
            assert one(c, f"SELECT count(*) FROM {t}") == n
    assert counts["workers"] == 10_000 // 50
    assert 0.9 * 10_000 <= counts["events"] <= 1.1 * 10_000
    assert 0.8 * 10_000 / 40 <= counts["tasks"] <= 1.2 * 10_000 / 40
    with pytest.raises(ValueError):
        generate(tmp_path / "tiny.duckdb", events=10)


def test_regenerating_replaces_tables(tmp_path: Path) -> None:
    path = tmp_path / "new_dir" / "d.duckdb"
    generate(path, events=5_000, seed=1)
    counts = generate(path, events=2_000, seed=1)
    with duckdb.connect(str(path), read_only=True) as c:
        assert one(c, "SELECT count(*) FROM workers") == counts["workers"] == 40


def test_deterministic_for_a_seed(dbs: dict[str, Path]) -> None:
    planted = checksums(dbs["planted"])
    assert planted == checksums(dbs["repeat"])
    other = checksums(dbs["other"])
    assert all(planted[t] != other[t] for t in table_names())


def test_schema(con: duckdb.DuckDBPyConnection) -> None:
    for table, columns in SCHEMA.items():
        got = con.execute(f"DESCRIBE {table}").fetchall()
        assert [(r[0], r[1]) for r in got] == columns, table


def test_primary_keys_unique_and_not_null(con: duckdb.DuckDBPyConnection) -> None:
    for table, key in PRIMARY_KEYS.items():
        n, distinct, nulls = con.execute(
            f"SELECT count(*), count(DISTINCT {key}), count(*) - count({key}) FROM {table}"
        ).fetchone()
        assert n == distinct and nulls == 0, table


def test_not_null_columns(con: duckdb.DuckDBPyConnection) -> None:
    nullable = {
        ("workers", "rating"),
        ("worker_history", "rating"),
        ("worker_history", "valid_to"),
        ("assignments", "completed_at"),
        ("events", "worker_id"),
        ("events", "task_id"),
    }
    for table, columns in SCHEMA.items():
        for col, _ in columns:
            if (table, col) not in nullable:
                assert one(con, f"SELECT count(*) FROM {table} WHERE {col} IS NULL") == 0, (
                    table,
                    col,
                )
    assert (
        0
        < one(con, "SELECT count(*) FROM workers WHERE rating IS NULL")
        < one(con, "SELECT count(*) / 2 FROM workers")
    )


ORPHAN_ASSIGNMENTS = "SELECT count(*) FROM assignments a ANTI JOIN workers USING (worker_id)"
ORPHAN_EVENTS = (
    "SELECT count(*) FROM events e ANTI JOIN workers USING (worker_id) WHERE worker_id IS NOT NULL"
)


def test_referential_integrity(
    con: duckdb.DuckDBPyConnection, clean: duckdb.DuckDBPyConnection
) -> None:
    for c in (con, clean):
        assert one(c, "SELECT count(*) FROM assignments ANTI JOIN tasks USING (task_id)") == 0
        assert (
            one(c, "SELECT count(*) FROM payments ANTI JOIN assignments USING (assignment_id)") == 0
        )
        assert (
            one(c, "SELECT count(*) FROM worker_history ANTI JOIN workers USING (worker_id)") == 0
        )
        assert (
            one(c, "SELECT count(*) FROM workers ANTI JOIN worker_history USING (worker_id)") == 0
        )
        assert (
            one(
                c,
                "SELECT count(*) FROM events ANTI JOIN tasks USING (task_id) WHERE task_id IS NOT NULL",
            )
            == 0
        )
    assert one(clean, ORPHAN_ASSIGNMENTS) == 0
    assert one(clean, ORPHAN_EVENTS) == 0


def test_planted_orphans(con: duckdb.DuckDBPyConnection) -> None:
    n = one(con, "SELECT count(*) FROM assignments")
    orphans = one(con, ORPHAN_ASSIGNMENTS)
    assert 1 <= orphans <= max(1, round(0.005 * n))
    # Orphan ids lie above every real worker_id (workers that do not exist).
    assert one(
        con, "SELECT min(worker_id) FROM assignments ANTI JOIN workers USING (worker_id)"
    ) > one(con, "SELECT max(worker_id) FROM workers")
    # Only the orphan assignments' own events carry those ids.
    orphan_events = one(con, ORPHAN_EVENTS)
    assert orphan_events > 0
    assert (
        one(
            con,
            f"""{ORPHAN_EVENTS} AND (event_type NOT IN
        ('application', 'task_accepted', 'task_completed')
        OR worker_id NOT IN (SELECT worker_id FROM assignments))""",
        )
        == 0
    )


def test_worker_history_is_scd2(con: duckdb.DuckDBPyConnection) -> None:
    assert (
        one(
            con,
            """
        SELECT count(*) FROM (
          SELECT worker_id, valid_from, valid_to,
                 lead(valid_from) OVER w AS next_from,
                 row_number() OVER w AS rn, count(*) OVER (PARTITION BY worker_id) AS n
          FROM worker_history WINDOW w AS (PARTITION BY worker_id ORDER BY valid_from))
        WHERE (rn < n AND (valid_to IS NULL OR valid_to <> next_from))
           OR (rn = n AND valid_to IS NOT NULL)
           OR valid_to <= valid_from OR n > 4""",
        )
        == 0
    )
    assert (
        one(
            con,
            """SELECT count(*) FROM workers w JOIN (
        SELECT worker_id, min(valid_from) AS first_from FROM worker_history GROUP BY 1) h
        USING (worker_id) WHERE h.first_from <> w.signup_at""",
        )
        == 0
    )
    assert (
        one(
            con,
            """SELECT count(*) FROM workers w JOIN worker_history h
        ON h.worker_id = w.worker_id AND h.valid_to IS NULL
        WHERE h.skill_level <> w.skill_level OR h.tier <> w.tier
           OR h.rating IS DISTINCT FROM w.rating""",
        )
        == 0
    )
    assert one(con, "SELECT count(*) FROM worker_history WHERE valid_to IS NULL") == one(
        con, "SELECT count(*) FROM workers"
    )
    # Versions only move up, and enough workers change for point-in-time to matter.
    assert (
        one(
            con,
            """SELECT count(*) FROM (
        SELECT list_position(['junior','mid','senior'], skill_level) AS lv,
               list_position(['bronze','silver','gold'], tier) AS tr,
               lag(lv) OVER w AS plv, lag(tr) OVER w AS ptr
        FROM worker_history WINDOW w AS (PARTITION BY worker_id ORDER BY valid_from))
        WHERE lv < plv OR tr < ptr""",
        )
        == 0
    )
    multi = one(
        con, "SELECT count(DISTINCT worker_id) FROM worker_history WHERE valid_to IS NOT NULL"
    )
    assert multi > 0.2 * one(con, "SELECT count(*) FROM workers")


def test_time_ordering(con: duckdb.DuckDBPyConnection) -> None:
    assert (
        one(
            con,
            """SELECT count(*) FROM assignments a JOIN tasks t USING (task_id)
        WHERE NOT (t.posted_at < a.accepted_at)
           OR a.completed_at <= a.accepted_at""",
        )
        == 0
    )
    assert (
        one(
            con,
            """SELECT count(*) FROM assignments a JOIN workers w USING (worker_id)
        WHERE w.signup_at > a.accepted_at""",
        )
        == 0
    )
    assert (
        one(
            con,
            """SELECT count(*) FROM payments p JOIN assignments a USING (assignment_id)
        WHERE p.paid_at <= a.completed_at""",
        )
        == 0
    )
    for table, col in [
        ("workers", "signup_at"),
        ("tasks", "posted_at"),
        ("assignments", "accepted_at"),
        ("assignments", "completed_at"),
        ("payments", "paid_at"),
        ("events", "ts"),
    ]:
        lo, hi = con.execute(f"SELECT min({col}), max({col}) FROM {table}").fetchone()
        assert str(lo) >= "2024-01-01" and str(hi) < "2025-07-01", (table, col)


def test_growth_and_weekly_seasonality(con: duckdb.DuckDBPyConnection) -> None:
    first, last = con.execute("""SELECT
        count(*) FILTER (WHERE signup_at < '2024-04-01'),
        count(*) FILTER (WHERE signup_at >= '2025-04-01') FROM workers""").fetchone()
    assert last > 1.8 * first
    by_day = dict(con.execute("SELECT dayofweek(ts), count(*) FROM events GROUP BY 1").fetchall())
    assert by_day[6] > 1.2 * by_day[0]  # Saturday busier than Sunday


def test_tasks_and_fan_out(con: duckdb.DuckDBPyConnection) -> None:
    filled = one(
        con, "SELECT count(DISTINCT task_id) / (SELECT count(*) FROM tasks) FROM assignments"
    )
    assert 0.75 <= filled <= 0.85
    multi = one(
        con, "SELECT count(*) FROM (SELECT task_id FROM assignments GROUP BY 1 HAVING count(*) > 1)"
    )
    assert multi > 0
    # A re-assignment follows a cancelled (never completed) assignment by another worker.
    assert (
        one(
            con,
            """SELECT count(*) FROM (
        SELECT worker_id, completed_at, lead(worker_id) OVER w AS next_worker,
               row_number() OVER w AS rn, count(*) OVER (PARTITION BY task_id) AS n
        FROM assignments WINDOW w AS (PARTITION BY task_id ORDER BY accepted_at))
        WHERE rn < n AND (completed_at IS NOT NULL OR next_worker = worker_id)""",
        )
        == 0
    )
    assert one(con, "SELECT count(*) FROM assignments WHERE completed_at IS NULL") > 0
    assert set(r[0] for r in con.execute("SELECT DISTINCT category FROM tasks").fetchall()) == set(
        r[0] for r in con.execute("SELECT DISTINCT skill FROM workers").fetchall()
    )


def test_payments(con: duckdb.DuckDBPyConnection, clean: duckdb.DuckDBPyConnection) -> None:
    for c in (con, clean):
        assert (
            one(c, "SELECT count(*) FROM assignments WHERE completed_at IS NOT NULL")
            == one(c, "SELECT count(DISTINCT assignment_id) FROM payments")
            == one(c, "SELECT count(*) FROM payments")
        )
        assert (
            one(
                c,
                """SELECT count(*) FROM payments JOIN assignments USING (assignment_id)
            WHERE completed_at IS NULL""",
            )
            == 0
        )
    mismatch = """SELECT count(*) FROM payments p JOIN assignments a USING (assignment_id)
        WHERE p.amount <> a.revenue"""
    assert one(con, mismatch) == 10
    assert one(clean, mismatch) == 0


def test_visit_spike(con: duckdb.DuckDBPyConnection, clean: duckdb.DuckDBPyConnection) -> None:
    daily = """SELECT ts::DATE AS d, count(*) AS n FROM events WHERE event_type = 'visit'
        GROUP BY 1"""
    planted = dict(con.execute(daily).fetchall())
    base = dict(clean.execute(daily).fetchall())
    spike = __import__("datetime").date(2025, 3, 14)
    assert 4 <= planted[spike] / base[spike] <= 6.5
    assert {d: n for d, n in planted.items() if d != spike} == {
        d: n for d, n in base.items() if d != spike
    }
    around = sorted(n for d, n in base.items() if abs((d - spike).days) <= 14 and d != spike)
    assert planted[spike] > 3 * around[len(around) // 2]


def test_event_mix(con: duckdb.DuckDBPyConnection) -> None:
    mix = dict(
        con.execute(
            "SELECT event_type, count(*) / (SELECT count(*) FROM events) FROM events GROUP BY 1"
        ).fetchall()
    )
    assert set(mix) == {
        "visit",
        "signup",
        "profile_completed",
        "application",
        "task_accepted",
        "task_completed",
        "session",
    }
    assert mix["session"] > 0.6 and max(mix, key=mix.get) == "session"
    assert 0.05 < mix["visit"] < 0.2
    assert (
        one(
            con,
            """SELECT count(*) FROM events WHERE (task_id IS NOT NULL) <>
        (event_type IN ('application', 'task_accepted', 'task_completed'))""",
        )
        == 0
    )


def test_task_events_mirror_assignments(con: duckdb.DuckDBPyConnection) -> None:
    accepted = """SELECT worker_id, task_id, accepted_at FROM assignments"""
    ev_acc = "SELECT worker_id, task_id, ts FROM events WHERE event_type = 'task_accepted'"
    done = "SELECT worker_id, task_id, completed_at FROM assignments WHERE completed_at IS NOT NULL"
    ev_done = "SELECT worker_id, task_id, ts FROM events WHERE event_type = 'task_completed'"
    for a, b in [(accepted, ev_acc), (done, ev_done)]:
        assert one(con, f"SELECT count(*) FROM ({a} EXCEPT ALL {b})") == 0
        assert one(con, f"SELECT count(*) FROM ({b} EXCEPT ALL {a})") == 0


def test_null_worker_share_and_platform(con: duckdb.DuckDBPyConnection) -> None:
    share = one(con, "SELECT avg((worker_id IS NULL)::INT) FROM events")
    assert 0.02 <= share <= 0.045
    assert (
        one(con, "SELECT count(*) FROM events WHERE worker_id IS NULL AND event_type <> 'visit'")
        == 0
    )
    raw = {r[0] for r in con.execute("SELECT DISTINCT platform FROM events").fetchall()}
    assert {p.lower() for p in raw} == {"ios", "android", "web"}
    assert {"iOS", "Android", "web"} <= raw and len(raw) > 3


FIRSTS = """SELECT worker_id,
    min(ts) FILTER (WHERE event_type = 'signup') AS s,
    min(ts) FILTER (WHERE event_type = 'profile_completed') AS p,
    min(ts) FILTER (WHERE event_type = 'application') AS a,
    min(ts) FILTER (WHERE event_type = 'task_accepted') AS ta,
    min(ts) FILTER (WHERE event_type = 'task_completed') AS tc
    FROM events WHERE worker_id IN (SELECT worker_id FROM workers) GROUP BY 1"""


def test_onboarding_funnel(con: duckdb.DuckDBPyConnection) -> None:
    s, p, a, ta, tc = con.execute(
        f"SELECT count(s), count(p), count(a), count(ta), count(tc) FROM ({FIRSTS})"
    ).fetchone()
    assert s == one(con, "SELECT count(*) FROM workers")
    for got, want in [(p, 0.70), (a, 0.50), (ta, 0.35), (tc, 0.30)]:
        assert abs(got / s - want) < 0.06, (got / s, want)
    ordered, skewed, same_ts, accept_before_apply = con.execute(f"""SELECT
        avg((p >= s)::INT) FILTER (WHERE p IS NOT NULL),
        count(*) FILTER (WHERE p < s), count(*) FILTER (WHERE p = s),
        count(*) FILTER (WHERE ta < a) FROM ({FIRSTS})""").fetchone()
    assert ordered > 0.98 and skewed > 0 and same_ts > 0 and accept_before_apply == 0
    assert (
        one(
            con,
            f"SELECT count(*) FROM ({FIRSTS}) WHERE a < p OR tc < ta OR (ta IS NOT NULL AND a IS NULL)",
        )
        == 0
    )
    # Repeated steps exist (double signups, profile completed twice).
    assert one(con, "SELECT count(*) FROM events WHERE event_type = 'signup'") > s
    assert (
        one(
            con,
            """SELECT count(*) FROM events e JOIN assignments a
        ON e.worker_id = a.worker_id AND e.task_id = a.task_id
        WHERE e.event_type = 'application' AND e.ts = a.accepted_at""",
        )
        > 0
    )


def test_worker_retention_decays(con: duckdb.DuckDBPyConnection) -> None:
    curve = dict(
        con.execute("""
        WITH c AS (SELECT worker_id, min(date_trunc('month', ts)) AS m0 FROM events
                   WHERE event_type = 'task_completed' AND ts < '2024-10-01' GROUP BY 1),
        act AS (SELECT DISTINCT worker_id,
                date_diff('month', c.m0, date_trunc('month', e.ts)) AS k
                FROM events e JOIN c USING (worker_id) WHERE e.event_type = 'task_completed')
        SELECT k, count(*) / (SELECT count(*) FROM c) FROM act WHERE k <= 6 GROUP BY 1""").fetchall()
    )
    assert curve[0] == 1.0
    assert 0.1 < curve[1] < 0.6
    assert curve[6] < curve[3] < curve[1]
