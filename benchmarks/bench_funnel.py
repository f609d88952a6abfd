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
- `product_funnel4`: the default `layer.funnel()` (4 steps, 7 days, with time-to-convert) on
  the product-event data set (benchmarks/product_data.py: repeated steps, ties, NULL entities,
  skewed users; n_events / 10 users) against `hand_sql` for that table.
- `product_funnel4_counts`: the same with `times=False` against the counts-only hand SQL.
- `product_funnel4_within`: the same funnel with per-step windows (`within`: add_to_cart 1 day
  after the view, checkout 1 hour after it, purchase 2 hours after that) against the hand SQL
  with the same bound on each step.

`layer_s` runs the layer's compiled SQL text (the cold compile is timed apart: `compile_ms`
CPU, `compile_wall_ms`); `layer_e2e_s` is a new `layer.funnel(...).to_pyarrow()` per run
through the layer's engine: the compiled query comes from its cache after the first (warm-up)
run, so a run pays the request checks, the cache lookup, the query and the Arrow fetch.

    python -m benchmarks.bench_funnel --events 10000000 [--repeat 7] [--explain]
    python -m benchmarks.bench_funnel --explain-product 1000000   # product funnel EXPLAIN
    python -m benchmarks.bench_funnel --explain-product 1000000 --counts   # times=False
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    ROOT,
    Say,
    compare_tables,
    connect,
    explain_analyze,
    fetch_sql,
    result_row,
    say,
    time_alternating,
)

STEPS = ["signup", "profile_completed", "application", "task_accepted"]
WINDOW_DAYS = 30
FUNNEL = "bench_onboarding4"
PRODUCT_DEFS = ROOT / "benchmarks" / "product_defs"
PRODUCT_FUNNEL = "purchase4"
PRODUCT_WINDOW_DAYS = 7
USERS_PER_EVENT = 0.1  # product users per demo event asked: 10M events -> 1M users, 11M events


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


