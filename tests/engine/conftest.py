"""Fixtures of the engine tests: one in-memory DuckDB per module, a fresh layer per test."""

from __future__ import annotations

import pytest

import metrics_layer as ml
from tests.backends import Backend, connect_duckdb
from tests.engine.data import load_layer


@pytest.fixture(scope="module")
def duck() -> Backend:
    return Backend("duckdb", connect_duckdb())


@pytest.fixture()
def layer(duck: Backend) -> ml.Layer:
    """A layer over fresh copies of the engine test tables (its caches empty)."""
    return load_layer(duck)[0]
