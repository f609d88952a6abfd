"""Modeling metrics in definitions, requests and plans: shapes, errors and explain text."""

from __future__ import annotations

import textwrap
from pathlib import Path

import ibis
import pandas as pd
import pytest
from pydantic import ValidationError

import metrics_layer as ml
from metrics_layer.definitions.models import Metric
from metrics_layer.errors import QueryError
from metrics_layer.planner.plan import Col, Offset, Share
from tests.fixtures.modeling.tables import TABLES

DEFS = Path(__file__).resolve().parent.parent / "fixtures" / "modeling" / "modeling.yml"


@pytest.fixture(scope="module")
def layer() -> ml.Layer:
    con = ibis.duckdb.connect()
    for name, make in TABLES.items():
        con.create_table(name, make())
    return ml.load(DEFS, con=con, vars={"t": {name: name for name in TABLES}})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"type": "cumulative", "measure": "e.m", "window": "7 days", "grain_to_date": "month"},
            "window or grain_to_date, not both",
        ),
        ({"type": "cumulative", "measure": "e.m", "window": "7 dayz"}, "did you mean '7 days'"),
        ({"type": "offset", "metric": "x"}, "offset metric needs offset"),
        (
            {"type": "offset", "metric": "x", "offset": "1 month", "window": "7 days"},
            "'window' does not apply to a offset metric",
        ),
        ({"type": "share", "metric": "x"}, "share metric needs share_of"),
        ({"type": "share", "metric": "x", "share_of": [], "offset": "1 day"}, "does not apply"),
        ({"type": "cumulative", "measure": "e.m", "grain_to_date": "fortnight"}, "grain_to_date"),
    ],
)
def test_metric_shapes_are_checked(fields: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Metric(**fields)


def test_kinds_are_inferred_from_fields() -> None:
    assert Metric(measure="e.m", window="7 days").kind == "cumulative"
    assert Metric(metric="x", offset="1 month").kind == "offset"
    assert Metric(metric="x", share_of=["kind"]).kind == "share"


@pytest.mark.parametrize(
    ("metrics", "kwargs", "message"),
    [
        (["users_7d"], {}, "cumulative metric 'users_7d' needs a grain"),
        (["value_prev_month"], {}, "offset metric 'value_prev_month' needs a grain"),
        (["value_mom"], {}, "offset metric 'value_prev_month' needs a grain"),
        (["n"], {"fill": "zero"}, "fill needs a grain"),
        (["n"], {"grain": "day", "fill": "zeros"}, "fill must be 'zero' or 'null'"),
        (["amount"], {"as_of": "yesterday"}, "as_of='yesterday' is not a date"),
    ],
)
def test_request_errors(layer: ml.Layer, metrics: list, kwargs: dict, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        layer.query(metrics, **kwargs)


def test_grain_to_date_finer_than_the_query_grain_is_an_error(layer: ml.Layer) -> None:
    with pytest.raises(
        QueryError, match="month-to-date cannot be shown at the coarser grain 'quarter'"
    ):
        layer.query(["rev_mtd"], grain="quarter")


def test_plan_nodes_and_explain(layer: ml.Layer) -> None:
    plan = layer.plan(
        [
            "users_7d",
            "rev_mtd",
            "rev_total",
            "rev_share_in_kind",
        ],
        grain="month",
        by=["kind"],
    )
    users = plan.formulas["users_7d"]
    assert isinstance(users, Col) and users.node.window == "7 days" and users.node.cumulative
    other = layer.plan(["balances.balance", "value_prev_month"], grain="month")
    assert isinstance(other.formulas["value_prev_month"], Offset)
    share = plan.formulas["rev_share_in_kind"]
    assert isinstance(share, Share) and share.within == ("kind",)
    # cumulative and plain nodes of one source are separate scans (their rows differ); the
    # share's total is a fifth scan, grouped by the share_of keys
    assert len({sq.lead.scan_key for sq in plan.scans}) == 4 and len(plan.scans) == 5
    text = plan.explain() + other.explain()
    for line in [
        "count_distinct(user_id), over a rolling 7 days window",
        "sum(amount), month-to-date",
        "sum(amount), running total over all time",
        "value_prev_month = value of the period 1 month earlier (NULL if none)",
        "rev_share_in_kind = rev / total rev within kind (NULL if 0)",
        "last snapshot of each period per account",
    ]:
        assert line in text, line


def test_scd_join_needs_the_fact_time(tmp_path: Path) -> None:
    (tmp_path / "defs.yml").write_text(
        textwrap.dedent("""
        version: 1
        sources:
          facts:
            table: facts
            measures: {n: {agg: count}}
            joins: {hist: {keys: k}}
          hist:
            table: hist
            scd: {key: k, valid_from: vf, valid_to: vt}
            dimensions: {label: {}}
    """)
    )
    con = ibis.duckdb.connect()
    con.create_table("facts", pd.DataFrame({"k": [1, 2]}))
    con.create_table(
        "hist",
        pd.DataFrame(
            {
                "k": [1, 1],
                "label": ["old", "new"],
                "vf": pd.to_datetime(["2024-01-01", "2024-02-01"]),
                "vt": pd.to_datetime(["2024-02-01", None]),
            }
        ),
    )
    layer = ml.load(tmp_path, con=con)
    with pytest.raises(QueryError, match="'facts' declares no `time:`"):
        layer.query("facts.n", by="label")
    got = layer.query("facts.n", by="label", as_of="current").to_pandas()
    assert sorted(got.fillna("-").itertuples(index=False, name=None)) == [("-", 1), ("new", 1)]
    got = layer.query("facts.n", by="label", as_of="2024-01-15").to_pandas()
    assert sorted(got.fillna("-").itertuples(index=False, name=None)) == [("-", 1), ("old", 1)]
