"""Terminal side of `metrics-layer check`: progress on stderr and the report on stdout."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

from metrics_layer.checks.report import Report


@contextmanager
def progress_on_stderr(enabled: bool = True) -> Iterator[Callable[[int, int, str], None] | None]:
    """A progress callback: a rich bar when stderr is a terminal, plain lines otherwise."""
    if not enabled:
        yield None
        return
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as bar:
            task = bar.add_task("checks", total=None)

            def update(done: int, total: int, label: str) -> None:
                bar.update(task, completed=done, total=total, description=label)

            yield update
        return

    def line(done: int, total: int, label: str) -> None:
        if done < total:
            sys.stderr.write(f"[{done + 1}/{total}] {label}\n")
            sys.stderr.flush()

    yield line


def quiet_backend(con: Any) -> None:
    """DuckDB draws its own progress bar on long queries; it would garble our output."""
    raw = getattr(con, "raw_sql", None)
    if raw is not None and getattr(con, "name", "") == "duckdb":
        with contextlib.suppress(Exception):  # cosmetic only
            raw("SET enable_progress_bar = false")


def render(report: Report, fmt: str, samples: int = 5) -> None:
    """The report on stdout: a table plus failing samples, JSON, or CSV of the summary rows."""
    if fmt == "json":
        sys.stdout.write(report.to_json(samples=max(samples, 20)) + "\n")
        return
    if fmt == "csv":
        sys.stdout.write(report.to_pandas().to_csv(index=False))
        return

    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(100, int(os.environ.get("COLUMNS", "140"))), highlight=False)
    table = Table(title="checks", show_lines=False)
    columns: tuple[tuple[str, Literal["left", "right"]], ...] = (
        ("", "left"),
        ("kind", "left"),
        ("target", "left"),
        ("rule", "left"),
        ("failures", "right"),
        ("detail", "left"),
    )
    for col, justify in columns:
        table.add_column(col, justify=justify, overflow="fold")
    for r in report.results:
        mark = (
            "[green]PASS[/]"
            if r.passed
            else ("[yellow]WARN[/]" if r.severity == "warn" else "[red]FAIL[/]")
        )
        table.add_row(mark, r.kind, r.target, r.rule, f"{r.failures:,}", r.detail)
    console.print(table)
    for r in report.failed:
        if r.failing.empty:
            continue
        console.print(
            f"\n[bold]{r.target}: {r.rule}[/] — failing "
            f"({min(samples, len(r.failing))} of {r.failures:,} shown)"
        )
        console.print(
            r.failing.head(samples).to_string(index=False, na_rep="NULL", max_colwidth=40),
            markup=False,
        )
    console.print(f"\n{report.summary()}", markup=False)
