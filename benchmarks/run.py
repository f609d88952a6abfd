"""Run the benchmark suite: ``python -m benchmarks.run [--events N] [--only kpi,compile] [--repeat R]``.

Generates (or reuses) the demo data under bench_data/, runs every available benchmark module
(bench_kpi, bench_compile, and bench_retention / bench_funnel when present), prints the results
with the machine they ran on and writes them to bench_data/results.json.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import importlib.util
import inspect
import json
import time
import traceback
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    DATA_DIR,
    DEFAULT_EVENTS,
    DEFAULT_SEED,
    connect,
    ensure_data,
    machine_info,
    print_machine,
    print_results,
    say,
)

MODULES = ("kpi", "compile", "retention", "funnel", "experiment")


def available(name: str) -> bool:
    return importlib.util.find_spec(f"benchmarks.bench_{name}") is not None


def call_run(module: Any, n_events: int, db_path: str, **options: Any) -> list[dict[str, Any]]:
    """Call `module.run(n_events, db_path)` with the options its signature accepts."""
    params = inspect.signature(module.run).parameters
    kwargs = {k: v for k, v in options.items() if k in params}
    return list(module.run(n_events, db_path, **kwargs))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--events",
        type=int,
        default=DEFAULT_EVENTS,
        help=f"events in the demo data (default {DEFAULT_EVENTS:,})",
    )
    ap.add_argument(
        "--only", default=",".join(MODULES), help=f"comma-separated subset of {','.join(MODULES)}"
    )
    ap.add_argument(
        "--repeat", type=int, default=5, help="measured runs per side (after a warm-up)"
    )
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--data-dir", type=Path, default=DATA_DIR, help="cache of generated data")
    ap.add_argument(
        "--output", type=Path, default=None, help="results JSON (default: <data-dir>/results.json)"
    )
    args = ap.parse_args(argv)

    wanted = [m.strip() for m in args.only.split(",") if m.strip()]
    unknown = [m for m in wanted if m not in MODULES]
    if unknown:
        ap.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    started = time.perf_counter()
    # compile benchmarks only need the schema: do not generate 10M rows for them alone
    n_events = min(args.events, 100_000) if wanted == ["compile"] else args.events
    db_path = str(ensure_data(n_events, args.seed, directory=args.data_dir))
    con = connect(db_path, threads=args.threads)
    machine = machine_info(con)
    con.disconnect()
    options = {"repeat": args.repeat, "progress": say, "threads": args.threads}
    results: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    for name in wanted:
        if not available(name):
            say(f"{name}: benchmarks/bench_{name}.py not present, skipped")
            continue
        say(f"{name}: running ...")
        t0 = time.perf_counter()
        try:
            module = importlib.import_module(f"benchmarks.bench_{name}")
            opts = dict(options, repeat=max(4 * args.repeat, 10)) if name == "compile" else options
            rows = call_run(module, n_events, db_path, **opts)
        except Exception as exc:  # noqa: BLE001 - one failing module must not lose the others
            errors[name] = f"{type(exc).__name__}: {exc}"
            say(f"{name}: FAILED: {errors[name]}")
            traceback.print_exc()
            continue
        for row in rows:
            row.setdefault("group", name)
        results.extend(rows)
        say(f"{name}: done in {time.perf_counter() - t0:.0f} s")

    timed = [r for r in results if r.get("group") != "compile" and r.get("group") != "load"]
    if timed:
        print_results(
            timed, f"Layer vs hand-written SQL ({n_events:,} events, median of {args.repeat} runs)"
        )
    compiled = [r for r in results if r.get("group") in ("compile", "load")]
    if compiled:
        from benchmarks.bench_compile import print_compile

        print_compile(compiled)
    print_machine(machine)
    unequal = [r["name"] for r in results if r.get("equal") is False]
    payload = {
        "started": _dt.datetime.now().isoformat(timespec="seconds"),
        "events": n_events,
        "seed": args.seed,
        "repeat": args.repeat,
        "db": db_path,
        "machine": machine,
        "duration_s": round(time.perf_counter() - started, 1),
        "results": results,
        "errors": errors,
    }
    output = args.output or args.data_dir / "results.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(payload, indent=2, default=str))
    say(f"results written to {output}")
    if unequal:
        say(f"RESULTS DIFFER from the hand-written SQL: {', '.join(unequal)}")
    return 1 if errors or unequal else 0


if __name__ == "__main__":
    raise SystemExit(main())
