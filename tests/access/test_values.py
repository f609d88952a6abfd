"""layer.dimension_values: distinct values, literal case-insensitive search, limit, errors."""

from __future__ import annotations

import pytest

import metrics_layer as ml


def values(layer: ml.Layer, dim: str, **kw) -> list:
    table = layer.dimension_values(dim, **kw).to_pyarrow()
    return table.column(0).to_pylist()


def test_distinct_sorted_nulls_last(layer: ml.Layer) -> None:
    con = layer.con.con.cursor()
    want = [r[0] for r in con.execute("SELECT DISTINCT country FROM workers ORDER BY 1").fetchall()]
    assert values(layer, "workers.country") == want
    assert want[-1] is None  # the fixture has workers without a country: NULL sorts last
    assert values(layer, "workers.country", limit=2) == want[:2]


def test_search_is_literal_and_case_insensitive(layer: ml.Layer) -> None:
    con = layer.con.con.cursor()
    emails = [r[0] for r in con.execute("SELECT email FROM workers").fetchall()]
    got = values(layer, "workers.email", search="MAIL1", limit=1000)
    assert got == sorted(e for e in emails if "mail1" in e.lower())
    assert values(layer, "workers.email", search="%") == []  # no wildcard
    assert values(layer, "workers.email", search="_") == []


def test_through_a_join(layer: ml.Layer) -> None:
    got = values(layer, "assignments.tasks.region")
    assert got == ["n", "s"]


@pytest.mark.parametrize(
    ("dim", "kw", "message"),
    [
        ("country", {}, "source.dimension"),
        ("wrkers.country", {}, "did you mean 'workers'"),
        ("workers.contry", {}, "country"),
        ("workers.signup_at", {}, "not a declared dimension"),
        ("workers.country", {"limit": 0}, "limit"),
        ("workers.country", {"limit": "5"}, "limit"),
        ("workers.country", {"search": 5}, "search"),
    ],
)
def test_errors(layer: ml.Layer, dim: str, kw: dict, message: str) -> None:
    with pytest.raises(ml.QueryError, match=message):
        layer.dimension_values(dim, **kw)
