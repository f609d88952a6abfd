"""Property: on random data, a restricted layer's answers equal a plain-pandas computation of
the same numbers over the rows the policies allow (computed independently, row by row)."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import ibis
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metrics_layer as ml
from tests.access.tenants import write_defs

COUNTRIES = ["DE", "FR", None]
worker = st.tuples(st.sampled_from(COUNTRIES), st.sampled_from(["n1", "n2"]))
assignment = st.tuples(
    st.integers(1, 8),  # worker id; ids past the workers have no worker row
    st.integers(1, 3),  # task id
    st.sampled_from(["open", "done", None]),
    st.one_of(st.none(), st.floats(0, 100, allow_nan=False).map(lambda x: round(x, 2))),
)


def build(tmp: Path, workers: list, assignments: list) -> ml.Layer:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE workers (worker_id BIGINT, country VARCHAR, name VARCHAR, email VARCHAR, "
        "signup_at TIMESTAMP)"
    )
    con.execute("CREATE TABLE tasks (task_id BIGINT, region VARCHAR, posted_at TIMESTAMP)")
    con.execute(
        "CREATE TABLE assignments (assignment_id BIGINT, task_id BIGINT, worker_id BIGINT, "
        "status VARCHAR, revenue DOUBLE, accepted_at TIMESTAMP)"
    )
    con.execute(
        "CREATE TABLE events (event_id BIGINT, worker_id BIGINT, event_type VARCHAR, ts TIMESTAMP)"
    )
    con.execute(
        "CREATE TABLE exposures (exposure_id BIGINT, worker_id BIGINT, variant VARCHAR, "
        "exposed_at TIMESTAMP)"
    )
    for i, (country, name) in enumerate(workers, start=1):
        con.execute(
            "INSERT INTO workers VALUES (?, ?, ?, ?, TIMESTAMP '2024-01-01')",
            [i, country, name, f"e{i}"],
        )
    for t, region in [(1, "n"), (2, "s"), (3, "n")]:
        con.execute("INSERT INTO tasks VALUES (?, ?, TIMESTAMP '2024-01-01')", [t, region])
    for i, (w, t, status, revenue) in enumerate(assignments, start=1):
        con.execute(
            "INSERT INTO assignments VALUES (?, ?, ?, ?, ?, TIMESTAMP '2024-01-02')",
            [i, t, w, status, revenue],
        )
    return ml.load(write_defs(tmp), con=ibis.duckdb.from_connection(con))


def reference(workers: list, assignments: list, country: str, where_status: str | None) -> dict:
    """Revenue and count of assignments per status, for workers of `country`, by hand."""
    allowed = {i for i, (c, _) in enumerate(workers, start=1) if c == country}
    out: dict = {}
    for w, _t, status, revenue in assignments:
        if w not in allowed or (where_status is not None and status != where_status):
            continue
        acc = out.setdefault(status, [0, None])
        acc[0] += 1
        if revenue is not None:
            acc[1] = (acc[1] or 0.0) + revenue
    return out


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    workers=st.lists(worker, min_size=1, max_size=6),
    assignments=st.lists(assignment, min_size=0, max_size=25),
    country=st.sampled_from(["DE", "FR"]),
    where_status=st.sampled_from([None, "open", "done"]),
)
def test_restricted_equals_reference(
    tmp_path_factory, workers, assignments, country, where_status
) -> None:
    layer = build(tmp_path_factory.mktemp("p"), workers, assignments)
    r = layer.restrict(["own_country"], {"country": country})
    where = (
        None if where_status is None else f"status = '{where_status}' OR (1 = 0 AND status IS NULL)"
    )
    got = r.query(
        ["assignments.accepted", "assignments.revenue"], by=["status"], where=where
    ).to_pandas()
    want = reference(workers, assignments, country, where_status)
    rows = {
        None if pd.isna(s) else s: (a, v)
        for s, a, v in zip(got["status"], got["accepted"], got["revenue"], strict=True)
    }
    assert set(rows) == set(want)
    for status, (count, revenue) in want.items():
        a, v = rows[status]
        assert a == count
        if revenue is None:
            assert pd.isna(v)
        else:
            assert math.isclose(v, revenue)
    seen = set(r.dimension_values("workers.country").to_pyarrow().column(0).to_pylist())
    assert seen == ({country} if any(c == country for c, _ in workers) else set())
