"""Matplotlib pictures of a funnel result: funnel bars and conversion over time.

Figures are built with `matplotlib.figure.Figure` (no pyplot state, no GUI backend), so they
work in scripts, servers and notebooks alike; notebooks display a returned Figure directly.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from metrics_layer.analysis.funnel_result import FunnelResult


def _axes(ax: Any, size: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def _label(value: Any) -> str:
    if isinstance(value, tuple):
        return " · ".join(_label(v) for v in value)
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "NULL"
    if hasattr(value, "strftime"):
        return str(value.strftime("%Y-%m-%d"))
    return str(value)


def _pct(x: Any) -> str:
    return "–" if x is None or pd.isna(x) else f"{100 * float(x):.1f}%"


def _groups(df: pd.DataFrame, keys: list[str], top: int) -> list[tuple[Any, pd.DataFrame]]:
    """Groups of the table, largest step-1 first, at most `top`."""
    if not keys:
        return [(None, df)]
    grouped = list(df.groupby(keys, dropna=False, sort=False))
    size = {str(k): int(g.loc[g["step"] == 1, "entities"].sum()) for k, g in grouped}
    grouped.sort(key=lambda kg: -size[str(kg[0])])
    return [(k[0] if isinstance(k, tuple) and len(k) == 1 else k, g) for k, g in grouped[:top]]


def bars(res: FunnelResult, ax: Any = None, title: str | None = None, top: int = 8) -> Figure:
    """Entities per step as bars labelled with conversion from step 1 (and from the previous
    step); with `by`, one bar per group at each step."""
    q = res.query
    df = res.to_pandas()
    names = q.step_names
    groups = _groups(df, res.by, top)
    n = max(len(groups), 1)
    fig, ax = _axes(ax, (max(6.0, 1.6 * len(names) + 0.5 * n), 4.5))
    x = np.arange(len(names))
    width = 0.8 / n
    colors = [f"C{i % 10}" for i in range(n)]
    for i, (key, g) in enumerate(groups):
        g = g.set_index("step_name").reindex(names)
        heights = g["entities"].fillna(0).astype(float).to_numpy()
        offset = (i - (n - 1) / 2) * width
        label = _label(key) if res.by else None
        rects = ax.bar(x + offset, heights, width * 0.95, color=colors[i], label=label)
        texts = []
        for k, name in enumerate(names):
            conv = g.loc[name, "conversion"]
            if n == 1 and k > 0:
                texts.append(f"{_pct(conv)}\n({_pct(g.loc[name, 'step_conversion'])} of prev.)")
            else:
                texts.append(_pct(conv))
        ax.bar_label(rects, labels=texts, padding=2, fontsize=8 if n > 1 else 9)
    ax.set_xticks(x, [f"{k}. {name}" for k, name in enumerate(names, 1)])
    ax.set_ylabel(f"entities ({q.entity})")
    top_y = max((float(g["entities"].max()) for _, g in groups if not g.empty), default=1.0)
    ax.set_ylim(0, max(top_y, 1.0) * 1.25)
    ax.spines[["top", "right"]].set_visible(False)
    if res.by:
        ax.legend(title=", ".join(res.by), fontsize=8, frameon=False)
    ax.set_title(title or f"{q.name}: {q.order} funnel, window {q.window}")
    return fig


def trend(res: FunnelResult, ax: Any = None, title: str | None = None, top: int = 8) -> Figure:
    """Conversion from step 1 to the last step per period of step 1 (one line per group)."""
    q = res.query
    assert q.grain is not None
    df = res.to_pandas()
    last = df[df["step"] == q.n_steps]
    fig, ax = _axes(ax, (8.0, 4.5))
    for key, g in _groups(last, res.by, top):
        g = g.sort_values(q.grain)
        ax.plot(
            g[q.grain],
            g["conversion"].astype(float),
            marker="o",
            markersize=3,
            label=_label(key) if res.by else None,
        )
    ax.set_ylabel(f"conversion {q.step_names[0]} → {q.step_names[-1]}")
    ax.set_xlabel(f"{q.grain} of step 1")
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{100 * v:.0f}%")
    ax.set_ylim(bottom=0)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    if res.by:
        ax.legend(title=", ".join(res.by), fontsize=8, frameon=False)
    ax.set_title(title or f"{q.name}: conversion by {q.grain} of step 1 (window {q.window})")
    return fig
