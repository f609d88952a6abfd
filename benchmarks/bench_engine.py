"""Warm and cold compile through the engine: what a request costs before the database runs it.

- **warm**: the same request shape with other literal values (another `start`, here): the
  compiled query comes from the layer's cache and only the values are bound. Target: a
  median of at most 1 ms, for KPI, retention and funnel shapes.
- **cold**: an empty cache: plan, ibis build, and the parameterised SQL rendered once (what
  the first execution of a shape pays).

Both are CPU milliseconds of this process (medians): `layer.query(...)` (or `retention`,
`funnel`) plus fetching the executable SQL and its bound parameters, everything up to the
database call. ``python -m benchmarks.bench_engine [--events N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import statistics
import time
from collections.abc import Callable
from typing import Any

from benchmarks.harness import Say, connect, say

STARTS = [_dt.date(2024, 1, 1) + _dt.timedelta(days=3 * k) for k in range(60)]


def _prepare(layer: Any, make: Callable[[Any], Any], start: _dt.date) -> Any:
    """Everything before the database: the Result, its executable SQL and bound values."""
    res = make(start)
    p = res._prepared
    if layer.backend in ("duckdb", "postgres"):
        sql = p.compiled.param_sql(layer.backend)
        p.compiled.bound_params(sql, p.values)
    return res


def _cpu_ms(fn: Callable[[], Any], wall: list[float] | None = None) -> float:
    c, w = time.process_time(), time.perf_counter()
    fn()
    if wall is not None:
        wall.append((time.perf_counter() - w) * 1000)
    return (time.process_time() - c) * 1000


def measure(layer: Any, name: str, make: Callable[[Any], Any], repeat: int) -> dict[str, Any]:
    """Median warm (cache hit, other start) and cold (empty cache) CPU ms of one shape."""
    cold = []
    for _ in range(max(repeat // 4, 3)):
        layer.engine.cache.clear()
        cold.append(_cpu_ms(lambda: _prepare(layer, make, STARTS[0])))
    warm: list[float] = []
    warm_wall: list[float] = []
    hits = 0
    for start in STARTS[1 : 1 + repeat]:
        res: list[Any] = []
        warm.append(
            _cpu_ms(lambda s=start, out=res: out.append(_prepare(layer, make, s)), warm_wall)
        )
        hits += bool(res[0].cache_hit)
    return {
        "group": "engine",
        "name": name,
        "layer_s": None,
        "handwritten_s": None,
        "ratio": None,
        "compile_ms": statistics.median(cold),
        "warm_ms": statistics.median(warm),
        "warm_max_ms": max(warm),
        "warm_wall_ms": statistics.median(warm_wall),
        "cold_ms": statistics.median(cold),
        "warm_hits": f"{hits}/{len(warm)}",
    }


def cases(layer: Any) -> list[tuple[str, Callable[[Any], Any]]]:
    from benchmarks.bench_kpi import CASES

    out: list[tuple[str, Callable[[Any], Any]]] = []
    for case in CASES:
        query = {k: v for k, v in case.query.items() if k != "start"}
        out.append(
            (
                f"kpi {case.name}",
                lambda s, c=case, q=query: layer.query(c.metrics, start=s, **q),
            )
        )
    out.append(
        (
            "kpi where + start",
            lambda s: layer.query(
                ["app_active_workers"],
                by=["workers.country"],
                grain="month",
                where=f"platform = 'ios' AND workers.country <> '{s:%m}'",
                start=s,
            ),
        )
    )
    out.append(
        ("retention worker_retention", lambda s: layer.retention("worker_retention", start=s))
    )
    out.append(
        (
            "retention worker_retention_by_country",
            lambda s: layer.retention("worker_retention_by_country", start=s, periods=6),
        )
    )
    out.append(("funnel onboarding", lambda s: layer.funnel("onboarding", start=s)))
    out.append(
        (
            "funnel onboarding by platform",
            lambda s: layer.funnel("onboarding", by="platform", start=s),
        )
    )
    return out


def run(
    n_events: int, db_path: str, repeat: int = 40, progress: Say | None = say
) -> list[dict[str, Any]]:
    from benchmarks.bench_kpi import load_layer

    tell = progress or (lambda _m: None)
    layer = load_layer(connect(db_path))
    rows = []
    for name, make in cases(layer):
        tell(f"engine: {name} ...")
        rows.append(measure(layer, name, make, repeat))
    return rows


def print_engine(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Engine compile (CPU ms, median)", title_justify="left")
    for col in ("case", "warm", "warm max", "warm wall", "hits", "cold", "target (warm)"):
        table.add_column(col, justify="left" if col == "case" else "right")
    for r in rows:
        ok = r["warm_ms"] <= 1.0
        table.add_row(
            r["name"],
            f"{r['warm_ms']:.3f}",
            f"{r['warm_max_ms']:.2f}",
            f"{r['warm_wall_ms']:.3f}",
            r["warm_hits"],
            f"{r['cold_ms']:.1f}",
            "ok" if ok else "[bold red]> 1 ms[/]",
        )
    console = Console()
    console.width = max(console.width, 110)
    console.print(table)


def main() -> None:
    from benchmarks.harness import ensure_data

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=20_000, help="size of the demo data")
    ap.add_argument("--repeat", type=int, default=40)
    args = ap.parse_args()
    print_engine(run(args.events, str(ensure_data(args.events)), repeat=args.repeat))


if __name__ == "__main__":
    main()
