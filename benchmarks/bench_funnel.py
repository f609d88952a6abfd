"""A 4-step funnel on the demo events: the layer against hand-written DuckDB SQL (and ClickHouse).

Cases (same DuckDB connection, run alternately, medians; results must be equal):

- `funnel4_asof`: `layer.funnel(...)` with the DuckDB default plan (one ASOF join per step)
  against the best hand-written SQL for the same table: chained ASOF LEFT JOINs from every
  signup, the counted attempt per worker by QUALIFY, counts, medians and means per step.
- `funnel4_window`: the layer's window-function plan (the PostgreSQL/PySpark one) on DuckDB,
  against the same hand-written ASOF SQL: what the portable formulation costs.
- `funnel4_clickhouse`: ClickHouse's `windowFunnel` (default mode) through the `chdb` package
  on the same events exported to Parquet, if chdb is installed; its counts are compared with
  the layer's (it computes no times, so only the counts are compared).

`layer_s` runs the layer's compiled SQL (the compile is timed apart: `compile_ms` CPU,
`compile_wall_ms`); `layer_e2e_s` runs `con.to_pyarrow(expr)`, which also re-renders the
expression to SQL on every execution.

    python -m benchmarks.bench_funnel --events 10000000 [--repeat 7] [--explain]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
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

STEPS = ["signup", "profile_completed", "application", "task_accepted"]
WINDOW_DAYS = 30
FUNNEL = "bench_onboarding4"


def defs_folder() -> Path:
    """metric_defs/ plus the benchmark's 4-step funnel, in a temporary folder."""
    tmp = Path(tempfile.mkdtemp(prefix="bench_funnel_"))
    for f in (ROOT / "metric_defs").glob("*.yml"):
        (tmp / f.name).write_text(f.read_text())
    steps = "\n".join(f"      - {{name: {s}, filter: \"event_type = '{s}'\"}}" for s in STEPS)
    (tmp / "zz_bench_funnel.yml").write_text(
        f"funnels:\n  {FUNNEL}:\n    source: events\n    entity: worker_id\n"
        f"    window: {WINDOW_DAYS} days\n    steps:\n{steps}\n"
    )
    return tmp


def hand_sql(steps: list[str] = STEPS, window_days: int = WINDOW_DAYS) -> str:
    """The best hand-written DuckDB SQL for the funnel table (chained ASOF joins)."""
    w = window_days * 86400 * 1_000_000
    n = len(steps)
    kinds = ", ".join(f"'{s}'" for s in steps)
    ctes = [
        f"ev AS (SELECT worker_id AS e, epoch_us(ts) AS t, event_type AS k FROM events "
        f"WHERE worker_id IS NOT NULL AND event_type IN ({kinds}))",
        f"a1 AS (SELECT e, t AS t1 FROM ev WHERE k = '{steps[0]}')",
    ]
    for i in range(2, n + 1):
        ctes.append(f"c{i} AS (SELECT e, t FROM ev WHERE k = '{steps[i - 1]}')")
        ctes.append(
            f"a{i} AS (SELECT a.*, CASE WHEN c.t - a.t1 <= {w} THEN c.t END AS t{i} "
            f"FROM a{i - 1} a ASOF LEFT JOIN c{i} c ON a.e = c.e AND a.t{i - 1} <= c.t)"
        )
    depth = " + ".join(["1"] + [f"(t{i} IS NOT NULL)::BIGINT" for i in range(2, n + 1)])
    last = "coalesce(" + ", ".join(f"t{i}" for i in range(n, 0, -1)) + ")"
    ties = ", ".join(f"t{i} DESC" for i in range(1, n))
    ctes.append(
        f"best AS (SELECT *, {depth} AS depth FROM a{n} QUALIFY row_number() OVER "
        f"(PARTITION BY e ORDER BY {depth} DESC, {last}, {ties}) = 1)"
    )
    aggs = ["count(*) AS n1"]
    for i in range(2, n + 1):
        d = f"(t{i} - t{i - 1}) / 1e6"
        aggs += [
            f"count(*) FILTER (depth >= {i}) AS n{i}",
            f"median({d}) AS m{i}",
            f"avg({d}) AS v{i}",
        ]
    ctes.append(f"agg AS (SELECT {', '.join(aggs)} FROM best)")
    rows = []
    for i, s in enumerate(steps, 1):
        prev = f"n{max(i - 1, 1)}"
        m, v = ("NULL::DOUBLE", "NULL::DOUBLE") if i == 1 else (f"m{i}", f"v{i}")
        rows.append(
            f"SELECT {i}::BIGINT AS step, '{s}' AS step_name, n{i} AS entities, "
            f"n{i} / nullif(n1, 0)::DOUBLE AS conversion, "
            f"n{i} / nullif({prev}, 0)::DOUBLE AS step_conversion, "
            f"{m} AS median_seconds, {v} AS avg_seconds FROM agg"
        )
    return "WITH " + ",\n".join(ctes) + "\n" + "\nUNION ALL ".join(rows) + "\nORDER BY step"


