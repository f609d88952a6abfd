"""explain() tells how often the query reads its tables: its scans are the SQL's table reads.

Random KPI requests over sources without joins (plain, ratio, derived, cumulative, offset,
share and semi-additive metrics; grains, breakdowns, bounds, fills). The compiled SQL reads a
physical table in FROM clauses and in CTEs; a CTE referenced twice is read once by the backend
(ibis turns equal subexpressions into one CTE, e.g. the rows two snapshots of one source
share). So the "scan source" steps of explain() lie between the physical table references of
the SQL (each CTE once) and the same count with every CTE reference expanded: a scan missing
from the SQL, or a table pass the plan does not show, falls outside.
"""

from __future__ import annotations

import os
from pathlib import Path

import ibis
import pytest
import sqlglot
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlglot import exp

import metrics_layer as ml
from metrics_layer.errors import QueryError
from tests.fixtures.modeling.tables import TABLES

DEFS = Path(__file__).resolve().parents[1] / "fixtures" / "modeling" / "modeling.yml"
EXAMPLES = int(os.environ.get("ML_PROPERTY_EXAMPLES", "0")) or 40

EVENTS = ["rev", "n", "users", "rev_per_event", "rev_per_user", "users_7d", "rev_mtd"]
EVENTS_SHARES = ["rev_share", "rev_share_in_kind"]
SERIES = ["value", "value_prev_month", "value_prev_day", "value_mom", "value_prev_30d"]
BALANCES = ["balances.balance", "balances.opening", "balances.postings"]


@pytest.fixture(scope="module")
def layer() -> ml.Layer:
    con = ibis.duckdb.connect()
    for name, make in TABLES.items():
        con.create_table(name, make())
    return ml.load(DEFS, con=con, vars={"t": {name: name for name in TABLES}})


def table_reads(sql: str, tables: set[str]) -> tuple[int, int]:
    """(physical table references, the same with each CTE reference expanded)."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {cte.alias: cte.this for cte in tree.find_all(exp.CTE)}
    physical = sum(1 for t in tree.find_all(exp.Table) if t.name in tables and t.name not in ctes)

    def expanded(node: exp.Expression) -> int:
        total = 0
        for t in node.find_all(exp.Table):
            if t.name in ctes:
                total += expanded(ctes[t.name])
            elif t.name in tables:
                total += 1
        return total

    body = tree.copy()
    body.set("with", None)
    return physical, expanded(body)


@st.composite
def requests(draw: st.DrawFn) -> tuple[list[str], dict]:
    family = draw(st.sampled_from(["events", "series", "balances"]))
    pool = {"events": EVENTS + EVENTS_SHARES, "series": SERIES, "balances": BALANCES}[family]
    metrics = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True))
    kw: dict = {"grain": draw(st.sampled_from(["day", "week", "month"]))}
    if family == "events" and draw(st.booleans()):
        kw["by"] = draw(st.sampled_from(["kind", "channel", ["kind", "channel"]]))
    if family == "balances" and draw(st.booleans()):
        kw["by"] = "branch"
    if draw(st.booleans()):
        kw["start"] = draw(st.sampled_from(["2024-01-01", "2024-02-10", "2024-03-01"]))
    if draw(st.booleans()):
        kw["end"] = draw(st.sampled_from(["2024-04-01", "2024-05-15", "2025-01-01"]))
    if draw(st.booleans()):
        kw["fill"] = draw(st.sampled_from(["zero", "null"]))
    return metrics, kw


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(requests())
def test_explain_scans_are_the_sql_table_reads(layer: ml.Layer, request_: tuple) -> None:
    metrics, kw = request_
    note(f"{metrics} {kw}")
    try:
        res = layer.query(metrics, **kw)
        sql = res.sql()
    except QueryError:  # e.g. a grain-to-date coarser than the grain: nothing to compare
        return
    text = res.explain()
    scans = sum(1 for line in text.splitlines() if ". scan source " in line)
    assert scans == len(res.meta["plan"].scans)
    physical, expanded = table_reads(sql, set(TABLES))
    assert physical <= scans <= expanded, f"{physical} <= {scans} <= {expanded}\n{text}"
