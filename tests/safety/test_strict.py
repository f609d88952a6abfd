"""strict=True: requests see declared dimensions only, never raw columns of joined tables;
definitions keep using their sources' columns."""

from __future__ import annotations

from pathlib import Path

import pytest

import metrics_layer as ml
from tests.safety.helpers import WORKERS_DEFS, make_db, write_defs


@pytest.fixture
def layers(tmp_path: Path) -> tuple[ml.Layer, ml.Layer]:
    db = str(make_db(tmp_path / "w.duckdb"))
    text = WORKERS_DEFS.format(table="shifts").replace(
        "      hours: {agg: sum, expr: hours}\n",
        "      hours: {agg: sum, expr: hours}\n"
        "      ann_hours: {agg: sum, expr: hours, filter: \"workers.name = 'Ann'\"}\n",
    )
    defs = write_defs(tmp_path / "defs", text)
    return ml.load(defs, con=db), ml.load(defs, con=db, strict=True)


RAW_REQUESTS = [
    {"by": ["workers.name"]},
    {"by": ["name"]},
    {"by": ["shifts.worker_id"]},
    {"by": ["shifts.hours"]},
    {"where": "workers.worker_id = 44"},
    {"where": "name = 'Ann'"},
    {"where": "workers.tier = 'gold' AND hours > 1"},
]


@pytest.mark.parametrize("request_", RAW_REQUESTS, ids=[str(r) for r in RAW_REQUESTS])
def test_strict_refuses_raw_columns(layers: tuple[ml.Layer, ml.Layer], request_: dict) -> None:
    loose, strict = layers
    loose.query("shifts", **request_).to_pandas()  # the notebook convenience still works
    with pytest.raises(ml.QueryError) as info:
        strict.query("shifts", **request_).to_pandas()
    message = str(info.value)
    assert "not a declared dimension" in message and "\n" not in message
    assert "tier" in message or "kind" in message  # names the declared alternatives


def test_strict_keeps_declared_dimensions_and_definitions(
    layers: tuple[ml.Layer, ml.Layer],
) -> None:
    loose, strict = layers
    for layer in (loose, strict):
        df = layer.query(["hours", "shifts.ann_hours"], by=["workers.tier"]).to_pandas()
        got = df.set_index("tier").to_dict()
        assert got["hours"] == {"gold": 14.0, "silver": 6.5}
        assert got["ann_hours"][("gold")] == 14.0
        df = layer.query("shifts", where="workers.tier = 'silver' AND kind = 'day'").to_pandas()
        assert df["shifts"].tolist() == [2]
    assert strict.registry.strict and not loose.registry.strict
