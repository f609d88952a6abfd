"""Shared benchmark machinery: timing, hand-written SQL, result equality, data, tables.

Methodology (docs/benchmarks.md): both sides run on the same DuckDB connection (same file,
same thread setting), results are fully materialised as Arrow tables, every timing is a
warm-up run followed by N measured runs, and the two sides alternate (ABBA order) so drift of
the machine affects both equally. Medians are reported; minimums are kept for reference.
"""

from __future__ import annotations

import datetime as _dt
import gc
import hashlib
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench_data"
DEFAULT_EVENTS = 10_000_000
DEFAULT_SEED = 7
# MetricFlow's compile time of one query (cold), measured on this machine: the reference
# printed next to the layer's cold compile times
METRICFLOW_COMPILE_MS = (30, 40)

Say = Callable[[str], None]


def say(message: str) -> None:
    """Progress line on stderr with a wall-clock stamp (long steps must not look hung)."""
    print(f"[{_dt.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------- timing
@dataclass
class Timing:
    """Wall-clock seconds of each measured run (warm-up excluded), and CPU seconds of the process.

    CPU time (all threads of this process) is far less sensitive than wall time to other
    processes competing for the cores, so its ratio is a useful second opinion on a busy machine.
    """

    runs: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def min(self) -> float:
        return min(self.runs)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)

    def paired_ratio(self, other: Timing) -> float | None:
        """Median over rounds of this run's time / `other`'s in the same round.

        Runs of one round are back to back (time_alternating), so a neighbour's load that
        comes and goes slows both alike; the ratio of the two medians mixes rounds run at
        different speeds and varies more.
        """
        pairs = [a / b for a, b in zip(self.runs, other.runs, strict=True) if b > 0]
        return statistics.median(pairs) if pairs else None

    def add(self, fn: Callable[[], Any]) -> None:
        cpu, start = time.process_time(), time.perf_counter()
        fn()
        self.runs.append(time.perf_counter() - start)
        self.cpu.append(time.process_time() - cpu)


def time_call(fn: Callable[[], Any], repeat: int = 5, warmup: int = 1) -> Timing:
    """Warm-up runs, then `repeat` measured runs of `fn`."""
    for _ in range(warmup):
        fn()
    gc.collect()
    timing = Timing()
    for _ in range(max(repeat, 1)):
        timing.add(fn)
    return timing


def time_alternating(
    fns: Sequence[Callable[[], Any]], repeat: int = 5, warmup: int = 1
) -> list[Timing]:
    """Time callables in turn, rotating who goes first each round, so drift hits all alike."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    gc.collect()
    timings = [Timing() for _ in fns]
    n = len(fns)
    for i in range(max(repeat, 1)):
        order = list(range(n))
        order = order[i % n :] + order[: i % n]
        if (i // n) % 2:
            order.reverse()
        for j in order:
            timings[j].add(fns[j])
    return timings


def time_pair(
    a: Callable[[], Any], b: Callable[[], Any], repeat: int = 5, warmup: int = 1
) -> tuple[Timing, Timing]:
    """Time two callables alternately (A B, then B A, ...)."""
    ta, tb = time_alternating([a, b], repeat=repeat, warmup=warmup)
    return ta, tb


# ---------------------------------------------------------------------------------- running
def fetch_sql(con: Any, sql: str) -> pa.Table:
    """Run hand-written SQL on an ibis DuckDB connection, fully materialised as Arrow.

    It takes the path ibis's own `to_pyarrow` takes (`duckdb_con.sql(...).to_arrow_table()`),
    so both sides pay the same fetch cost.
    """
    return con.con.sql(sql).to_arrow_table()


def fetch_layer(con: Any, expr: Any) -> pa.Table:
    """The layer's side: ibis renders the expression to SQL and fetches Arrow (as execute does)."""
    return con.to_pyarrow(expr)


def explain_analyze(con: Any, sql: str) -> str:
    """DuckDB's EXPLAIN ANALYZE text (operator timings) of a SQL query."""
    rows = con.con.sql("EXPLAIN ANALYZE " + sql).fetchall()
    return "\n".join(str(r[-1]) for r in rows)


# ---------------------------------------------------------------------------------- equality
def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | Decimal) and not isinstance(v, bool)


