"""The app in process (ASGI transport): the answer cache is keyed by the caller's view."""

from __future__ import annotations

import httpx
import pytest

import metrics_layer as ml
from metrics_layer.service.app import Service, create_app
from metrics_layer.service.tokens import Tokens
from tests.service.harness import TOKENS, write_tokens


@pytest.fixture
def client(layer: ml.Layer, tmp_path) -> httpx.Client:
    service = Service(layer, Tokens.load(write_tokens(tmp_path / "t.yml", TOKENS)), cache_ttl=60)
    transport = httpx.ASGITransport(app=create_app(service))  # type: ignore[arg-type]
    return service, transport


async def _ask(transport, token: str, body: dict) -> httpx.Response:
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        return await c.post("/query", json=body, headers={"Authorization": f"Bearer {token}"})


def test_cache_per_view(client) -> None:
    import asyncio

    service, transport = client
    body = {"metrics": ["assignments.accepted"], "by": ["workers.country"]}
    a1 = asyncio.run(_ask(transport, "ana-token", body))
    a2 = asyncio.run(_ask(transport, "ana-token", body))
    b1 = asyncio.run(_ask(transport, "bob-token", body))
    assert a1.headers["x-cache"] == "miss" and a2.headers["x-cache"] == "hit"
    assert b1.headers["x-cache"] == "miss"
    assert a1.json() == a2.json() and a1.json()["rows"][0][0] == "DE"
    assert b1.json()["rows"][0][0] == "FR"


def test_token_file_errors(tmp_path) -> None:
    bad = [
        ({"nothex": {"user": "a", "unrestricted": True}}, "SHA-256"),
        ({"a" * 64: {"user": "a"}}, "names no policies"),
        ({"a" * 64: {"user": "a", "policies": ["p"], "unrestricted": True}}, "exclude"),
        (
            {"a" * 64: {"user": "a", "unrestricted": True, "operations": ["drop"]}},
            "unknown operation",
        ),
        ({"a" * 64: {"user": "a", "unrestricted": True, "extra": 1}}, "unknown field"),
    ]
    import yaml

    for data, message in bad:
        path = tmp_path / "t.yml"
        path.write_text(yaml.safe_dump(data))
        with pytest.raises(ml.DefinitionError, match=message):
            Tokens.load(path)


def test_unusable_policy_fails_at_start(layer: ml.Layer, tmp_path) -> None:
    tokens = {"x": {"user": "x", "policies": ["own_country"]}}  # no country attribute
    with pytest.raises(ml.QueryError, match="country"):
        Service(layer, Tokens.load(write_tokens(tmp_path / "t.yml", tokens)))
