"""Conversion metrics in the MetricFlow export: the mapping (the import's, read backwards) and
what has no MetricFlow form, reported with its file and line instead of exported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

import metrics_layer as ml


def _conversion(**block: Any) -> dict[str, Any]:
    return {
        "type": "conversion",
        "conversion": {
            "base": "visits.visits",
            "conversion": "buys.buys",
            "entity": {"base": "id_customer", "conversion": "buyer_id"},
            **block,
        },
    }


def _defs(**metrics: Any) -> dict[str, Any]:
    return {
        "sources": {
            "visits": {
                "table": "visits",
                "time": "ds",
                "primary_key": "id_visit",
                "dimensions": {"product": {}, "Page": {"expr": "lower(url)"}},
                "measures": {
                    "visits": {"agg": "count"},
                    "ad_visits": {"agg": "count", "filter": "referrer = 'ad'"},
                },
                "joins": {"customer": {"source": "customers", "keys": "id_customer"}},
            },
            "buys": {
                "table": "buys",
                "time": "ds",
                "primary_key": "id_buy",
                "dimensions": {"product": {}},
                "measures": {
                    "buys": {"agg": "sum", "expr": "1"},
                    "amount": {"agg": "sum", "expr": "amount_usd"},
                    "big_buys": {"agg": "count", "filter": "amount_usd > 100"},
                },
                "joins": {"customer": {"source": "customers", "keys": {"buyer_id": "id_customer"}}},
            },
            "customers": {"table": "customers", "primary_key": "id_customer"},
        },
        "metrics": metrics,
    }


def _params(exported: Any, name: str) -> dict[str, Any]:
    metric = next(m for m in exported.definitions["metrics"] if m["name"] == name)
    assert metric["type"] == "conversion"
    return dict(metric["type_params"]["conversion_type_params"])


def test_mapping() -> None:
    exported = ml.export_metricflow(
        _defs(
            rate=_conversion(window="2 weeks", time_grain="day", constant_properties=["product"]),
            filled={
                **_conversion(window="1 day", calculation="conversions", time_grain="day"),
                "fill_nulls_with": 0,
            },
            ads={
                **_conversion(base="visits.ad_visits", time_grain="day"),
                "filter": "product = 'A'",
            },
            by_column=_conversion(
                time_grain="day",
                constant_properties=[{"base": "referrer", "conversion": "channel"}],
            ),
        )
    )
    assert _params(exported, "rate") == {
        "base_measure": {"name": "visits"},
        "conversion_measure": {"name": "buys"},
        "entity": "customer",  # the entity whose column is ours on each side
        "window": "2 weeks",
        "calculation": "conversion_rate",
        "constant_properties": [{"base_property": "product", "conversion_property": "product"}],
    }
    filled = _params(exported, "filled")
    assert filled["conversion_measure"] == {"name": "buys", "fill_nulls_with": 0}
    assert (filled["window"], filled["calculation"]) == ("1 day", "conversions")
    ads = next(m for m in exported.definitions["metrics"] if m["name"] == "ads")
    # the base measure's filter and the metric's both narrow the base events
    assert ads["filter"] == (
        "({{ Dimension('visits_key__referrer') }} = 'ad') AND ({{ Dimension('visits_key__product') }} = 'A')"
    )
    assert "window" not in _params(exported, "ads")
    # raw columns become dimensions of their semantic models
    assert _params(exported, "by_column")["constant_properties"] == [
        {"base_property": "referrer", "conversion_property": "channel"}
    ]
    models = {m["name"]: m for m in exported.definitions["semantic_models"]}
    assert "channel" in {d["name"] for d in models["buys"]["dimensions"]}
    # the base measure is a filtered count: reported as for simple metrics
    notes = {p.item: p.message for p in exported.problems if p.item.startswith("metric ")}
    assert list(notes) == ["metric ads"] and notes["metric ads"].startswith("a filtered count")


def test_a_plain_column_entity_becomes_a_foreign_entity_of_both() -> None:
    defs = _defs(rate=_conversion(entity="session_id", time_grain="day"))
    exported = ml.export_metricflow(defs)
    assert _params(exported, "rate")["entity"] == "session_id"
    for model in exported.definitions["semantic_models"][:2]:
        assert {"name": "session_id", "type": "foreign"} in model["entities"]


def test_no_time_grain_is_reported_as_day() -> None:
    exported = ml.export_metricflow(_defs(rate=_conversion(window="7 days")))
    assert _params(exported, "rate")["window"] == "7 days"
    notes = {p.item: p.message for p in exported.problems}
    assert "day granularity" in notes["metric rate.conversion"]


def test_what_has_no_metricflow_form_is_reported_with_file_and_line(tmp_path: Path) -> None:
    metrics = {
        "weekly": (_conversion(time_grain="week"), "time_grain 'week'"),
        "hourly": (_conversion(time_grain="day", window="12 hours"), "window '12 hours'"),
        "filled_rate": ({**_conversion(time_grain="day"), "fill_nulls_with": 0}, "conversion_rate"),
        "amounts": (
            _conversion(conversion="buys.amount", calculation="conversions", time_grain="day"),
            "buys.amount is a sum",
        ),
        "big": (_conversion(conversion="buys.big_buys", time_grain="day"), "has a filter"),
        "by_page": (
            _conversion(
                constant_properties=[{"base": "Page", "conversion": "product"}], time_grain="day"
            ),
            "'Page' of visits is not exported",
        ),
        "by_product": (_conversion(entity="product", time_grain="day"), "no entity of both"),
        "spined": (
            {**_conversion(time_grain="day"), "join_to_timespine": True},
            "join_to_timespine",
        ),
    }
    defs = _defs(
        **{k: v for k, (v, _) in metrics.items()}, twice={"type": "derived", "expr": "weekly * 2"}
    )
    (tmp_path / "defs.yml").write_text(yaml.safe_dump(defs, sort_keys=False))
    exported = ml.export_metricflow(tmp_path / "defs.yml")
    lines = (tmp_path / "defs.yml").read_text().splitlines()
    notes = {p.item: p for p in exported.problems}
    for name, (_, why) in metrics.items():
        problem = notes[f"metric {name}"]
        assert problem.message.startswith("not exported") and why in problem.message, problem
        assert problem.file.endswith("defs.yml")
        assert lines[problem.line - 1].strip() == f"{name}:"
    assert "weekly" in notes["metric twice"].message
    assert not {m["name"] for m in exported.definitions["metrics"]} & {*metrics, "twice"}
