"""Running the `metrics-layer` command in tests: in-process by default, a real process when asked.

In-process runs go through typer's ``CliRunner`` against the real app
(``metrics_layer.cli.app``), so they exercise the same argument parsing, exit codes and
stdout/stderr split as the installed command, without paying ~1-2 s of interpreter start
and imports per call. A few tests per command family still start a real process
(:func:`run_process`) to prove the entry point, the environment and the exit status of an
actual ``python -m metrics_layer.cli``.

Both return a :class:`CliResult` shaped like ``subprocess.CompletedProcess`` (``returncode``,
``stdout``, ``stderr``), so a test reads the same either way. An exception escaping a command
in-process is rendered into ``stderr`` as the traceback the real command would print (and
``returncode`` 1), so "no raw traceback" assertions keep their meaning.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ENV = {"COLUMNS": "160"}


@dataclass(frozen=True)
class CliResult:
    """The outcome of one command: exit status and the two output streams."""

    returncode: int
    stdout: str
    stderr: str


def invoke(
    *args: str, env: Mapping[str, str | None] | None = None, cwd: Path | str | None = None
) -> CliResult:
    """Run ``metrics-layer ARGS`` in this process (``env`` values of None unset a variable)."""
    from typer.testing import CliRunner

    from metrics_layer.cli import app

    full_env: dict[str, str | None] = {"METRICS_LAYER_CONNECTION": None, **DEFAULT_ENV}
    full_env.update(env or {})
    runner = CliRunner()
    with contextlib.chdir(cwd or ROOT):
        res = runner.invoke(app, list(args), env=full_env, catch_exceptions=True)
    stderr = res.stderr
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        assert res.exc_info is not None
        stderr += "".join(traceback.format_exception(*res.exc_info))
    return CliResult(res.exit_code, res.stdout, stderr)


def run_process(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    timeout: float = 300,
) -> CliResult:
    """Run ``python -m metrics_layer.cli ARGS`` as a real process with this checkout first."""
    full_env = {k: v for k, v in os.environ.items() if k != "METRICS_LAYER_CONNECTION"}
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), full_env.get("PYTHONPATH")) if p
    )
    full_env.update(DEFAULT_ENV)
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "metrics_layer.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or ROOT,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)
