"""Matplotlib pictures of a retention result: the cohort heatmap and the retention curves.

Figures are built with `matplotlib.figure.Figure` (no pyplot state, no GUI backend), so they
work in scripts, servers and notebooks alike; notebooks display a returned Figure directly.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from metrics_layer.analysis.retention_periods import period_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from metrics_layer.analysis.retention_result import RetentionResult


def _axes(ax: Any, size: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def _row_label(key: Any, by: list[str], period: Any, sizes: pd.Series) -> str:
    parts = list(key) if isinstance(key, tuple) else [key]
    cohort = period_label(parts[-1], period)
    groups = " · ".join(
        "NULL" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
        for v in parts[:-1]
    )
    n = sizes.get(key)
    size = f"  (n={int(n):,})" if n is not None and not pd.isna(n) else ""
    return f"{groups} · {cohort}{size}" if by else f"{cohort}{size}"


def _title(res: RetentionResult, title: str | None, values: str = "retention") -> str:
    q = res.query
    what = values.replace("_", " ") if values != "retention" else "retention"
    since = ", since entry" if q.period_mode == "since_entry" else ""
    return title or f"{q.name}: {q.period}ly {what} ({q.mode}, {q.cohort_type}{since})"


def _xlabel(q: Any) -> str:
    since = "since entry" if q.period_mode == "since_entry" else "since cohort"
    return f"{q.period}s {since} " + ("(bracket)" if q.brackets else "(period k)")


def heatmap(
    res: RetentionResult, values: str = "retention", ax: Any = None, title: str | None = None
) -> Figure:
    """The cohort triangle as an annotated heatmap; incomplete cells are marked with '*'."""
    q = res.query
    table = res.pivot(values=values)
    complete = res.pivot(values="complete")
    sizes = res.pivot(values="cohort_size").max(axis=1)
    rows, cols = table.shape
    fig, ax = _axes(ax, (max(6.0, 1.0 + 0.75 * cols), max(3.0, 1.2 + 0.38 * rows)))
    data = table.to_numpy(dtype=float, na_value=np.nan) if rows and cols else np.zeros((0, 0))
    share = values in ("retention", "value_retention")
    vmax = (
        1.0
        if values == "retention"
        else (float(np.nanmax(data)) if np.isfinite(data).any() else 1.0)
    )
    image = ax.imshow(
        np.ma.masked_invalid(data),
        cmap="Blues",
        vmin=0.0,
        vmax=vmax or 1.0,
        aspect="auto",
        interpolation="nearest",
    )
    done = complete.to_numpy(dtype=float, na_value=np.nan) if rows and cols else data
    small = rows * cols <= 600
    for i in range(rows):
        for j in range(cols):
            v = data[i, j]
            if math.isnan(v) or not small:
                continue
            text = f"{v:.0%}" if share else f"{v:,.0f}"
            if done[i, j] == 0:
                text += "*"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=8,
                color="white" if v > 0.6 * (vmax or 1.0) else "black",
            )
    ax.set_xticks(range(cols), [str(c) for c in table.columns])
    ax.set_yticks(range(rows), [_row_label(k, res.by, q.period, sizes) for k in table.index])
    ax.set_xlabel(_xlabel(q))
    ax.set_ylabel("cohort" + (f" ({', '.join(res.by)})" if res.by else "") + " (size)")
    ax.set_title(_title(res, title, values))
    bar = fig.colorbar(image, ax=ax, shrink=0.8)
    bar.set_label(values)
    if share:
        from matplotlib.ticker import PercentFormatter

        bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    if small and (done == 0).any():
        ax.annotate(
            "* period not complete yet",
            xy=(1.0, -0.02),
            xycoords="axes fraction",
            ha="right",
            va="top",
            fontsize=8,
            color="dimgray",
            xytext=(0, -24),
            textcoords="offset points",
        )
    return fig


def curve(res: RetentionResult, ax: Any = None, title: str | None = None) -> Figure:
    """Retention by period: thin lines per cohort (complete cells), the size-weighted average
    in bold; with `by`, one average curve per group."""
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    q = res.query
    fig, ax = _axes(ax, (8.0, 4.8))
    df = res.to_pandas()
    avg = res.average_curve()
    done = df[df["complete"].astype(bool)]
    if res.by:
        for key, g in avg.groupby(res.by, dropna=False, sort=True):
            label = " · ".join(str(v) for v in (key if isinstance(key, tuple) else (key,)))
            ax.plot(g["period"], g["retention"], marker="o", linewidth=2, label=label)
    else:
        for i, (_, g) in enumerate(done.groupby("cohort", sort=True)):
            ax.plot(
                g["period"],
                g["retention"],
                color="tab:blue",
                alpha=0.25,
                linewidth=1,
                label="cohorts" if i == 0 else None,
            )
        ax.plot(
            avg["period"],
            avg["retention"],
            color="tab:red",
            marker="o",
            linewidth=2.5,
            label="average (weighted by cohort size)",
        )
    ax.set_xlabel(f"{q.period}s since cohort (period k)")
    ax.set_ylabel("retention" + (" (rolling: k or later)" if q.mode == "rolling" else ""))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.set_title(_title(res, title) + " — complete periods")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper right", fontsize=8)
    return fig
