"""Tenant isolation: a restricted layer answers exactly what the unrestricted layer answers on
a copy of the data restricted by hand (tenants.tenant_db), for every entry point; two tenants
never see each other's rows, whatever their `where` says."""

from __future__ import annotations

import pandas as pd
import pytest

import metrics_layer as ml
from tests.access.conftest import hand_layer
from tests.access.tenants import COUNTRIES

WIDENING = [
    None,
    "1 = 1",
    "workers.country <> 'zz' OR workers.country IS NULL",
    "workers.country = 'DE' OR 1 = 1",
    "NOT (workers.country = 'DE') OR workers.country = 'DE'",
]


def frame(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for c in df.columns:
        if str(df[c].dtype) == "category":
            df[c] = df[c].astype(object)
    return df.sort_values(list(df.columns), na_position="last").reset_index(drop=True)


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(frame(a), frame(b), check_dtype=False)


@pytest.mark.parametrize("country", COUNTRIES)
@pytest.mark.parametrize("where", WIDENING)
def test_kpis_match_data_restricted_by_hand(
    layer: ml.Layer, world: dict, country: str, where: str | None
) -> None:
    r = layer.restrict(["own_country"], {"country": country})
    oracle = hand_layer(world, country)
    ask = dict(
        metrics=["assignments.revenue", "assignments.accepted", "active", "revenue_per_assignment"],
        by=["workers.country"],
        grain="week",
        where=where,
    )
    got = r.query(**ask).to_pandas()
    assert not got.empty
    same(got, oracle.query(**ask).to_pandas())
    assert set(got["country"].dropna()) == {country}
    joined = dict(metrics=["assignments.revenue"], by=["tasks.region"], where=where)
    same(r.query(**joined).to_pandas(), oracle.query(**joined).to_pandas())


@pytest.mark.parametrize("country", COUNTRIES)
def test_totals_match_hand_written_sql(layer: ml.Layer, world: dict, country: str) -> None:
    r = layer.restrict(["own_country"], {"country": country})
    got = r.query(["assignments.revenue", "assignments.accepted", "active"]).to_pandas()
    con = layer.con.con.cursor()
    revenue, accepted = con.execute(
        "SELECT sum(a.revenue), count(*) FROM assignments a JOIN workers w "
        "ON a.worker_id = w.worker_id WHERE w.country = ?",
        [country],
    ).fetchall()[0]
    (active,) = con.execute(
        "SELECT count(DISTINCT e.worker_id) FROM events e JOIN workers w "
        "ON e.worker_id = w.worker_id WHERE w.country = ?",
        [country],
    ).fetchall()[0]
    assert got["revenue"][0] == pytest.approx(revenue)
    assert got["accepted"][0] == accepted
    assert got["active"][0] == active


@pytest.mark.parametrize("country", COUNTRIES)
def test_sql_text_runs_restricted(layer: ml.Layer, world: dict, country: str) -> None:
    r = layer.restrict(["own_country"], {"country": country})
    sql = r.sql(["assignments.revenue"], by=["status"], where="1 = 1 OR status = 'open'")
    con = layer.con.con.cursor()
    got = con.execute(sql).fetchdf()
    want = hand_layer(world, country).query(["assignments.revenue"], by=["status"]).to_pandas()
    same(got, want)


@pytest.mark.parametrize("country", COUNTRIES)
def test_retention_funnel_checks_values(layer: ml.Layer, world: dict, country: str) -> None:
    r = layer.restrict(["own_country"], {"country": country})
    oracle = hand_layer(world, country)
    same(
        r.retention("engagement", periods=None).to_pandas(),
        oracle.retention("engagement", periods=None).to_pandas(),
    )
    same(r.funnel("onboarding").to_pandas(), oracle.funnel("onboarding").to_pandas())
    cols = ["kind", "target", "rule", "passed", "failures"]
    same(r.check().to_pandas()[cols], oracle.check().to_pandas()[cols])
    same(
        r.dimension_values("events.workers.country").to_pandas(),
        oracle.dimension_values("events.workers.country").to_pandas(),
    )
    assert r.dimension_values("workers.country").to_pandas()["country"].tolist() == [country]


@pytest.mark.filterwarnings("ignore:experiment 'trial'")
@pytest.mark.parametrize("country", COUNTRIES)
def test_experiment(layer: ml.Layer, world: dict, country: str) -> None:
    r = layer.restrict(["own_country"], {"country": country})
    oracle = hand_layer(world, country)
    got, want = r.experiment("trial"), oracle.experiment("trial")
    same(got.to_pandas(), want.to_pandas())
    assert got.srm.units == want.srm.units
    (exposed,) = (
        layer.con.con.cursor()
        .execute(
            "SELECT count(DISTINCT x.worker_id) FROM exposures x JOIN workers w "
            "ON x.worker_id = w.worker_id WHERE w.country = ?",
            [country],
        )
        .fetchall()[0]
    )
    assert sum(got.srm.units.values()) == exposed > 0


def test_two_tenants_never_share_rows(layer: ml.Layer) -> None:
    seen = {}
    for country in COUNTRIES:
        r = layer.restrict("own_country", {"country": country})
        seen[country] = set(r.dimension_values("workers.email", limit=1000).to_pandas()["email"])
    assert all(seen.values())
    for a in COUNTRIES:
        for b in COUNTRIES:
            if a != b:
                assert not seen[a] & seen[b]


def test_restricted_layers_share_the_root_connections(layer: ml.Layer, world: dict) -> None:
    """Restricting opens no executor (cursor, PostgreSQL pool) of its own, yet compiles apart."""
    a = layer.restrict("own_country", {"country": COUNTRIES[0]})
    b = a.restrict("own_country", {"country": COUNTRIES[0]})
    c = layer.restrict("own_country", {"country": COUNTRIES[1]})
    assert a.engine.executor is b.engine.executor is c.engine.executor is layer.engine.executor
    assert a.engine.cache is not layer.engine.cache and a.engine.cache is not c.engine.cache
    got = {
        r: set(r.query(["revenue"], by=["workers.country"]).to_pandas()["country"]) for r in (a, c)
    }
    assert got[a] == {COUNTRIES[0]} and got[c] == {COUNTRIES[1]}


def test_attribute_text_is_a_literal(layer: ml.Layer) -> None:
    """A value that looks like SQL is compared as text: it matches no country."""
    for value in ["DE' OR '1'='1", "DE') OR (1=1", "x'; DROP TABLE workers; --"]:
        r = layer.restrict(["own_country"], {"country": value})
        got = r.query(["assignments.accepted", "workers.workers"]).to_pandas()
        assert got["accepted"][0] == 0 and got["workers"][0] == 0
    assert layer.query(["workers.workers"]).to_pandas()["workers"][0] == 30
