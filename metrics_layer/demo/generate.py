"""Generate the demo gig-marketplace database: workers, tasks, assignments and app events.

Everything is numpy-vectorised and seeded, so the same (events, seed, plant_issues) always
writes identical tables; 1M events take a few seconds and 10M are fine for benchmarks.
Timestamps are naive TIMESTAMPs meaning UTC, from 2024-01-01 to 2025-06-30, with growth
(daily signups triple over the span and
activity grows faster as the worker base accumulates) and weekly seasonality (busy Fri/Sat, quiet Sun).

Tables (sizes scale with ``events``: workers ~ events/50, tasks ~ events/40):

- ``workers``: current attributes; ``rating`` is NULL for workers without rated work.
- ``worker_history``: SCD Type 2, 1-4 contiguous versions per worker, first valid_from =
  signup_at, last valid_to NULL and equal to ``workers``; level and tier only improve.
- ``tasks``: ~80% are filled. ``assignments``: cancelled ones (completed_at NULL, hours and
  revenue 0) are often re-assigned, so a task can have several assignments (fan-out).
- ``payments``: one per completed assignment, amount = revenue, 1-5 days after completion.
- ``events``: ``visit`` (about 3% of all rows anonymous, worker_id NULL), ``signup``,
  ``profile_completed``, ``application``, ``task_accepted``, ``task_completed``, ``session``.
  The onboarding funnel reaches roughly 100/70/50/35/30% of workers. ``task_accepted`` and
  ``task_completed`` mirror ``assignments`` one to one (worker, task and time). Some events
  repeat (double signups, profile completed twice), ~0.5% of profile completions are logged
  before their signup (clock skew) and some steps share a timestamp with the previous one.
  ``platform`` mixes case ('iOS', 'ios', 'IOS', 'Web', ...), so ``lower(platform)`` matters.

Planted issues (only when ``plant_issues=True``), for data-quality checks to find:

- Orphans: ~0.2% of assignments (at least one) reference worker_ids above the largest
  worker_id, i.e. workers that do not exist; their application/accepted/completed events
  carry the same ids.
- Anomaly: 2025-03-14 has ~5x the usual number of ``visit`` events (web bot traffic).
- Reconciliation: ``min(10, payments)`` payments have an amount different from the revenue
  of their assignment.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from ._common import COUNTRIES, EVENT_TYPES, LEVELS, PLATFORMS, REGIONS, SKILLS, TIERS, rng_for
from ._events import Events, make_events
from ._experiments import write_experiment_tables
from ._marketplace import History, Work, Workers, make_history, make_work, make_workers

_TABLES = ["workers", "worker_history", "tasks", "assignments", "payments", "events"]


def table_names() -> list[str]:
    """Names of the marketplace tables `generate` writes, in dependency order."""
    return list(_TABLES)


def all_table_names() -> list[str]:
    """Every table `generate` writes: the marketplace's and the demo experiments'."""
    from metrics_layer.demo._experiments import EXPERIMENT_TABLES

    return list(_TABLES) + list(EXPERIMENT_TABLES)


def _ts(seconds: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Epoch seconds as an Arrow microsecond timestamp (DuckDB TIMESTAMP)."""
    return pa.array(seconds.astype(np.int64) * 1_000_000, type=pa.timestamp("us"), mask=null)


def _cat(codes: np.ndarray, labels: list[str]) -> pa.Array:
    """Small-int codes decoded to strings in Arrow, cheap even for 10M rows."""
    dictionary = pa.array(labels, type=pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), dictionary).cast(
        pa.string()
    )


def _ids(values: np.ndarray) -> pa.Array:
    """int64 ids with -1 meaning NULL."""
    return pa.array(values.astype(np.int64), mask=values < 0)


def _worker_tables(w: Workers, h: History) -> tuple[pa.Table, pa.Table]:
    """workers (current = last history version) and worker_history."""
    last = np.flatnonzero(h.valid_to < 0)  # exactly one per worker, in worker order
    workers = pa.table(
        {
            "worker_id": np.arange(1, len(w.signup) + 1, dtype=np.int64),
            "name": pa.array(w.name, type=pa.string()),
            "country": _cat(w.country, COUNTRIES),
            "skill": _cat(w.skill, SKILLS),
            "skill_level": _cat(h.level[last], LEVELS),
            "rating": pa.array(h.rating[last], mask=np.isnan(h.rating[last])),
            "tier": _cat(h.tier[last], TIERS),
            "signup_at": _ts(w.signup),
        }
    )
    history = pa.table(
        {
            "worker_id": h.worker.astype(np.int64) + 1,
            "skill_level": _cat(h.level, LEVELS),
            "rating": pa.array(h.rating, mask=np.isnan(h.rating)),
            "tier": _cat(h.tier, TIERS),
            "valid_from": _ts(h.valid_from),
            "valid_to": _ts(h.valid_to, null=h.valid_to < 0),
        }
    )
    return workers, history


def _work_tables(work: Work, worker_ids: np.ndarray, amount: np.ndarray) -> tuple[pa.Table, ...]:
    """tasks, assignments and payments; ids follow time order."""
    tasks = pa.table(
        {
            "task_id": np.arange(1, len(work.task_posted) + 1, dtype=np.int64),
            "client_id": work.task_client,
            "category": _cat(work.task_category, SKILLS),
            "region": _cat(work.task_region, REGIONS),
            "posted_at": _ts(work.task_posted),
            "budget": work.task_budget,
        }
    )
    assignments = pa.table(
        {
            "assignment_id": np.arange(1, len(work.a_task) + 1, dtype=np.int64),
            "task_id": work.a_task + 1,
            "worker_id": worker_ids,
            "accepted_at": _ts(work.a_accepted),
            "completed_at": _ts(work.a_completed, null=~work.a_done),
            "hours": work.a_hours,
            "revenue": work.a_revenue,
        }
    )
    payments = pa.table(
        {
            "payment_id": np.arange(1, len(work.p_assignment) + 1, dtype=np.int64),
            "assignment_id": work.p_assignment + 1,
            "amount": amount,
            "paid_at": _ts(work.p_paid),
        }
    )
    return tasks, assignments, payments


