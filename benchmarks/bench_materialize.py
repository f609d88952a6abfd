"""Materializations on 10M events (DuckDB): an incremental run after 1% new rows against a
full refresh, and a dashboard query served from the materialization against raw events.

    python -m benchmarks.bench_materialize [--events 10000000] [--dir /tmp/ml-bench-materialize]

The data is built once into a DuckDB file under --dir (reused when it is there): events over
365 days joined to 200k users. Each measurement runs on a fresh copy of that file; the
served answer is checked equal to the raw one before it is timed.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.harness import say

DAYS = 365
USERS = 200_000
DEFS: dict[str, Any] = {
    "version": 1,
    "sources": {
        "events": {
            "table": "events",
            "time": "ts",
            "primary_key": "event_id",
            "dimensions": {"platform": {}, "kind": {}},
            "measures": {
                "events": {"agg": "count"},
                "revenue": {"agg": "sum", "expr": "revenue"},
                "buyers": {"agg": "count_distinct", "expr": "user_id"},
                "purchases": {"agg": "count", "filter": "kind = 'purchase'"},
            },
            "joins": {"users": {"keys": "user_id", "relationship": "many_to_one"}},
        },
        "users": {"table": "users", "primary_key": "user_id", "dimensions": {"country": {}}},
    },
    "metrics": {
        "conversion": {"type": "ratio", "numerator": "events.purchases", "denominator": "events.events"},
    },
    "materializations": {
        "daily": {
            "metrics": ["revenue", "events", "conversion", "buyers"],
            "by": ["users.country", "platform"],
            "grain": "day",
            "table": "mart_daily",
            "lookback": "2 days",
            "batch": 31,
        },
    },
}  # fmt: skip


def build(db: Path, n: int) -> None:
    """n events over DAYS days from 2024-01-01, generated in DuckDB (reproducible hashes),
    stored in time order as an append-only event log is."""
    import duckdb

    con = duckdb.connect(str(db))
    con.execute(f"""
        CREATE TABLE users AS SELECT i AS user_id,
            ['de','fr','us','gb','br','in','jp','mx'][1 + CAST(hash(i) % 8 AS BIGINT)] AS country
        FROM range({USERS}) t(i)""")  # fmt: skip
    con.execute(f"""
        CREATE TABLE events AS SELECT i AS event_id,
            TIMESTAMP '2024-01-01' + to_microseconds(CAST(hash(i, 1) % ({DAYS} * 86400000000) AS BIGINT)) AS ts,
            CAST(hash(i, 2) % {USERS} AS BIGINT) AS user_id,
            ['ios','android','web'][1 + CAST(hash(i, 3) % 3 AS BIGINT)] AS platform,
            CASE WHEN hash(i, 4) % 10 = 0 THEN 'purchase' ELSE 'view' END AS kind,
            CASE WHEN hash(i, 4) % 10 = 0 THEN (hash(i, 5) % 10000) / 100.0 END AS revenue
        FROM range({n}) t(i) ORDER BY ts""")  # fmt: skip
    con.close()


def append_new(db: Path, n: int, first_id: int) -> None:
    """n new rows in the day after the latest event (1% of the table for n = 1% of it)."""
    import duckdb

    con = duckdb.connect(str(db))
    con.execute(f"""
        INSERT INTO events SELECT {first_id} + i,
            (SELECT max(ts) FROM events) + to_microseconds(CAST(1 + hash(i, 6) % 86400000000 AS BIGINT)),
            CAST(hash(i, 7) % {USERS} AS BIGINT),
            ['ios','android','web'][1 + CAST(hash(i, 8) % 3 AS BIGINT)],
            CASE WHEN hash(i, 9) % 10 = 0 THEN 'purchase' ELSE 'view' END,
            CASE WHEN hash(i, 9) % 10 = 0 THEN (hash(i, 10) % 10000) / 100.0 END
        FROM range({n}) t(i)""")  # fmt: skip
    con.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/ml-bench-materialize"))
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    import metrics_layer as ml

    args.dir.mkdir(parents=True, exist_ok=True)
    base = args.dir / f"events-{args.events}.duckdb"
    if not base.exists():
        began = time.monotonic()
        build(base, args.events)
        say(f"built {args.events:,} events in {time.monotonic() - began:.1f}s: {base}")
    defs = args.dir / "defs.yml"
    defs.write_text(yaml.safe_dump(DEFS, sort_keys=False))
    work = args.dir / "work.duckdb"
    shutil.copy(base, work)

    layer = ml.load(defs, con=str(work), read_only=False)
    full = layer.materialize("daily", full_refresh=True)
    say(f"full refresh: {full.periods} periods, {full.rows} rows, {full.seconds:.2f}s")
    layer.con.disconnect()
    new = args.events // 100
    append_new(work, new, first_id=args.events)
    layer = ml.load(defs, con=str(work), read_only=False)
    inc = layer.materialize("daily")
    share = inc.seconds / full.seconds
    say(f"incremental after {new:,} new rows (1%): {inc.periods} periods, {inc.rows} rows, "
        f"{inc.seconds:.2f}s = {share:.1%} of the full refresh")  # fmt: skip

    ask = {"metrics": ["revenue", "conversion"], "by": "platform", "grain": "day"}
    served = layer.query(**ask, use_materializations=True)
    raw = layer.query(**ask)
    assert served.meta.get("materialization") == "daily", served.meta
    a = served.to_pandas().sort_values(["day", "platform"]).reset_index(drop=True)
    b = raw.to_pandas().sort_values(["day", "platform"]).reset_index(drop=True)
    assert a[["day", "platform"]].equals(b[["day", "platform"]])
    assert ((a.revenue - b.revenue).abs() <= 1e-9 * b.revenue.abs().clip(lower=1)).all()
    assert ((a.conversion - b.conversion).abs() <= 1e-12).all()

    def timed(res_of: Any) -> float:
        times = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            res_of().to_pyarrow()
            times.append(time.perf_counter() - began)
        return statistics.median(times)

    t_served = timed(lambda: layer.query(**ask, use_materializations=True))
    t_raw = timed(lambda: layer.query(**ask))
    say(f"dashboard query (revenue, conversion by platform, daily, {DAYS} days): raw "
        f"{t_raw * 1000:.0f} ms, served {t_served * 1000:.1f} ms, {t_raw / t_served:.0f}x "
        f"(median of {args.repeat})")  # fmt: skip
    layer.con.disconnect()


if __name__ == "__main__":
    main()
