"""Masked pii over HTTP (in process): the same numbers as unmasked, and the same Arrow types;
JSON and CSV carry the pseudonyms of integers and NULL for withheld values."""

from __future__ import annotations

import asyncio
import csv
import io

import httpx
import pyarrow as pa
import pytest

import metrics_layer as ml
from metrics_layer.service.app import Service, create_app
from metrics_layer.service.tokens import Tokens
from tests.access.tenants import make_db, write_defs
from tests.access.test_pii import add_pii_columns, pii_defs, pseudonym
from tests.service.harness import write_tokens

TOKENS = {
    "masked": {"user": "m", "policies": ["own_country"], "attributes": {"country": "DE"}},
    "unmasked": {"user": "u", "policies": ["see_ids"], "attributes": {"country": "DE"}},
}
ARROW = "application/vnd.apache.arrow.stream"


@pytest.fixture(scope="module")
def transport(tmp_path_factory: pytest.TempPathFactory) -> tuple[httpx.ASGITransport, ml.Layer]:
    root = tmp_path_factory.mktemp("pii_http")
    full = make_db(root / "full.duckdb")
    add_pii_columns(full)
    layer = ml.load(write_defs(root / "defs", pii_defs()), con=str(full))
    service = Service(layer, Tokens.load(write_tokens(root / "t.yml", TOKENS)))
    return httpx.ASGITransport(app=create_app(service)), layer  # type: ignore[arg-type]


def ask(transport: httpx.ASGITransport, token: str, body: dict, accept: str) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            headers = {"Authorization": f"Bearer {token}", "Accept": accept}
            return await c.post("/query", json=body, headers=headers)

    r = asyncio.run(go())
    assert r.status_code == 200, r.text
    return r


def test_masked_pii_over_http(transport) -> None:
    app, layer = transport
    body = {"metrics": ["assignments.accepted"], "by": ["workers.phone", "workers.score"]}
    tables = {t: pa.ipc.open_stream(ask(app, t, body, ARROW).content).read_all() for t in TOKENS}
    assert tables["masked"].schema.types == tables["unmasked"].schema.types
    assert tables["masked"].schema.field("phone").type == pa.int64()
    # the score is withheld, so the masked answer has one row per phone pseudonym
    raw = layer.restrict(["see_ids"], {"country": "DE"})
    per_phone = raw.query(["assignments.accepted"], by=["workers.phone"]).to_pyarrow()
    want = {pseudonym(r["phone"]): r["accepted"] for r in per_phone.to_pylist()}
    got = tables["masked"].to_pylist()
    assert {r["phone"]: r["accepted"] for r in got} == want
    assert {r["score"] for r in got} == {None}
    rows = ask(app, "masked", body, "application/json").json()["rows"]
    assert sorted(map(tuple, rows), key=str) == sorted(
        ((r["phone"], r["score"], r["accepted"]) for r in got), key=str
    )
    text = ask(app, "masked", body, "text/csv").text
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert {r["phone"] for r in parsed} == {
        "" if r["phone"] is None else str(r["phone"]) for r in got
    }
    # a query by a joined dimension through the masked keys: the numbers of the unmasked caller
    by_team = {"metrics": ["total_revenue"], "by": ["teams.team_name"]}
    assert (
        ask(app, "masked", by_team, "application/json").json()
        == ask(app, "unmasked", by_team, "application/json").json()
    )
