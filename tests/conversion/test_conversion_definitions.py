"""Conversion metric definitions: bad ones fail at load with the file, line and field, and
unknown names suggest close ones; the importer's output loads and explains."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest

import metrics_layer as ml

SOURCES = """
version: 1
sources:
  visits:
    time: ts
    measures: {visits: {agg: count}}
    dimensions: {channel: {}}
  buys:
    time: ts
    measures: {buys: {agg: count}}
metrics:
  rate:
    type: conversion
    conversion:
"""


def _load(tmp_path: Path, block: str, con: Any = None) -> Any:
    (tmp_path / "defs.yml").write_text(SOURCES + block)
    return ml.load(tmp_path, con=con)


def _con() -> Any:
    con = ibis.duckdb.connect()
    frame = pd.DataFrame(
        {"user_id": ["u1"], "ts": pd.to_datetime(["2024-01-01"]), "channel": ["web"]}
    )
    con.create_table("visits", frame)
    con.create_table("buys", frame.drop(columns="channel"))
    return con


GOOD = """      base: visits.visits
      conversion: buys.buys
      entity: user_id
"""


def test_a_good_definition_loads_and_queries(tmp_path: Path) -> None:
    layer = _load(tmp_path, GOOD + "      window: 7 days\n", _con())
    df = layer.query(["rate"]).to_pandas()
    assert df["rate"].tolist() == [1.0]  # the buy at the visit's time converts it


@pytest.mark.parametrize(
    ("block", "message", "line"),
    [
        (
            GOOD.replace("buys.buys", "buys.buyz"),
            r"unknown conversion measure 'buys\.buyz'.*did you mean 'buys\.buys'",
            16,
        ),
        (
            GOOD.replace("visits.visits", "visit.visits"),
            r"unknown base measure 'visit\.visits'.*visits\.visits",
            15,
        ),
        (GOOD + "      window: 7 dayz\n", r"invalid duration '7 dayz'.*did you mean '7 days'", 18),
        (GOOD + "      calculation: rate\n", r"conversion_rate.*conversions", 18),
        (GOOD + "      windw: 7 days\n", r"windw", 18),
        ("      base: visits.visits\n      conversion: buys.buys\n", r"entity", 14),
    ],
)
def test_bad_definitions_fail_at_their_line(
    tmp_path: Path, block: str, message: str, line: int
) -> None:
    with pytest.raises(ml.DefinitionError, match=message) as err:
        _load(tmp_path, block)
    assert f"defs.yml:{line}" in str(err.value)


def test_fields_of_other_kinds_are_refused(tmp_path: Path) -> None:
    (tmp_path / "defs.yml").write_text(
        SOURCES.replace(
            "    type: conversion\n", "    type: conversion\n    measure: visits.visits\n"
        )
        + GOOD
    )
    with pytest.raises(ml.DefinitionError, match="does not apply to a conversion metric"):
        ml.load(tmp_path)


def test_unknown_entity_or_property_is_a_schema_error_with_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(ml.DefinitionError, match=r"user_idd.*user_id") as err:
        _load(tmp_path, GOOD.replace("entity: user_id", "entity: user_idd"), _con())
    assert "defs.yml:17" in str(err.value) and "conversion.entity" in str(err.value)
    props = GOOD + "      constant_properties: [{base: channel, conversion: chanel}]\n"
    with pytest.raises(ml.DefinitionError, match=r"chanel") as err:
        _load(tmp_path, props, _con())
    assert "conversion.constant_properties.0.conversion" in str(err.value)


def test_a_materialization_of_a_conversion_metric_is_refused(tmp_path: Path) -> None:
    block = GOOD + "materializations:\n  daily: {metrics: [rate], grain: day, table: mart}\n"
    with pytest.raises(ml.DefinitionError, match="later conversion events arrive"):
        _load(tmp_path, block)
