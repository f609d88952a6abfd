"""The MCP tools over stdio, driven by the SDK's own client against a real subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

import metrics_layer as ml
from tests.service.harness import ROOT

TOOLS = {
    "list_metrics",
    "describe_metric",
    "list_dimensions",
    "dimension_values",
    "query",
    "sql",
    "retention",
    "funnel",
    "experiment",
}


async def _session(
    world: dict, extra: list[str], calls: list[tuple[str, dict]]
) -> tuple[set, list]:
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-m",
            "metrics_layer.cli",
            "mcp",
            str(world["defs"]),
            "-c",
            str(world["full"]),
            "--max-rows",
            "25",
            *extra,
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=str(world["root"]),
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = {t.name for t in (await session.list_tools()).tools}
        results = []
        for name, args in calls:
            res = await session.call_tool(name, args)
            text = res.content[0].text if res.content else ""
            results.append((res.isError, text))
        return tools, results


def run(world: dict, extra: list[str], calls: list[tuple[str, dict]]) -> tuple[set, list]:
    return asyncio.run(asyncio.wait_for(_session(world, extra, calls), timeout=90))


def parsed(result: tuple[bool, str]) -> Any:
    error, text = result
    assert not error, text
    return json.loads(text)


def test_tools_unrestricted_and_restricted(world: dict, layer: ml.Layer) -> None:
    calls = [
        ("list_metrics", {}),
        ("describe_metric", {"name": "active"}),
        ("list_dimensions", {"source": "workers"}),
        ("dimension_values", {"dimension": "workers.country"}),
        ("query", {"metrics": ["assignments.revenue"], "by": ["workers.country"]}),
        ("query", {"metrics": ["assignments.accepted"], "by": ["workers.email"], "grain": "day"}),
        ("sql", {"metrics": ["active"], "dialect": "postgres"}),
        ("retention", {"name": "engagement", "periods": 2}),
        ("funnel", {"name": "onboarding"}),
        ("query", {"metrics": ["no_such_metric"]}),
        ("query", {"metrics": ["active"], "where": "1; DROP TABLE workers"}),
        ("retention", {"name": "nope"}),
    ]
    tools, out = run(world, [], calls)
    assert tools >= TOOLS
    metrics = parsed(out[0])["metrics"]
    assert "by_name" in {m["name"] for m in metrics}
    assert parsed(out[1])["sources"] == ["events"]
    assert "name" in {d["name"] for d in parsed(out[2])["dimensions"]}
    assert [r[0] for r in parsed(out[3])["rows"]] == ["DE", "FR", "US", None]
    q = parsed(out[4])
    want = layer.query(["assignments.revenue"], by=["workers.country"]).to_pandas()
    got = dict((r[0], r[1]) for r in q["rows"])
    for country, revenue in zip(want["country"], want["revenue"], strict=True):
        key = None if country is None or country != country else country
        assert got[key] == pytest.approx(revenue)
    capped = parsed(out[5])
    assert capped["truncated"] is True and len(capped["rows"]) == 25
    assert "SELECT" in parsed(out[6])["sql"]
    assert parsed(out[7])["columns"][:3] == ["cohort", "cohort_size", "period"]
    assert parsed(out[8])["columns"][:3] == ["step", "step_name", "entities"]
    for (error, text), needle in zip(out[9:], ["no_such_metric", ";", "nope"], strict=True):
        assert error and needle in text and "Traceback" not in text

    calls = [
        (
            "query",
            {
                "metrics": ["assignments.revenue"],
                "by": ["workers.country"],
                "where": "workers.country = 'DE' OR 1 = 1",
            },
        ),
        ("list_metrics", {}),
        ("dimension_values", {"dimension": "workers.email", "limit": 3}),
        ("query", {"metrics": ["by_name"]}),
    ]
    _, out = run(world, ["--policy", "own_country", "--attribute", "country=FR"], calls)
    assert [r[0] for r in parsed(out[0])["rows"]] == ["FR"]
    assert "by_name" not in {m["name"] for m in parsed(out[1])["metrics"]}
    assert all("@" not in r[0] for r in parsed(out[2])["rows"])
    assert out[3][0] and "by_name" in out[3][1]


def test_bad_policy_fails_to_start(world: dict, tmp_path: Path) -> None:
    import subprocess

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "metrics_layer.cli",
            "mcp",
            str(world["defs"]),
            "-c",
            str(world["full"]),
            "--policy",
            "own_country",
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2
    assert "attribute 'country'" in proc.stderr and "Traceback" not in proc.stderr
