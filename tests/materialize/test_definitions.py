"""`materializations:` at load: what is stored, and every refusal names file, line and field."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DEFS

import metrics_layer as ml
from metrics_layer.materialize import shape_of


def load_with(tmp_path: Path, **mat: Any) -> Any:
    defs = copy.deepcopy(DEFS)
    defs["materializations"] = {"m": {"grain": "day", "table": "mart_m", **mat}}
    f = tmp_path / "defs.yml"
    f.write_text(yaml.safe_dump(defs, sort_keys=False))
    return ml.load(f)


def refused(tmp_path: Path, **mat: Any) -> str:
    with pytest.raises(ml.DefinitionError) as info:
        load_with(tmp_path, **mat)
    text = str(info.value)
    assert re.search(r"defs\.yml:\d+: ", text), text
    assert "\n" not in text.strip(), text
    return text


def test_stored_columns_and_rollups(tmp_path: Path) -> None:
    layer = load_with(
        tmp_path,
        metrics=["revenue", "conversion", "buyers", "avg_order", "events"],
        by=["platform"],
    )
    s = shape_of(layer.registry, "m")
    assert s.columns == [
        "day", "platform", "revenue", "conversion", "buyers", "avg_order", "events",
        "conversion__numerator", "conversion__denominator",
    ]  # fmt: skip
    rollups = {m.name: m.rollup for m in s.metrics}
    assert rollups == {
        "revenue": "sum", "conversion": "ratio", "buyers": None, "avg_order": None, "events": "sum",
    }  # fmt: skip
    # components are asked as their own measures; two asked names sharing one output name
    # (`events`, `events.events`) come back under distinct columns and are stored apart
    assert ("conversion__denominator", "events__events") in s.select
    assert ("events", "events") in s.select


def test_ratio_of_a_distinct_count_is_exact_only(tmp_path: Path) -> None:
    s = shape_of(load_with(tmp_path, metrics=["revenue_per_buyer"]).registry, "m")
    assert [(m.rollup, m.components) for m in s.metrics] == [(None, ())]


def test_cumulative_distinct_count_refused_with_reason(tmp_path: Path) -> None:
    text = refused(tmp_path, metrics=["revenue", "running_buyers"])
    assert "materializations.m.metrics.1" in text
    assert "cumulative distinct count" in text and "stale" in text


def test_derived_over_cumulative_refused(tmp_path: Path) -> None:
    defs_extra = {"twice": {"type": "derived", "expr": "running_buyers * 2"}}
    DEFS["metrics"].update(defs_extra)
    try:
        text = refused(tmp_path, metrics=["twice"])
    finally:
        del DEFS["metrics"]["twice"]
    assert "uses 'running_buyers'" in text


def test_unknown_metric_suggests(tmp_path: Path) -> None:
    text = refused(tmp_path, metrics=["revenu"])
    assert "revenue" in text and "materializations.m.metrics.0" in text


def test_unknown_dimension_refused(tmp_path: Path) -> None:
    text = refused(tmp_path, metrics=["revenue"], by=["users.contry"])
    assert "country" in text and "materializations.m" in text


def test_bad_grain_and_lookback_and_field(tmp_path: Path) -> None:
    assert "month" in refused(tmp_path, metrics=["revenue"], grain="mnth")
    assert "7 days" in refused(tmp_path, metrics=["revenue"], lookback="7 dayz")
    assert "lookback" in refused(tmp_path, metrics=["revenue"], lookbak="1 day")
    assert "batch" in refused(tmp_path, metrics=["revenue"], batch=0)


def test_table_of_a_source_or_the_run_log_refused(tmp_path: Path) -> None:
    assert "source 'events'" in refused(tmp_path, metrics=["revenue"], table="events")
    assert "run log" in refused(tmp_path, metrics=["revenue"], table="metrics_layer_runs")
    assert "identifier" in refused(tmp_path, metrics=["revenue"], table="x; drop")