def clickhouse_sql(parquet: str, steps: list[str] = STEPS, window_days: int = WINDOW_DAYS) -> str:
    """ClickHouse windowFunnel (default mode): the furthest level per worker, then counts."""
    conds = ", ".join(f"event_type = '{s}'" for s in steps)
    kinds = ", ".join(f"'{s}'" for s in steps)
    micros = window_days * 86400 * 1_000_000  # timestamps as UInt64 microseconds: exact
    return (
        f"SELECT level, count() AS n FROM (SELECT worker_id, windowFunnel({micros})"
        f"(toUInt64(toUnixTimestamp64Micro(ts)), {conds}) AS level FROM file('{parquet}', Parquet) WHERE worker_id IS NOT NULL "
        f"AND event_type IN ({kinds}) GROUP BY worker_id) GROUP BY level ORDER BY level"
    )


def compile_ms(layer: Any, repeat: int = 5, **kw: Any) -> tuple[float, float]:
    """Median CPU and wall milliseconds of argument checks + ibis expression + SQL rendering
    (the backend's own compile, which `to_pyarrow` also pays on every execution)."""
    from metrics_layer.analysis.funnel import funnel

    cpu, wall = [], []
    for _ in range(repeat + 1):
        c, w = time.process_time(), time.perf_counter()
        layer.con.compile(funnel(layer, FUNNEL, **kw).expr)
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return statistics.median(cpu[1:]) * 1000, statistics.median(wall[1:]) * 1000


def _case(con: Any, layer: Any, name: str, hand: str, repeat: int, **kw: Any) -> dict[str, Any]:
    from metrics_layer.analysis.funnel import funnel

    res = funnel(layer, FUNNEL, **kw)
    expr, sql = res.expr, res.sql()
    diff = compare_tables(fetch_layer(con, expr), fetch_sql(con, hand))
    t_sql, t_hand, t_e2e = time_alternating(
        [lambda: fetch_sql(con, sql), lambda: fetch_sql(con, hand), lambda: fetch_layer(con, expr)],
        repeat=repeat,
    )
    cpu_ms, wall_ms = compile_ms(layer, **kw)
    row = result_row(
        name,
        t_sql,
        t_hand,
        cpu_ms,
        compile_wall_ms=wall_ms,
        group="funnel",
        equal=diff is None,
        diff=diff,
    )
    row["layer_e2e_s"] = t_e2e.median
    row["e2e_ratio"] = t_e2e.median / t_hand.median if t_hand.median > 0 else None
    return row


