"""Definitions evolve without breaking their users: aliases, deprecation, and `diff`."""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import metrics_layer as ml
from metrics_layer.cli import app
from metrics_layer.definitions import load_project
from metrics_layer.errors import DefinitionError, QueryError
from metrics_layer.interchange.diff import diff_projects

ROOT = Path(__file__).resolve().parents[2]

BASE: dict[str, Any] = {
    "version": 1,
    "sources": {
        "orders": {
            "time": "ordered_at",
            "dimensions": {"country": {}, "status": {"expr": "lower(status)"}},
            "measures": {
                "orders": {"agg": "count"},
                "revenue": {"agg": "sum", "expr": "amount"},
                "buyers": {"agg": "count_distinct", "expr": "user_id"},
            },
            "joins": {"users": {"keys": "user_id"}},
        },
        "users": {"primary_key": "user_id", "dimensions": {"plan": {}}},
    },
    "metrics": {
        "gross_revenue": {"measure": "orders.revenue", "aliases": ["revenue_total"]},
        "aov": {"type": "derived", "expr": "gross_revenue / orders"},
        "orders": {"measure": "orders.orders", "description": "Orders placed"},
        "paid_orders": {"measure": "orders.orders", "filter": "status = 'paid'"},
        "legacy_buyers": {"measure": "orders.buyers", "deprecated": "use buyers from the CRM"},
        "revenue_month_start": {
            "type": "offset",
            "metric": "gross_revenue",
            "offset_to_grain": "month",
        },
    },
}


@pytest.fixture(scope="module")
def con() -> Any:
    c = ibis.duckdb.connect()
    c.create_table(
        "orders",
        pd.DataFrame(
            {
                "ordered_at": pd.to_datetime(
                    ["2024-01-03", "2024-01-20", "2024-02-01", "2024-02-10", "2024-02-11"]
                ),
                "amount": [10.0, 5.5, 7.0, 1.0, 2.5],
                "status": ["PAID", "open", "paid", "Paid", "void"],
                "country": ["DE", "FR", "DE", "DE", None],
                "user_id": [1, 2, 1, 3, 2],
            }
        ),
    )
    c.create_table("users", pd.DataFrame({"user_id": [1, 2, 3], "plan": ["pro", "free", "pro"]}))
    return c


def test_alias_answers_with_the_new_metric_and_warns(con: Any) -> None:
    layer = ml.load(BASE, con=con)
    with pytest.warns(DeprecationWarning, match="'revenue_total' is renamed to 'gross_revenue'"):
        old = layer.query(["revenue_total", "orders"], grain="month", order_by="-revenue_total")
    df = old.to_pandas()
    assert list(df.columns) == ["month", "revenue_total", "orders"]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        asked = layer.query(["gross_revenue", "orders"], grain="month")
    assert not [w for w in seen if "metric" in str(w.message)]  # the new name does not warn
    new = asked.to_pandas()
    assert df.sort_values("month")["revenue_total"].tolist() == new["gross_revenue"].tolist()
    assert df["revenue_total"].tolist() == [15.5, 10.5]  # ordered by the alias, descending
    with pytest.warns(DeprecationWarning), pytest.raises(QueryError, match="asked twice"):
        layer.query(["revenue_total", "gross_revenue"])


def test_deprecated_metric_warns_with_its_reason(con: Any) -> None:
    layer = ml.load(BASE, con=con)
    with pytest.warns(DeprecationWarning, match="'legacy_buyers' is deprecated: use buyers"):
        assert layer.query("legacy_buyers").to_pandas()["legacy_buyers"].tolist() == [3]


def test_alias_collisions_are_definition_errors() -> None:
    bad = copy.deepcopy(BASE)
    bad["metrics"]["orders"]["aliases"] = ["aov"]
    with pytest.raises(
        DefinitionError, match="alias 'aov' of metric 'orders' is the name of a metric"
    ):
        ml.load(bad)
    bad = copy.deepcopy(BASE)
    bad["metrics"]["orders"]["aliases"] = ["revenue_total"]
    with pytest.raises(DefinitionError, match="given to metrics 'gross_revenue' and 'orders'"):
        ml.load(bad)


def _write(tmp_path: Path, name: str, data: dict[str, Any]) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "defs.yml").write_text(yaml.safe_dump(data, sort_keys=False))
    return folder


def _edit(path: str, value: Any = None, delete: bool = False) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    *head, last = path.split("/")
    node = data
    for part in head:
        node = node[part]
    if delete:
        del node[last]
    else:
        node[last] = value
    return data


def _rename(old: str, new: str, alias: bool) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    body = data["metrics"].pop(old)
    if alias:
        body = {**body, "aliases": [*body.get("aliases", []), old]}
    data["metrics"][new] = body
    return data


