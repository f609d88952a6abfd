"""The freshness rule of materializations: the watermark's age against `max_lag`.

The watermark is the latest local time the last successful full or incremental run read; a
materialization older than its `max_lag` (or never run) fails the rule, so `layer.check()`
says when dashboards served from it are stale.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from metrics_layer.checks.report import RuleResult
from metrics_layer.definitions.durations import duration_seconds
from metrics_layer.materialize import runlog

if TYPE_CHECKING:
    from metrics_layer.layer import Layer


def freshness_results(layer: Layer, as_of: _dt.datetime | None = None) -> list[RuleResult]:
    """One result per materialization that declares `max_lag`; as_of defaults to now (local)."""
    now = as_of or _dt.datetime.now(ZoneInfo(layer.timezone)).replace(tzinfo=None)
    out = []
    for name, d in layer.registry.project.materializations.items():
        if d.max_lag is None:
            continue
        mark = runlog.last_watermark(layer.con, name)
        limit = _dt.timedelta(seconds=duration_seconds(d.max_lag))
        if mark is None:
            passed, detail = (
                False,
                f"never ran (max_lag {d.max_lag}); run `metrics-layer materialize`",
            )
        else:
            age = now - mark
            passed = age <= limit
            detail = (
                f"watermark {mark:%Y-%m-%d %H:%M:%S} is {_age(age)} old "
                f"({'within' if passed else 'over'} max_lag {d.max_lag})"
            )
        out.append(
            RuleResult("materialization", name, "freshness", passed, int(not passed), detail)
        )
    return out


def _age(delta: _dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"
