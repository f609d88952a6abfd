"""Every fenced python and bash block of README.md and docs/*.md runs against the demo data.

The demo database (``metrics-layer demo`` at a small size) is built once per session in a
temporary folder laid out like a checkout: ``metric_defs/`` (a copy of the repository's)
and ``data/marketplace.duckdb``, so blocks run exactly as written from the repository root.

- Python blocks of one file share one namespace and run in file order (a block may use what
  an earlier block of the same file defined); running one block alone first runs the
  earlier blocks of its file. The namespace starts with ``ibis``, ``ml`` and ``layer``
  loaded as in the README's first example, the layer the reference pages talk about.
- Bash blocks run with ``bash -euo pipefail`` in a fresh copy of that folder (so a command
  may write files, and no DuckDB lock is shared with the python blocks), with the venv's
  ``bin`` first on PATH and this checkout first on PYTHONPATH.
- A block preceded by ``<!-- not run: reason -->`` is reported as skipped with its reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.docs.blocks import Block, collect, doc_files, extract

ROOT = Path(__file__).resolve().parents[2]
DEMO_EVENTS = 20_000  # small enough to build in ~1 s, large enough for every funnel step
BASH_TIMEOUT = 180

BLOCKS = collect(ROOT)


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ``metric_defs/`` and ``data/marketplace.duckdb``, built once."""
    from metrics_layer.demo.generate import generate

    base = tmp_path_factory.mktemp("docs-demo")
    shutil.copytree(ROOT / "metric_defs", base / "metric_defs")
    (base / "data").mkdir()
    generate(base / "data" / "marketplace.duckdb", events=DEMO_EVENTS)
    return base


_PRELUDE = """
import ibis
import metrics_layer as ml

layer = ml.load("metric_defs/", con=ibis.duckdb.connect("data/marketplace.duckdb"))
"""


def _namespace() -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    exec(_PRELUDE, namespace)
    return namespace


@dataclass
class _FileRun:
    """The shared namespace of one file's python blocks and how far it has run."""

    namespace: dict[str, Any] = field(default_factory=_namespace)
    done: set[int] = field(default_factory=set)  # fence lines already executed
    failed: str | None = None  # id of the block that failed, poisoning later ones


_RUNS: dict[Path, _FileRun] = {}


def _exec_python(block: Block, run: _FileRun) -> None:
    # leading newlines make tracebacks point at the real line of the Markdown file
    code = compile("\n" * block.line + block.code, str(block.path), "exec")
    try:
        exec(code, run.namespace)
    except BaseException:
        run.failed = block.id
        raise
    finally:
        run.done.add(block.line)


@pytest.fixture
def in_demo_dir(demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(demo_dir)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return demo_dir


def _close_figures() -> None:
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def run_python(block: Block, runs: dict[Path, _FileRun]) -> _FileRun:
    """Run `block` in its file's namespace, first running the earlier blocks not yet run."""
    run = runs.get(block.path)
    if run is None:
        run = runs[block.path] = _FileRun()
    for earlier in extract(block.path):
        if run.failed:
            pytest.fail(
                f"an earlier block of {block.path.name} failed: {run.failed}", pytrace=False
            )
        if earlier.line >= block.line:
            break
        if earlier.lang == "python" and not earlier.skip and earlier.line not in run.done:
            _exec_python(earlier, run)
    try:
        _exec_python(block, run)
    finally:
        _close_figures()
    return run


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.lang == "python"], ids=lambda b: b.id)
def test_python_block(block: Block, in_demo_dir: Path) -> None:
    if block.skip:
        pytest.skip(f"{block.id} not run: {block.skip}")
    run_python(block, _RUNS)


def _bash_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env["MPLBACKEND"] = "Agg"
    env.pop("METRICS_LAYER_CONNECTION", None)
    return env


def run_bash(block: Block, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a bash block in `cwd`: stops at the first failing command, even inside a pipe."""
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block.code],
        cwd=cwd,
        env=_bash_env(),
        capture_output=True,
        text=True,
        timeout=BASH_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.lang == "bash"], ids=lambda b: b.id)
def test_bash_block(block: Block, demo_dir: Path, tmp_path: Path) -> None:
    if block.skip:
        pytest.skip(f"{block.id} not run: {block.skip}")
    work = tmp_path / "repo"
    shutil.copytree(demo_dir, work)
    proc = run_bash(block, work)
    if proc.returncode != 0:
        pytest.fail(
            f"{block.path}:{block.line}: exit {proc.returncode}\n"
            f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}",
            pytrace=False,
        )


def test_every_doc_file_is_collected() -> None:
    """The harness sees the README and every docs page (a rename cannot drop one silently)."""
    names = {p.name for p in doc_files(ROOT)}
    assert "README.md" in names
    assert names >= {p.name for p in (ROOT / "docs").glob("*.md")}
    assert any(b.path.name == "README.md" and b.lang == "python" for b in BLOCKS)


# --------------------------------------------------------------------------- the harness itself


def _page(tmp_path: Path, *blocks: str) -> list[Block]:
    path = tmp_path / "page.md"
    path.write_text("# Page\n\n" + "\ntext\n\n".join(blocks), encoding="utf-8")
    return extract(path)


def _bare(blocks: list[Block]) -> dict[Path, _FileRun]:
    """A run without the demo prelude, for pages that do not need the demo layer."""
    return {blocks[0].path: _FileRun(namespace={"__name__": "__docs__"})}


def test_python_blocks_of_a_file_share_a_namespace_in_order(tmp_path: Path) -> None:
    first, skipped, last = _page(
        tmp_path,
        "```python\nx = 1\n```\n",
        "<!-- not run: would stop the run -->\n```python\nx = 100\n```\n",
        "```python\ny = x + 1\n```\n",
    )
    assert skipped.skip
    runs = _bare([first])
    run = run_python(last, runs)  # alone: the first block runs before it, the skipped one not
    assert (run.namespace["x"], run.namespace["y"]) == (1, 2)
    assert run.done == {first.line, last.line}


def test_a_failing_python_block_fails_the_later_ones_and_names_its_line(tmp_path: Path) -> None:
    broken, later = _page(
        tmp_path, "```python\nok = True\nraise ValueError('boom')\n```\n", "```python\nz = 1\n```\n"
    )
    runs = _bare([broken])
    with pytest.raises(ValueError, match="boom") as info:
        run_python(broken, runs)
    frame = info.traceback[-1]
    assert (Path(str(frame.path)).name, frame.lineno + 1) == ("page.md", broken.line + 2)
    with pytest.raises(
        pytest.fail.Exception, match=f"earlier block of page.md failed: {broken.id}"
    ):
        run_python(later, runs)


@pytest.mark.parametrize("code", ["false\necho reached\n", "false | cat\necho reached\n"])
def test_a_bash_block_stops_at_its_first_failing_command(tmp_path: Path, code: str) -> None:
    (block,) = _page(tmp_path, f"```bash\n{code}```\n")
    proc = run_bash(block, tmp_path)
    assert proc.returncode != 0
    assert "reached" not in proc.stdout


def test_bash_blocks_run_this_checkout_with_the_venv_first(tmp_path: Path) -> None:
    (block,) = _page(
        tmp_path,
        "```bash\ncommand -v python\n"
        "python -c 'import metrics_layer, pathlib; print(pathlib.Path(metrics_layer.__file__).parent.parent)'\n```\n",
    )
    proc = run_bash(block, tmp_path)
    assert proc.returncode == 0, proc.stderr
    python, root = proc.stdout.split()
    assert Path(python).parent == Path(sys.executable).parent
    assert Path(root) == ROOT
