"""The service passes week_start / timezone / fill_days through (bodies use the Python names)."""

from __future__ import annotations

import asyncio
import datetime as _dt
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from metrics_layer.service.app import Service, create_app  # noqa: E402
from metrics_layer.service.tokens import Tokens  # noqa: E402
from tests.service.harness import write_tokens  # noqa: E402
from tests.time.fixtures import load_layer  # noqa: E402

T = _dt.datetime
ROWS = [
    (T(2024, 3, 4, 3), 1, "signup", 1),  # Sunday 22:00 in New York
    (T(2024, 3, 4, 5), 1, "visit", 2),
    (T(2024, 3, 10, 12), 2, "visit", 4),  # a Sunday
]


def _post(transport: object, path: str, body: dict) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.post(path, json=body, headers={"Authorization": "Bearer admin"})

    return asyncio.run(go())


@pytest.mark.backends("duckdb")
def test_time_keywords_through_the_service(backend: object, tmp_path: Path) -> None:
    layer, _ = load_layer(backend, tmp_path / "defs", ROWS)  # type: ignore[arg-type]
    tokens = write_tokens(tmp_path / "t.yml", {"admin": {"user": "a", "unrestricted": True}})
    service = Service(layer, Tokens.load(tokens))
    transport = httpx.ASGITransport(app=create_app(service))  # type: ignore[arg-type]
    monday = _post(transport, "/query", {"metrics": ["value"], "grain": "week"}).json()
    sunday = _post(
        transport, "/query", {"metrics": ["value"], "grain": "week", "week_start": "sunday"}
    ).json()
    assert [r[1] for r in monday["rows"]] == [7]  # Sunday 03-10 ends the week of Mon 03-04
    assert [r[1] for r in sunday["rows"]] == [3, 4]
    assert [str(r[0])[:10] for r in sunday["rows"]] == ["2024-03-03", "2024-03-10"]
    ny = _post(
        transport,
        "/query",
        {"metrics": ["value"], "grain": "day", "timezone": "America/New_York"},
    ).json()
    assert [str(r[0])[:10] for r in ny["rows"]] == ["2024-03-03", "2024-03-04", "2024-03-10"]
    ret = _post(transport, "/retention/weekly", {"periods": 1, "timezone": "America/New_York"})
    assert ret.status_code == 200 and str(ret.json()["rows"][0][0])[:10] == "2024-02-26"
    fun = _post(transport, "/funnel/signup_visit", {"grain": "week", "week_start": 6})
    assert fun.status_code == 200 and str(fun.json()["rows"][0][0])[:10] == "2024-03-03"
    bad = _post(transport, "/query", {"metrics": ["value"], "timezone": "Mars/Olympus"})
    assert bad.status_code == 400 and "timezone" in bad.json()["error"]
