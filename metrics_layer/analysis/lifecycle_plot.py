"""Matplotlib pictures of lifecycle and stickiness results (Figures, no pyplot state)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from metrics_layer.errors import QueryError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from metrics_layer.analysis.lifecycle_result import LifecycleResult, StickinessResult

COLORS = {
    "new": "#2ca02c",
    "returning": "#1f77b4",
    "resurrecting": "#ff7f0e",
    "dormant": "#d62728",
}
MAX_PANELS = 12


def _label(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NULL"
    return str(value)


def _group_key(key: Any) -> str:
    return " · ".join(_label(v) for v in (key if isinstance(key, tuple) else (key,)))


def lifecycle_bars(res: LifecycleResult, ax: Any = None, title: str | None = None) -> Figure:
    """Stacked bars: the positive statuses stacked upwards, dormant downwards from zero."""
    from matplotlib.figure import Figure

    q = res.query
    table = res.pivot()
    if res.by:
        keys = list(dict.fromkeys(k[:-1] if len(k) > 2 else k[0] for k in table.index))
        if len(keys) > MAX_PANELS:
            raise QueryError(
                f"{len(keys)} groups are too many panels to plot (at most {MAX_PANELS}): "
                "plot a lifecycle with fewer by values"
            )
        if ax is not None:
            raise QueryError("a lifecycle with by draws one panel per group: plot it without ax")
        fig = Figure(figsize=(9.0, 2.6 * len(keys) + 0.8), layout="constrained")
        axes = fig.subplots(len(keys), 1, sharex=True, squeeze=False)[:, 0]
        periods = sorted(set(table.index.get_level_values(q.grain.name)))
        for key, axis in zip(keys, axes, strict=True):
            part = table.xs(key, level=tuple(range(len(res.by))) if len(res.by) > 1 else 0)
            _stack(axis, part.reindex(periods), q.grain)  # one time axis for every panel
            axis.set_title(_group_key(key), fontsize=9)
        axes[0].legend(loc="upper left", fontsize=8, ncols=4)
        fig.suptitle(title or f"{q.name}: {q.grain.describe()}ly lifecycle")
        return fig
    if ax is None:
        fig = Figure(figsize=(max(6.0, 1.0 + 0.45 * len(table)), 4.6), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    _stack(ax, table, q.grain)
    ax.legend(loc="upper left", fontsize=8, ncols=4)
    ax.set_title(title or f"{q.name}: {q.grain.describe()}ly lifecycle")
    return fig


def _stack(ax: Axes, table: Any, grain: Any) -> None:
    labels = [grain.label(v) for v in table.index]
    x = np.arange(len(labels))
    up = np.zeros(len(labels))
    for status in ("new", "returning", "resurrecting"):
        values = table[status].fillna(0).to_numpy(dtype=float)
        ax.bar(x, values, bottom=up, color=COLORS[status], label=status, width=0.8)
        up += values
    dormant = table["dormant"].fillna(0).to_numpy(dtype=float)
    ax.bar(x, dormant, color=COLORS["dormant"], label="dormant", width=0.8)
    ax.axhline(0, color="black", linewidth=0.8)
    step = max(1, math.ceil(len(labels) / 24))
    ax.set_xticks(x[::step], labels[::step], rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("entities")
    ax.grid(True, axis="y", alpha=0.3)


def stickiness_bars(
    res: StickinessResult, periods: int = 4, ax: Any = None, title: str | None = None
) -> Figure:
    """Grouped bars of entities by n: the last `periods` periods side by side, or, with `by`,
    the groups of the last period."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    if isinstance(periods, bool) or not isinstance(periods, int) or periods < 1:
        raise QueryError(f"periods must be a positive integer, got {periods!r}")
    q = res.query
    df = res.to_pandas()
    col = q.grain.name
    if ax is None:
        fig = Figure(figsize=(9.0, 4.6), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    if df.empty:
        series: list[tuple[str, Any]] = []
    elif res.by:
        last = df[col].max()
        part = df[df[col] == last]
        series = [(_group_key(k), g) for k, g in part.groupby(res.by, dropna=False, sort=True)]
        shown = f"{q.grain.label(last)}, by {', '.join(res.by)}"
    else:
        starts = sorted(df[col].unique())[-periods:]
        series = [(q.grain.label(s), df[df[col] == s]) for s in starts]
        shown = f"last {len(starts)} {q.grain.name}s"
    width = 0.8 / max(1, len(series))
    for i, (label, g) in enumerate(series):
        offset = (i - (len(series) - 1) / 2) * width
        ax.bar(g["n"].to_numpy() + offset, g["entities"].to_numpy(), width=width, label=label)
    ax.set_xlabel(f"{q.unit.name}s active in the {q.grain.name} (n)")
    ax.set_ylabel("entities")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, axis="y", alpha=0.3)
    if series:
        ax.legend(fontsize=8)
        ax.set_title(title or f"{q.name}: stickiness ({shown})")
    else:
        ax.set_title(title or f"{q.name}: stickiness (no activity)")
    return fig