def _event_table(ev: Events) -> pa.Table:
    return pa.table(
        {
            "event_id": np.arange(1, len(ev.ts) + 1, dtype=np.int64),
            "worker_id": _ids(ev.worker),
            "event_type": _cat(ev.etype, EVENT_TYPES),
            "ts": _ts(ev.ts),
            "platform": _cat(ev.platform, PLATFORMS),
            "task_id": _ids(ev.task),
        }
    )


# Casts that give the exact column types of the contract (DECIMALs from rounded floats).
_CASTS = {
    "tasks": "* REPLACE (CAST(budget AS DECIMAL(12,2)) AS budget)",
    "assignments": "* REPLACE (CAST(hours AS DECIMAL(8,2)) AS hours, "
    "CAST(revenue AS DECIMAL(12,2)) AS revenue)",
    "payments": "* REPLACE (CAST(amount AS DECIMAL(12,2)) AS amount)",
}


MARKER = "_metrics_layer_demo"  # a one-row table: this file was written by `generate`


def generate(
    path: str | Path,
    events: int = 1_000_000,
    seed: int = 7,
    plant_issues: bool = True,
    progress: Callable[[str], None] | None = None,
    force: bool = False,
) -> dict[str, int]:
    """Write the demo tables into a DuckDB file at `path` and return row counts per table.

    The file must be new or one this function wrote (it holds the MARKER table): the user's
    own database is never rebuilt unless `force`, and a file that is not a DuckDB database is
    never touched (ValueError; the CLI shows it as one line).
    """
    if events < 100:
        raise ValueError(f"events must be at least 100, got {events}")
    check_target(Path(path), force)
    say = progress or (lambda _msg: None)
    n_workers = max(events // 50, 10)
    n_first = max(events // 50, 8)  # filled tasks; ~25% more are posted but never filled
    w = make_workers(rng_for(seed, 1), n_workers)
    work = make_work(rng_for(seed, 2), w, n_first, n_clients=max(events // 200, 5))
    done_per_worker = np.bincount(work.a_worker[work.a_done], minlength=n_workers)
    hist = make_history(rng_for(seed, 3), w, done_per_worker)

    worker_ids = work.a_worker.astype(np.int64) + 1
    amount = work.a_revenue[work.p_assignment].copy()
    if plant_issues:
        plant = rng_for(seed, 100)
        na = len(worker_ids)
        n_orphan = min(max(int(round(0.002 * na)), 1), na)
        orphans = plant.choice(na, n_orphan, replace=False)
        worker_ids[orphans] = n_workers + 1 + plant.integers(0, max(n_workers // 10, 5), n_orphan)
        bad = plant.choice(len(amount), min(10, len(amount)), replace=False)
        delta = np.maximum(np.round(0.1 * amount[bad], 2), 1.0)
        sign = np.where((plant.random(len(bad)) < 0.5) & (amount[bad] > delta), -1.0, 1.0)
        amount[bad] = np.round(amount[bad] + sign * delta, 2)
    ev = make_events(
        rng_for(seed, 4), w, work, worker_ids, events, rng_for(seed, 101) if plant_issues else None
    )

    workers_t, history_t = _worker_tables(w, hist)
    tasks_t, assignments_t, payments_t = _work_tables(work, worker_ids, amount)
    frames = {
        "workers": workers_t,
        "worker_history": history_t,
        "tasks": tasks_t,
        "assignments": assignments_t,
        "payments": payments_t,
    }
    counts: dict[str, int] = {}
    Path(path).parent.mkdir(parents=True, exist_ok=True)  # e.g. `make demo` writes data/...
    con = duckdb.connect(str(path))
    try:
        con.execute("SET enable_progress_bar = false")
        for name in _TABLES:
            frame = _event_table(ev) if name == "events" else frames[name]
            con.register("_demo_frame", frame)
            select = _CASTS.get(name, "*")
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT {select} FROM _demo_frame")
            con.unregister("_demo_frame")
            counts[name] = frame.num_rows
            say(f"{name}: {frame.num_rows:,} rows")
        write_experiment_tables(con, w.signup, seed)  # demo A/B tests (metric_defs/experiments.yml)
        con.execute(
            f"CREATE OR REPLACE TABLE {MARKER} AS SELECT 'metrics-layer demo' AS written_by, "
            "current_timestamp AS written_at"
        )
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return counts


def check_target(path: Path, force: bool) -> None:
    """Refuse to rebuild a file the demo did not write (see `generate`)."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise ValueError(f"{path} is not a regular file; give the path of a .duckdb file")
    if not path.exists():
        return
    with path.open("rb") as f:
        header = f.read(16)
    if len(header) == 0:
        if force:
            return
        raise ValueError(f"{path} is an empty file the demo did not create; use --force")
    if header[8:12] != b"DUCK":
        raise ValueError(f"{path} is not a DuckDB database; choose another path for the demo data")
    try:
        con = duckdb.connect(str(path), read_only=True)
        try:
            found = con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [MARKER]
            ).fetchall()[0][0]
        finally:
            con.close()
    except duckdb.Error as exc:
        raise ValueError(f"cannot open {path}: {str(exc).splitlines()[0]}") from None
    if not found and not force:
        raise ValueError(
            f"{path} is a DuckDB database the demo did not create; its tables would be "
            "replaced: choose another path, or use --force"
        )
