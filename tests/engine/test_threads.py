"""One layer shared by 16 threads gives exactly the single-threaded answers.

Each thread runs 2,000 requests (ML_ENGINE_THREAD_REQUESTS; 150 by default) drawn from a mix of KPI queries (other literals in `where`,
other bounds: cache hits with other values), retention, funnels and checks, on one shared
layer; every answer is compared cell by cell with the answer computed before on one thread.
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import metrics_layer as ml
from metrics_layer.engine.executor import POOL_SIZE
from tests.engine.data import load_layer

THREADS = 16
# 2,000 per thread is the full run (ML_ENGINE_THREAD_REQUESTS=2000, ~5 CPU-minutes on DuckDB:
# each query costs the database 2-60 ms however small the data); the default keeps the
# suite fast and still mixes every kind of request across all threads
PER_THREAD = int(os.environ.get("ML_ENGINE_THREAD_REQUESTS", "150"))

Request = Callable[[ml.Layer], Any]
# a service's mix: mostly KPI queries; analyses and checks (10-100x costlier to run) rarer
WEIGHTS = {"kpi": 1.0, "totals": 1.0, "weekly": 1.0, "retention": 0.3, "funnel": 0.2, "check": 0.05}


def requests() -> list[tuple[str, Request]]:
    out: list[tuple[str, Request]] = []
    for platform in ("web", "ios", "android"):
        for start in ("2024-01-01", "2024-01-15", "2024-02-01"):
            out.append(
                (
                    f"kpi {platform} {start}",
                    lambda lay, p=platform, s=start: lay.query(
                        ["events", "revenue", "purchase_conversion", "revenue_per_user"],
                        by="users.country",
                        grain="month",
                        where=f"platform = '{p}'",
                        start=s,
                        end="2024-03-15",
                    ),
                )
            )
    for plan in ("free", "pro"):
        out.append(
            (
                f"totals {plan}",
                lambda lay, p=plan: lay.query(
                    ["active_users", "avg_revenue"], where=f"users.plan = '{p}'"
                ),
            )
        )
        out.append(
            (
                f"weekly {plan}",
                lambda lay, p=plan: lay.query(
                    "events",
                    by=["platform", "users.plan"],
                    grain="week",
                    where=f"users.plan IN ('{p}') AND event_type <> 'cart'",
                ),  # fmt: skip
            )
        )
    for start in ("2024-01-01", "2024-01-22"):
        out.append(
            (
                f"retention {start}",
                lambda lay, s=start: lay.retention("visit_retention", periods=4, start=s),
            )
        )
        out.append((f"funnel {start}", lambda lay, s=start: lay.funnel("buy", start=s)))
    out.append(("funnel by platform", lambda lay: lay.funnel("buy", by="platform")))
    out.append(("check", lambda lay: lay.check(metrics=["purchase_conversion"], grain="month")))
    out.append(("check sources", lambda lay: lay.check_sources(["events"])))
    return out


def answer(result: Any) -> Any:
    """A comparable form of any answer: rows of a Result, or the rows of a check report."""
    if isinstance(result, ml.Result):
        table = result.to_pyarrow()
        return (tuple(table.column_names), sorted(map(repr, table.to_pylist())))
    frame = result.to_pandas()
    return (tuple(frame.columns), sorted(map(repr, frame.to_dict("records"))))


@pytest.mark.backends("duckdb", "postgres")
def test_threads_get_the_single_threaded_answers(backend: Any) -> None:
    layer, _ = load_layer(backend, "thr")
    mix = requests()
    expected = {name: answer(make(layer)) for name, make in mix}
    assert len({repr(v) for v in expected.values()}) > len(mix) // 2  # the mix is varied
    wrong: list[str] = []
    errors: list[str] = []
    done = [0]
    lock = threading.Lock()

    weights = [WEIGHTS[name.split()[0]] for name, _ in mix]

    def work(seed: int) -> None:
        rng = random.Random(seed)
        for name, make in rng.choices(mix, weights, k=PER_THREAD):
            try:
                got = answer(make(layer))
            except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
                with lock:
                    errors.append(f"{name}: {type(exc).__name__}: {exc}")
                continue
            with lock:
                done[0] += 1
                if got != expected[name]:
                    wrong.append(name)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(work, range(THREADS)))
    assert errors == [], f"{len(errors)} failed, first: {errors[:3]}"
    assert wrong == [], f"{len(wrong)} wrong answers, e.g. {sorted(set(wrong))[:5]}"
    assert done[0] == THREADS * PER_THREAD
    if backend.name == "postgres":  # the pool was used, within its bound
        assert 1 < len(layer.engine.executor._opened) <= POOL_SIZE
