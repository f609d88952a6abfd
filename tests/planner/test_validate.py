"""One request-validation step: the same mistake gives the same error in every analysis."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Callable
from pathlib import Path

import ibis
import pytest

import metrics_layer as ml
from metrics_layer.demo.generate import generate
from metrics_layer.errors import QueryError
from metrics_layer.planner import validate

ROOT = Path(__file__).resolve().parents[2]

Call = Callable[..., object]


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> ml.Layer:
    path = tmp_path_factory.mktemp("validate") / "demo.duckdb"
    generate(path, events=2_000)
    return ml.load(ROOT / "metric_defs", con=ibis.duckdb.connect(str(path), read_only=True))


def entry_points(layer: ml.Layer) -> dict[str, Call]:
    return {
        "query": lambda **kw: layer.query("revenue", **kw),
        "retention": lambda **kw: layer.retention("worker_retention", **kw),
        "funnel": lambda **kw: layer.funnel("onboarding", **kw),
    }


def message(call: Call, **kw: object) -> str:
    with pytest.raises(QueryError) as info:
        call(**kw)
    return str(info.value)


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        (
            {"by": ["workers.country", "workers.country"]},
            "dimension 'workers.country' listed twice in by=['workers.country', 'workers.country']",
        ),
        ({"by": ["workers.country", 3]}, "by must be names (strings), got 3"),
        ({"by": [""]}, "by must be names (strings), got ''"),
        (
            {"start": "2024-03-01", "end": "2024-02-01"},
            "end (2024-02-01 00:00:00) must be after start (2024-03-01 00:00:00)",
        ),
        (
            {"start": "2024-03-01", "end": "2024-03-01"},
            "end (2024-03-01 00:00:00) must be after start (2024-03-01 00:00:00)",
        ),
    ],
)
def test_same_mistake_same_error_everywhere(layer: ml.Layer, kw: dict, expected: str) -> None:
    for name, call in entry_points(layer).items():
        assert message(call, **kw) == expected, name


def test_checks_share_the_bounds_and_grain_rules(layer: ml.Layer) -> None:
    bounds = message(layer.check, metrics=["task_fill_rate"], start="2024-03-01", end="2024-02-01")
    assert bounds == "end (2024-02-01 00:00:00) must be after start (2024-03-01 00:00:00)"
    grain = message(layer.check, metrics=["task_fill_rate"], grain="mnth")
    assert grain == message(layer.query, metrics="revenue", grain="mnth")
    assert grain == message(layer.funnel, name="onboarding", grain="mnth")
    assert grain.startswith("unknown grain 'mnth'") and "'month'" in grain


def test_bounds_are_read_in_the_layer_timezone() -> None:
    s, e = validate.bounds("2024-01-01T05:00:00+00:00", dt.date(2024, 1, 2), "America/New_York")
    assert (s, e) == (dt.datetime(2024, 1, 1, 0, 0), dt.datetime(2024, 1, 2))


def test_output_columns_may_not_clash(layer: ml.Layer) -> None:
    """Checked before the names are resolved: the column name alone decides."""
    assert message(layer.retention, name="worker_retention", by=["workers.period"]) == (
        "by column 'period' would clash with a retention result column; "
        "name the dimension by its path (e.g. events.period)"
    )
    assert message(layer.funnel, name="onboarding", by=["workers.step"]) == (
        "by column 'step' would clash with a funnel result column; "
        "name the dimension by its path (e.g. events.step)"
    )
    with pytest.raises(QueryError, match="by column 'week' would clash"):
        layer.funnel("onboarding", by=["workers.week"], grain="week")


def test_by_through_one_to_many_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d.yml").write_text(
        textwrap.dedent("""
        version: 1
        sources:
          users:
            dimensions: {country: {}}
            joins: {events: {keys: user_id, relationship: one_to_many}}
          events:
            dimensions: {event_type: {}}
        """)
    )
    reg = ml.load(tmp_path).registry
    with pytest.raises(QueryError, match=r"by 'events.event_type' .*one_to_many.*users → events"):
        validate.single_valued(reg, "users", [("event_type", "events.event_type")])
    assert [r.name for _, r in validate.single_valued(reg, "users", [("c", "country")])] == [
        "country"
    ]
