"""The demo's A/B tests: exposure tables with the planted structure, and readouts that find
the planted effect, the absent ones and the sample ratio mismatch."""

from __future__ import annotations

from pathlib import Path

import duckdb
import ibis
import pytest

import metrics_layer as ml
from metrics_layer.demo import generate
from metrics_layer.demo._experiments import BACKGROUND_PER_DAY, BANNER_LOSS, REFERRAL_RATE

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("experiment_demo") / "m.duckdb"
    generate(path, events=1_000_000)
    return path


@pytest.fixture(scope="module")
def layer(db) -> ml.Layer:
    return ml.load(ROOT / "metric_defs", con=ibis.duckdb.connect(str(db), read_only=True))


def test_tables_have_the_planted_structure(db):
    with duckdb.connect(str(db), read_only=True) as c:
        rows, workers, both = c.execute(
            "SELECT count(*), count(DISTINCT worker_id), "
            "(SELECT count(*) FROM (SELECT worker_id FROM onboarding_exposures GROUP BY 1 "
            " HAVING count(DISTINCT variant) > 1)) FROM onboarding_exposures"
        ).fetchall()[0]
        assert rows - workers == both > 0  # the doubly exposed workers, once in each arm
        control, banner = c.execute(
            "SELECT count(*) FILTER (variant = 'control'), count(*) FILTER (variant = 'banner') "
            "FROM banner_exposures"
        ).fetchall()[0]
        assert banner / control == pytest.approx(1 - BANNER_LOSS, abs=0.03)


def test_onboarding_finds_the_planted_effect_and_no_others(layer):
    res = layer.experiment("onboarding_checklist")
    df = res.to_pandas().set_index("metric")
    background = BACKGROUND_PER_DAY * 28
    true_lift = (REFERRAL_RATE["checklist"] + background) / (
        REFERRAL_RATE["control"] + background
    ) - 1
    sent = df.loc["referrals_sent"]
    assert sent["p_value"] < 1e-6 and sent["ci_low"] < true_lift < sent["ci_high"]
    for metric in ("revenue", "hours"):
        assert df.loc[metric, "ci_low"] < 0 < df.loc[metric, "ci_high"]
    assert not res.srm.mismatch
    assert res.multiple_exposures > 0


def test_banner_srm_is_flagged(layer):
    res = layer.experiment("pricing_banner")
    assert res.srm.p_value < 0.001 and res.srm.mismatch
    assert "sample ratio mismatch" in res._repr_html_()
    df = res.to_pandas()
    assert set(df["variant"]) == {"banner"} and len(df) == 3
