"""The planner keeps no per-request state: one Planner shared by threads plans each request alone."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import metrics_layer as ml
from metrics_layer.planner.plan import Planner
from metrics_layer.planner.request import Request

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kpi"

REQUESTS = [
    (["purchase_conversion", "events"], {"by": ["users.country"], "grain": "month"}),
    (["revenue_per_user"], {"grain": "day"}),
    (["users.signups", "active_users", "pro_share"], {}),
    (["pro_events", "revenue"], {"by": ["users.plan"]}),
]


def test_one_planner_shared_by_threads_gives_single_threaded_plans() -> None:
    layer = ml.load(FIXTURES / "shop", vars={"t": {"events": "e", "users": "u"}})
    planner = Planner(layer.registry)
    requests = [Request.build(m, timezone="UTC", **kw) for m, kw in REQUESTS]
    expected = [planner.plan(r).explain() for r in requests]
    order = [random.Random(i).randrange(len(requests)) for i in range(800)]

    def plan(i: int) -> tuple[int, str]:
        return i, planner.plan(requests[i]).explain()

    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(plan, order))
    wrong = [i for i, text in got if text != expected[i]]
    assert not wrong, f"{len(wrong)} of {len(got)} plans differ from the single-threaded plan"
