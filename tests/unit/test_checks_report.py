"""The check report (CONTRACT §4): columns, ok, failing(), stable readable text and JSON."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import metrics_layer as ml
from metrics_layer.checks import CheckError, Report, RuleResult
from tests.unit.test_checks_support import USERS, daily, defs, make_layer

CHECKS = """
- not_null: [order_id]
- unique: [order_id]
- volume: {grain: day, window: 3, threshold: 3}
- volume: {grain: week, window: 3, threshold: 3}
"""
METRICS = """
revenue: {measure: orders.revenue, validation: {min: 0, max: 50}}
"""


@pytest.fixture
def report(backend, tmp_path):
    layer = make_layer(
        backend,
        tmp_path,
        defs(metrics=METRICS, orders_checks=CHECKS),
        {"orders": daily([10, 20, 60]), "users": USERS},
    )
    return layer.check()


def test_to_pandas_has_one_row_per_rule_and_target(report):
    df = report.to_pandas()
    assert list(df.columns) == [
        "kind",
        "target",
        "rule",
        "passed",
        "failures",
        "detail",
        "severity",
    ]
    assert df[["kind", "target", "rule"]].values.tolist() == [
        ["metric", "revenue", "range"],
        ["source", "orders", "not_null(order_id)"],
        ["source", "orders", "unique(order_id)"],
        ["source", "orders", "volume(day)"],
        ["source", "orders", "volume(week)"],
    ]
    assert df["passed"].dtype == bool and df["failures"].dtype == "int64"
    assert not report.ok
    assert report.summary() == "4 of 5 checks passed, 1 failed — FAILED"


def test_failing_by_exact_or_bare_rule_name(report):
    assert report.failing("revenue", "range")["revenue"].tolist() == [60]
    assert report.failing("orders", "not_null").empty
    with pytest.raises(CheckError, match="ambiguous"):
        report.failing("orders", "volume")
    with pytest.raises(CheckError, match="did you mean 'revenue'"):
        report.failing("revenu", "range")
    with pytest.raises(CheckError, match="rules: range"):
        report.failing("revenue", "anomaly")
    assert isinstance(CheckError("x"), ml.MetricsLayerError)


def test_text_and_json_are_readable_and_stable(report):
    text = report.to_text()
    assert text.splitlines()[:2] == [
        "FAIL  revenue: range              1 of 3 periods outside [0, 50]: 2024-01-03 = 60",
        "PASS  orders: not_null(order_id)  no NULL (3 rows checked)",
    ]
    assert "revenue: range — failing (1 of 1):" in text
    assert text.endswith("4 of 5 checks passed, 1 failed — FAILED")
    assert report.to_text() == text  # deterministic
    data = json.loads(report.to_json())
    assert data["ok"] is False
    first = data["results"][0]
    assert first["failing"] == [{"day": "2024-01-03T00:00:00", "revenue": 60.0}]


def test_duplicate_rules_are_numbered():
    from metrics_layer.checks.runner import _numbered

    rs = [
        RuleResult("source", "t", "volume(day)", True, 0, ""),
        RuleResult("source", "t", "volume(day)", True, 0, ""),
    ]
    assert [r.rule for r in _numbered(rs)] == ["volume(day)", "volume(day) #2"]


def test_empty_report_is_ok():
    r = Report([])
    assert r.ok and r.to_pandas().empty and list(r.to_pandas().columns)[0] == "kind"
    assert isinstance(r.to_pandas(), pd.DataFrame)
