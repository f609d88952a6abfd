"""import(export(x)) gives definitions that load and give x's numbers.

Two corpora: the MetricFlow test project imported (tests/fixtures/metricflow/shop), and the
repository's metric_defs/ on the demo data (its exportable part; the rest is in the report).
Every exported metric is asked the same queries of both layers (grains, bounds, dimensions
through joins) and the frames must be equal cell for cell; a query one side refuses, the
other must refuse too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import metrics_layer as ml
from metrics_layer.errors import MetricsLayerError
from tests.interchange.shop_data import SHOP, shop_db

ROOT = Path(__file__).resolve().parents[2]

SHOP_QUERIES: list[dict[str, Any]] = [
    {},
    {"grain": "day", "start": "2022-02-20", "end": "2022-04-05"},
    {"grain": "week", "by": ["customer_country"]},
    {"grain": "month", "by": ["region"]},
    {"grain": "quarter"},
    {"by": ["transaction_type"]},
    {"grain": "month", "where": "customer_country = 'US'", "end": "2022-08-01"},
]
# the conversion metrics (tests/fixtures/metricflow/shop/models/conversions.yml): by the base
# events' dimensions, at grains, bounded
CONVERSION_QUERIES: list[dict[str, Any]] = [
    {},
    {"grain": "day", "start": "2022-02-20", "end": "2022-04-05"},
    {"grain": "week", "by": ["product"]},
    {"grain": "month", "by": ["referrer"]},
    {"by": ["product", "referrer"]},
    {"grain": "month", "where": "referrer = 'ad'", "end": "2022-08-01"},
]
DEMO_QUERIES: list[dict[str, Any]] = [
    {},
    {"grain": "day", "start": "2024-03-01", "end": "2024-04-10"},
    {"grain": "week", "by": ["workers.country"]},
    {"grain": "month"},
    {"grain": "month", "by": ["skill"], "where": "workers.tier = 'gold'"},
    {"by": ["platform"]},
]


def _answer(layer: ml.Layer, metric: str, query: dict[str, Any]) -> pd.DataFrame | str:
    try:
        return layer.query([metric], **query).to_pandas()
    except MetricsLayerError as exc:
        return f"refused: {type(exc).__name__}"


def _period_end(layer: ml.Layer, metric: str) -> bool:
    """A cumulative metric without period_agg: exported as period_agg last, which differs at
    grains coarser than a day (the report says so; test_period_end_is_reported)."""
    m = layer.registry.project.metrics.get(metric)
    return m is not None and m.kind == "cumulative" and m.period_agg is None


def _compare(x: ml.Layer, y: ml.Layer, names: dict[str, str], queries: list[dict[str, Any]]):
    """(metric, query, difference) for every answer that differs; and how many were compared."""
    bad, compared = [], 0
    for metric in names:
        for query in queries:
            if _period_end(x, metric) and query.get("grain") not in (None, "day"):
                continue
            ours = _answer(x, metric, query)
            theirs = _answer(y, names[metric], query)
            if isinstance(ours, str) or isinstance(theirs, str):
                shown = [a if isinstance(a, str) else "answered" for a in (ours, theirs)]
                if shown[0] != shown[1]:
                    bad.append((metric, query, " / ".join(shown)))
                continue
            theirs = theirs.rename(columns={names[metric]: metric})
            try:
                pd.testing.assert_frame_equal(ours, theirs, check_dtype=False)
            except AssertionError as exc:
                bad.append((metric, query, str(exc)[:300]))
            compared += 1
    return bad, compared


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[ml.Layer, ml.Layer, Any]:
    base = tmp_path_factory.mktemp("shop_roundtrip")
    db = shop_db(base / "shop.duckdb")
    x = ml.load(ml.import_metricflow(SHOP).definitions, con=str(db))
    exported = ml.export_metricflow(x, base / "dbt")
    back = ml.import_metricflow(base / "dbt")
    y = ml.load(back.definitions, con=str(db))
    return x, y, (exported, back)


def test_shop_exports_every_metric(shop: Any) -> None:
    x, _, (exported, back) = shop
    # every metric is exported, or (a kind MetricFlow's export does not cover) reported
    assert not [p for p in exported.problems if p.message.startswith("not exported")]
    assert set(exported.names) == set(x.metrics())
    assert len(exported.names) >= 46
    # the import reports the time spine only; nothing of the export is left untranslated
    assert [p.item for p in back.problems] == ["time spine metricflow_time_spine"]
    renamed = {k: v for k, v in exported.names.items() if k != v}
    assert all("__" in k and "__" not in v for k, v in renamed.items())
    assert all(p.message.startswith(("exported as", "not exported")) for p in exported.problems)


def test_shop_same_numbers(shop: Any) -> None:
    x, y, (exported, _) = shop
    bad, compared = _compare(x, y, exported.names, SHOP_QUERIES)
    assert not bad, bad[:5]
    assert compared >= 150  # most metric x query pairs answer (offsets need a grain)


def _conversions(layer: ml.Layer) -> list[str]:
    return [n for n, m in layer.registry.project.metrics.items() if m.kind == "conversion"]


def test_shop_conversions_same_definitions(shop: Any) -> None:
    """import(export(x)) writes every conversion metric as x has it."""
    x, _, (exported, back) = shop
    names = _conversions(x)
    assert len(names) == 8
    for name in names:
        ours = x.registry.project.metrics[name]
        theirs = back.definitions["metrics"][exported.names[name]]
        assert theirs["type"] == "conversion"
        block = ours.conversion.model_dump(exclude_defaults=True)
        assert {k: v for k, v in theirs["conversion"].items() if k != "calculation"} == {
            k: v for k, v in block.items() if k != "calculation"
        }, name
        assert theirs["conversion"].get("calculation", "conversion_rate") == (
            ours.conversion.calculation
        )
        assert theirs.get("fill_nulls_with") == ours.fill_nulls_with
        assert theirs.get("filter") == ours.filter


def test_shop_conversions_same_numbers(shop: Any) -> None:
    x, y, (exported, _) = shop
    names = {n: exported.names[n] for n in _conversions(x)}
    bad, compared = _compare(x, y, names, CONVERSION_QUERIES)
    assert not bad, bad[:5]
    assert compared == len(names) * len(CONVERSION_QUERIES)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[ml.Layer, ml.Layer, Any]:
    from metrics_layer.demo.generate import generate

    base = tmp_path_factory.mktemp("demo_roundtrip")
    db = base / "demo.duckdb"
    generate(db, events=5_000)
    x = ml.load(ROOT / "metric_defs", con=str(db))
    exported = ml.export_metricflow(ROOT / "metric_defs", base / "dbt")
    y = ml.load(ml.import_metricflow(base / "dbt").definitions, con=str(db))
    return x, y, exported


def test_metric_defs_same_numbers(demo: Any) -> None:
    x, y, exported = demo
    assert len(exported.names) >= 14
    bad, compared = _compare(x, y, exported.names, DEMO_QUERIES)
    assert not bad, bad[:5]
    assert compared >= 50


def test_metric_defs_report_names_file_and_line(demo: Any) -> None:
    _, _, exported = demo
    by_item = {p.item: p for p in exported.problems}
    for item in (
        "source worker_history",
        "source calendar",
        "metric revenue_share",
        "metric task_fill_rate",
        "funnel onboarding",
        "retention worker_retention",
        "experiment pricing_banner",
        "source assignments.measures.filled_tasks.time",
    ):
        problem = by_item[item]
        assert problem.file.endswith(".yml") and problem.line, problem
    # what is not exported is nowhere in the output
    names = {m["name"] for m in exported.definitions["metrics"]}
    assert not names & {"revenue_share", "task_fill_rate", "payouts_by_completion"}
    models = {m["name"] for m in exported.definitions["semantic_models"]}
    assert not models & {"worker_history", "calendar"}


def test_period_end_is_reported(demo: Any) -> None:
    x, _, exported = demo
    flagged = {p.item for p in exported.problems if "period_agg: last" in p.message}
    assert flagged == {f"metric {m}" for m in exported.names if _period_end(x, m)}
    assert flagged  # metric_defs has such metrics
