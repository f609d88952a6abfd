"""Cohort retention: the layer's one ibis expression against the best hand-written DuckDB SQL.

Each case is a retention of metric_defs/retention.yml plus the SQL an expert would write for
exactly the same table (one scan into distinct (worker, period) sets with FILTERed min/max,
entries = the first cohort instant, one equi-join on the worker, a zero-filled grid). Both
sides run on the same connection, alternately (benchmarks/harness.py); results must be equal.

    python -m benchmarks.bench_retention --events 10000000 [--repeat 5] [--case NAME]
    python -m benchmarks.bench_retention --explain worker_retention   # SQL + EXPLAIN ANALYZE

`run(n_events, db_path)` returns one dict per case with name, layer_s, handwritten_s, ratio,
compile_ms: compile (building the ibis expression + rendering SQL) and execution (the
compiled SQL) are timed separately; `layer_e2e_s` / `e2e_ratio` add the path through ibis
(`to_pyarrow(expr)`), which re-compiles the expression on every execution.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    ROOT,
    Say,
    compare_tables,
    connect,
    explain_analyze,
    fetch_layer,
    fetch_sql,
    result_row,
    say,
    time_alternating,
)

PERIODS = 12

# Hand-written: the activity as distinct (worker, period) sets with the period's last instant,
# the entries as each worker's first cohort instant, one equi-join on the worker. (One scan
# with FILTERed min/max per (worker, period) is slower: 7.6 s vs 6.2 s on signup_engagement.)
_SETS = """
WITH a AS (
  SELECT worker_id AS e, date_trunc('{unit}', ts) AS p, max(ts) AS la
  FROM events WHERE worker_id IS NOT NULL AND event_type = '{activity}'
  GROUP BY ALL
),
c AS (
  SELECT worker_id AS e, min(ts) AS entry, date_trunc('{unit}', min(ts)) AS c
  FROM events WHERE worker_id IS NOT NULL AND event_type = '{cohort}'
  GROUP BY ALL
),
obs AS (SELECT max(ts) AS m FROM events)
"""
# When the cohort and the activity event are the same, scan the matching rows once.
_SETS_SAME = """
WITH f AS (
  SELECT worker_id AS e, ts FROM events
  WHERE worker_id IS NOT NULL AND event_type = '{cohort}'
),
a AS (SELECT e, date_trunc('{unit}', ts) AS p, max(ts) AS la FROM f GROUP BY ALL),
c AS (SELECT e, min(ts) AS entry, date_trunc('{unit}', min(ts)) AS c FROM f GROUP BY ALL),
obs AS (SELECT max(ts) AS m FROM events)
"""
_K = {"month": "datediff('month', c.c, a.p)", "week": "datediff('day', c.c, a.p) // 7"}
_STEP = {"month": "INTERVAL 1 MONTH", "week": "INTERVAL 7 DAY"}

_EXACT = (
    "{sets}"
    + """,
hits AS (
  SELECT c.c, {k} AS k, count(*) AS a
  FROM c JOIN a ON a.e = c.e
  WHERE a.p >= c.c AND a.p < c.c + {n} * {step} AND (a.p > c.c OR a.la >= c.entry)
  GROUP BY ALL
),
sizes AS (SELECT c, count(*) AS n FROM c GROUP BY c)
SELECT sizes.c AS cohort, sizes.n AS cohort_size, r.k AS period, coalesce(hits.a, 0) AS active,
       coalesce(hits.a, 0) / sizes.n AS retention, sizes.c + (r.k + 1) * {step} <= obs.m AS complete
FROM sizes CROSS JOIN obs CROSS JOIN range({n}) AS r(k)
LEFT JOIN hits ON hits.c = sizes.c AND hits.k = r.k
WHERE sizes.c + r.k * {step} <= obs.m
ORDER BY cohort, period
"""
)

_ROLLING = (
    "{sets}"
    + """,
last AS (
  SELECT c.c, least(max({k}), {n} - 1) AS mk
  FROM c JOIN a ON a.e = c.e
  WHERE a.p >= c.c AND (a.p > c.c OR a.la >= c.entry)
  GROUP BY c.e, c.c
),
hist AS (SELECT c, mk, count(*) AS a FROM last GROUP BY ALL),
sizes AS (SELECT c, count(*) AS n FROM c GROUP BY c),
grid AS (
  SELECT sizes.c, sizes.n, r.k, obs.m FROM sizes CROSS JOIN obs CROSS JOIN range({n}) AS r(k)
  WHERE sizes.c + r.k * {step} <= obs.m
)
SELECT grid.c AS cohort, grid.n AS cohort_size, grid.k AS period,
       sum(coalesce(hist.a, 0)) OVER (PARTITION BY grid.c ORDER BY grid.k DESC) AS active,
       active / grid.n AS retention, grid.c + (grid.k + 1) * {step} <= grid.m AS complete
FROM grid LEFT JOIN hist ON hist.c = grid.c AND hist.mk = grid.k
ORDER BY cohort, period
"""
)

_BY_COUNTRY = (
    "{sets}"
    + """,
