from __future__ import annotations

from pathlib import Path

import pytest

import metrics_layer as ml
from tests.access.tenants import COUNTRIES, make_db, tenant_db, write_defs


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The full data, its definitions, and per country a database restricted by hand."""
    root = tmp_path_factory.mktemp("tenants")
    full = make_db(root / "full.duckdb")
    defs = write_defs(root / "defs")
    by_hand = {c: tenant_db(full, root / f"{c}.duckdb", c) for c in COUNTRIES}
    return {"root": root, "full": full, "defs": defs, "by_hand": by_hand}


@pytest.fixture(scope="module")
def layer(world: dict) -> ml.Layer:
    return ml.load(world["defs"], con=str(world["full"]))


def hand_layer(world: dict, country: str) -> ml.Layer:
    return ml.load(world["defs"], con=str(world["by_hand"][country]))


def defs_dir(tmp_path: Path, text: str) -> Path:
    return write_defs(tmp_path / "defs", text)
