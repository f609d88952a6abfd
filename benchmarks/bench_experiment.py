"""A/B readout: the layer's one ibis expression against the best hand-written DuckDB SQL.

Data (generated once into bench_data/, DuckDB SQL): 1M exposed users (2% exposed twice to
the same arm, 0.3% to both arms) and 10M orders over 60 days (user, amount, kind, ts) with a
tenth of the rows from users never exposed. The experiment reads out revenue (sum), orders
(count), conversion (distinct buyers = a proportion) and revenue per order (a ratio) in a
14-day window, with and without a 14-day CUPED lookback. Both sides compute the same per-arm
sums (n, Σ and Σ of products of every component); results must be equal.

The hand SQL is what an analyst would write: units by one GROUP BY with min/max arm, one
join of the orders to the single-arm units, FILTERed aggregates per unit, a LEFT JOIN back
to every unit and one GROUP BY arm.

    python -m benchmarks.bench_experiment [--units 1000000] [--events 10000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    DATA_DIR,
    Say,
    compare_tables,
    connect,
    fetch_layer,
    fetch_sql,
    result_row,
    say,
    time_alternating,
)

UNITS = 1_000_000
EVENTS = 10_000_000

DEFS = """
version: 1
sources:
  exposures: {table: bench_exposures, time: exposed_at}
  orders:
    table: bench_orders
    time: ts
    measures:
      revenue: {agg: sum, expr: amount}
      orders: {agg: count}
      buyers: {agg: count_distinct, expr: user_id, filter: "kind = 'buy'"}
metrics:
  revenue: {measure: orders.revenue}
  orders: {measure: orders.orders}
  conversion: {measure: orders.buyers}
  revenue_per_order: {type: ratio, numerator: revenue, denominator: orders}
experiments:
  plain:
    source: exposures
    entity: user_id
    variant: variant
    control: control
    metrics: [revenue, orders, conversion, revenue_per_order]
    window: 14 days
  cuped:
    source: exposures
    entity: user_id
    variant: variant
    control: control
    metrics: [revenue, orders, conversion, revenue_per_order]
    window: 14 days
    cuped: {lookback: 14 days}
"""

_GENERATE = """
SELECT setseed(0.42);
CREATE OR REPLACE TABLE bench_exposures AS
SELECT i AS user_id,
       CASE WHEN random() < 0.5 THEN 'control' ELSE 'treatment' END AS variant,
       TIMESTAMP '2024-01-15' + to_seconds(CAST(random() * 20 * 86400 AS BIGINT)) AS exposed_at
FROM range({units}) t(i);
INSERT INTO bench_exposures
SELECT user_id, variant, exposed_at + INTERVAL 2 DAY FROM bench_exposures WHERE user_id % 50 = 7;
INSERT INTO bench_exposures
SELECT user_id, CASE variant WHEN 'control' THEN 'treatment' ELSE 'control' END,
       exposed_at + INTERVAL 1 DAY
FROM bench_exposures WHERE user_id % 333 = 5 AND user_id % 50 <> 7;
CREATE OR REPLACE TABLE bench_orders AS
SELECT CAST(floor(random() * {units} * 1.1) AS BIGINT) AS user_id,
       round(random() * 100, 2) AS amount,
       CASE WHEN random() < 0.3 THEN 'buy' ELSE 'view' END AS kind,
       TIMESTAMP '2024-01-01' + to_seconds(CAST(random() * 60 * 86400 AS BIGINT)) AS ts
