"""The physical plan tree of each modeling feature, and that compile only translates it."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import ibis
import pytest

import metrics_layer as ml
from metrics_layer.compile.kpi import compile_plan
from metrics_layer.planner.nodes import (
    EagerAggregate,
    Fill,
    Formulas,
    Merge,
    Node,
    Output,
    Scan,
    ShareTotal,
    Shift,
    children,
)
from tests.backends import assert_frames_equal
from tests.fixtures.modeling.tables import TABLES
from tests.unit.test_planner import SHOP_SQL

ROOT = Path(__file__).resolve().parents[2]
MODELING = ROOT / "tests" / "fixtures" / "modeling" / "modeling.yml"
SHOP = ROOT / "tests" / "fixtures" / "kpi" / "shop"


@pytest.fixture(scope="module")
def modeling() -> ml.Layer:
    con = ibis.duckdb.connect()
    for name, make in TABLES.items():
        con.create_table(name, make())
    return ml.load(MODELING, con=con, vars={"t": {name: name for name in TABLES}})


@pytest.fixture(scope="module")
def shop() -> ml.Layer:
    con = ibis.duckdb.connect()
    for sql in SHOP_SQL:
        con.raw_sql(sql)
    return ml.load(SHOP, con=con, vars={"t": {"events": "events", "users": "users"}})


def shape(node: Node) -> str:
    """The tree as nested type names: Output(Formulas(Merge(Scan,Shift(...))))."""
    kids = children(node)
    name = type(node).__name__
    return f"{name}({','.join(shape(k) for k in kids)})" if kids else name


def nodes_of(node: Node, kind: type) -> list:
    found = [node] if isinstance(node, kind) else []
    return found + [n for k in children(node) for n in nodes_of(k, kind)]


def test_plain_query_is_scans_merged_then_formulas(shop: ml.Layer) -> None:
    plan = shop.plan(["revenue_per_user", "users.signups"], grain="month")
    assert shape(plan.root) == "Output(Formulas(Merge(Scan,Scan)))"
    events = next(s for s in plan.scans if s.source == "events")
    # fields come resolved: the measure's column, the time column; no joins needed
    assert {ref.name for ref in events.fields} == {"revenue", "user_id", "ts"}
    assert events.joins == ()


BOUNDS = {"start": "2024-02-01", "end": "2024-06-01"}


def test_offset_dedup_two_scans_for_base_prev_and_growth(modeling: ml.Layer) -> None:
    plan = modeling.plan(["value", "value_prev_month", "value_mom"], grain="month", **BOUNDS)
    assert [s.source for s in plan.scans] == ["series", "series"]
    (shift,) = nodes_of(plan.root, Shift)
    assert shift.used_by == ("value_prev_month", "value_mom") and shift.offset == "1 month"
    text = plan.explain()
    assert len(re.findall(r"\bscan source\b", text)) == 2
    assert text.count("shift by 1 month") == 1
    sql = modeling.query(["value", "value_prev_month", "value_mom"], grain="month", **BOUNDS).sql()
    assert len(re.findall(r'FROM "series"', sql)) == 2


def test_unbounded_offset_reuses_the_base_scan(modeling: ml.Layer) -> None:
    """Without bounds the shifted periods are the base periods: one pass, shown as reused."""
    plan = modeling.plan(["value", "value_prev_month", "value_mom"], grain="month")
    assert len(plan.scans) == 1
    assert "reuse step 1: the same pass over 'series'" in plan.explain()
    sql = modeling.query(["value", "value_prev_month", "value_mom"], grain="month").sql()
    assert len(re.findall(r'FROM "series"', sql)) == 1


def test_two_offsets_of_one_metric_are_two_shifts(modeling: ml.Layer) -> None:
    plan = modeling.plan(
        ["value_prev_month", "value_prev_quarter", "value_mom"], grain="month", **BOUNDS
    )
    assert sorted(s.offset for s in nodes_of(plan.root, Shift)) == ["1 month", "1 quarter"]
    assert len(plan.scans) == 3  # value (for value_mom), value a month and a quarter back


def test_shifted_scan_reads_the_shifted_range(modeling: ml.Layer) -> None:
    plan = modeling.plan(["value_prev_month"], grain="month", start="2024-03-15", end="2024-06-01")
    (shift,) = nodes_of(plan.root, Shift)
    (inner,) = nodes_of(shift, Scan)
    assert (inner.start.isoformat(), inner.end.isoformat()) == (
        "2024-02-01T00:00:00",
        "2024-05-01T00:00:00",
    )


def test_fill_share_cumulative_and_snapshot_nodes(modeling: ml.Layer) -> None:
    plan = modeling.plan(
        ["rev_share_in_kind", "users_7d", "n"], grain="month", by="kind", fill="zero"
    )
    assert shape(plan.root) == (
        "Output(Formulas(ShareTotal(Fill(Merge(Scan,Scan)),Formulas(Merge(Scan)))))"
    )
    (fill,) = nodes_of(plan.root, Fill)
    zero_measures = {
        n.measure for s in nodes_of(fill, Scan) for n in s.nodes if n.column in fill.zero
    }
    assert zero_measures == {"rev", "users", "n"}
    (total,) = nodes_of(plan.root, ShareTotal)
    assert total.on == (("kind", "kind"),) and total.grain == "month"
    cumulative = [s for s in plan.scans if s.lead.cumulative]
    assert [s.lead.window for s in cumulative] == ["7 days"]
    text = plan.explain()
    for piece in ("fill: a spine of every month", "share total: rev by kind, month", "range join"):
        assert piece in text, piece
    snap = modeling.plan(["balances.balance"], grain="month").scans[0]
    assert [r.name for r in snap.snapshot_by] == ["account"]


def test_scd_join_is_in_the_scan(modeling: ml.Layer) -> None:
    (scan,) = modeling.plan(["amount"], by="plan", grain="month").scans
    assert [path[-1].right for path in scan.joins] == ["plans"]
    assert (
        "LEFT JOIN plans on actions.user_id = plans.user_id"
        in modeling.plan(["amount"], by="plan").explain()
    )


def test_eager_aggregation_is_a_node_and_explained(shop: ml.Layer) -> None:
    plan = shop.plan(["active_users", "revenue"], by="users.country", grain="month")
    (pre,) = nodes_of(plan.root, EagerAggregate)
    assert pre.join_keys == ("user_id",)
    assert dict(pre.reaggregate) == {
        n.column: ("count" if n.agg == "count_distinct" else "sum") for n in pre.scan.nodes
    }
    text = plan.explain()
    assert "pre-aggregated below its joins: grouped by month, user_id first" in text
    assert "then re-aggregated by month, users.country" in text
    # a where on a joined field, or a measure the partial rows cannot re-aggregate: plain scan
    for metrics, kw in [
        (["active_users"], {"where": "users.plan = 'pro'"}),
        (["active_users", "avg_revenue"], {}),
    ]:
        other = shop.plan(metrics, by="users.country", **kw)
        assert not nodes_of(other.root, EagerAggregate), (metrics, kw)


def test_eager_aggregation_gives_the_plain_scans_numbers(shop: ml.Layer) -> None:
    """The oracle of the rewrite: the same plan with the EagerAggregate replaced by its scan."""
    for metrics, kw in [
        (["active_users", "revenue", "events"], {"by": "users.country", "grain": "day"}),
        (["purchasers", "active_users"], {"by": ["users.plan", "platform"]}),
    ]:
        plan = shop.plan(metrics, **kw)
        assert nodes_of(plan.root, EagerAggregate)
        plain = dataclasses.replace(plan, root=_without_eager(plan.root))
        assert not nodes_of(plain.root, EagerAggregate)
        ctx = shop.context()
        got = compile_plan(ctx, plan).to_pandas()
        want = compile_plan(ctx, plain).to_pandas()
        assert_frames_equal(got, want)


def _without_eager(node: Node) -> Node:
    if isinstance(node, EagerAggregate):
        return node.scan
    if isinstance(node, Merge):
        return dataclasses.replace(node, parts=tuple(_without_eager(p) for p in node.parts))
    if isinstance(node, Output | Formulas):
        return dataclasses.replace(node, input=_without_eager(node.input))
    return node


def test_plans_are_immutable(shop: ml.Layer) -> None:
    plan = shop.plan(["events"], by="users.country")
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.scans[0].source = "users"  # type: ignore[misc]


def test_compile_never_calls_the_planner() -> None:
    compile_dir = ROOT / "metrics_layer" / "compile"
    for path in compile_dir.glob("*.py"):
        text = path.read_text()
        assert "Planner" not in text and "planner.plan import Planner" not in text, path.name
