"""FunnelResult shapes (pivot, plots, explain, SQL) and the demo `onboarding` funnel."""

from __future__ import annotations

import os
from pathlib import Path

import ibis
import pandas as pd
import pytest

import metrics_layer as ml
from metrics_layer.analysis.funnel import funnel
from metrics_layer.analysis.funnel_result import FunnelResult
from metrics_layer.errors import QueryError
from tests.unit.test_funnel_oracle import Row, Spec
from tests.unit.test_funnel_oracle import funnel as reference
from tests.unit.test_funnel_support import events, funnel_yaml, make_layer

ROOT = Path(__file__).resolve().parents[2]
PLOTS = Path(os.environ.get("ML_PLOT_DIR", "/tmp"))


@pytest.fixture(scope="module")
def duck():
    from tests.backends import Backend, connect_duckdb

    return Backend("duckdb", connect_duckdb())


@pytest.fixture
def layer(duck, tmp_path):
    ev = events(
        (1, "A", 0, "ios"),
        (1, "B", 2),
        (1, "C", 3),
        (2, "A", 0, "ios"),
        (2, "B", 5),
        (3, "A", 1),
        (4, "A", 86400),
        (4, "B", 86401),
        (4, "C", 86402, "ios"),
    )
    return make_layer(duck, tmp_path, ev, funnel_yaml())


def test_result_is_lazy_and_typed(layer):
    res = layer.funnel("f")
    assert isinstance(res, FunnelResult)
    assert res.columns == [
        "step",
        "step_name",
        "entities",
        "conversion",
        "step_conversion",
        "median_seconds",
        "avg_seconds",
    ]
    schema = res.expr.schema()
    assert str(schema["entities"]) == "int64" and str(schema["conversion"]) == "float64"
    df = res.to_pandas()
    assert df["entities"].tolist() == [4, 3, 2]


def test_pivot(layer):
    wide = layer.funnel("f").pivot("entities")
    assert list(wide.columns) == ["a", "b", "c"] and wide.iloc[0].tolist() == [4, 3, 2]
    by = layer.funnel("f", by="platform").pivot("conversion")
    assert list(by.columns) == ["a", "b", "c"]
    assert by.loc["ios"].tolist() == pytest.approx([1.0, 1.0, 0.5])
    with pytest.raises(QueryError, match="did you mean"):
        layer.funnel("f").pivot("entitys")


def test_counts_only(layer):
    res = layer.funnel("f", times=False)
    assert res.columns == ["step", "step_name", "entities", "conversion", "step_conversion"]
    assert res.to_pandas()["entities"].tolist() == [4, 3, 2]
    assert "counts only" in res.explain() and "ROW_NUMBER" not in res.sql().upper()
    assert "ROW_NUMBER" in layer.funnel("f").sql().upper()
    assert res.pivot("conversion").iloc[0].tolist() == pytest.approx([1.0, 0.75, 0.5])
    with pytest.raises(QueryError, match="times=True"):
        res.pivot("median_seconds")
    with pytest.raises(QueryError, match="times must be True or False"):
        layer.funnel("f", times="no")


def test_explain_and_sql(layer):
    res = layer.funnel("f", order="strict", by="platform", start="2024-01-01")
    text = res.explain()
    assert "strict" in text and "step 2 b: event_type = 'B'" in text and "first-touch" in text
    assert "ASOF" in res.sql()
    window = funnel(layer, "f", strategy="window")
    assert "ASOF" not in window.sql() and "OVER" in window.sql()
    assert "OVER" in window.sql(dialect="postgres")  # renders for PostgreSQL too


def test_plot_bars_and_grouped_bars(layer):
    fig = layer.funnel("f").plot()
    ax = fig.axes[0]
    assert len(ax.patches) == 3
    labels = [t.get_text() for t in ax.texts]
    assert labels[0] == "100.0%" and labels[1].startswith("75.0%")
    fig.savefig(PLOTS / "funnel_bars.png", dpi=80)
    grouped = layer.funnel("f", by="platform").plot()
    assert len(grouped.axes[0].patches) == 6  # 2 groups x 3 steps
    assert grouped.axes[0].get_legend() is not None
    grouped.savefig(PLOTS / "funnel_bars_by.png", dpi=80)


def test_plot_trend_needs_a_grain(layer):
    fig = layer.funnel("f", grain="day").plot()
    assert fig.axes[0].get_lines()
    fig.savefig(PLOTS / "funnel_trend.png", dpi=80)
    with pytest.raises(QueryError, match="grain"):
        layer.funnel("f").plot(kind="trend")
    with pytest.raises(QueryError, match="did you mean"):
        layer.funnel("f").plot(kind="barz")


def test_grain_column_holds_the_period_start(layer):
    df = layer.funnel("f", grain="week").to_pandas()
    assert list(df.columns[:2]) == ["week", "step"]
    assert set(df["week"]) == {pd.Timestamp("2024-01-01")}  # a Monday: ISO week start
    assert df["entities"].tolist() == [4, 3, 2]


# ------------------------------------------------------------------------------ demo
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from metrics_layer.demo.generate import generate

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate(path, events=30_000)
    con = ibis.duckdb.connect(str(path), read_only=True)
    return ml.load(ROOT / "metric_defs", con=con), con


def test_demo_onboarding_funnel_matches_the_reference(demo):
    layer, con = demo
    df = layer.funnel("onboarding").to_pandas()
    assert df["step_name"].tolist() == [
        "signup",
        "profile_completed",
        "application",
        "task_accepted",
        "task_completed",
    ]
    assert df["entities"].is_monotonic_decreasing and df["entities"].iloc[0] > 0
    steps = {
        "signup": 1,
        "profile_completed": 2,
        "application": 3,
        "task_accepted": 4,
        "task_completed": 5,
    }
    raw = con.table("events").execute()
    rows = [
        Row(
            None if pd.isna(r.worker_id) else int(r.worker_id),
            (r.ts - pd.Timestamp("2024-01-01")).total_seconds(),
            frozenset({steps[r.event_type]} if r.event_type in steps else set()),
        )
        for r in raw.itertuples()
    ]
    want = reference(rows, Spec(n=5, window=30 * 86400))[()]
    assert df["entities"].tolist() == [s["entities"] for s in want]
    assert df["median_seconds"].iloc[1:].tolist() == pytest.approx(
        [s["median_seconds"] for s in want[1:]]
    )
    assert df["avg_seconds"].iloc[1:].tolist() == pytest.approx(
        [s["avg_seconds"] for s in want[1:]]
    )


def test_demo_grain_equals_bounded_funnels(demo):
    layer, _ = demo
    monthly = layer.funnel("onboarding", grain="month", start="2024-03-01", end="2024-05-01")
    df = monthly.to_pandas()
    april = df[df["month"] == pd.Timestamp("2024-04-01")]["entities"].tolist()
    bounded = layer.funnel("onboarding", start="2024-04-01", end="2024-05-01").to_pandas()
    assert april == bounded["entities"].tolist()
