"""Fenced code blocks of the README and docs/*.md, so the documentation can be run as tests.

Only ```python and ```bash blocks are collected; other fences (yaml, sample output, plain
```) are prose. A block whose fence is preceded by a ``<!-- not run: reason -->`` line (blank
lines in between are allowed) is kept with that reason, so the test suite lists it as
skipped instead of silently dropping it. A marker without a reason, or one that is not
followed by a runnable block, is reported as an error so markers cannot rot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

RUNNABLE = ("python", "bash")
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<ticks>`{3,}|~{3,})[ \t]*(?P<info>[^`]*?)[ \t]*$")
_NOT_RUN = re.compile(r"^\s*<!--\s*not run:(?P<reason>.*?)-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language and text, and why it is skipped (if so)."""

    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    skip: str | None = None

    @property
    def id(self) -> str:
        """A stable test id: file name and fence line, e.g. ``README.md:31``."""
        return f"{self.path.name}:{self.line}"


class MarkerError(ValueError):
    """A ``not run`` marker that has no reason or no runnable block after it."""


def extract(path: Path) -> list[Block]:
    """Every python/bash fenced block of one Markdown file, in order."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    pending: tuple[int, str] | None = None  # (line, reason) of the last unconsumed marker
    i = 0
    while i < len(lines):
        text = lines[i]
        marker = _NOT_RUN.match(text)
        if marker:
            reason = marker.group("reason").strip()
            if not reason:
                raise MarkerError(f"{path}:{i + 1}: `not run` marker without a reason")
            _check_consumed(path, pending)
            pending = (i + 1, reason)
            i += 1
            continue
        fence = _FENCE.match(text)
        if not fence:
            if text.strip() and pending is not None:
                _check_consumed(path, pending)
            i += 1
            continue
        ticks = fence.group("ticks")
        lang = fence.group("info").split()[0].lower() if fence.group("info") else ""
        body, end = _body(path, lines, i + 1, fence.group("indent"), ticks)
        if lang in RUNNABLE:
            skip = pending[1] if pending else None
            blocks.append(Block(Path(path), i + 1, lang, body, skip))
            pending = None
        else:
            _check_consumed(path, pending)
            pending = None
        i = end + 1
    _check_consumed(path, pending)
    return blocks


def _body(path: Path, lines: list[str], start: int, indent: str, ticks: str) -> tuple[str, int]:
    """The text of a block opened just before ``start`` and the index of its closing fence."""
    body: list[str] = []
    j = start
    while j < len(lines):
        stripped = lines[j].strip()
        if stripped.startswith(ticks[0] * len(ticks)) and set(stripped) <= {ticks[0]}:
            break
        line = lines[j]
        body.append(line[len(indent) :] if line.startswith(indent) else line)
        j += 1
    else:
        raise MarkerError(f"{path}:{start}: unclosed fence")
    return "\n".join(body) + "\n", j


def _check_consumed(path: Path, pending: tuple[int, str] | None) -> None:
    if pending is not None:
        raise MarkerError(
            f"{path}:{pending[0]}: `not run` marker is not followed by a python or bash block"
        )


def doc_files(root: Path) -> list[Path]:
    """README.md and docs/*.md under the repository root, in a stable order."""
    files = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    return [f for f in files if f.exists()]


def collect(root: Path) -> list[Block]:
    """Every runnable block of the repository's documentation."""
    return [b for f in doc_files(root) for b in extract(f)]
