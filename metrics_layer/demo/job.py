"""The demo's main job: build the marketplace data set and print the headline numbers."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metrics_layer.connection import connect
from metrics_layer.errors import MetricsLayerError

if TYPE_CHECKING:
    import pandas as pd

    from metrics_layer.analysis.experiment_result import ExperimentResult

HEADLINE = ["active_workers", "revenue", "hours", "revenue_per_active_worker", "task_fill_rate"]


def run_demo(
    db: Path,
    events: int,
    defs: Path,
    rebuild: bool,
    echo: Callable[[str], None],
    force: bool = False,
) -> None:
    """Generate (or reuse) the DuckDB file, then run KPIs, retention, funnel and checks on it.

    Only a new file or one the demo wrote is rebuilt, unless `force` (see demo.generate)."""
    from metrics_layer.cli import emit
    from metrics_layer.demo import generate
    from metrics_layer.demo.generate import check_target
    from metrics_layer.loading import load

    db = Path(db)
    if rebuild or not db.exists():
        try:
            check_target(db, force)
        except ValueError as exc:
            raise MetricsLayerError(f"cannot build the demo data set: {exc}") from None
        echo(f"building demo data set ({events:,} events) in {db} ...")
        t0 = time.perf_counter()
        try:
            counts = generate(db, events=events, progress=lambda msg: echo(f"  {msg}"), force=force)
        except ValueError as exc:
            raise MetricsLayerError(f"cannot build the demo data set: {exc}") from None
        echo(
            f"  done in {time.perf_counter() - t0:.1f}s: "
            + ", ".join(f"{k} {v:,}" for k, v in counts.items())
        )
    layer = load(defs, con=connect(f"duckdb:///{db.resolve()}"))
    echo(f"\n{layer!r}\n")

    def show(title: str, build: Callable[[], Any]) -> None:
        t0 = time.perf_counter()
        df = build()
        emit(df, "table", f"{title}  ({(time.perf_counter() - t0) * 1000:.0f} ms)")

    show("Marketplace KPIs by quarter", lambda: layer.query(HEADLINE, grain="quarter").to_pandas())
    show(
        "Task fill rate by category (2025 H1)",
        lambda: layer.query(
            ["task_fill_rate", "tasks_posted"],
            by=["tasks.category"],
            start="2025-01-01",
            end="2025-07-01",
        ).to_pandas(),
    )
    show(
        "Active workers and revenue by worker country (2025 H1)",
        lambda: layer.query(
            ["active_workers", "revenue", "revenue_per_active_worker"],
            by=["workers.country"],
            start="2025-01-01",
            end="2025-07-01",
            order_by=["-revenue"],
        ).to_pandas(),
    )
    show(
        "Revenue month over month, with 28-day active workers (2025)",
        lambda: layer.query(
            ["revenue", "revenue_prev_month", "revenue_mom", "active_workers_28d"],
            grain="month",
            start="2025-01-01",
            end="2025-07-01",
        ).to_pandas(),
    )
    show(
        "Revenue by worker tier: point-in-time (tier when the task was accepted)",
        lambda: layer.query(
            ["revenue", "revenue_share"],
            by=["worker_history.tier"],
            start="2025-01-01",
            end="2025-07-01",
        ).to_pandas(),
    )
    show(
        "Revenue by worker tier: current tier (as_of='current') credits today's tier with past work",
        lambda: layer.query(
            ["revenue", "revenue_share"],
            by=["worker_history.tier"],
            start="2025-01-01",
            end="2025-07-01",
            as_of="current",
        ).to_pandas(),
    )
    project = layer.registry.project
    for name in project.retention:
        if name == REVENUE_RETENTION:
            continue
        res = layer.retention(name, periods=7, start="2024-07-01", end="2025-01-01")
        show(
            f"Retention {name} (cohorts 2024 H2, share of cohort active in month k)",
            partial(_triangle, res),
        )
    if REVENUE_RETENTION in project.retention:
        res = layer.retention(
            REVENUE_RETENTION, periods=4, start="2024-10-01", end="2025-01-01", value="revenue"
        )
        show(
            "Worker revenue retention (cohorts 2024 Q4: revenue in month k / month 0)",
            partial(_triangle, res, "value_retention"),
        )
    for name, funnel in project.funnels.items():
        paced = [f"{s.name} within {s.within}" for s in funnel.steps if s.within]
        title = f"Funnel {name}" + (f" ({'; '.join(paced)})" if paced else "")
        show(title, layer.funnel(name).to_pandas)
    for name in project.experiments:
        res = layer.experiment(name)
        show(f"Experiment {name} (lift of each arm against control)", partial(_lifts, res))
        srm = res.srm
        units = ", ".join(f"{arm} {n:,}" for arm, n in srm.units.items())
        echo(
            f"  units: {units}; SRM p = {srm.p_value:.3g}"
            + ("  <- sample ratio mismatch: do not trust these lifts" if srm.mismatch else "")
            + f"; entities in two arms dropped: {res.multiple_exposures:,}"
        )
    try:
        from metrics_layer.checks import demo_summary
    except ImportError:
        return
    echo("")
    echo(demo_summary(layer))


REVENUE_RETENTION = "worker_revenue"


def _triangle(res: Any, values: str = "retention") -> Any:
    pivot = getattr(res, "pivot", None)
    if pivot is None:
        return res.to_pandas()
    table = pivot(values)
    table = table.reset_index()
    table.columns = [str(c) for c in table.columns]
    return table


def _lifts(res: ExperimentResult) -> pd.DataFrame:
    """The readout with p-values at three significant digits."""
    df = res.to_pandas()
    return df.assign(p_value=[f"{p:.3g}" for p in df["p_value"]])
