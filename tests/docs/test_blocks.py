"""The block extractor: which fences are code, where they start, and the `not run` markers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.blocks import MarkerError, extract


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "page.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_python_and_bash_blocks_in_order_with_their_fence_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "# Title\n"
        "\n"
        "```python\n"
        "x = 1\n"
        "```\n"
        "text\n"
        "```yaml\n"
        "a: 1\n"
        "```\n"
        "```\n"
        "plain output\n"
        "```\n"
        "```bash\n"
        "echo hi\n"
        "echo there\n"
        "```\n",
    )
    blocks = extract(path)
    assert [(b.lang, b.line, b.code, b.skip) for b in blocks] == [
        ("python", 3, "x = 1\n", None),
        ("bash", 13, "echo hi\necho there\n", None),
    ]
    assert blocks[0].id == "page.md:3"


def test_not_run_marker_applies_to_the_next_block_only(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "<!-- not run: needs a server -->\n\n```bash\nmake demo\n```\n```python\ny = 2\n```\n",
    )
    first, second = extract(path)
    assert first.skip == "needs a server"
    assert second.skip is None


def test_fences_inside_a_longer_fence_and_indented_blocks(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "````markdown\n```python\nnot code\n```\n````\n"
        "- item\n\n  ```python\n  z = 3\n  if z:\n      z = 4\n  ```\n",
    )
    (block,) = extract(path)
    assert block.line == 8
    assert block.code == "z = 3\nif z:\n    z = 4\n"


@pytest.mark.parametrize(
    "text, message",
    [
        ("<!-- not run: -->\n```bash\nls\n```\n", "without a reason"),
        ("<!-- not run: why -->\nsome prose\n```bash\nls\n```\n", "not followed"),
        ("<!-- not run: why -->\n```yaml\na: 1\n```\n", "not followed"),
        ("<!-- not run: why -->\n", "not followed"),
        ("```python\nx = 1\n", "unclosed fence"),
    ],
)
def test_bad_markers_and_fences_are_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(MarkerError, match=message):
        extract(_write(tmp_path, text))
