"""LifecycleResult and StickinessResult: the long tables plus a pivot and a plot each.

Like every Result they are lazy (nothing runs until data is asked for) and export to pandas,
Arrow and polars, show their SQL for any dialect and the computation in words. `pivot()`
turns the long table into one row per period with a column per status (or per n).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from metrics_layer.result import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from metrics_layer.analysis.lifecycle import ActivityQuery, StickinessQuery


class _ActivityResult(Result):
    @property
    def query(self) -> ActivityQuery:
        return self.meta["query"]  # type: ignore[no-any-return]

    @property
    def by(self) -> list[str]:
        """Output columns of the `by` dimensions."""
        return [out for out, _ in self.query.by]

    @property
    def grain(self) -> str:
        """The name of the period column."""
        return self.query.grain.name

    def _pivot(self, columns: str) -> pd.DataFrame:
        df = self.to_pandas()
        index = [*self.by, self.grain]
        order = list(dict.fromkeys(df[columns]))
        if df.empty:
            return pd.DataFrame(index=pd.MultiIndex.from_arrays([[]] * len(index), names=index))
        table = df.set_index([*index, columns])["entities"].unstack(columns)
        table = table[[c for c in order if c in table.columns]].astype("Int64")
        table.columns.name = columns
        return table.sort_index(na_position="last")


class LifecycleResult(_ActivityResult):
    """Lazy lifecycle table: columns <grain>, [by...], status, entities (dormant negative)."""

    def pivot(self) -> pd.DataFrame:
        """One row per (by group,) period; columns new, returning, resurrecting, dormant."""
        return self._pivot("status")

    def plot(self, ax: Any = None, title: str | None = None) -> Figure:
        """Stacked bars per period: new, returning and resurrecting above zero, dormant below;
        with `by`, one panel per group (pass `ax` only without `by`)."""
        from metrics_layer.analysis.lifecycle_plot import lifecycle_bars

        return lifecycle_bars(self, ax=ax, title=title)


class StickinessResult(_ActivityResult):
    """Lazy stickiness table: columns <grain>, [by...], n, entities."""

    @property
    def query(self) -> StickinessQuery:
        return self.meta["query"]  # type: ignore[no-any-return]

    def pivot(self) -> pd.DataFrame:
        """One row per (by group,) period; one column per n (NULL where a period has fewer
        units, e.g. n = 31 in a 30-day month)."""
        return self._pivot("n")

    def plot(self, periods: int = 4, ax: Any = None, title: str | None = None) -> Figure:
        """Bars of entities by n: one series per period for the last `periods` periods; with
        `by`, one series per group for the last period."""
        from metrics_layer.analysis.lifecycle_plot import stickiness_bars

        return stickiness_bars(self, periods=periods, ax=ax, title=title)
