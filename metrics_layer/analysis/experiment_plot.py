"""Forest plot of an experiment readout: one row per metric and arm, lift with its CI.

Significant rows (p < alpha) are drawn in colour (green up, red down), others in grey; the
zero line is the control. Relative lifts are labelled in percent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from metrics_layer.analysis.experiment_result import ExperimentResult


def forest(res: ExperimentResult, ax: Any = None, title: str | None = None) -> Figure:
    """Draw the readout of `res` into `ax` (or a new figure) and return the figure."""
    import matplotlib

    if ax is None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    df = res.to_pandas()
    q = res.query
    rows = len(df)
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 1.2 + 0.55 * max(rows, 1)))
    else:
        fig = ax.figure
    scale = 100.0 if q.relative else 1.0
    labels = []
    for i, rec in enumerate(df.itertuples(index=False)):
        y = rows - 1 - i
        significant = rec.p_value < q.alpha and rec.se > 0
        color = ("#1a7f37" if rec.lift > 0 else "#cf222e") if significant else "#6e7781"
        lo, hi, mid = rec.ci_low * scale, rec.ci_high * scale, rec.lift * scale
        ax.plot([lo, hi], [y, y], color=color, linewidth=2.5, solid_capstyle="butt")
        ax.plot([mid], [y], "o", color=color, markersize=7)
        unit = "%" if q.relative else ""
        ax.annotate(
            f"{mid:+.2f}{unit}  p={rec.p_value:.3g}",
            (hi, y),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
            color=color,
        )
        labels.append(f"{rec.metric}\n{rec.variant} vs {q.control}")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(range(rows - 1, -1, -1), labels, fontsize=8)
    ax.set_ylim(-0.7, rows - 0.3)
    ax.set_xlabel(
        f"{'relative lift (%)' if q.relative else 'absolute difference'} "
        f"with {1 - q.alpha:.0%} CI" + (" (CUPED)" if q.lookback else "")
    )
    srm = res.srm
    heading = title or f"experiment {q.name}"
    if srm.mismatch:
        heading += f"  —  SRM warning (p = {srm.p_value:.1e})"
    ax.set_title(heading, fontsize=10, color="#b00020" if srm.mismatch else "black")
    ax.margins(x=0.35)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig
