"""Every python block of docs/service.md runs as written against (small) demo data."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "service.md"


def blocks(kind: str) -> list[str]:
    text = DOC.read_text()
    out = []
    for m in re.finditer(rf"(<!-- not run:[^\n]*-->\n)?```{kind}\n(.*?)```", text, re.S):
        if not m.group(1):
            out.append(m.group(2))
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from metrics_layer.demo.generate import generate

    root = tmp_path_factory.mktemp("docs")
    (root / "data").mkdir()
    generate(root / "data" / "marketplace.duckdb", events=5000)
    shutil.copytree(ROOT / "metric_defs", root / "metric_defs")
    return root


@pytest.mark.parametrize("code", blocks("python"), ids=lambda c: c.splitlines()[-1][:40])
def test_python_blocks_run(demo: Path, code: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=demo, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.parametrize("code", blocks("bash"))
def test_bash_blocks_run(demo: Path, code: str) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    proc = subprocess.run(
        ["bash", "-euc", code], cwd=demo, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
