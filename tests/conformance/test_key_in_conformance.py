"""Distinct counts of a many-to-one join key, computed at the joined source by a semi-join.

`orders.filled` counts distinct `task_ref` of accepted orders, dated by the task's posting
time; `tasks.posted` counts tasks. With a grain or a time range, and groups and where on task
fields, the planner counts them in one scan of tasks (`task_id IN (SELECT task_ref ...)`)
instead of joining every order to its task and merging two aggregates. The data has every
case where the two could differ: a task with three orders (one key, counted once), an order
without a task key, an order whose task does not exist, a task without a posting time, a NULL
acceptance flag, a month with tasks and no orders (NULL, not 0) and a month whose orders are
all unaccepted (0, not NULL). Expected values are written out by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import metrics_layer as ml
from tests.backends import Backend, arrow_to_frame, assert_frames_equal

MODEL = Path(__file__).resolve().parent.parent / "fixtures" / "kpi" / "keyin"
NULL = None
SEMI = "semi-join"


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    tasks = pd.DataFrame(
        {
            "task_id": [1, 2, 3, 4, 5, 6, 7],
            "posted_at": pd.to_datetime(
                [
                    "2024-01-05",
                    "2024-01-20",
                    "2024-02-03",
                    "2024-03-10",
                    "2024-04-01",
                    None,
                    "2024-02-28",
                ]  # fmt: skip
            ),
            "region": ["EU", "US", "EU", None, "US", "EU", "EU"],
        }
    )
    orders = pd.DataFrame(
        [  # order_id, task_ref, accepted, amount, placed_at
            (1, 1, 1, 5, "2024-01-06"),
            (2, 1, 1, 20, "2024-01-07"),  # task 1 again: one key
            (3, 1, 0, 30, "2024-01-08"),
            (4, 2, 0, 50, "2024-01-21"),
            (5, 3, 1, 15, "2024-02-04"),
            (6, 5, 0, 5, "2024-04-02"),  # April: orders, none accepted
            (7, 6, 1, 40, "2024-02-01"),  # task 6 has no posting time
            (8, 99, 1, 12, "2024-02-01"),  # no task 99
            (9, None, 1, 70, "2024-02-01"),  # no task at all
            (10, 7, None, 11, None),  # acceptance unknown, no placing time
        ],
        columns=["order_id", "task_ref", "accepted", "amount", "placed_at"],
    )
    orders["placed_at"] = pd.to_datetime(orders["placed_at"])
    return orders, tasks


@pytest.fixture(scope="module")
def layer(backend: Backend) -> ml.Layer:
    orders, tasks = frames()
    names = {"orders": backend.unique_name("orders"), "tasks": backend.unique_name("tasks")}
    backend.load(
        {names["orders"]: orders, names["tasks"]: tasks},
        schemas={
            names["orders"]: {"task_ref": "int64", "accepted": "int64", "amount": "int64"},
            names["tasks"]: {"task_id": "int64"},
        },
    )
    return ml.load(MODEL, con=backend.con, vars={"t": names})


def check(
    backend: Backend, res: ml.Result, columns: list[str], rows: list[tuple[Any, ...]]
) -> None:
    got = arrow_to_frame(backend.to_arrow(res.expr))
    assert list(got.columns) == columns
    assert_frames_equal(got, pd.DataFrame(rows, columns=columns), sort_by=columns[:1])


def test_ratio_by_month_is_one_scan_of_tasks(backend: Backend, layer: ml.Layer) -> None:
    res = layer.query(["fill_rate", "touch_rate", "big_fill_rate"], grain="month")
    plan = res.explain()
    assert plan.count("scan source") == 1 and plan.count(SEMI) == 3, plan
    # Jan: tasks 1, 2; filled 1 (task 1: three orders, one key), touched 2, big 1 (order 2)
    # Feb: tasks 3, 7; filled 3 only (7's acceptance unknown); Mar: no orders -> NULL;
    # Apr: task 5's only order unaccepted -> 0. Task 6 (no time), 99 and NULL keys: nowhere.
    check(
        backend,
        res,
        ["month", "fill_rate", "touch_rate", "big_fill_rate"],
        [
            (pd.Timestamp("2024-01-01"), 0.5, 1.0, 0.5),
            (pd.Timestamp("2024-02-01"), 0.5, 1.0, 0.5),
            (pd.Timestamp("2024-03-01"), NULL, NULL, NULL),
            (pd.Timestamp("2024-04-01"), 0.0, 1.0, 0.0),
        ],
    )


def test_counts_by_month_keep_null_and_zero_apart(backend: Backend, layer: ml.Layer) -> None:
    res = layer.query(["orders.filled", "orders.touched", "tasks.posted"], grain="month")
    assert res.explain().count("scan source") == 1
    check(
        backend,
        res,
        ["month", "filled", "touched", "posted"],
        [
            (pd.Timestamp("2024-01-01"), 1, 2, 2),
            (pd.Timestamp("2024-02-01"), 1, 2, 2),
            (pd.Timestamp("2024-03-01"), NULL, NULL, 1),
            (pd.Timestamp("2024-04-01"), 0, 1, 1),
        ],
    )


def test_by_region_from_a_start(backend: Backend, layer: ml.Layer) -> None:
    # EU: tasks 1, 3, 7 (6 has no time), filled 1 and 3; US: 2 and 5, none accepted -> 0;
    # no region: task 4, no orders -> NULL
    for by, eu, us in (("tasks.region", "EU", "US"), ("region_lc", "eu", "us")):
        res = layer.query(["fill_rate", "orders.filled"], by=by, start="2024-01-01")
        assert SEMI in res.explain()
        column = by.split(".")[-1]
        check(
            backend,
            res,
            [column, "fill_rate", "filled"],
            [(eu, 2 / 3, 2), (us, 0.0, 0), (NULL, NULL, NULL)],
        )


def test_where_on_the_task(backend: Backend, layer: ml.Layer) -> None:
    res = layer.query(["fill_rate"], grain="month", where="region = 'EU'")
    assert SEMI in res.explain()
    check(
        backend,
        res,
        ["month", "fill_rate"],
        [(pd.Timestamp("2024-01-01"), 1.0), (pd.Timestamp("2024-02-01"), 0.5)],
    )


def test_totals_in_a_range(backend: Backend, layer: ml.Layer) -> None:
    # from February: tasks 3, 7, 4, 5; filled 3; touched 3, 7, 5
    res = layer.query(["fill_rate", "orders.touched"], start="2024-02-01")
    assert SEMI in res.explain()
    check(backend, res, ["fill_rate", "touched"], [(0.25, 3)])
    # March only: task 4, no orders at all: a total over no rows is 0 (one row either way)
    res = layer.query(["orders.filled", "tasks.posted"], start="2024-03-01", end="2024-04-01")
    check(backend, res, ["filled", "posted"], [(0, 1)])


def test_unbounded_totals_keep_the_join(backend: Backend, layer: ml.Layer) -> None:
    # no time bound: orders of tasks that do not exist (99) or have no time (6) count too
    res = layer.query(["fill_rate", "orders.filled"])
    assert SEMI not in res.explain()
    check(backend, res, ["fill_rate", "filled"], [(4 / 7, 4)])


def test_alone_it_keeps_its_own_scan(backend: Backend, layer: ml.Layer) -> None:
    # without a tasks measure, a scan of tasks would add the months without orders
    res = layer.query(["orders.filled"], grain="month")
    assert SEMI not in res.explain()
    check(
        backend,
        res,
        ["month", "filled"],
        [
            (pd.Timestamp("2024-01-01"), 1),
            (pd.Timestamp("2024-02-01"), 1),
            (pd.Timestamp("2024-04-01"), 0),
        ],
    )


def test_a_filter_on_the_time_being_set_is_implied_by_a_grain_or_range(
    backend: Backend, layer: ml.Layer
) -> None:
    # `placed` counts orders whose placed_at is set; with a grain or a range only those are
    # scanned, so the filter is not checked again: order 10 (no time) is out either way
    res = layer.query(["orders.placed", "orders.orders"], grain="month")
    assert "not checked again" in res.explain()
    jan, feb, apr = (pd.Timestamp(f"2024-{m:02d}-01") for m in (1, 2, 4))
    check(backend, res, ["month", "placed", "orders"], [(jan, 4, 4), (feb, 4, 4), (apr, 1, 1)])
    res = layer.query(["orders.placed", "orders.orders"], start="2024-02-01")
    assert "not checked again" in res.explain()
    check(backend, res, ["placed", "orders"], [(5, 5)])
    # no grain, no range: the filter is checked, and order 10 counts in `orders` only
    res = layer.query(["orders.placed", "orders.orders"])
    assert "not checked again" not in res.explain()
    check(backend, res, ["placed", "orders"], [(9, 10)])
