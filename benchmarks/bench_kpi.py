"""KPI queries of the demo marketplace: the layer's compiled SQL against the best hand-written SQL.

Each case is a layer query plus the DuckDB SQL an expert would write for exactly the same
result (pre-aggregate before joining, FILTER clauses, semi-joins for filters on dimensions).
Both run on the same connection, alternately; results must be equal.

    python -m benchmarks.bench_kpi --explain ratio_country_week   # SQL + EXPLAIN ANALYZE
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
    result_row,
    say,
    time_alternating,
)

DEFS = ROOT / "metric_defs"
BENCH_DEFS = ROOT / "benchmarks" / "defs"


@dataclass(frozen=True)
class KpiCase:
    name: str
    what: str
    metrics: list[str]
    query: dict[str, Any] = field(default_factory=dict)
    sql: str = ""
    heavy: bool = True  # scans the events table (the others read the ~200k-row work tables)


CASES: list[KpiCase] = [
    KpiCase(
        "actives_by_month",
        "count_distinct + count on events by month",
        ["app_active_workers", "events.events"],
        {"grain": "month"},
        # month computed in a subquery: DuckDB splits count(DISTINCT) + count(*) into two
        # aggregates over a shared CTE and would otherwise evaluate date_trunc in both
        """
        SELECT month, count(DISTINCT worker_id) AS app_active_workers, count(*) AS events
        FROM (SELECT date_trunc('month', ts) AS month, worker_id FROM events)
        GROUP BY 1
        ORDER BY 1
        """,
    ),
    KpiCase(
        "ratio_country_week",
        "ratio (filtered count / count_distinct) by workers.country by week",
        ["sessions_per_active_worker"],
        {"by": ["workers.country"], "grain": "week"},
        # country depends on worker_id only: aggregate events per (week, worker) first, then
        # join the much smaller result to workers (count(worker_id) = distinct workers there).
        """
        WITH per_worker AS (
          SELECT date_trunc('week', ts) AS week, worker_id,
                 count(*) FILTER (WHERE event_type = 'session') AS sessions
          FROM events
          GROUP BY 1, 2
        )
        SELECT p.week, w.country,
               sum(p.sessions)::DOUBLE / nullif(count(p.worker_id), 0) AS sessions_per_active_worker
        FROM per_worker p LEFT JOIN workers w ON p.worker_id = w.worker_id
        GROUP BY 1, 2
        ORDER BY 1, 2
        """,
    ),
    KpiCase(
        "two_sources_country_month",
        "events + assignments metrics merged on workers.country by month",
        ["app_active_workers", "active_workers", "revenue"],
        {"by": ["workers.country"], "grain": "month"},
        """
        WITH e AS (
          SELECT month, w.country, count(d.worker_id) AS app_active_workers
          FROM (SELECT DISTINCT date_trunc('month', ts) AS month, worker_id FROM events) d
          LEFT JOIN workers w ON d.worker_id = w.worker_id
          GROUP BY 1, 2
        ), a AS (
          SELECT date_trunc('month', a.completed_at) AS month, w.country,
                 count(DISTINCT a.worker_id) AS active_workers, sum(a.revenue) AS revenue
          FROM assignments a LEFT JOIN workers w ON a.worker_id = w.worker_id
          WHERE a.completed_at IS NOT NULL
          GROUP BY 1, 2
        )
        SELECT coalesce(e.month, a.month) AS month, coalesce(e.country, a.country) AS country,
               e.app_active_workers, a.active_workers, a.revenue
        FROM e FULL JOIN a ON e.month = a.month AND e.country IS NOT DISTINCT FROM a.country
        ORDER BY 1, 2
        """,
    ),
    KpiCase(
        "filtered_totals",
        "totals over a time range, where on joined workers.country and workers.tier",
        ["events.events", "app_active_workers", "events.sessions"],
        {
            "where": "workers.country = 'DE' AND workers.tier = 'gold'",
            "start": "2024-07-01",
            "end": "2025-01-01",
        },
        # an inner join (DuckDB pushes the workers filter into a join filter on the events
        # scan) measured faster than `worker_id IN (SELECT ...)` or EXISTS
        """
        SELECT count(*) AS events,
               count(DISTINCT e.worker_id) AS app_active_workers,
               count(*) FILTER (WHERE e.event_type = 'session') AS sessions
        FROM events e JOIN workers w ON e.worker_id = w.worker_id
        WHERE e.ts >= TIMESTAMP '2024-07-01' AND e.ts < TIMESTAMP '2025-01-01'
          AND w.country = 'DE' AND w.tier = 'gold'
        """,
    ),
    KpiCase(
        "completion_rate_country_week",
        "ratio of two time columns of one source (assignments) by workers.country by week",
        ["completion_rate"],
        {"by": ["workers.country"], "grain": "week"},
        """
        WITH aw AS (
          SELECT a.accepted_at, a.completed_at, w.country
          FROM assignments a LEFT JOIN workers w ON a.worker_id = w.worker_id
        ), acc AS (
          SELECT date_trunc('week', accepted_at) AS week, country, count(*) AS accepted
          FROM aw WHERE accepted_at IS NOT NULL GROUP BY 1, 2
        ), done AS (
          SELECT date_trunc('week', completed_at) AS week, country, count(*) AS completed
          FROM aw WHERE completed_at IS NOT NULL GROUP BY 1, 2
        )
        SELECT coalesce(acc.week, done.week) AS week, coalesce(acc.country, done.country) AS country,
               done.completed::DOUBLE / nullif(acc.accepted, 0) AS completion_rate
        FROM acc FULL JOIN done
          ON acc.week = done.week AND acc.country IS NOT DISTINCT FROM done.country
        ORDER BY 1, 2
        """,
        heavy=False,
    ),
    KpiCase(
        "fill_rate_month",
        "ratio across two sources, numerator dated by a joined time column (tasks.posted_at)",
        ["task_fill_rate"],
        {"grain": "month"},
        # filled tasks of a month = its posted tasks having an accepted assignment: one scan of
        # tasks with a semi-join (NULLIF: a month without filled tasks has no numerator row).
        """
        SELECT date_trunc('month', posted_at) AS month,
               nullif(count(*) FILTER (WHERE task_id IN (
                 SELECT task_id FROM assignments WHERE accepted_at IS NOT NULL)), 0)::DOUBLE
                 / count(*) AS task_fill_rate
        FROM tasks
        WHERE posted_at IS NOT NULL
        GROUP BY 1
        ORDER BY 1
        """,
        heavy=False,
    ),
    KpiCase(
        "filtered_revenue_totals",
        "totals of filtered sums and a distinct count, where on joined workers.country",
        ["revenue", "hours", "active_workers"],
        {"where": "workers.country = 'US'"},
        """
        SELECT sum(a.revenue) AS revenue, sum(a.hours) AS hours,
               count(DISTINCT a.worker_id) AS active_workers
        FROM assignments a JOIN workers w ON a.worker_id = w.worker_id
        WHERE a.completed_at IS NOT NULL AND w.country = 'US'
        """,
        heavy=False,
    ),
]


def load_layer(con: Any) -> Any:
    """metric_defs/ plus the benchmark-only metrics of benchmarks/defs/, bound to `con`."""
    import metrics_layer as ml

    tmp = Path(tempfile.mkdtemp(prefix="ml-bench-defs-"))
    try:
        for folder in (DEFS, BENCH_DEFS):
            for f in sorted(folder.rglob("*.y*ml")):
                shutil.copy(f, tmp / f"{folder.name}__{f.name}")
        return ml.load(tmp, con=con)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def compile_ms(layer: Any, case: KpiCase, repeat: int = 5) -> tuple[float, float]:
    """Median CPU and wall milliseconds of a cold compile of one case: plan + ibis build + SQL
    rendering, each on a freshly loaded layer, so that no compiled query is reused.

    Rendering is the backend's own compile (what `to_pyarrow` pays on every execution).
    """
    con = layer.con
    cpu, wall = [], []
    for _ in range(repeat + 1):
        layer = load_layer(con)
        c, w = time.process_time(), time.perf_counter()
        con.compile(layer.query(case.metrics, **case.query).expr)
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return statistics.median(cpu[1:]) * 1000, statistics.median(wall[1:]) * 1000


def fetch_hand(layer: Any, sql: str) -> Any:
    """Hand-written SQL run exactly as the engine runs its own: the same DuckDB cursor (the
    engine's for this thread), the same call, fully materialised as Arrow."""
    from metrics_layer.engine.executor import duckdb_arrow

    return duckdb_arrow(layer.engine.executor.cursor(), sql, None)


def run_case(con: Any, layer: Any, case: KpiCase, repeat: int) -> dict[str, Any]:
    """Time one case (layer vs hand SQL, alternately) and compare the results.

    Sides: `layer` runs one Result again (its compiled query, bound values, Arrow fetch),
    `layer SQL` its SQL text as hand SQL is run, `hand` the hand-written SQL, `e2e` a new
    `layer.query(...).to_pyarrow()` per run (request, cache lookup, binding, run, fetch).
    """
    cpu_ms, wall_ms = compile_ms(layer, case)
    res = layer.query(case.metrics, **case.query)
    layer_sql = res.sql()
    diff = compare_tables(res.to_pyarrow(), fetch_hand(layer, case.sql))
    t_layer, t_layer_sql, t_hand, t_e2e = time_alternating(
        [
            res.to_pyarrow,
            lambda: fetch_hand(layer, layer_sql),
            lambda: fetch_hand(layer, case.sql),
            lambda: layer.query(case.metrics, **case.query).to_pyarrow(),
        ],
        repeat=repeat,
    )
    row = result_row(
        case.name,
        t_layer,
        t_hand,
        cpu_ms,
        layer_sql=t_layer_sql,
        compile_wall_ms=wall_ms,
        group="kpi",
        what=case.what,
        equal=diff is None,
        diff=diff,
    )
    # what a caller pays: layer.query(...).to_pyarrow() on every request
    row["layer_e2e_s"] = t_e2e.median
    row["e2e_ratio"] = t_e2e.median / t_hand.median if t_hand.median > 0 else None
    row["e2e_paired_ratio"] = t_e2e.paired_ratio(t_hand)
    row["e2e_cpu_ratio"] = t_e2e.cpu_median / t_hand.cpu_median if t_hand.cpu_median else None
    # the generated SQL alone, in CPU time (steadier than wall time on a shared machine)
    row["sql_cpu_ratio"] = t_layer_sql.cpu_median / t_hand.cpu_median if t_hand.cpu_median else None
    return row


def run(
    n_events: int,
    db_path: str,
    repeat: int = 5,
    progress: Say | None = say,
    only: list[str] | None = None,
    threads: int | None = None,
) -> list[dict[str, Any]]:
    """Every KPI case on the demo database at `db_path` (generated with `n_events` events)."""
    tell = progress or (lambda _m: None)
    con = connect(db_path, threads=threads)
    layer = load_layer(con)
    rows = []
    for case in CASES:
        if only and case.name not in only:
            continue
        tell(f"kpi: {case.name} ({repeat} runs each side) ...")
        row = run_case(con, layer, case, repeat)
        row["events"] = n_events
        rows.append(row)
        if not row["equal"]:
            tell(f"kpi: {case.name}: RESULTS DIFFER: {row['diff']}")
    return rows


def explain(db_path: str, name: str) -> str:
    """Both SQL texts of a case and DuckDB's EXPLAIN ANALYZE of each (to find what costs time)."""
    case = next((c for c in CASES if c.name == name), None)
    if case is None:
        raise SystemExit(f"unknown case {name!r}; cases: {', '.join(c.name for c in CASES)}")
    con = connect(db_path)
    layer = load_layer(con)
    sql = layer.query(case.metrics, **case.query).sql()
    parts = [
        f"-- layer SQL ({case.name})",
        sql,
        "-- layer EXPLAIN ANALYZE",
        explain_analyze(con, sql),
        "-- hand-written SQL",
        case.sql.strip(),
        "-- hand EXPLAIN ANALYZE",
        explain_analyze(con, case.sql),
    ]
    return "\n".join(parts)


def main() -> None:
    from benchmarks.harness import DEFAULT_EVENTS, ensure_data, print_results

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=DEFAULT_EVENTS)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--case", action="append", help="run only this case (repeatable)")
    ap.add_argument("--explain", metavar="CASE", help="print SQL and EXPLAIN ANALYZE of a case")
    args = ap.parse_args()
    db = ensure_data(args.events)
    if args.explain:
        print(explain(str(db), args.explain))
        return
    print_results(run(args.events, str(db), repeat=args.repeat, only=args.case), "KPI benchmarks")


if __name__ == "__main__":
    main()
