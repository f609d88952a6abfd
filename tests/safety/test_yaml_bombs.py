"""YAML alias bombs fail in well under a second, with a located one-line error; ordinary
anchors and aliases still load."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

import metrics_layer as ml
import metrics_layer.layer  # noqa: F401 - imported before timing


def _bomb(levels: int, width: int = 9) -> str:
    lines = ["version: 1", "x0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    lines.append(f"sources: *a{levels - 1}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [6, 9, 12])
def test_an_alias_bomb_fails_fast(tmp_path: Path, levels: int) -> None:
    text = _bomb(levels)
    assert len(text) < 1000
    (tmp_path / "bomb.yml").write_text(text)
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(ml.DefinitionError) as info:
            ml.load(tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 5
    assert peak < 200 * 2**20
    message = str(info.value)
    assert "MAX_YAML" in message and "\n" not in message and info.value.line is not None


def test_plain_aliases_still_work(tmp_path: Path) -> None:
    (tmp_path / "d.yml").write_text(
        "version: 1\nsources:\n  a:\n    table: a\n    measures:\n"
        "      n: &count {agg: count}\n      m: *count\n"
    )
    layer = ml.load(tmp_path)
    assert set(layer.registry.sources["a"].measures) == {"n", "m"}
