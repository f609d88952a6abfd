"""The check step of `metrics-layer demo`: run every declared check and say what was caught."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from metrics_layer.checks.runner import run_checks

if TYPE_CHECKING:
    from metrics_layer.layer import Layer

# The demo data spans 2024-01-01 .. 2025-06-30 (UTC); checks look at it from the next morning,
# so freshness passes and only the planted issues fail (orphan workers, the 2025-03-14 visit
# spike, payouts that differ from revenue).
DEMO_AS_OF = "2025-07-01"


def demo_summary(
    layer: Layer, as_of: Any = DEMO_AS_OF, samples: int = 3, progress: Any = None
) -> str:
    """A short readable report: totals, every failed rule, and sample rows of the first ones."""
    from metrics_layer.checks.console import quiet_backend

    quiet_backend(layer.con)
    report = run_checks(layer, as_of=as_of, progress=progress)
    df = report.to_pandas()
    lines = [f"Data checks (as of {as_of}): {report.summary()}"]
    by_kind = df.groupby("kind")["passed"].agg(["count", "sum"])
    for kind, row in by_kind.iterrows():
        lines.append(f"  {kind} rules: {int(row['sum'])} of {int(row['count'])} passed")
    failed = report.failed
    if failed:
        lines.append("Caught:")
        for r in failed:
            lines.append(f"  ✗ {r.target}: {r.rule} — {r.detail}")
        for r in failed[:2]:
            if r.failing.empty:
                continue
            lines.append(
                f"{r.target}: {r.rule}, first {min(samples, len(r.failing))} of {r.failures:,}:"
            )
            text = r.failing.head(samples).to_string(index=False, na_rep="NULL", max_colwidth=30)
            lines.extend("    " + line for line in text.splitlines())
    lines.append(f"Full report: metrics-layer check <defs> -c <db> --as-of {as_of}")
    return "\n".join(lines)
