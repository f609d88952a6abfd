"""A metric's old name (alias) works in every entry point that takes metric names, not only
queries: experiments (definitions and the call), materializations, checks; each use warns
with the new name."""

from __future__ import annotations

import copy
import datetime as dt
import warnings
from typing import Any

import ibis
import pandas as pd
import pytest

import metrics_layer as ml
from metrics_layer.errors import DefinitionError

T0 = dt.datetime(2024, 1, 1)

DEFS: dict[str, Any] = {
    "sources": {
        "exposures": {"time": "exposed_at"},
        "orders": {
            "time": "ts",
            "measures": {
                "revenue": {"agg": "sum", "expr": "amount"},
                "orders": {"agg": "count"},
            },
        },
    },
    "metrics": {
        "gross_revenue": {
            "measure": "orders.revenue",
            "aliases": ["revenue_total"],
            "validation": {"min": 0},
        },
        "orders": {"measure": "orders.orders"},
    },
    "experiments": {
        "t": {
            "source": "exposures",
            "entity": "user_id",
            "variant": "variant",
            "control": "control",
            "metrics": ["revenue_total", "orders"],
        }
    },
    "materializations": {
        "daily": {"metrics": ["revenue_total", "orders"], "grain": "day", "table": "mart_daily"}
    },
}


@pytest.fixture(scope="module")
def con() -> ibis.BaseBackend:
    c = ibis.duckdb.connect()
    c.create_table(
        "exposures",
        pd.DataFrame(
            {
                "user_id": [1, 2, 3, 4],
                "variant": ["control", "treatment", "control", "treatment"],
                "exposed_at": [T0] * 4,
            }
        ),
    )
    c.create_table(
        "orders",
        pd.DataFrame(
            {
                "user_id": [1, 2, 2, 3, 4],
                "amount": [2.0, 5.0, 1.0, -3.0, 4.0],  # -3 breaks the validation rule
                "ts": [T0 + dt.timedelta(days=d) for d in (1, 1, 2, 3, 3)],
            }
        ),
    )
    return c


def _load(con: ibis.BaseBackend, defs: dict[str, Any]) -> tuple[ml.Layer, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layer = ml.load(copy.deepcopy(defs), con=con)
    messages = [str(w.message) for w in caught if w.category is DeprecationWarning]
    return layer, [m for m in messages if "metric" in m]  # not the drivers' own warnings


def test_definitions_listing_an_alias_use_the_metric_and_warn(con: ibis.BaseBackend) -> None:
    layer, messages = _load(con, DEFS)
    project = layer.registry.project
    assert project.experiments["t"].metrics == ["gross_revenue", "orders"]
    assert project.materializations["daily"].metrics == ["gross_revenue", "orders"]
    renamed = [m for m in messages if "'revenue_total' is renamed to 'gross_revenue'" in m]
    assert len(renamed) == 2
    assert any("experiments.t.metrics.0" in m for m in renamed)
    assert any("materializations.daily.metrics.0" in m for m in renamed)


def test_a_definition_without_aliases_is_left_alone(con: ibis.BaseBackend) -> None:
    defs = copy.deepcopy(DEFS)
    defs["experiments"]["t"]["metrics"] = ["gross_revenue"]
    defs["materializations"]["daily"]["metrics"] = ["gross_revenue"]
    layer, messages = _load(con, defs)
    assert messages == []
    assert layer.registry.project.experiments["t"].metrics == ["gross_revenue"]


def test_name_and_alias_listed_together_is_an_error(con: ibis.BaseBackend) -> None:
    defs = copy.deepcopy(DEFS)
    defs["experiments"]["t"]["metrics"] = ["gross_revenue", "revenue_total"]
    with pytest.raises(DefinitionError, match="listed twice: by its name and by its alias"):
        ml.load(defs, con=con)


def test_experiment_call_takes_an_alias(con: ibis.BaseBackend) -> None:
    layer, _ = _load(con, DEFS)
    with pytest.warns(DeprecationWarning, match="renamed to 'gross_revenue'"):
        by_alias = layer.experiment("t", metrics=["revenue_total"]).to_pandas()
    by_name = layer.experiment("t", metrics=["gross_revenue"]).to_pandas()
    pd.testing.assert_frame_equal(by_alias, by_name)
    assert set(by_name["metric"]) == {"gross_revenue"}


def test_check_call_takes_an_alias(con: ibis.BaseBackend) -> None:
    layer, _ = _load(con, DEFS)
    with pytest.warns(DeprecationWarning, match="renamed to 'gross_revenue'"):
        by_alias = layer.check(metrics=["revenue_total"])
    by_name = layer.check(metrics=["gross_revenue"])
    assert str(by_alias) == str(by_name)
    assert "gross_revenue" in str(by_name)
