"""The MetricFlow export: the mapping, filter templates, what is reported instead of exported,
and the output folder rules (never over someone's files without --force)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import metrics_layer as ml
from metrics_layer.cli import app
from metrics_layer.errors import MetricsLayerError
from metrics_layer.interchange.metricflow.export_filters import dimension_template, rewrite
from tests.interchange.shop_data import SHOP

ROOT = Path(__file__).resolve().parents[2]


def _defs(**extra_metrics: Any) -> dict[str, Any]:
    return {
        "sources": {
            "orders": {
                "table": "orders",
                "time": "ts",
                "primary_key": "order_id",
                "dimensions": {
                    "status": {},
                    "big": {"expr": "amount > 100"},
                    "shown_status": {"expr": "upper(status)", "pii": True},
                },
                "measures": {
                    "rows": {"agg": "count"},
                    "revenue": {"agg": "sum", "expr": "amount", "filter": "status = 'paid'"},
                    "p90": {"agg": "percentile", "expr": "amount", "p": 0.9},
                    "balance": {
                        "agg": "sum",
                        "expr": "amount",
                        "non_additive": {"window": "last", "groupings": ["user_id"]},
                    },
                    "shipped_n": {"agg": "count", "time": "shipped_at"},
                    "by_signup": {"agg": "count", "time": "users.signed_up_at"},
                },
                "joins": {
                    "user": {"source": "users", "keys": "user_id"},
                    "items": {"source": "lines", "keys": "order_id", "relationship": "one_to_many"},
                    "pair": {"source": "users", "keys": ["user_id", "order_id"]},
                },
            },
            "users": {
                "table": "users",
                "time": "signed_up_at",
                "primary_key": "user_id",
                "dimensions": {"country": {}},
                "measures": {"rows": {"agg": "count"}},
            },
            "lines": {"table": "lines", "measures": {"qty": {"agg": "sum", "expr": "qty"}}},
        },
        "metrics": {
            "orders": {"measure": "orders.rows", "format": "integer"},
            "revenue": {"measure": "orders.revenue", "filter": "user.country = 'DE'"},
            "march": {"measure": "orders.rows", "filter": "ts__month = '2024-03-01' AND big"},
            "by_raw": {"measure": "orders.rows", "filter": "coupon IS NOT NULL"},
            "share_of_rev": {"type": "share", "metric": "revenue", "share_of": []},
            "users_share": {
                "type": "ratio",
                "numerator": "orders.rows",
                "denominator": "users.rows",
            },
            "Prev__Orders": {"type": "offset", "metric": "orders", "offset": "1 week"},
            "growth": {"type": "derived", "expr": "orders / Prev__Orders - 1"},
            "of_share": {"type": "derived", "expr": "share_of_rev * 2"},
            "lines_qty": {"measure": "lines.qty"},
            **extra_metrics,
        },
    }


@pytest.fixture(scope="module")
def exported() -> Any:
    return ml.export_metricflow(_defs())


def _model(exported: Any, name: str) -> dict[str, Any]:
    return next(m for m in exported.definitions["semantic_models"] if m["name"] == name)


def _metric(exported: Any, name: str) -> dict[str, Any]:
    return next(m for m in exported.definitions["metrics"] if m["name"] == name)


def _notes(exported: Any) -> dict[str, str]:
    return {p.item: p.message for p in exported.problems}


def test_semantic_model(exported: Any) -> None:
    orders = _model(exported, "orders")
    assert orders["model"] == "ref('orders')"
    assert orders["defaults"] == {"agg_time_dimension": "ts"}
    assert {e["name"]: (e["type"], e.get("expr")) for e in orders["entities"]} == {
        "orders": ("primary", "order_id"),
        "user": ("foreign", "user_id"),
    }
    dims = {d["name"]: d for d in orders["dimensions"]}
    assert dims["big"] == {"name": "big", "type": "categorical", "expr": "amount > 100"}
    assert dims["ts"]["type_params"] == {"time_granularity": "day"}
    assert dims["shipped_at"]["type"] == "time"  # a measure's own time column
    assert dims["coupon"] == {"name": "coupon", "type": "categorical"}  # a filter's raw column
    users = _model(exported, "users")
    assert users["entities"] == [{"name": "user", "type": "primary", "expr": "user_id"}]
    measures = {m["name"]: m for m in orders["measures"]}
    assert measures["rows"] == {"name": "rows", "agg": "count", "expr": "1"}
    assert measures["p90"]["agg_params"] == {"percentile": 0.9, "use_discrete_percentile": False}
    assert measures["balance"]["non_additive_dimension"] == {
        "name": "ts",
        "window_choice": "max",
        "window_groupings": ["user"],
    }
    assert measures["shipped_n"]["agg_time_dimension"] == "shipped_at"
    # measure names are global in MetricFlow: the second `n` is renamed, and reported
    assert [m["name"] for m in users["measures"]] == ["users_rows"]
    assert "exported as measure 'users_rows'" in _notes(exported)["source users.measures.rows"]


def test_filters_become_templates(exported: Any) -> None:
    assert _metric(exported, "revenue")["filter"] == (
        "(status = 'paid') AND ({{ Dimension('user__country') }} = 'DE')"
    ).replace("status", "{{ Dimension('orders__status') }}", 1)
    assert _metric(exported, "march")["filter"] == (
        "{{ TimeDimension('orders__ts', 'month') }} = '2024-03-01' "
        "AND {{ Dimension('orders__big') }}"
    )
    assert _metric(exported, "by_raw")["filter"] == "NOT {{ Dimension('orders__coupon') }} IS NULL"


def test_template_text() -> None:
    assert dimension_template("Dimension", ("a", "b"), "x") == (
        "{{ Dimension('b__x', entity_path=['a']) }}"
    )
    assert dimension_template("Entity", ("a",), "b") == "{{ Entity('b', entity_path=['a']) }}"
    # a name inside a string literal stays a value
    assert rewrite("status = 'status'", lambda n: f"<{n}>") == "<status> = 'status'"


def test_metrics(exported: Any) -> None:
    ratio = _metric(exported, "users_share")
    helpers = ratio["type_params"]
    assert helpers == {
        "numerator": "users_share_numerator",
        "denominator": "users_share_denominator",
    }
    assert _metric(exported, "users_share_denominator")["type_params"] == {"measure": "users_rows"}
    prev = _metric(exported, exported.names["Prev__Orders"])
    assert exported.names["Prev__Orders"] == "prev_orders"
    spec = prev["type_params"]["metrics"][0]
    assert spec["name"] == "orders" and spec["offset_window"] == "1 week"
    assert prev["type_params"]["expr"] == spec["alias"]
    growth = _metric(exported, "growth")["type_params"]
    assert growth["expr"] == "orders / prev_orders - 1"
    assert {m["name"] for m in growth["metrics"]} == {"orders", "prev_orders"}


def test_not_exported_is_reported(exported: Any) -> None:
    notes = _notes(exported)
    assert "one_to_many" in notes["source orders.joins.items"]
    assert "several columns" in notes["source orders.joins.pair"]
    assert "joined source" in notes["source orders.measures.by_signup.time"]
    assert "no time column" in notes["source lines.measures.qty"]
    assert "share metrics" in notes["metric share_of_rev"]
    assert "share_of_rev" in notes["metric of_share"]
    assert "lines.qty" in notes["metric lines_qty"]
    assert "pii" in notes["source orders.dimensions.shown_status.pii"]
    assert "format" in notes["metric orders"]
    names = {m["name"] for m in exported.definitions["metrics"]}
    assert not names & {"share_of_rev", "of_share", "lines_qty"}
    assert "by_signup" not in {m["name"] for m in _model(exported, "orders")["measures"]}


def test_report_has_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "defs.yml").write_text(yaml.safe_dump(_defs(), sort_keys=False))
    result = ml.export_metricflow(tmp_path / "defs.yml")
    share = next(p for p in result.problems if p.item == "metric share_of_rev")
    lines = (tmp_path / "defs.yml").read_text().splitlines()
    assert share.file.endswith("defs.yml")
    assert lines[share.line - 1].strip() == "share_of_rev:"


def test_a_dimension_other_than_its_column_is_not_confused() -> None:
    defs = _defs(lower={"measure": "orders.rows", "filter": "shown_status = 'X'"})
    defs["sources"]["orders"]["dimensions"]["status"] = {"expr": "lower(status)"}
    result = ml.export_metricflow(defs)
    # the filter's `status` is the column (a source's own expression), not the dimension
    assert "another expression" in _notes(result)["metric revenue"]
    assert _metric(result, "lower")["filter"] == "{{ Dimension('orders__shown_status') }} = 'X'"


def test_folder_rules(tmp_path: Path) -> None:
    out = tmp_path / "dbt"
    result = ml.export_metricflow(_defs(), out)
    written = sorted(str(p.relative_to(out)) for p in result.files)
    assert written == [
        "dbt_project.yml",
        "export-report.txt",
        "models/metricflow_time_spine.sql",
        "models/metricflow_time_spine.yml",
        "models/metrics.yml",
        "models/semantic_models.yml",
    ]
    assert "share_of_rev" in (out / "export-report.txt").read_text()
    with pytest.raises(MetricsLayerError, match="is not empty"):
        ml.export_metricflow(_defs(), out)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(MetricsLayerError, match="--force"):
        ml.export_metricflow(_defs(), mine)
    assert (mine / "notes.txt").read_text() == "keep me"
    ml.export_metricflow(_defs(), mine, force=True)
    assert (mine / "models" / "metrics.yml").is_file()
    assert (mine / "notes.txt").read_text() == "keep me"  # force writes its files only


def test_no_spine_without_a_metric_that_needs_one(tmp_path: Path) -> None:
    defs = _defs()
    defs["metrics"] = {"orders": {"measure": "orders.rows"}}
    result = ml.export_metricflow(defs, tmp_path / "out")
    assert not any("time_spine" in str(p) for p in result.files)


@pytest.mark.parametrize(
    ("defs", "message"),
    [
        (42, "not int"),
        ({"metrics": {"x": {"measure": "nope.n"}}}, "nope"),
        ("does/not/exist", "does not exist"),
    ],
)
def test_bad_input_is_one_line(defs: Any, message: str) -> None:
    with pytest.raises(MetricsLayerError, match=message) as info:
        ml.export_metricflow(defs)
    assert "\n" not in str(info.value)


def test_bad_spine() -> None:
    with pytest.raises(MetricsLayerError, match="after its start"):
        ml.export_metricflow(_defs(), spine=("2024-01-01", "2023-01-01"))


def test_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "dbt"
    done = runner.invoke(
        app, ["export", "metricflow", str(ROOT / "metric_defs"), "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert "semantic models" in done.stdout
    assert (out / "models" / "semantic_models.yml").is_file()
    again = runner.invoke(
        app, ["export", "metricflow", str(ROOT / "metric_defs"), "--out", str(out)]
    )
    assert again.exit_code == 2
    assert again.stderr.strip().count("\n") == 0 and "--force" in again.stderr
    forced = runner.invoke(
        app, ["export", "metricflow", str(ROOT / "metric_defs"), "--out", str(out), "--force"]
    )
    assert forced.exit_code == 0


def test_import_of_the_shop_export_names_the_same_fields(tmp_path: Path) -> None:
    layer = ml.load(ml.import_metricflow(SHOP).definitions)
    ml.export_metricflow(layer, tmp_path / "dbt")
    back = ml.import_metricflow(tmp_path / "dbt").definitions
    assert back["metrics"]["cancellations_mx"]["filter"] == "customer.customer_country = 'MX'"
    assert back["metrics"]["transaction_usd_na"]["filter"] == "customer.country.region = 'NA'"
    assert back["sources"]["transactions"]["joins"]["customer"]["source"] == "customers"


def test_database_is_reported_not_written() -> None:
    defs = _defs()
    defs["sources"]["users"]["database"] = "crm"
    result = ml.export_metricflow(defs)
    assert "ref('users')" in _notes(result)["source users.database"]
    assert _model(result, "users")["model"] == "ref('users')"
