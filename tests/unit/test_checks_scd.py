"""The scd_validity source check: overlapping, gapped and inverted SCD Type 2 versions."""

from __future__ import annotations

from pathlib import Path

import ibis
import pandas as pd
import pytest

import metrics_layer as ml

DEFS = """
version: 1
sources:
  history:
    table: history
    scd: {key: worker_id, valid_from: valid_from, valid_to: valid_to}
    dimensions: {tier: {}}
    checks:
      - scd_validity: true
  plain:
    table: history
    checks:
      - scd_validity: true
"""


def _layer(tmp_path: Path, rows: list[tuple]) -> ml.Layer:
    (tmp_path / "defs.yml").write_text(DEFS)
    frame = pd.DataFrame(rows, columns=["worker_id", "tier", "valid_from", "valid_to"])
    for col in ("valid_from", "valid_to"):
        frame[col] = pd.to_datetime(frame[col])
    con = ibis.duckdb.connect()
    con.create_table("history", frame)
    return ml.load(tmp_path / "defs.yml", con=con)


def test_contiguous_versions_pass(tmp_path: Path) -> None:
    layer = _layer(
        tmp_path,
        [
            (1, "bronze", "2024-01-01", "2024-03-01"),
            (1, "silver", "2024-03-01", None),
            (2, "bronze", "2024-02-01", None),
        ],
    )
    report = layer.check_sources(sources=["history"])
    df = report.to_pandas()
    rules = df[df.rule.str.startswith("scd_validity")]
    assert set(rules.rule) == {"scd_validity(overlap)", "scd_validity(gap)", "scd_validity(order)"}
    assert rules.passed.all()
    assert (rules.failures == 0).all()


def test_overlap_gap_and_inverted_versions_are_caught_with_samples(tmp_path: Path) -> None:
    layer = _layer(
        tmp_path,
        [
            (1, "bronze", "2024-01-01", "2024-03-05"),  # overlaps the next version (starts 03-01)
            (1, "silver", "2024-03-01", None),
            (2, "bronze", "2024-01-01", "2024-02-01"),  # gap: next starts 02-10
            (2, "silver", "2024-02-10", None),
            (3, "bronze", "2024-05-01", "2024-04-01"),  # ends before it starts
            (4, "bronze", "2024-01-01", None),  # open version followed by another: overlap
            (4, "gold", "2024-06-01", None),
        ],
    )
    report = layer.check_sources(sources=["history"])
    assert not report.ok
    df = report.to_pandas().set_index("rule")
    assert df.loc["scd_validity(overlap)", "failures"] == 2
    assert df.loc["scd_validity(gap)", "failures"] == 1
    assert df.loc["scd_validity(order)", "failures"] == 1
    overlap = report.failing("history", "scd_validity(overlap)")
    assert sorted(overlap["worker_id"].tolist()) == [1, 4]
    gap = report.failing("history", "scd_validity(gap)")
    assert gap["worker_id"].tolist() == [2]


def test_scd_validity_on_a_source_without_scd_is_an_error(tmp_path: Path) -> None:
    layer = _layer(tmp_path, [(1, "bronze", "2024-01-01", None)])
    with pytest.raises(ml.MetricsLayerError, match="scd_validity needs a source declared with"):
        layer.check_sources(sources=["plain"])
