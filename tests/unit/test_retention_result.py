"""The shapes of a retention result: pivot triangle, weighted average curve, plots."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest

import metrics_layer as ml
from metrics_layer.errors import QueryError
from tests.unit.test_retention import BASIC, BY_EVENTS
from tests.unit.test_retention_support import make_layer

pytestmark = pytest.mark.backends("duckdb")  # pandas post-processing: one backend is enough


@pytest.fixture()
def basic(backend, tmp_path):
    return make_layer(backend, tmp_path, BASIC).retention("monthly")


def test_pivot_is_the_cohort_triangle(basic):
    table = basic.pivot()
    assert table.index.name == "cohort" and table.columns.name == "period"
    assert list(table.columns) == [0, 1, 2]
    assert list(table.index) == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")]
    assert table.loc["2024-01-01"].tolist() == [0.5, 0.5, 0.0]
    feb = table.loc["2024-02-01"].tolist()
    assert feb[:2] == [1.0, 1.0] and math.isnan(feb[2])  # beyond the last observed period


def test_pivot_counts_and_complete_only(basic):
    counts = basic.pivot(values="active")
    assert str(counts.dtypes.iloc[0]) == "Int64"
    assert counts.loc["2024-01-01"].tolist() == [1, 1, 0]
    done = basic.pivot(complete_only=True)
    assert done.loc["2024-01-01"].tolist()[:2] == [0.5, 0.5]
    assert math.isnan(done.loc["2024-01-01", 2]) and math.isnan(done.loc["2024-02-01", 1])
    with pytest.raises(QueryError, match="unknown pivot values 'retnetion'"):
        basic.pivot(values="retnetion")


def test_pivot_with_by_has_a_group_level(backend, tmp_path):
    res = make_layer(backend, tmp_path, BY_EVENTS).retention("by_country")
    table = res.pivot()
    assert table.index.names == ["country", "cohort"]
    assert table.loc[("FR", pd.Timestamp("2024-01-01"))].tolist() == [1.0, 0.0]


def test_pivot_of_an_empty_result(basic, backend, tmp_path):
    empty = make_layer(backend, tmp_path, BASIC).retention("monthly", start="2031-01-01")
    assert empty.pivot().empty and empty.average_curve().empty


def test_average_curve_weighs_by_cohort_size_and_uses_complete_cells_only(basic):
    avg = basic.average_curve()
    assert list(avg.columns) == ["period", "cohorts", "cohort_size", "active", "retention"]
    assert avg["period"].tolist() == [0, 1]  # period 2 has no complete cell yet
    assert avg["cohorts"].tolist() == [2, 1]
    assert avg["cohort_size"].tolist() == [3, 2]
    assert avg["retention"].tolist() == pytest.approx([2 / 3, 1 / 2])  # not mean(0.5, 1.0)


def test_average_curve_per_by_group(backend, tmp_path):
    res = make_layer(backend, tmp_path, BY_EVENTS).retention("by_country")
    avg = res.average_curve()
    assert list(avg.columns[:2]) == ["country", "period"]
    assert len(avg) == 3 and set(avg["period"]) == {0}


# ------------------------------------------------------------------------------- plots
@pytest.fixture(scope="module")
def demo_layer(tmp_path_factory):
    import ibis

    from metrics_layer.demo.generate import generate

    folder = tmp_path_factory.mktemp("retention_demo")
    db = folder / "demo.duckdb"
    generate(db, events=50_000)
    (folder / "defs").mkdir()
    (folder / "defs" / "r.yml").write_text("""
version: 1
sources:
  events:
    table: events
    time: ts
    dimensions: {event_type: {}}
    joins: {workers: {keys: worker_id}}
  workers: {table: workers, primary_key: worker_id, dimensions: {country: {}}}
retention:
  signup_engagement:
    source: events
    entity: worker_id
    cohort: "event_type = 'signup'"
    activity: "event_type = 'session'"
    period: month
""")
    return ml.load(folder / "defs", con=ibis.duckdb.connect(str(db), read_only=True))


def _png(fig, path: str) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    fig.savefig(path, dpi=100)
    return buf.getvalue()


def test_heatmap_figure(demo_layer):
    res = demo_layer.retention("signup_engagement", periods=8, start="2024-06-01")
    fig = res.plot()
    table = res.pivot()
    main, bar = fig.axes  # the heatmap and its colorbar
    image = main.images[0].get_array()
    assert image.shape == table.shape
    assert np.allclose(np.ma.filled(image, np.nan), table.to_numpy(dtype=float), equal_nan=True)
    texts = [t.get_text() for t in main.texts]
    assert f"{table.iloc[0, 0]:.0%}" in texts and any(t.endswith("*") for t in texts)
    assert main.get_xlabel().startswith("months since cohort")
    assert main.get_ylabel().startswith("cohort")
    assert "signup_engagement" in main.get_title()
    assert [t.get_text() for t in main.get_yticklabels()][0].startswith("2024-06")
    assert bar.get_ylabel() == "retention"
    assert _png(fig, "/tmp/retention_heatmap.png")[:4] == b"\x89PNG"


def test_curve_figure(demo_layer):
    res = demo_layer.retention("signup_engagement", periods=8, start="2024-06-01")
    fig = res.plot(kind="curve")
    (ax,) = fig.axes
    labels = [line.get_label() for line in ax.get_lines()]
    assert "average (weighted by cohort size)" in labels
    avg = res.average_curve()
    line = ax.get_lines()[labels.index("average (weighted by cohort size)")]
    assert list(line.get_ydata()) == pytest.approx(avg["retention"].tolist())
    assert ax.get_ylabel() == "retention" and ax.get_xlabel().startswith("months since")
    assert _png(fig, "/tmp/retention_curve.png")[:4] == b"\x89PNG"


def test_curve_by_group_and_counts_heatmap(demo_layer):
    res = demo_layer.retention(
        "signup_engagement", periods=4, by="workers.country", start="2025-01-01"
    )
    fig = res.plot(kind="curve")
    assert len(fig.axes[0].get_lines()) == res.to_pandas()["country"].nunique()
    counts = res.plot(values="active")
    assert counts.axes[1].get_ylabel() == "active"


def test_plot_into_given_axes_and_bad_kind(demo_layer):
    from matplotlib.figure import Figure

    res = demo_layer.retention("signup_engagement", periods=3, start="2025-03-01")
    fig = Figure()
    ax = fig.add_subplot()
    assert res.plot(kind="curve", ax=ax) is fig
    with pytest.raises(QueryError, match="unknown plot kind 'pie'"):
        res.plot(kind="pie")


def test_pivot_by_keeps_only_existing_groups_and_the_null_group(backend, tmp_path):
    from tests.unit.test_retention_support import events

    ev = events(
        (1, "signup", "2024-01-05"), (4, "signup", "2024-02-05"), (4, "session", "2024-02-06")
    )
    res = make_layer(backend, tmp_path, ev).retention("by_country")  # user 4 has no country
    table = res.pivot()
    assert len(table) == 2  # (DE, Jan) and (NULL, Feb); no empty (DE, Feb) or (NULL, Jan) rows
    keys = [(None if pd.isna(c) else c, d.strftime("%Y-%m")) for c, d in table.index]
    assert keys == [("DE", "2024-01"), (None, "2024-02")]
    assert table.iloc[1].tolist()[0] == 1.0
