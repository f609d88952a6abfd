"""Experiment definitions and arguments: every mistake is one clear error naming file, line
and field (definitions) or what to write instead (arguments)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import ibis
import pandas as pd
import pytest

import metrics_layer as ml
from metrics_layer.errors import DefinitionError, QueryError

BASE = pd.Timestamp("2024-03-01")

SOURCES = """version: 1
sources:
  exposures: {table: exposures, time: exposed_at}
  orders:
    table: orders
    time: ts
    measures:
      revenue: {agg: sum, expr: amount}
      orders: {agg: count}
      buyers: {agg: count_distinct, expr: user_id}
      kinds: {agg: count_distinct, expr: kind}
      biggest: {agg: max, expr: amount}
      p90: {agg: percentile, expr: amount, p: 0.9}
  pages:
    table: pages
    time: ts
    measures:
      views: {agg: count}
metrics:
  revenue: {measure: orders.revenue}
  orders: {measure: orders.orders}
  aov: {type: ratio, numerator: revenue, denominator: orders}
  rev_per_order_sq: {type: ratio, numerator: aov, denominator: orders}
  revenue_x2: {type: derived, expr: "revenue * 2"}
  revenue_7d: {type: cumulative, measure: orders.revenue, window: 7 days}
experiments:
"""
GOOD = """  t:
    source: exposures
    entity: user_id
    variant: variant
    control: control
    metrics: [revenue]
