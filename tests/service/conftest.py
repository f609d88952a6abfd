from __future__ import annotations

from collections.abc import Iterator

import pytest

import metrics_layer as ml
from tests.access.tenants import make_db, write_defs
from tests.service.harness import running, write_tokens


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("service")
    full = make_db(root / "full.duckdb")
    defs = write_defs(root / "defs")
    return {"root": root, "full": full, "defs": defs, "tokens": write_tokens(root / "tokens.yml")}


@pytest.fixture(scope="module")
def layer(world: dict) -> ml.Layer:
    return ml.load(world["defs"], con=str(world["full"]))


@pytest.fixture(scope="module")
def server(world: dict) -> Iterator[str]:
    args = [
        str(world["defs"]),
        "-c",
        str(world["full"]),
        "--tokens",
        str(world["tokens"]),
        "--audit",
        str(world["root"] / "audit.jsonl"),
        "--max-body",
        "4000",
        "--max-rows",
        "40",
        "--client-timeout",
        "1",
    ]
    with running(args, cwd=world["root"]) as url:
        yield url