def hand_sql(
    steps: Sequence[str] = STEPS,
    window_days: int = WINDOW_DAYS,
    *,
    table: str = "events",
    entity: str = "worker_id",
    kind: str = "event_type",
    times: bool = True,
    within: Sequence[int | None] = (),
) -> str:
    """The fastest hand-written DuckDB SQL we found for the funnel table.

    - Step 2 without a join: rows of steps 1 and 2 ordered by (time, step) per entity; a
      step-1 row followed by another step-1 row is dropped (the later one reaches the same
      steps, sooner), and the next row, when it is step 2, is the step 2 (ties included).
      With repeated step-1 events this drops most attempts before any join.
    - Steps 3.. by chained ASOF LEFT JOINs, the window checked on each.
    - The counted attempt per entity by QUALIFY row_number() (deepest, reached first, started
      last); `times=False` needs only the deepest step: a GROUP BY max.
    - One FILTER aggregate row, unpivoted into one row per step with UNION ALL.
    """
    w = window_days * 86400 * 1_000_000
    n = len(steps)
    bound = {i: f" AND t{i} - t{i - 1} <= {b * 1_000_000}" for i, b in enumerate(within, 1) if b}
    kinds = ", ".join(f"'{s}'" for s in steps)
    number = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(steps, 1))
    ctes = [
        f"ev AS (SELECT {entity} AS e, epoch_us(ts) AS t, CASE {kind} {number} END AS k "
        f"FROM {table} WHERE {entity} IS NOT NULL AND ts IS NOT NULL AND {kind} IN ({kinds}))",
        f"a2 AS (SELECT e, t AS t1, CASE WHEN nk = 2 AND nt - t <= {w}"
        + (f" AND nt - t <= {within[1] * 1_000_000}" if len(within) > 1 and within[1] else "")
        + " THEN nt END AS t2 "
        "FROM (SELECT e, t, k, lead(k) OVER w AS nk, lead(t) OVER w AS nt FROM ev WHERE k <= 2 "
        "WINDOW w AS (PARTITION BY e ORDER BY t, k)) WHERE k = 1 AND nk IS DISTINCT FROM 1)",
    ]
    for i in range(3, n + 1):
        ctes.append(f"c{i} AS (SELECT e, t FROM ev WHERE k = {i})")
        ctes.append(
            f"a{i} AS (SELECT a.*, CASE WHEN c.t - a.t1 <= {w}"
            + bound.get(i, "").replace(f"t{i} - t{i - 1}", f"c.t - a.t{i - 1}")
            + f" THEN c.t END AS t{i} "
            f"FROM a{i - 1} a ASOF LEFT JOIN c{i} c ON a.e = c.e AND a.t{i - 1} <= c.t)"
        )
    depth = " + ".join(["1"] + [f"(t{i} IS NOT NULL)::BIGINT" for i in range(2, n + 1)])
    last = "coalesce(" + ", ".join(f"t{i}" for i in range(n, 0, -1)) + ")"
    if times:
        ctes.append(
            f"best AS (SELECT *, {depth} AS depth FROM a{n} QUALIFY row_number() OVER "
            f"(PARTITION BY e ORDER BY {depth} DESC, {last}, t1 DESC) = 1)"
        )
    else:
        ctes.append(f"best AS (SELECT max({depth}) AS depth FROM a{n} GROUP BY e)")
    aggs = ["count(*) AS n1"]
    for i in range(2, n + 1):
        aggs.append(f"count(*) FILTER (depth >= {i}) AS n{i}")
        if times:
            d = f"(t{i} - t{i - 1}) / 1e6"
            aggs += [f"median({d}) AS m{i}", f"avg({d}) AS v{i}"]
    ctes.append(f"agg AS (SELECT {', '.join(aggs)} FROM best)")
    rows = []
    for i, s in enumerate(steps, 1):
        prev = f"n{max(i - 1, 1)}"
        m, v = ("NULL::DOUBLE", "NULL::DOUBLE") if i == 1 else (f"m{i}", f"v{i}")
        timed = f", {m} AS median_seconds, {v} AS avg_seconds" if times else ""
        rows.append(
            f"SELECT {i}::BIGINT AS step, '{s}' AS step_name, n{i} AS entities, "
            f"n{i} / nullif(n1, 0)::DOUBLE AS conversion, "
            f"n{i} / nullif({prev}, 0)::DOUBLE AS step_conversion{timed} FROM agg"
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


def compile_ms(layer: Any, name: str = FUNNEL, repeat: int = 5, **kw: Any) -> tuple[float, float]:
    """Median CPU and wall milliseconds of a cold compile: argument checks + ibis expression +
    SQL rendering (the backend's own compile, which `to_pyarrow` also pays on every execution).
    `analysis.funnel.funnel` builds the expression from scratch on every call."""
    from metrics_layer.analysis.funnel import funnel

    cpu, wall = [], []
    for _ in range(repeat + 1):
        c, w = time.process_time(), time.perf_counter()
        layer.con.compile(funnel(layer, name, **kw).expr)
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return statistics.median(cpu[1:]) * 1000, statistics.median(wall[1:]) * 1000


def _case(
    con: Any, layer: Any, name: str, hand: str, repeat: int, funnel_name: str = FUNNEL, **kw: Any
) -> dict[str, Any]:
    """The layer's SQL, the hand SQL and the layer end to end, alternately; equality checked.

    `layer_s` runs the layer's rendered SQL text as the hand SQL is run (the quality of the
    SQL alone); `layer_e2e_s` is what a caller pays per request: a new `layer.funnel(...)`
    (argument checks, the compiled-query cache lookup) and `.to_pyarrow()` (binding, run,
    Arrow fetch). The first, warm-up run fills the cache, as a service's first request would.
    """

    def e2e() -> Any:
        return layer.funnel(funnel_name, **kw).to_pyarrow()

    sql = layer.funnel(funnel_name, **kw).sql()
    diff = compare_tables(e2e(), fetch_sql(con, hand))
    t_sql, t_hand, t_e2e = time_alternating(
        [lambda: fetch_sql(con, sql), lambda: fetch_sql(con, hand), e2e], repeat=repeat
    )
    cpu_ms, wall_ms = compile_ms(layer, funnel_name, **kw)
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
    row["e2e_cpu_ratio"] = t_e2e.cpu_median / t_hand.cpu_median if t_hand.cpu_median > 0 else None
    return row


def product_cases(
    n_users: int,
    directory: Path,
    repeat: int,
    tell: Say,
    threads: int | None = None,
    only: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """The 4-step, 7-day funnel on the product-event data set (benchmarks/product_data.py):
    the default layer.funnel(), times=False and per-step `within` bounds, each against its
    hand-written SQL (`only` picks cases by name)."""
    import metrics_layer as ml
    from benchmarks import product_data as pd_

    path = pd_.ensure_product_data(n_users, directory=directory, progress=tell)
    con = connect(path, threads=threads)
    layer = ml.load(PRODUCT_DEFS, con=con)
    hand = {"table": "product_events", "entity": "user_id"}
    rows = []
    paced = dict(zip(pd_.STEPS[1:], ("1 day", "1 hour", "2 hours"), strict=True))
    seconds = [None, 86400, 3600, 7200]
    cases: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("product_funnel4", {}, {}),
        ("product_funnel4_counts", {"times": False}, {"times": False}),
        # per-step windows: each step within its own bound of the previous one
        ("product_funnel4_within", {"within": paced}, {"within": seconds}),
    ]
    if only:
        cases = [c for c in cases if c[0] in only]
    for name, kw, hand_kw in cases:
        tell(f"funnel: {name} ({repeat} runs each side) ...")
        sql = hand_sql(pd_.STEPS, PRODUCT_WINDOW_DAYS, **hand, **hand_kw)
        row = _case(con, layer, name, sql, repeat, funnel_name=PRODUCT_FUNNEL, **kw)
        row["users"] = n_users
        row["data"] = path.name
        rows.append(row)
        if not row["equal"]:
            tell(f"funnel: {name}: RESULTS DIFFER: {row['diff']}")
    con.disconnect()
    return rows


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
    product: bool = True,
    threads: int | None = None,
) -> list[dict[str, Any]]:
    """The funnel cases on the demo database at `db_path` (generated when missing), then on the
    product-event data set with n_events / 10 users (cached next to `db_path`)."""
    import metrics_layer as ml

    tell = progress or (lambda _m: None)
    if not Path(db_path).exists():
        from metrics_layer.demo.generate import generate

        tell(f"funnel: generating {n_events:,} events into {db_path} ...")
        generate(db_path, events=n_events)
    con = connect(db_path, threads=threads)
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
    con.disconnect()
    if product:
        users = max(int(n_events * USERS_PER_EVENT), 100)
        rows += product_cases(users, Path(db_path).parent, repeat, tell, threads=threads)
    return rows


