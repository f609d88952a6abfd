"""Checks: validation rules of metric values and data checks of source tables.

`run_checks` evaluates them as ibis queries and returns a `Report` (see docs/checks.md).
Imports are lazy: the definition models import `metrics_layer.checks.models` while loading,
and that must not pull in ibis or the layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from metrics_layer.checks.report import CheckError, Report, RuleResult

__all__ = ["CheckError", "Report", "RuleResult", "demo_summary", "run_checks"]


def run_checks(layer: Any, **kwargs: Any) -> Report:
    """Evaluate metric validation rules and source checks (see `checks.runner.run_checks`)."""
    from metrics_layer.checks.runner import run_checks as run

    return run(layer, **kwargs)


def demo_summary(layer: Any, **kwargs: Any) -> str:
    """A short readable report of the checks on the demo data (see `checks.demo`)."""
    from metrics_layer.checks.demo import demo_summary as summary

    return summary(layer, **kwargs)


def __getattr__(name: str) -> Any:
    if name in ("CheckError", "Report", "RuleResult"):
        from metrics_layer.checks import report

        return getattr(report, name)
    raise AttributeError(f"module 'metrics_layer.checks' has no attribute {name!r}")