FROM range({events}) t(i);
CHECKPOINT;
"""

# The hand-written per-arm sums, in the layer's column order (arm, n, s{k}_{i}, p{k}_{i}_{j}).
_UNITS = """
WITH u AS (
  SELECT user_id, min(exposed_at) AS t0,
         CASE WHEN min(variant) = max(variant) THEN min(variant) END AS arm
  FROM bench_exposures
  WHERE user_id IS NOT NULL AND variant IS NOT NULL AND exposed_at IS NOT NULL
  GROUP BY user_id
),
m AS (
  SELECT o.user_id,
         sum(o.amount) FILTER (WHERE o.ts >= u.t0) AS rev,
         count(*) FILTER (WHERE o.ts >= u.t0) AS cnt,
         max(CASE WHEN o.kind = 'buy' AND o.ts >= u.t0 THEN 1 ELSE 0 END) AS conv{pre_cols}
  FROM bench_orders AS o JOIN u ON o.user_id = u.user_id
  WHERE u.arm IS NOT NULL AND o.ts >= u.t0 - INTERVAL {lookback} DAY AND o.ts < u.t0 + INTERVAL 14 DAY
  GROUP BY o.user_id
),
x AS (
  SELECT u.arm, coalesce(m.rev, 0)::DOUBLE AS rev, coalesce(m.cnt, 0)::DOUBLE AS cnt,
         coalesce(m.conv, 0)::DOUBLE AS conv{pre_x}
  FROM u LEFT JOIN m ON m.user_id = u.user_id
)
SELECT arm, count(*) AS n, {sums}
FROM x GROUP BY arm
"""
_PRE_COLS = """,
         sum(o.amount) FILTER (WHERE o.ts < u.t0) AS rev_pre,
         count(*) FILTER (WHERE o.ts < u.t0) AS cnt_pre,
         max(CASE WHEN o.kind = 'buy' AND o.ts < u.t0 THEN 1 ELSE 0 END) AS conv_pre"""
_PRE_X = """, coalesce(m.rev_pre, 0)::DOUBLE AS rev_pre,
         coalesce(m.cnt_pre, 0)::DOUBLE AS cnt_pre, coalesce(m.conv_pre, 0)::DOUBLE AS conv_pre"""


def hand_sql(cuped: bool) -> str:
    metrics = [["rev"], ["cnt"], ["conv"], ["rev", "cnt"]]
    parts = []
    for k, comps in enumerate(metrics):
        comps = comps + [c + "_pre" for c in comps] if cuped else comps
        for i, a in enumerate(comps):
            parts.append(f"sum({a}) AS s{k}_{i}")
            parts += [f"sum({a} * {b}) AS p{k}_{i}_{j}" for j, b in enumerate(comps) if j >= i]
    return _UNITS.format(
        pre_cols=_PRE_COLS if cuped else "",
        pre_x=_PRE_X if cuped else "",
        lookback=14 if cuped else 0,
        sums=",\n       ".join(parts),
    )


def ensure(units: int, events: int, directory: Path = DATA_DIR, tell: Say = say) -> Path:
    """The benchmark's DuckDB file (generated once per size)."""
    path = directory / f"experiment_{units}_{events}.duckdb"
    if path.exists():
        return path
    import duckdb

    directory.mkdir(parents=True, exist_ok=True)
    tell(f"experiment: generating {units:,} units and {events:,} orders into {path} ...")
    con = duckdb.connect(str(path))
    try:
        for stmt in _GENERATE.format(units=units, events=events).split(";"):
            if stmt.strip():
                con.execute(stmt)
    finally:
        con.close()
    return path


def load_layer(con: Any) -> Any:
    import metrics_layer as ml

    folder = Path(tempfile.mkdtemp(prefix="ml-bench-experiment-"))
    (folder / "experiments.yml").write_text(DEFS, encoding="utf-8")
    return ml.load(folder, con=con)


def run_case(con: Any, layer: Any, name: str, repeat: int) -> dict[str, Any]:
    res = layer.experiment(name)
    expr, layer_sql, hand = res.expr, res.sql(), hand_sql(name == "cuped")
    diff = compare_tables(fetch_layer(con, expr), fetch_sql(con, hand), rel_tol=1e-9)
    t_sql, t_hand, t_e2e = time_alternating(
        [
            lambda: fetch_sql(con, layer_sql),
            lambda: fetch_sql(con, hand),
            lambda: fetch_layer(con, expr),
        ],
        repeat=repeat,
    )
    compiles = []
    for _ in range(4):
        start = time.perf_counter()
        layer.experiment(name).sql()
        compiles.append(time.perf_counter() - start)
    start = time.perf_counter()
    res.to_pandas()
    readout = time.perf_counter() - start
    row = result_row(
        f"experiment_{name}",
        t_sql,
        t_hand,
        statistics.median(compiles[1:]) * 1000,
        group="experiment",
        what="per-arm sums, 4 metrics, 14-day window"
        + (", CUPED 14 days" if name == "cuped" else ""),
        equal=diff is None,
        diff=diff,
    )
    row["layer_e2e_s"] = t_e2e.median
    row["e2e_ratio"] = t_e2e.median / t_hand.median if t_hand.median > 0 else None
    row["readout_s"] = readout
    return row


def run(
    n_events: int,
    db_path: str,
    repeat: int = 3,
    progress: Say | None = say,
    threads: int | None = None,
    units: int | None = None,
) -> list[dict[str, Any]]:
    """Both cases on `n_events` orders and (default) a tenth as many units, in the folder of
    `db_path` (the suite's demo database) or bench_data/."""
    tell = progress or (lambda _m: None)
    units = units or max(n_events // 10, 100)
    folder = Path(db_path).parent if db_path else DATA_DIR
    path = ensure(units, max(n_events, 1000), folder, tell)
    con = connect(str(path), threads=threads)
    layer = load_layer(con)
    rows = []
    for name in ("plain", "cuped"):
        tell(f"experiment: {name} ({repeat} runs each side) ...")
        row = run_case(con, layer, name, repeat)
        row.update(events=n_events, units=units)
        rows.append(row)
        if not row["equal"]:
            tell(f"experiment: {name}: RESULTS DIFFER: {row['diff']}")
    return rows


def main() -> None:
    from benchmarks.harness import print_results

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=UNITS)
    ap.add_argument("--events", type=int, default=EVENTS)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    rows = run(args.events, "", repeat=args.repeat, threads=args.threads, units=args.units)
    print_results(
        rows,
        f"Experiment readout ({args.units:,} units, {args.events:,} orders): the layer's compiled "
        "SQL vs hand-written SQL",
        target=1.1,
    )
    for r in rows:
        print(
            f"  {r['name']:22} through ibis: {r['layer_e2e_s']:.3f} s ({r['e2e_ratio']:.2f}x); "
            f"compile {r['compile_ms']:.0f} ms; full readout with statistics {r['readout_s']:.2f} s"
        )


if __name__ == "__main__":
    main()