"""


def tables() -> ibis.BaseBackend:
    con = ibis.duckdb.connect()
    con.create_table(
        "exposures",
        pd.DataFrame(
            {"user_id": [1, 2], "variant": ["control", "treatment"], "exposed_at": [BASE] * 2}
        ),
    )
    con.create_table(
        "orders",
        pd.DataFrame({"user_id": [1], "amount": [2.0], "kind": ["a"], "ts": [BASE]}),
    )
    con.create_table("pages", pd.DataFrame({"session": ["s"], "ts": [BASE]}))
    return con


def load(tmp_path: Path, experiments: str) -> ml.Layer:
    path = tmp_path / "defs.yml"
    path.write_text(SOURCES + experiments, encoding="utf-8")
    return ml.load(path, con=tables())


def line_of(text: str, needle: str) -> int:
    for i, line in enumerate((SOURCES + text).splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(needle)


BAD = [
    (
        "metrics: [revenue]",
        "metrics: [revenu]",
        "metrics.0",
        r"unknown metric 'revenu'.*did you mean 'revenue'",
    ),
    (
        "metrics: [revenue]",
        "metrics: [revenue_x2]",
        "metrics.0",
        r"derived metric has no per-unit value",
    ),
    (
        "metrics: [revenue]",
        "metrics: [revenue_7d]",
        "metrics.0",
        r"cumulative metric has no per-unit value",
    ),
    ("metrics: [revenue]", "metrics: [orders.biggest]", "metrics.0", r"aggregates with 'max'"),
    ("metrics: [revenue]", "metrics: [orders.p90]", "metrics.0", r"aggregates with 'percentile'"),
    (
        "metrics: [revenue]",
        "metrics: [orders.kinds]",
        "metrics.0",
        r"counts distinct 'kind', not the entity",
    ),
    ("metrics: [revenue]", "metrics: [rev_per_order_sq]", "metrics.0", r"itself a ratio"),
    (
        "metrics: [revenue]",
        "metrics: [revenue, pages.views]",
        "metrics.1",
        r"cannot reach the entity 'user_id'",
    ),
    ("metrics: [revenue]", "metrics: []", "metrics", r"at least 1"),
    ("metrics: [revenue]", "metrics: [revenue, revenue]", "metrics", r"listed twice"),
    (
        "source: exposures",
        "source: exposure",
        "source",
        r"unknown source 'exposure'.*did you mean 'exposures'",
    ),
    ("variant: variant", "variant: varaint", "variant", r"column 'varaint' not found|varaint"),
    (
        "metrics: [revenue]",
        "metircs: [revenue]",
        "metircs",
        r"unknown field 'metircs'.*did you mean 'metrics'",
    ),
    (
        "control: control",
        "control: control\n    weights: {control: 0.5, treatment: 0.6}",
        "weights",
        r"weights must sum to 1, they sum to 1\.1",
    ),
    (
        "control: control",
        "control: contrl\n    weights: {control: 0.5, treatment: 0.5}",
        "control",
        r"control arm 'contrl' is not among the weights' arms.*did you mean 'control'",
    ),
    (
        "control: control",
        "control: control\n    window: 7 dayz",
        "window",
        r"did you mean '7 days'",
    ),
    ("control: control", "control: control\n    window: 1 quarter", "window", r"no fixed length"),
    (
        "control: control",
        "control: control\n    cuped: {lookback: 0 days}",
        "cuped.lookback",
        r"longer than 0 seconds",
    ),
    (
        "control: control",
        "control: control\n    cuped: {lookbak: 7 days}",
        "cuped.lookbak",
        r"did you mean 'lookback'",
    ),
]


@pytest.mark.parametrize("old, new, field, message", BAD, ids=[b[2] + ":" + b[3][:24] for b in BAD])
def test_bad_definition_names_file_line_field(tmp_path, old, new, field, message):
    text = GOOD.replace(old, new)
    with pytest.raises(DefinitionError) as info:
        load(tmp_path, text)
    err = info.value
    assert err.file and err.file.endswith("defs.yml")
    assert err.field == f"experiments.t.{field}", str(err)
    assert err.line == line_of(text, f"    {field.split('.')[0]}:"), str(err)
    assert re.search(message, str(err)), str(err)
    assert "\n" not in str(err)


def test_good_definition_loads(tmp_path):
    layer = load(tmp_path, GOOD.replace("[revenue]", "[revenue, aov, orders.buyers]"))
    assert list(layer.registry.project.experiments) == ["t"]


def test_duplicate_experiment_names_both_files(tmp_path):
    (tmp_path / "a.yml").write_text(SOURCES + GOOD, encoding="utf-8")
    (tmp_path / "b.yml").write_text("version: 1\nexperiments:\n" + GOOD, encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"experiment 't' is defined twice: in .*a\.yml"):
        ml.load(tmp_path, con=tables())


@pytest.fixture
def layer(tmp_path):
    return load(tmp_path, GOOD.replace("[revenue]", "[revenue, aov]"))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "tt"}, r"unknown experiment 'tt'.*did you mean 't'"),
        ({"metrics": ["revenu"]}, r"metric 'revenu' cannot be tested: unknown metric 'revenu'"),
        ({"metrics": ["revenue_x2"]}, r"cannot be tested: a derived metric"),
        ({"metrics": "revenue", "alpha": 1.5}, r"alpha must be a number between 0 and 1"),
        ({"alpha": True}, r"alpha must be a number"),
        ({"relative": "yes"}, r"relative must be true or false"),
        ({"cuped": True}, r"cuped=True needs a lookback"),
        ({"cuped": {"lookback": "2 dayz"}}, r"did you mean '2 days'"),
        ({"cuped": {"window": "2 days"}}, r"cuped takes only 'lookback'"),
        ({"cuped": 3}, r"cuped must be None, False, True or"),
        ({"start": "2024-05-01", "end": "2024-04-01"}, r"end .* must be after start"),
        ({"start": "yesterday-ish"}, r"start"),
    ],
)
def test_bad_arguments_are_query_errors(layer, kwargs, message):
    name = kwargs.pop("name", "t")
    with pytest.raises(QueryError, match=message) as info:
        layer.experiment(name, **kwargs).to_pandas()
    assert "\n" not in str(info.value)


def test_control_that_never_occurs_warns_at_query_time(tmp_path):
    layer = load(tmp_path, GOOD.replace("control: control", "control: holdout"))
    res = layer.experiment("t")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        df = res.to_pandas()
    assert any("control arm 'holdout' has no exposed units" in str(w.message) for w in seen)
    assert set(df["variant"]) == {"control", "treatment"}
    assert (df["lift"] == 0).all() and (df["p_value"] == 1).all()
    assert (df["control_units"] == 0).all() and df["control_value"].isna().all()


def test_user_strings_never_reach_sql_text(layer):
    res = layer.experiment("t", start="2024-01-01", cuped={"lookback": "3 days"})
    assert "'; drop" not in res.sql().lower()
    with pytest.raises(QueryError):
        layer.experiment("t", metrics=["revenue'; drop table orders; --"])
