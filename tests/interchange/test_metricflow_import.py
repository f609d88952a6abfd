"""The MetricFlow importer: the mapping, filter translation, and the report of what it could
not translate (file and line, never dropped silently)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import metrics_layer as ml
from metrics_layer.cli import app
from metrics_layer.errors import DefinitionError, MetricsLayerError
from metrics_layer.interchange.metricflow.filters import (
    FieldCall,
    Untranslatable,
    parse_call,
    translate_filter,
)

SHOP = Path(__file__).resolve().parents[1] / "fixtures" / "metricflow" / "shop"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Dimension('customer__customer_country')",
            FieldCall("Dimension", ("customer",), "customer_country"),
        ),
        (
            "Dimension('country__region', entity_path=['customer'])",
            FieldCall("Dimension", ("customer", "country"), "region"),
        ),
        (
            "TimeDimension('metric_time', 'month')",
            FieldCall("TimeDimension", (), "metric_time", "month"),
        ),
        (
            "TimeDimension('customer__ds', 'WEEK')",
            FieldCall("TimeDimension", ("customer",), "ds", "week"),
        ),
        (
            "Dimension('customer__ds').grain('year')",
            FieldCall("Dimension", ("customer",), "ds", "year"),
        ),
        (
            "Dimension('customer__ds__quarter')",
            FieldCall("Dimension", ("customer",), "ds", "quarter"),
        ),
        ("Entity('customer')", FieldCall("Entity", (), "customer")),
        (" Entity('customer__country') ", FieldCall("Entity", ("customer",), "country")),
    ],
)
def test_parse_call(text: str, expected: FieldCall) -> None:
    assert parse_call(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Metric('revenue', group_by=['customer'])",
        "Dimension(name)",
        "Dimension('a').date_part('dow')",
        "TimeDimension('metric_time', 'fortnight')",
        "__import__('os')",
        "Dimension('a') + 1",
    ],
)
def test_parse_call_refuses(text: str) -> None:
    with pytest.raises(Untranslatable):
        parse_call(text)


def test_translate_keeps_the_sql_around_templates() -> None:
    seen: list[FieldCall] = []

    def resolve(call: FieldCall) -> str:
        seen.append(call)
        return ".".join((*call.entities, call.name))

    out = translate_filter(
        "{{ Dimension('customer__country') }} = 'MX'\n  AND {{Entity('order')}} IS NOT NULL",
        resolve,
    )
    assert out == "customer.country = 'MX' AND order IS NOT NULL"
    assert len(seen) == 2
    with pytest.raises(Untranslatable, match="Jinja statements"):
        translate_filter("{% if x %}a{% endif %}", resolve)


@pytest.fixture(scope="module")
def imported() -> ml.Layer:
    return ml.import_metricflow(SHOP)


def test_mapping_of_the_shop_project(imported) -> None:
    defs = imported.definitions
    tx = defs["sources"]["transactions"]
    assert tx["table"] == "transactions" and tx["time"] == "ds"
    assert tx["primary_key"] == "id_transaction"
    assert tx["joins"] == {
        "customer": {"keys": "id_customer", "source": "customers", "relationship": "many_to_one"}
    }
    assert defs["sources"]["customers"]["joins"]["country"] == {
        "keys": "country",
        "source": "countries",
        "relationship": "many_to_one",
    }
    assert tx["dimensions"]["ds__month"]["expr"] == "DATE_TRUNC('month', ds)"
    assert "id_customer" in tx["dimensions"]  # an entity is a dimension: its key
    assert tx["measures"]["transaction_rows"] == {"agg": "count"}  # COUNT(1): every row
    assert tx["measures"]["quick_buy_transactions"]["expr"].startswith("CAST((CASE")
    assert tx["measures"]["average_amount_usd"]["agg"] == "avg"
    metrics = defs["metrics"]
    assert metrics["cancellations_mx"]["filter"] == "customer.customer_country = 'MX'"
    assert metrics["transaction_usd_na"]["filter"] == "customer.country.region = 'NA'"
    assert metrics["known_customer_transactions"]["filter"] == "id_customer IS NOT NULL"
    assert metrics["transactions_since_february"]["filter"] == "ds >= '2022-02-01'"
    assert metrics["transactions_wow"] == {
        "type": "derived",
        "expr": "transactions - transactions_wow__transactions_1w",
        "label": "Transactions week over week",
    }
    assert metrics["transactions_wow__transactions_1w"] == {
        "type": "offset",
        "metric": "transactions",
        "offset": "1 week",
    }
    assert metrics["cancellation_rate"]["type"] == "ratio"
    assert metrics["amount_mtd"]["grain_to_date"] == "month"
    # every MetricFlow metric is converted or reported
    mf_names = [
        m["name"] for m in yaml.safe_load((SHOP / "models" / "metrics.yml").read_text())["metrics"]
    ]
    reported = " ".join(str(p) for p in imported.problems)
    assert all(n in metrics or n in reported for n in mf_names)
    ml.load(defs)  # the definitions load


def test_report_names_file_and_line(imported) -> None:
    texts = [str(p) for p in imported.problems]
    assert "models/saved_queries.yml:2: saved query core_transaction_metrics" in texts[0]
    assert any(t.startswith("models/time_spine.yml:2: time spine all_days") for t in texts)


def _project(tmp_path: Path, extra_metrics: str, extra_models: str = "") -> Path:
    root = tmp_path / "proj"
    shutil.copytree(SHOP, root, ignore=shutil.ignore_patterns("target", "*.duckdb"))
    (root / "models" / "extra.yml").write_text(extra_metrics)
    if extra_models:
        (root / "models" / "more_models.yml").write_text(extra_models)
    return root


def test_untranslatable_items_are_reported_with_lines(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        """metrics:
  - name: buy_after_typo
    type: conversion
    type_params:
      conversion_type_params:
        base_measure: transactions
        conversion_measure: transactions
        entity: customr
  - name: big_spenders
    type: simple
    type_params:
      measure: transactions
    filter: "{{ Metric('transaction_amount', group_by=['customer']) }} > 100"
  - name: typo
    type: simple
    type_params:
      measure: transactionz
  - name: ratio_of_derived
    type: ratio
    type_params:
      numerator: {name: revenue_usd, filter: "{{ Dimension('transaction__is_large') }}"}
      denominator: transactions
  - type: simple
    type_params: {measure: transactions}