def _clickhouse(con: Any, layer: Any, repeat: int, tell: Say) -> dict[str, Any]:
    """windowFunnel via chdb on a Parquet export; counts compared with the layer's."""
    try:
        import chdb
    except ImportError as exc:
        return {
            "name": "funnel4_clickhouse",
            "layer_s": None,
            "handwritten_s": None,
            "ratio": None,
            "compile_ms": None,
            "skipped": f"chdb not importable: {exc}",
        }
    tmp = Path(tempfile.mkdtemp(prefix="bench_funnel_pq_"))
    parquet = str(tmp / "events.parquet")
    con.con.sql("SELECT worker_id, event_type, ts FROM events").write_parquet(parquet)
    query = clickhouse_sql(parquet)
    out = chdb.query(query, "CSV")
    levels = {int(a): int(b) for a, b in (line.split(",") for line in str(out).split())}
    ch_counts = [sum(v for lv, v in levels.items() if lv >= k) for k in range(1, len(STEPS) + 1)]
    from metrics_layer.analysis.funnel import funnel

    res = funnel(layer, FUNNEL)
    sql = res.sql()
    layer_counts = [int(x) for x in fetch_sql(con, sql)["entities"].to_pylist()]
    t_sql, t_ch = time_alternating(
        [lambda: fetch_sql(con, sql), lambda: chdb.query(query, "CSV")], repeat=repeat
    )
    tell(f"funnel: clickhouse windowFunnel counts {ch_counts}, layer {layer_counts}")
    return {
        "name": "funnel4_clickhouse",
        "group": "funnel",
        "layer_s": t_sql.median,
        "handwritten_s": t_ch.median,
        "ratio": t_sql.median / t_ch.median,
        "compile_ms": None,
        "equal": ch_counts == layer_counts,
        "clickhouse_counts": ch_counts,
        "layer_counts": layer_counts,
        "clickhouse_version": getattr(chdb, "__version__", "?"),
        "note": "handwritten_s = ClickHouse windowFunnel via chdb on Parquet (counts only)",
    }


def run(
    n_events: int,
    db_path: str,
    repeat: int = 5,
    progress: Say | None = say,
    clickhouse: bool = True,
) -> list[dict[str, Any]]:
    """The funnel cases on the demo database at `db_path` (generated when missing)."""
    import metrics_layer as ml

    tell = progress or (lambda _m: None)
    if not Path(db_path).exists():
        from metrics_layer.demo.generate import generate

        tell(f"funnel: generating {n_events:,} events into {db_path} ...")
        generate(db_path, events=n_events)
    con = connect(db_path)
    layer = ml.load(defs_folder(), con=con)
    hand = hand_sql()
    rows = []
    for name, kw in (("funnel4_asof", {}), ("funnel4_window", {"strategy": "window"})):
        tell(f"funnel: {name} ({repeat} runs each side) ...")
        rows.append(_case(con, layer, name, hand, repeat, **kw))
        if not rows[-1]["equal"]:
            tell(f"funnel: {name}: RESULTS DIFFER: {rows[-1]['diff']}")
    if clickhouse:
        tell("funnel: ClickHouse windowFunnel via chdb ...")
        rows.append(_clickhouse(con, layer, repeat, tell))
    for row in rows:
        row["events"] = n_events
    return rows


def explain(db_path: str) -> str:
    """The layer's SQL and the hand SQL with DuckDB's EXPLAIN ANALYZE of each."""
    import metrics_layer as ml
    from metrics_layer.analysis.funnel import funnel

    con = connect(db_path)
    sql = funnel(ml.load(defs_folder(), con=con), FUNNEL).sql()
    return "\n".join(
        [
            "-- layer SQL",
            sql,
            "-- layer EXPLAIN ANALYZE",
            explain_analyze(con, sql),
            "-- hand-written SQL",
            hand_sql(),
            "-- hand EXPLAIN ANALYZE",
            explain_analyze(con, hand_sql()),
        ]
    )


def main() -> None:
    from benchmarks.harness import DEFAULT_EVENTS, ensure_data, print_results

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=DEFAULT_EVENTS)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--db", help="DuckDB file to use (default: cached demo data)")
    ap.add_argument("--no-clickhouse", action="store_true")
    ap.add_argument("--explain", action="store_true", help="print SQL and EXPLAIN ANALYZE")
    args = ap.parse_args()
    db = args.db or str(ensure_data(args.events))
    if args.explain:
        print(explain(db))
        return
    rows = run(args.events, db, repeat=args.repeat, clickhouse=not args.no_clickhouse)
    print_results(rows, f"Funnel benchmarks ({args.events:,} events)", target=1.1)
    for r in rows:
        extra = {
            k: r[k]
            for k in (
                "layer_e2e_s",
                "e2e_ratio",
                "clickhouse_counts",
                "layer_counts",
                "skipped",
                "note",
            )
            if k in r
        }
        if extra:
            print(r["name"], extra)


if __name__ == "__main__":
    main()
