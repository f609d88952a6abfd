"""Metric validation rules (CONTRACT §4): range, not_null, max_change, anomaly, reconcile.

Each rule is exercised with passing and failing daily series on small tables, on every
selected backend; failing periods come back with their values.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

import metrics_layer as ml
from tests.unit.test_checks_support import USERS, daily, defs, make_layer, orders


def check(backend, tmp_path, metrics_yaml, data, **kwargs):
    layer = make_layer(
        backend, tmp_path, defs(metrics=metrics_yaml), {"orders": data, "users": USERS}
    )
    return layer.check(
        metrics=kwargs.pop("metrics", None) or list(layer.registry.project.metrics), **kwargs
    )


def days(df: pd.DataFrame, column: str = "day") -> list[str]:
    return [pd.Timestamp(v).date().isoformat() for v in df[column]]


# ----------------------------------------------------------------------------- range, not_null
def test_range_passes_and_fails_with_the_offending_periods(backend, tmp_path):
    yaml = "revenue: {measure: orders.revenue, validation: {min: 0, max: 100}}"
    report = check(backend, tmp_path, yaml, daily([10, 20, 150, -5, 40]))
    assert not report.ok
    row = report.to_pandas().iloc[0]
    assert (row.kind, row.target, row.rule, bool(row.passed), row.failures) == (
        "metric",
        "revenue",
        "range",
        False,
        2,
    )
    bad = report.failing("revenue", "range")
    assert list(bad.columns) == ["day", "revenue"]
    assert days(bad) == ["2024-01-03", "2024-01-04"]
    assert bad["revenue"].tolist() == [150, -5]
    assert "2 of 5 periods outside [0, 100]" in row.detail

    ok = check(backend, tmp_path, yaml, daily([10, 20, 30]))
    assert ok.ok and ok.to_pandas().iloc[0].failures == 0


def test_not_null_flags_periods_without_data(backend, tmp_path):
    yaml = """
    rate: {numerator: orders.paid_orders, denominator: orders.orders, validation: {not_null: true, min: 0, max: 1}}
    """
    data = orders(
        [
            {"ts": "2024-01-01 10:00"},
            {"ts": "2024-01-03 10:00", "status": "open"},
            {"ts": "2024-01-04 10:00"},
        ]
    )
    report = check(backend, tmp_path, yaml, data)
    bad = report.failing("rate", "not_null")
    # 01-02 has no rows at all (a missing period is NULL); 01-03 has no paid order: rate 0
    assert days(bad) == ["2024-01-02"]
    assert report.result("rate", "range").passed


# ----------------------------------------------------------------------------- max_change
def test_max_change_relative(backend, tmp_path):
    yaml = "revenue: {measure: orders.revenue, validation: {max_change: 0.5}}"
    report = check(backend, tmp_path, yaml, daily([100, 120, 300, 290, 0, 10]))
    bad = report.failing("revenue", "max_change")
    assert list(bad.columns) == ["day", "previous", "revenue", "change"]
    assert days(bad) == ["2024-01-03", "2024-01-05", "2024-01-06"]  # +150%, -100%, from 0
    assert bad["change"].iloc[0] == pytest.approx(1.5)
    assert bad["change"].iloc[1] == pytest.approx(-1.0)
    assert math.isnan(bad["change"].iloc[2])  # relative change from 0 is undefined, still flagged
    assert check(backend, tmp_path, yaml, daily([100, 120, 150, 110])).ok


def test_max_change_absolute_skips_periods_without_a_previous_value(backend, tmp_path):
    yaml = "revenue: {measure: orders.revenue, validation: {max_change: 15, change: absolute}}"
    report = check(backend, tmp_path, yaml, daily([100, 110, None, 200, 220]))
    bad = report.failing("revenue", "max_change")
    assert days(bad) == ["2024-01-05"]
    assert bad["change"].tolist() == [20]


# ----------------------------------------------------------------------------- anomaly
BASE = [10, 11, 9, 10, 12, 11, 10, 9, 10]


def test_anomaly_robust_zscore_against_the_trailing_window(backend, tmp_path):
    yaml = "revenue: {measure: orders.revenue, validation: {anomaly: {window: 6, threshold: 4}}}"
    report = check(backend, tmp_path, yaml, daily([*BASE, 60, 10, 11]))
    bad = report.failing("revenue", "anomaly")
    assert list(bad.columns) == ["day", "revenue", "expected", "score"]
    assert days(bad) == ["2024-01-10"]
    assert bad["expected"].iloc[0] == pytest.approx(10.0)
    assert bad["score"].iloc[0] > 4
    assert check(backend, tmp_path, yaml, daily([*BASE, 11, 10])).ok


def test_anomaly_zscore_direction_and_min_periods(backend, tmp_path):
    up_only = (
        "revenue: {measure: orders.revenue, validation: "
        "{anomaly: {window: 5, threshold: 3, method: zscore, direction: up}}}"
    )
    assert check(backend, tmp_path, up_only, daily([*BASE, 1])).ok  # a drop is not flagged
    assert not check(backend, tmp_path, up_only, daily([*BASE, 30])).ok
    # too little history: the window needs 8 values, only 4 periods come before the spike
    short = "revenue: {measure: orders.revenue, validation: {anomaly: {window: 8}}}"
    assert check(backend, tmp_path, short, daily([10, 11, 9, 10, 90])).ok


def test_anomaly_with_seasonality_compares_the_same_weekday(backend, tmp_path):
    week = [10, 10, 10, 10, 10, 40, 40]  # busy weekends
    yaml_plain = (
        "revenue: {measure: orders.revenue, validation: {anomaly: {window: 7, threshold: 2}}}"
    )
    yaml_season = (
        "revenue: {measure: orders.revenue, validation: "
        "{anomaly: {window: 3, seasonality: 7, threshold: 3}}}"
    )
    data = daily(week * 5)
    assert not check(backend, tmp_path, yaml_plain, data).ok  # weekends look anomalous
    assert check(backend, tmp_path, yaml_season, data).ok  # against past weekends: fine


# ----------------------------------------------------------------------------- reconcile
def test_reconcile_with_another_metric_within_a_tolerance(backend, tmp_path):
    yaml = """
    paid: {measure: orders.paid}
    revenue: {measure: orders.revenue, validation: {reconcile: {metric: paid, tolerance: 0.05}}}
    """
    data = daily([100, 100, 100], amount2=None)
    data["amount2"] = [100.0, 103.0, 120.0]
    report = check(backend, tmp_path, yaml, data, metrics=["revenue"])
    bad = report.failing("revenue", "reconcile(paid)")
    assert list(bad.columns) == ["day", "revenue", "paid", "difference"]
    assert days(bad) == ["2024-01-03"]
    assert bad["difference"].tolist() == [-20]


def test_reconcile_with_an_expression_of_metrics_and_absolute_tolerance(backend, tmp_path):
    yaml = """
    paid: {measure: orders.paid}
    orders: {measure: orders.orders}
    revenue:
      measure: orders.revenue
      validation:
        reconcile: {expr: "paid - orders", tolerance: 0.5, relative: false}
    """
    data = daily([10, 10], amount2=None)
    data["amount2"] = [11.0, 12.0]  # paid - orders = 10, 11
    report = check(backend, tmp_path, yaml, data, metrics=["revenue"])
    assert report.result("revenue", "reconcile").failures == 1
    assert days(report.failing("revenue", "reconcile")) == ["2024-01-02"]


# ----------------------------------------------------------------------------- groups, ranges
def test_rules_per_group_report_the_group(backend, tmp_path):
    yaml = "revenue: {measure: orders.revenue, validation: {max: 50, by: [users.country]}}"
    data = orders(
        [
            {"ts": "2024-01-01 10:00", "amount": 60, "user_id": 1},
            {"ts": "2024-01-01 11:00", "amount": 20, "user_id": 2},
            {"ts": "2024-01-02 11:00", "amount": 70, "user_id": 3},
        ]
    )
    report = check(backend, tmp_path, yaml, data)
    bad = report.failing("revenue", "range").sort_values("day").reset_index(drop=True)
    assert list(bad.columns) == ["day", "country", "revenue"]
    assert bad["country"].iloc[0] == "DE" and pd.isna(bad["country"].iloc[1])
    assert "(country=DE)" in report.result("revenue", "range").detail


def test_start_end_bound_judged_periods_but_history_reaches_back(backend, tmp_path):
    yaml = "revenue: {measure: orders.revenue, validation: {anomaly: {window: 6, threshold: 4}, min: 5}}"
    data = daily([1, *BASE, 60])  # 2024-01-01 breaks min; 2024-01-11 is the spike
    report = check(backend, tmp_path, yaml, data, start="2024-01-11", end="2024-01-12")
    assert days(report.failing("revenue", "anomaly")) == ["2024-01-11"]  # history before start
    assert report.result("revenue", "range").passed  # 01-01 not judged
    assert "1 period checked" in report.result("revenue", "range").detail


def test_as_of_leaves_incomplete_periods_out(backend, tmp_path):
    yaml = "revenue: {measure: orders.revenue, validation: {min: 5}}"
    data = daily([10, 10, 1])
    assert not check(backend, tmp_path, yaml, data).ok
    assert check(backend, tmp_path, yaml, data, as_of="2024-01-03 18:00").ok


def test_validation_grain_overrides_the_check_grain(backend, tmp_path):
    yaml = "revenue: {measure: orders.revenue, validation: {min: 15, grain: month}}"
    report = check(backend, tmp_path, yaml, daily([10, 10]))
    assert report.ok
    assert list(report.failing("revenue", "range").columns) == ["month", "revenue"]


def test_warning_severity_is_reported_but_not_gating(backend, tmp_path):
    yaml = "revenue: {measure: orders.revenue, validation: {min: 50, severity: warn}}"
    report = check(backend, tmp_path, yaml, daily([10]))
    assert report.ok
    row = report.to_pandas().iloc[0]
    assert not row.passed and row.severity == "warn"
    assert "1 warning" in report.summary()


# ----------------------------------------------------------------------------- errors
def test_a_rule_that_cannot_be_evaluated_is_an_error_naming_its_location(backend, tmp_path):
    yaml = "revenue: {measure: orders.revenue, validation: {reconcile: {metric: payd}}}"
    layer = make_layer(
        backend, tmp_path, defs(metrics=yaml), {"orders": daily([1]), "users": USERS}
    )
    with pytest.raises(ml.MetricsLayerError) as err:
        layer.check()
    text = str(err.value)
    assert "defs.yml" in text and "metrics.revenue.validation" in text and "'paid'" in text


def test_selection_errors(duckdb_layer):
    with pytest.raises(ml.MetricsLayerError, match="did you mean 'revenue'"):
        duckdb_layer.check(metrics=["revenu"])
    with pytest.raises(ml.MetricsLayerError, match="declares no validation"):
        duckdb_layer.check(metrics=["plain"])


@pytest.fixture
def duckdb_layer(tmp_path):
    import ibis

    from tests.backends import Backend

    be = Backend("duckdb", ibis.duckdb.connect())
    yaml = """
    revenue: {measure: orders.revenue, validation: {min: 0}}
    plain: {measure: orders.orders}
    """
    return make_layer(be, tmp_path, defs(metrics=yaml), {"orders": daily([1, 2]), "users": USERS})


@pytest.mark.parametrize(
    ("validation", "message"),
    [
        ("{min: 2, max: 1}", "min (2.0) is greater than max (1.0)"),
        ("{reconcile: {metric: a, expr: b}}", "not both"),
        ("{anomaly: {window: 1}}", "greater than or equal to 2"),
        ("{anomaly: {window: 4, min_periods: 6}}", "cannot exceed window"),
        ("{max_chang: 0.5}", "did you mean 'max_change'"),
    ],
)
def test_validation_declarations_are_checked_at_load_time(tmp_path, validation, message):
    (tmp_path / "defs.yml").write_text(
        defs(metrics=f"revenue: {{measure: orders.revenue, validation: {validation}}}")
    )
    with pytest.raises(ml.DefinitionError) as err:
        ml.load(tmp_path, vars={"orders": "o", "users": "u"})
    assert message in str(err.value)
    assert "defs.yml:" in str(err.value)
