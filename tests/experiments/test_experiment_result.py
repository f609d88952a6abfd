"""ExperimentResult end to end: the contract's columns, numbers equal to the statistics applied
to the reference sums, SRM, multiple exposures, more than two arms, explain, SQL, HTML, plot."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from metrics_layer.analysis.experiment_stats import compare, moments
from tests.experiments import reference as ref
from tests.experiments.helpers import duckdb_layer, indent

BASE = pd.Timestamp("2024-03-01")
COLUMNS = [
    "metric",
    "variant",
    "units",
    "value",
    "control_units",
    "control_value",
    "lift",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
]


def synthetic(n=3000, arms=("control", "treatment"), probs=None, seed=7, lift=0.2):
    """Exposures with a known effect on revenue (treatment spends `lift` more)."""
    rng = np.random.default_rng(seed)
    arm = rng.choice(list(arms), n, p=probs)
    t0 = BASE + pd.to_timedelta(rng.integers(0, 10 * 86400, n), unit="s")
    exposures = pd.DataFrame({"user_id": np.arange(n), "variant": arm, "exposed_at": t0})
    rows = []
    for u in range(n):
        k = rng.poisson(1.5)
        scale = 1 + (lift if arm[u] != "control" else 0)
        for _ in range(k):
            rows.append(
                (
                    u,
                    float(round(rng.gamma(2, 10) * scale, 2)),
                    "buy" if rng.random() < 0.5 else "view",
                    t0[u] + pd.Timedelta(seconds=int(rng.integers(-3 * 86400, 10 * 86400))),
                )
            )
    orders = pd.DataFrame(rows, columns=["user_id", "amount", "kind", "ts"])
    return exposures, orders


@pytest.fixture(scope="module")
def data():
    return synthetic()


def test_columns_and_numbers_match_reference_sums(tmp_path, data):
    exposures, orders = data
    layer = duckdb_layer(tmp_path, exposures, orders, indent("window: 7 days"))
    res = layer.experiment("test")
    df = res.to_pandas()
    assert list(df.columns) == COLUMNS == res.columns
    assert list(df["metric"]) == ["revenue", "orders", "conversion", "revenue_per_order", "aov"]
    unit_map, _ = ref.units(exposures, None, None)
    window = pd.Timedelta(days=7)
    comps = {
        "revenue": ([ref.revenue], [False]),
        "orders": ([ref.orders], [False]),
        "conversion": ([ref.buyer], [True]),
        "revenue_per_order": ([ref.revenue, ref.orders], [False, False]),
        "aov": ([ref.revenue, ref.amount_count], [False, False]),
    }
    for rec in df.to_dict("records"):
        fns, binary = comps[rec["metric"]]
        series = [
            {e: v[0] for e, v in ref.unit_values(unit_map, orders, f, window).items()} for f in fns
        ]
        sums = ref.arm_sums(unit_map, series)

        def arm(name, sums=sums, fns=fns, binary=binary):
            s = sums[name]
            k = len(fns)
            return moments(
                s["n"],
                [s[f"s{i}"] for i in range(k)],
                {(i, j): s[f"p{i}_{j}"] for i in range(k) for j in range(i, k)},
                binary,
            )

        kind = "ratio" if len(fns) == 2 else "mean"
        want = compare(arm("control"), arm("treatment"), kind, cuped=False)
        c, t = sums["control"], sums["treatment"]
        value = t["s0"] / t["s1"] if kind == "ratio" else t["s0"] / t["n"]
        control_value = c["s0"] / c["s1"] if kind == "ratio" else c["s0"] / c["n"]
        assert rec["units"] == t["n"] and rec["control_units"] == c["n"]
        assert rec["value"] == pytest.approx(value, rel=1e-12)
        assert rec["control_value"] == pytest.approx(control_value, rel=1e-12)
        for col in ("lift", "se", "ci_low", "ci_high", "p_value"):
            assert rec[col] == pytest.approx(getattr(want, col), rel=1e-9, abs=1e-12), col
    revenue = df.set_index("metric").loc["revenue"]
    assert revenue["p_value"] < 0.01 and revenue["ci_low"] > 0  # the planted +20%
    assert revenue["ci_low"] < 0.2 < revenue["ci_high"]


def test_conversion_is_a_proportion(tmp_path, data):
    exposures, orders = data
    layer = duckdb_layer(tmp_path, exposures, orders)
    df = layer.experiment("test", metrics=["conversion"], relative=False).to_pandas()
    row = df.iloc[0]
    # absolute difference of two proportions with variance p(1 - p) / n
    p_t, p_c, n_t, n_c = row["value"], row["control_value"], row["units"], row["control_units"]
    se = math.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    assert row["lift"] == pytest.approx(p_t - p_c, abs=1e-12)
    assert row["se"] == pytest.approx(se, rel=1e-12)
    assert 0 < p_c < 1 and 0 < p_t < 1


def test_srm_and_multiple_exposures(tmp_path):
    exposures, orders = synthetic(n=2000, probs=[0.56, 0.44], seed=3)
    extra = pd.DataFrame(
        {
            "user_id": [0, 1, 2],
            "variant": ["treatment", "control", "control"],
            "exposed_at": [BASE] * 3,
        }
    )
    both = pd.concat([exposures, extra], ignore_index=True)
    layer = duckdb_layer(tmp_path, both, orders, indent("weights: {control: 0.5, treatment: 0.5}"))
    res = layer.experiment("test", metrics=["revenue"])
    arms = exposures.groupby("variant")["user_id"].nunique().to_dict()
    dropped = [
        u for u in (0, 1, 2) if exposures.loc[u, "variant"] != both.iloc[2000 + u]["variant"]
    ]
    assert res.multiple_exposures == len(dropped)
    for u in dropped:
        arms[exposures.loc[u, "variant"]] -= 1
    assert res.srm.units == {"control": arms["control"], "treatment": arms["treatment"]}
    n = sum(arms.values())
    chi = sum((arms[a] - n / 2) ** 2 / (n / 2) for a in arms)
    assert res.srm.p_value == pytest.approx(scipy.stats.chi2.sf(chi, 1), rel=1e-9)
    assert res.srm.p_value < 0.001 and res.srm.mismatch
    html = res._repr_html_()
    assert "sample ratio mismatch" in html and "SRM p" in html


def test_three_arms_each_against_control(tmp_path):
    exposures, orders = synthetic(n=1500, arms=("control", "a", "b"), seed=11)
    layer = duckdb_layer(tmp_path, exposures, orders)
    res = layer.experiment("test", metrics=["revenue", "orders"])
    df = res.to_pandas()
    assert list(zip(df["metric"], df["variant"], strict=True)) == [
        ("revenue", "a"),
        ("revenue", "b"),
        ("orders", "a"),
        ("orders", "b"),
    ]
    assert len(res.srm.units) == 3 and not res.srm.mismatch
    assert df["control_units"].nunique() == 1


def test_cuped_keeps_values_and_narrows_the_interval(tmp_path, data):
    exposures, orders = data
    layer = duckdb_layer(
        tmp_path, exposures, orders, indent("window: 7 days\ncuped: {lookback: 3 days}")
    )
    on = layer.experiment("test", metrics=["revenue"]).to_pandas().iloc[0]
    off = layer.experiment("test", metrics=["revenue"], cuped=False).to_pandas().iloc[0]
    assert on["value"] == pytest.approx(off["value"], rel=1e-12)
    assert on["control_value"] == pytest.approx(off["control_value"], rel=1e-12)
    assert on["lift"] != off["lift"]
    res = layer.experiment("test", metrics=["revenue"])
    assert res.thetas[("revenue", "treatment")] is not None
    assert "CUPED" in res.explain()


def test_explain_sql_html_plot(tmp_path, data):
    exposures, orders = data
    layer = duckdb_layer(tmp_path, exposures, orders, indent("window: 7 days"))
    res = layer.experiment("test", start="2024-03-02", end="2024-03-08")
    text = res.explain()
    assert "first exposure t0" in text and "[t0, t0 + 7 days)" in text
    assert "start >= 2024-03-02" in text
    for dialect in (None, "postgres", "spark"):
        sql = res.sql(dialect=dialect)
        assert "GROUP BY" in sql.upper()
    assert "MAKE_TIMESTAMP(2024, 3, 2, 0, 0" in res.sql()  # the bound, rendered as a literal
    html = res._repr_html_()
    assert "<table" in html and "sample ratio mismatch" not in html
    fig = res.plot()
    out = tmp_path / "forest.png"
    fig.savefig(out, dpi=80)
    assert out.stat().st_size > 5000
    assert len(fig.axes[0].get_yticklabels()) == 5


def test_result_runs_once(tmp_path, data):
    exposures, orders = data
    layer = duckdb_layer(tmp_path, exposures, orders)
    res = layer.experiment("test", metrics=["orders"])
    first = res.to_pandas()
    res.con = None
    assert res.srm.units and res.multiple_exposures == 0
    pd.testing.assert_frame_equal(first, res.to_pandas())