def explain(db_path: str, product_users: int | None = None, times: bool = True) -> str:
    """The layer's SQL and the hand SQL with DuckDB's EXPLAIN ANALYZE of each: the demo funnel,
    or with `product_users` the product-event funnel (`times=False`: the counts-only one)."""
    import metrics_layer as ml
    from metrics_layer.analysis.funnel import funnel

    if product_users:
        from benchmarks import product_data as pd_

        path = pd_.ensure_product_data(product_users, directory=Path(db_path).parent)
        con = connect(path)
        sql = funnel(ml.load(PRODUCT_DEFS, con=con), PRODUCT_FUNNEL, times=times).sql()
        hand = hand_sql(
            pd_.STEPS, PRODUCT_WINDOW_DAYS, table="product_events", entity="user_id", times=times
        )
    else:
        con = connect(db_path)
        sql = funnel(ml.load(defs_folder(), con=con), FUNNEL, times=times).sql()
        hand = hand_sql(times=times)
    return "\n".join(
        [
            "-- layer SQL",
            sql,
            "-- layer EXPLAIN ANALYZE",
            explain_analyze(con, sql),
            "-- hand-written SQL",
            hand,
            "-- hand EXPLAIN ANALYZE",
            explain_analyze(con, hand),
        ]
    )


def main() -> None:
    from benchmarks.harness import DEFAULT_EVENTS, ensure_data, print_results

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=DEFAULT_EVENTS)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--db", help="DuckDB file to use (default: cached demo data)")
    ap.add_argument("--no-clickhouse", action="store_true")
    ap.add_argument("--no-product", action="store_true", help="skip the product-event cases")
    ap.add_argument("--explain", action="store_true", help="print SQL and EXPLAIN ANALYZE")
    ap.add_argument(
        "--explain-product", type=int, metavar="USERS", help="EXPLAIN the product-event funnel"
    )
    ap.add_argument("--counts", action="store_true", help="with --explain*: times=False")
    args = ap.parse_args()
    db = args.db or str(ensure_data(args.events))
    if args.explain or args.explain_product:
        print(explain(db, args.explain_product, times=not args.counts))
        return
    rows = run(
        args.events,
        db,
        repeat=args.repeat,
        clickhouse=not args.no_clickhouse,
        product=not args.no_product,
    )
    print_results(rows, f"Funnel benchmarks ({args.events:,} events)")
    keys = ("layer_e2e_s", "e2e_ratio", "e2e_cpu_ratio", "users", "clickhouse_counts")
    for r in rows:
        extra = {k: r[k] for k in (*keys, "layer_counts", "skipped", "note") if k in r}
        if extra:
            print(r["name"], extra)


if __name__ == "__main__":
    main()