""",
        """semantic_models:
  - name: orders
    model: ref('orders')
    entities:
      - name: order
        type: primary
        expr: "upper(id_order)"
    measures:
      - name: order_total
        agg: percentile
        expr: amount
        agg_params: {percentile: 0.5, use_discrete_percentile: true}
""",
    )
    result = ml.import_metricflow(root)
    texts = [str(p) for p in result.problems]
    expect = [
        "models/extra.yml:2: metric buy_after_typo: entity 'customr' is not in semantic model "
        "transactions (did you mean 'customer'",
        "models/extra.yml:9: metric big_spenders: Metric() in a filter is not translated",
        "models/extra.yml:14: metric typo: unknown measure 'transactionz' (did you mean 'transactions'",
        "models/extra.yml:18: metric ratio_of_derived: a filter on input 'revenue_usd'",
        "models/more_models.yml:9: measure order_total: discrete or approximate percentiles",
        "models/extra.yml:23: metric without a name: skipped",
    ]
    for fragment in expect:
        assert any(t.startswith(fragment) for t in texts), (fragment, texts)
    defs = result.definitions
    for name in ("buy_after_typo", "big_spenders", "typo", "ratio_of_derived"):
        assert name not in defs["metrics"]
        assert not [m for m in defs["metrics"] if m.startswith(f"{name}__")]  # no helper left
    ml.load(defs)


def test_cli_writes_and_refuses_foreign_folders(tmp_path: Path) -> None:
    out = tmp_path / "defs"
    res = CliRunner().invoke(app, ["import", "metricflow", str(SHOP), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "5 sources, 48 metrics" in res.stdout
    assert "not translated: models/saved_queries.yml:2" in res.output
    assert sorted(p.name for p in out.iterdir()) == [
        "import-report.txt",
        "metrics.yml",
        "sources.yml",
    ]
    # again into the folder it wrote: fine
    assert (
        CliRunner().invoke(app, ["import", "metricflow", str(SHOP), "--out", str(out)]).exit_code
        == 0
    )
    (out / "mine.yml").write_text("version: 1\n")
    res = CliRunner().invoke(app, ["import", "metricflow", str(SHOP), "--out", str(out)])
    assert res.exit_code == 2 and "did not write" in res.output
    res = CliRunner().invoke(
        app, ["import", "metricflow", str(tmp_path), "--out", str(tmp_path / "x")]
    )
    assert res.exit_code == 2 and "no dbt_project.yml" in res.output


def test_bad_yaml_is_a_located_error(tmp_path: Path) -> None:
    root = _project(tmp_path, "metrics: [\n")
    with pytest.raises(DefinitionError) as info:
        ml.import_metricflow(root)
    assert "models/extra.yml" in str(info.value)
    assert isinstance(info.value, MetricsLayerError)


def test_conversion_metrics_map_to_conversion_metrics(imported) -> None:
    metrics = imported.definitions["metrics"]
    assert metrics["visit_to_buy_same_product"] == {
        "type": "conversion",
        "conversion": {
            "base": "visits.visits",
            "conversion": "buys.buys",
            "entity": "id_customer",
            "window": "7 days",
            "time_grain": "day",
            "constant_properties": [{"base": "product", "conversion": "product"}],
        },
        "label": "Visits followed within 7 days by a buy of the same product",
    }
    assert metrics["ad_visit_to_buy"]["filter"] == "referrer = 'ad'"
    assert metrics["visit_buys_filled"]["fill_nulls_with"] == 0
    assert metrics["visit_buys_7d"]["conversion"]["calculation"] == "conversions"
    assert "window" not in metrics["visit_to_buy"]["conversion"]


def test_conversion_settings_without_a_translation_are_reported(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        """metrics:
  - name: filtered_buys
    type: conversion
    type_params:
      conversion_type_params:
        base_measure: visits
        conversion_measure: {name: buys, filter: "{{ Dimension('buy__product') }} = 'A'"}
        entity: customer
  - name: filled_rate
    type: conversion
    type_params:
      conversion_type_params:
        base_measure: visits
        conversion_measure: {name: buys, fill_nulls_with: 0}
        entity: customer
  - name: other_property
    type: conversion
    type_params:
      conversion_type_params:
        base_measure: visits
        conversion_measure: buys
        entity: customer
        constant_properties: [{base_property: prodcut, conversion_property: product}]
""",
    )
    result = ml.import_metricflow(root)
    texts = [str(p) for p in result.problems]
    expect = [
        "models/extra.yml:2: metric filtered_buys: a filter on the conversion measure",
        "models/extra.yml:9: metric filled_rate: fill_nulls_with on the conversion measure of a "
        "conversion_rate",
        "models/extra.yml:16: metric other_property: constant property 'prodcut' is not in "
        "semantic model visits (did you mean 'product'",
    ]
    for fragment in expect:
        assert any(t.startswith(fragment) for t in texts), (fragment, texts)
    for name in ("filtered_buys", "filled_rate", "other_property"):
        assert name not in result.definitions["metrics"]
    ml.load(result.definitions)