def _same(a: Any, b: Any, rel_tol: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if _is_number(a) and _is_number(b):
        if isinstance(a, float) or isinstance(b, float):
            fa, fb = float(a), float(b)
            if math.isnan(fa) or math.isnan(fb):
                return math.isnan(fa) and math.isnan(fb)
            return math.isclose(fa, fb, rel_tol=rel_tol, abs_tol=1e-12)
        return Decimal(a) == Decimal(b)
    return bool(a == b)


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    key: list[tuple[int, Any]] = []
    for v in row:
        if v is None:
            key.append((0, ""))
        elif _is_number(v):
            key.append((1, float(f"{float(v):.10g}")))
        else:
            key.append((2, str(v) if not isinstance(v, _dt.datetime | _dt.date) else v.isoformat()))
    return tuple(key)


def compare_tables(layer: pa.Table, hand: pa.Table, rel_tol: float = 1e-9) -> str | None:
    """None when both hold the same rows (any order, floats to `rel_tol`), else the first difference."""
    if set(layer.column_names) != set(hand.column_names):
        return f"columns differ: layer {layer.column_names} vs hand {hand.column_names}"
    if layer.num_rows != hand.num_rows:
        return f"row counts differ: layer {layer.num_rows} vs hand {hand.num_rows}"
    names = layer.column_names
    hand = hand.select(names)
    rows_a = sorted(zip(*(layer[n].to_pylist() for n in names), strict=True), key=_sort_key)
    rows_b = sorted(zip(*(hand[n].to_pylist() for n in names), strict=True), key=_sort_key)
    for ra, rb in zip(rows_a, rows_b, strict=True):
        for name, va, vb in zip(names, ra, rb, strict=True):
            if not _same(va, vb, rel_tol):
                return f"{name}: layer {va!r} vs hand {vb!r} (layer row {ra!r}, hand row {rb!r})"
    return None


# ---------------------------------------------------------------------------------- data
def _generator_fingerprint() -> str:
    """Hash of the demo generator's source: a changed generator invalidates cached data."""
    digest = hashlib.sha256()
    for f in sorted((ROOT / "metrics_layer" / "demo").glob("*.py")):
        digest.update(f.name.encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def _table_rows(path: Path, table: str) -> int | None:
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except Exception:  # noqa: BLE001 - a locked or corrupt file is simply not reusable
        return None
    try:
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
    except Exception:  # noqa: BLE001
        return None
    finally:
        con.close()


def ensure_data(
    events: int = DEFAULT_EVENTS,
    seed: int = DEFAULT_SEED,
    directory: Path = DATA_DIR,
    progress: Say | None = say,
) -> Path:
    """Path of a demo DuckDB file with `events` events; generated once, then reused.

    A file is reused when its sidecar JSON records the same size, seed and generator source
    and the events table still has the recorded number of rows.
    """
    from metrics_layer.demo.generate import generate

    tell = progress or (lambda _m: None)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"marketplace_{events}_s{seed}.duckdb"
    meta_path = path.with_suffix(".json")
    fingerprint = _generator_fingerprint()
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if (
            meta.get("events") == events
            and meta.get("seed") == seed
            and meta.get("fingerprint") == fingerprint
            and _table_rows(path, "events") == meta.get("counts", {}).get("events")
        ):
            tell(
                f"reusing {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} "
                f"({meta['counts']['events']:,} event rows)"
            )
            return path
        tell(f"{path.name} is stale (different size, seed or generator); regenerating")
    tmp = path.with_suffix(".tmp.duckdb")
    for stale in (tmp, Path(str(tmp) + ".wal"), meta_path):
        stale.unlink(missing_ok=True)
    tell(f"generating demo data: {events:,} events (roughly 2 s per million) ...")
    start = time.perf_counter()
    counts = generate(tmp, events=events, seed=seed, progress=lambda m: tell("  wrote " + m))
    tmp.replace(path)
    meta_path.write_text(
        json.dumps(
            {"events": events, "seed": seed, "fingerprint": fingerprint, "counts": counts}, indent=2
        )
    )
    tell(f"generated {path.name} in {time.perf_counter() - start:.1f} s")
    return path


def connect(db_path: str | Path, threads: int | None = None) -> Any:
    """A read-only ibis DuckDB connection, shared by the layer and the hand-written SQL."""
    import ibis

    con = ibis.duckdb.connect(str(db_path), read_only=True)
    if threads:
        con.con.execute(f"SET threads = {int(threads)}")
    con.con.execute("SET enable_progress_bar = false")
    return con


# ---------------------------------------------------------------------------------- machine
def machine_info(con: Any = None) -> dict[str, Any]:
    """CPU model, cores, RAM and library versions, for the record next to the numbers."""
    import duckdb
    import ibis

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": ram_gb,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "ibis": ibis.__version__,
        "pyarrow": pa.__version__,
    }
    if con is not None:
        info["duckdb_threads"] = int(
            con.con.sql("SELECT current_setting('threads')").fetchall()[0][0]
        )
    return info


# ---------------------------------------------------------------------------------- reporting
def result_row(
    name: str,
    layer: Timing | None,
    hand: Timing | None,
    compile_ms: float | None,
    layer_sql: Timing | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One result in the shared shape (name, layer_s, handwritten_s, ratio, compile_ms, ...).

    `layer_sql` times the layer's rendered SQL run directly: its ratio to the hand SQL
    isolates the quality of the SQL from the Python overhead of going through ibis.
    """
    row: dict[str, Any] = {
        "name": name,
        "layer_s": layer.median if layer else None,
        "handwritten_s": hand.median if hand else None,
        "ratio": _ratio(layer, hand),
        "compile_ms": compile_ms,
    }
    if layer and hand:
        row["layer_min_s"], row["handwritten_min_s"] = layer.min, hand.min
        row["min_ratio"] = layer.min / hand.min if hand.min > 0 else None
        row["layer_cpu_s"], row["handwritten_cpu_s"] = layer.cpu_median, hand.cpu_median
        row["cpu_ratio"] = layer.cpu_median / hand.cpu_median if hand.cpu_median > 0 else None
    if layer_sql:
        row["layer_sql_s"] = layer_sql.median
        row["sql_ratio"] = _ratio(layer_sql, hand)
    row.update(extra)
    return row


def _ratio(a: Timing | None, b: Timing | None) -> float | None:
    return a.median / b.median if a and b and b.median > 0 else None


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "ms":
        return f"{value:.1f} ms"
    return str(value)


def _ratio_cell(value: float | None, target: float) -> str:
    text = _fmt(value, "x")
    return f"[bold red]{text}[/]" if value is not None and value > target else text


def print_results(rows: Sequence[dict[str, Any]], title: str, target: float = 1.05) -> None:
    """A rich table of results; ratios above `target` are highlighted."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for col in (
        "group",
        "case",
        "layer",
        "hand SQL",
        "ratio",
        "min ratio",
        "CPU ratio",
        "layer SQL only",
        "SQL ratio",
        "e2e ratio",
        "e2e paired",
        "cold compile (CPU)",
        "equal",
    ):
        table.add_column(col, justify="left" if col in ("group", "case") else "right")
    for r in rows:
        equal = r.get("equal")
        table.add_row(
            str(r.get("group", "")),
            str(r["name"]),
            _fmt(r.get("layer_s"), "s"),
            _fmt(r.get("handwritten_s"), "s"),
            _ratio_cell(r.get("ratio"), target),
            _ratio_cell(r.get("min_ratio"), target),
            _ratio_cell(r.get("cpu_ratio"), target),
            _fmt(r.get("layer_sql_s"), "s"),
            _ratio_cell(r.get("sql_ratio"), target),
            _ratio_cell(r.get("e2e_ratio"), target),
            _ratio_cell(r.get("e2e_paired_ratio"), target),
            _fmt(r.get("compile_ms"), "ms"),
            "-" if equal is None else ("yes" if equal else "[bold red]NO[/]"),
        )
    lo, hi = METRICFLOW_COMPILE_MS
    table.caption = (
        "e2e = a new layer request executed to Arrow per run (paired: median of its ratio to "
        "the hand SQL run in the same round); cold compile = plan + ibis "
        f"build + SQL render with nothing reused (MetricFlow: {lo}-{hi} ms per query)"
    )
    console = Console()
    console.width = max(console.width, 170)
    console.print(table)


def print_machine(info: dict[str, Any]) -> None:
    from rich.console import Console

    text = ", ".join(f"{k}={v}" for k, v in info.items())
    Console(width=150).print(f"[dim]machine: {text}[/]")
