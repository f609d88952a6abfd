"""Definitions as data: `ml.load(dict)` validates like a file, `layer.definitions()` gives the
YAML structure back, and the two round-trip to the same definitions and the same numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import metrics_layer as ml
from metrics_layer.demo.generate import generate
from metrics_layer.errors import DefinitionError, QueryError

ROOT = Path(__file__).resolve().parents[2]


def _vars_for(path: Path) -> dict[str, Any]:
    """Fixture projects take table names from a `t` var: any name does for a round trip."""
    files = [path] if path.is_file() else list(path.rglob("*.yml"))
    text = "".join(p.read_text() for p in files)
    names = {w.split("}}")[0].strip() for w in text.split("{{ t.")[1:]}
    return {"t": {n: n for n in names}} if names else {}


FOLDERS = [
    ROOT / "metric_defs",
    ROOT / "tests" / "corpus" / "good",
    ROOT / "tests" / "fixtures" / "contract",
    *sorted(p for p in (ROOT / "tests" / "fixtures" / "kpi").iterdir() if p.is_dir()),
    ROOT / "tests" / "fixtures" / "modeling" / "modeling.yml",
]


@pytest.mark.parametrize("path", FOLDERS, ids=[p.name for p in FOLDERS])
def test_round_trip(path: Path, tmp_path: Path) -> None:
    layer = ml.load(path, vars=_vars_for(path))
    data = layer.definitions()
    assert data["version"] == 1
    json.dumps(data, default=str)  # plain data: JSON types, and dates
    again = ml.load(data)
    assert again.registry.project == layer.registry.project
    assert again.definitions() == data
    # written out as YAML, it loads as a file again
    (tmp_path / "defs.yml").write_text(yaml.safe_dump(data, sort_keys=False))
    assert ml.load(tmp_path / "defs.yml").registry.project == layer.registry.project


def test_definitions_keep_what_was_written() -> None:
    data = {
        "sources": {
            "orders": {
                "table": "analytics.orders",
                "time": "ordered_at",
                "dimensions": {"country": None, "status": {"expr": "lower(status)"}},
                "measures": {
                    "orders": {"agg": "count"},
                    "revenue": {"agg": "sum", "expr": "amount"},
                },
                "checks": [{"unique": "order_id"}],
            }
        },
        "metrics": {"aov": {"type": "derived", "expr": "revenue / orders"}},
    }
    out = ml.load(data).definitions()
    src = out["sources"]["orders"]
    assert src["table"] == "orders" and src["database"] == "analytics"  # the dotted form, split
    assert src["dimensions"] == {"country": {}, "status": {"expr": "lower(status)"}}
    assert src["measures"]["orders"] == {"agg": "count"}
    assert src["checks"] == [{"unique": ["order_id"]}]
    assert out["metrics"] == {"aov": {"type": "derived", "expr": "revenue / orders"}}
    assert "retention" not in out and "funnels" not in out


def test_dict_errors_name_the_field() -> None:
    with pytest.raises(DefinitionError) as info:
        ml.load({"sources": {"e": {"measures": {"n": {"agg": "summ", "expr": "x"}}}}})
    text = str(info.value)
    assert text.startswith("<definitions>: sources.e.measures.n.agg: invalid value 'summ'")
    assert "did you mean 'sum'?" in text and "\n" not in text
    with pytest.raises(DefinitionError, match="metric 'm'.*unknown measure|unknown measure"):
        ml.load({"sources": {"e": {}}, "metrics": {"m": {"measure": "e.nope"}}})
    with pytest.raises(DefinitionError, match="must be a mapping"):
        ml.load([1, 2])  # type: ignore[arg-type]


def test_dict_layer_gives_the_same_numbers(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    generate(db, events=3_000)
    from_files = ml.load(ROOT / "metric_defs", con=str(db))
    from_data = ml.load(from_files.definitions(), con=str(db))
    asked = dict(
        metrics=["revenue", "active_workers", "revenue_per_active_worker"],
        by=["workers.country"],
        grain="month",
    )
    a = from_files.query(**asked).to_pandas()
    b = from_data.query(**asked).to_pandas()
    assert len(a) > 5
    assert a.equals(b)
    with pytest.raises(QueryError, match="did you mean"):
        from_data.query("revenu")