CASES = [
    ("metric removed", _edit("metrics/orders", delete=True), ("metric", "orders", "removed", True)),
    (
        "metric renamed",
        _rename("paid_orders", "orders_paid", alias=False),
        ("metric", "paid_orders", "renamed", True),
    ),
    (
        "metric renamed, alias kept",
        _rename("paid_orders", "orders_paid", alias=True),
        ("metric", "paid_orders", "renamed", False),
    ),
    (
        "metric added",
        _edit("metrics/buyers", {"measure": "orders.buyers"}),
        ("metric", "buyers", "added", False),
    ),
    (
        "formula",
        _edit("metrics/aov/expr", "gross_revenue / paid_orders"),
        ("metric", "aov", "formula changed", True),
    ),
    (
        "filter",
        _edit("metrics/paid_orders/filter", "status IN ('paid', 'PAID')"),
        ("metric", "paid_orders", "filter changed", True),
    ),
    (
        "grains narrowed",
        _edit("metrics/orders/grains", ["month"]),
        ("metric", "orders", "grains changed", True),
    ),
    (
        "description",
        _edit("metrics/orders/description", "All orders"),
        ("metric", "orders", "description changed", False),
    ),
    (
        "deprecated",
        _edit("metrics/orders/deprecated", "soon gone"),
        ("metric", "orders", "deprecated", False),
    ),
    (
        "fill changed",
        _edit("metrics/orders/fill_nulls_with", 0),
        ("metric", "orders", "formula changed", True),
    ),
    (
        "offset_to_grain changed",
        _edit("metrics/revenue_month_start/offset_to_grain", "quarter"),
        ("metric", "revenue_month_start", "formula changed", True),
    ),
    (
        "alias dropped",
        _edit("metrics/gross_revenue/aliases", []),
        ("metric", "gross_revenue", "aliases removed", True),
    ),
    (
        "dimension removed",
        _edit("sources/orders/dimensions/status", delete=True),
        ("dimension", "orders.status", "removed", True),
    ),
    (
        "dimension expr",
        _edit("sources/orders/dimensions/status", {"expr": "upper(status)"}),
        ("dimension", "orders.status", "changed", True),
    ),
    (
        "dimension label",
        _edit("sources/orders/dimensions/country", {"label": "Country"}),
        ("dimension", "orders.country", "description changed", False),
    ),
    (
        "measure agg",
        _edit("sources/orders/measures/revenue/agg", "avg"),
        ("measure", "orders.revenue", "changed", True),
    ),
    ("join removed", _edit("sources/orders/joins", {}), ("join", "orders.users", "removed", True)),
    (
        "time column",
        _edit("sources/orders/time", "paid_at"),
        ("source", "orders", "time changed", True),
    ),
    ("source removed", _edit("sources/users", delete=True), ("source", "users", "removed", True)),
]


@pytest.mark.parametrize(("new", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_diff_classifies(tmp_path: Path, new: dict[str, Any], expected: tuple[Any, ...]) -> None:
    old_dir, new_dir = _write(tmp_path, "old", BASE), _write(tmp_path, "new", new)
    changes = diff_projects(load_project(old_dir)[0], load_project(new_dir)[0])
    found = [(c.kind, c.name, c.change, c.breaking) for c in changes]
    assert expected in found
    res = CliRunner().invoke(app, ["diff", str(old_dir), str(new_dir), "--format", "json"])
    payload = json.loads(res.stdout)
    assert res.exit_code == (1 if expected[3] else 0), res.output
    assert payload["breaking"] == sum(c.breaking for c in changes)


def test_same_definitions_have_no_changes(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["diff", str(ROOT / "metric_defs"), str(ROOT / "metric_defs")])
    assert res.exit_code == 0 and res.stdout.strip() == "no changes"
    # a reformatted copy (as data, written back as YAML) is the same definitions
    copy_dir = _write(tmp_path, "copy", ml.load(ROOT / "metric_defs").definitions())
    res = CliRunner().invoke(app, ["diff", str(ROOT / "metric_defs"), str(copy_dir)])
    assert res.exit_code == 0 and "no changes" in res.stdout


def test_diff_text_output_and_errors(tmp_path: Path) -> None:
    old_dir = _write(tmp_path, "old", BASE)
    new_dir = _write(tmp_path, "new", _edit("metrics/orders", delete=True))
    res = CliRunner().invoke(app, ["diff", str(old_dir), str(new_dir)])
    assert res.exit_code == 1
    assert "BREAKING   metric orders: removed" in res.stdout
    assert res.stdout.strip().endswith("1 change, 1 breaking")
    res = CliRunner().invoke(app, ["diff", str(old_dir), str(tmp_path / "missing")])
    assert res.exit_code == 2 and "does not exist" in res.output and "Traceback" not in res.output