cb AS (SELECT c.*, w.country FROM c LEFT JOIN workers AS w ON w.worker_id = c.e),
hits AS (
  SELECT c.c, c.country, {k} AS k, count(*) AS a
  FROM cb AS c JOIN a ON a.e = c.e
  WHERE a.p >= c.c AND a.p < c.c + {n} * {step} AND (a.p > c.c OR a.la >= c.entry)
  GROUP BY ALL
),
sizes AS (SELECT c, country, count(*) AS n FROM cb GROUP BY ALL)
SELECT sizes.c AS cohort, sizes.country, sizes.n AS cohort_size, r.k AS period,
       coalesce(hits.a, 0) AS active, coalesce(hits.a, 0) / sizes.n AS retention,
       sizes.c + (r.k + 1) * {step} <= obs.m AS complete
FROM sizes CROSS JOIN obs CROSS JOIN range({n}) AS r(k)
LEFT JOIN hits ON hits.c = sizes.c AND hits.k = r.k AND hits.country IS NOT DISTINCT FROM sizes.country
WHERE sizes.c + r.k * {step} <= obs.m
ORDER BY cohort, country, period
"""
)


# N-day retention (since_entry, daily, 30 periods): each session placed by elapsed 24-hour
# days from the worker's first signup, the grid's extent and `complete` from the earliest and
# latest entry of each cohort. Written directly, not from the templates above.
_NDAY = """
WITH e AS (
  SELECT worker_id, min(ts) AS entry FROM events
  WHERE event_type = 'signup' AND worker_id IS NOT NULL GROUP BY worker_id
),
obs AS (SELECT epoch_us(max(ts)) AS m FROM events),
sizes AS (
  SELECT date_trunc('day', entry) AS cohort, count(*) AS cohort_size,
         epoch_us(min(entry)) AS lo, epoch_us(max(entry)) AS hi
  FROM e GROUP BY 1
),
hits AS (
  SELECT date_trunc('day', e.entry) AS cohort,
         (epoch_us(a.ts) - epoch_us(e.entry)) // 86400000000 AS k,
         count(DISTINCT e.worker_id) AS n
  FROM e JOIN events a
    ON a.worker_id = e.worker_id AND a.event_type = 'session'
   AND a.ts >= e.entry AND a.ts < e.entry + INTERVAL 30 DAY
  GROUP BY 1, 2
),
grid AS (
  SELECT s.cohort, s.cohort_size, s.hi,
         unnest(range(0, least((obs.m - s.lo) // 86400000000 + 1, 30))) AS k
  FROM sizes s, obs
)
SELECT g.cohort, g.cohort_size, g.k AS period, CAST(coalesce(h.n, 0) AS BIGINT) AS active,
       coalesce(h.n, 0) / g.cohort_size AS retention,
       g.hi + (g.k + 1) * 86400000000 <= obs.m AS complete
FROM grid g LEFT JOIN hits h ON h.cohort = g.cohort AND h.k = g.k, obs
ORDER BY cohort, period
"""

# a daily twin of signup_engagement, for the N-day case (the demo defines it weekly)
_NDAY_DEFS = """
version: 1
retention:
  signup_engagement_daily:
    source: events
    entity: worker_id
    cohort: "event_type = 'signup'"
    activity: "event_type = 'session'"
    period: day
"""


@dataclass(frozen=True)
class RetentionCase:
    name: str
    what: str
    retention: str
    sql: str
    unit: str
    cohort: str
    activity: str
    query: dict[str, Any] = field(default_factory=dict)

    def hand_sql(self) -> str:
        if self.unit == "day":
            return self.sql
        sets = _SETS_SAME if self.cohort == self.activity else _SETS
        return self.sql.replace("{sets}", sets).format(
            unit=self.unit,
            cohort=self.cohort,
            activity=self.activity,
            k=_K[self.unit],
            step=_STEP[self.unit],
            n=PERIODS,
        )


CASES: list[RetentionCase] = [
    RetentionCase(
        "worker_retention",
        "monthly, first completed task -> completed task, exact",
        "worker_retention",
        _EXACT,
        "month",
        "task_completed",
        "task_completed",
    ),
    RetentionCase(
        "worker_retention_rolling",
        "the same, rolling (k or later)",
        "worker_retention",
        _ROLLING,
        "month",
        "task_completed",
        "task_completed",
        {"mode": "rolling"},
    ),
    RetentionCase(
        "worker_retention_by_country",
        "the same by workers.country (joined)",
        "worker_retention_by_country",
        _BY_COUNTRY,
        "month",
        "task_completed",
        "task_completed",
    ),
    RetentionCase(
        "signup_engagement",
        "weekly, signup -> session (7.7M of 10M rows)",
        "signup_engagement",
        _EXACT,
        "week",
        "signup",
        "session",
    ),
    RetentionCase(
        "signup_engagement_nday",
        "N-day: daily since_entry, signup -> session, 30 periods",
        "signup_engagement_daily",
        _NDAY,
        "day",
        "signup",
        "session",
        {"period_mode": "since_entry", "periods": 30},
    ),
]


def load_layer(con: Any) -> Any:
    """metric_defs/ (sources of marketplace.yml, retention.yml) bound to `con`."""
    import metrics_layer as ml

    tmp = Path(tempfile.mkdtemp(prefix="ml-bench-retention-"))
    try:
        for f in sorted((ROOT / "metric_defs").rglob("*.y*ml")):
            shutil.copy(f, tmp / f.name)
        (tmp / "bench_nday.yml").write_text(_NDAY_DEFS)
        return ml.load(tmp, con=con)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _result(layer: Any, case: RetentionCase) -> Any:
    return layer.retention(case.retention, **{"periods": PERIODS, **case.query})


def compile_ms(layer: Any, case: RetentionCase, repeat: int = 5) -> float:
    """Median milliseconds of building the ibis expression and rendering its SQL."""
    runs = []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        _result(layer, case).sql()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs[1:]) * 1000


def run_case(con: Any, layer: Any, case: RetentionCase, repeat: int) -> dict[str, Any]:
    """Time one case and compare the results.

    `layer_s` / `ratio`: the layer's compiled SQL executed, against the hand SQL (compile is
    `compile_ms`, timed on its own). `layer_e2e_s` / `e2e_ratio`: through ibis
    (`con.to_pyarrow(expr)`), which compiles the expression again on every execution.
    """
    res = _result(layer, case)
    expr, layer_sql, hand = res.expr, res.sql(), case.hand_sql()
    diff = compare_tables(fetch_layer(con, expr), fetch_sql(con, hand))
    t_sql, t_hand, t_e2e = time_alternating(
        [
            lambda: fetch_sql(con, layer_sql),
            lambda: fetch_sql(con, hand),
            lambda: fetch_layer(con, expr),
        ],
        repeat=repeat,
    )
    row = result_row(
        case.name,
        t_sql,
        t_hand,
        compile_ms(layer, case),
        group="retention",
        what=case.what,
        equal=diff is None,
        diff=diff,
    )
    row["layer_e2e_s"] = t_e2e.median
    row["e2e_ratio"] = t_e2e.median / t_hand.median if t_hand.median > 0 else None
    return row


def run(
    n_events: int,
    db_path: str,
    repeat: int = 5,
    progress: Say | None = say,
    only: list[str] | None = None,
    threads: int | None = None,
) -> list[dict[str, Any]]:
    """Every retention case on the demo database at `db_path` (generated when missing)."""
    tell = progress or (lambda _m: None)
    if not Path(db_path).exists():
        from metrics_layer.demo.generate import generate

        tell(f"retention: generating {n_events:,} events into {db_path} ...")
        generate(db_path, events=n_events)
    con = connect(db_path, threads=threads)
    layer = load_layer(con)
    rows = []
    for case in CASES:
        if only and case.name not in only:
            continue
        tell(f"retention: {case.name} ({repeat} runs each side) ...")
        row = run_case(con, layer, case, repeat)
        row["events"] = n_events
        rows.append(row)
        if not row["equal"]:
            tell(f"retention: {case.name}: RESULTS DIFFER: {row['diff']}")
    return rows


def explain(db_path: str, name: str) -> str:
    """Both SQL texts of a case and DuckDB's EXPLAIN ANALYZE of each."""
    case = next((c for c in CASES if c.name == name), None)
    if case is None:
        raise SystemExit(f"unknown case {name!r}; cases: {', '.join(c.name for c in CASES)}")
    con = connect(db_path)
    layer = load_layer(con)
    sql, hand = _result(layer, case).sql(), case.hand_sql()
    return "\n".join(
        [
            f"-- layer SQL ({case.name})",
            sql,
            "-- layer EXPLAIN ANALYZE",
            explain_analyze(con, sql),
            "-- hand-written SQL",
            hand.strip(),
            "-- hand EXPLAIN ANALYZE",
            explain_analyze(con, hand),
        ]
    )


def main() -> None:
    from benchmarks.harness import DEFAULT_EVENTS, ensure_data, print_results

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=DEFAULT_EVENTS)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--db", help="an existing demo DuckDB file (default: bench_data/, generated once)"
    )
    ap.add_argument("--case", action="append", help="run only this case (repeatable)")
    ap.add_argument("--explain", metavar="CASE", help="print SQL and EXPLAIN ANALYZE of a case")
    args = ap.parse_args()
    db = args.db or str(ensure_data(args.events))
    if args.explain:
        print(explain(db, args.explain))
        return
    rows = run(args.events, db, repeat=args.repeat, only=args.case)
    print_results(
        rows,
        f"Retention benchmarks ({args.events:,} events): the layer's compiled "
        "SQL vs hand-written SQL",
        target=1.1,
    )
    for r in rows:
        print(
            f"  {r['name']:30} through ibis (compiles on every run): {r['layer_e2e_s']:.3f} s, "
            f"{r['e2e_ratio']:.2f}x"
        )


if __name__ == "__main__":
    main()
