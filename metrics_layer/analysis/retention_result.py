"""RetentionResult: the long retention table plus the shapes analysts reach for first.

`pivot()` is the classic cohort triangle, `average_curve()` the size-weighted mean curve over
complete cells only (an in-progress period would drag the average down), `plot()` a heatmap
or curve as a matplotlib Figure. All of them work from the one executed long table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from metrics_layer.errors import QueryError, suggest
from metrics_layer.result import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from metrics_layer.analysis.retention import RetentionQuery

PIVOT_VALUES = ("retention", "active", "cohort_size", "complete", "value", "value_retention")


class RetentionResult(Result):
    """Lazy retention table: columns cohort, [by...], cohort_size, period, active, retention,
    complete. Nothing runs until data is asked for; the data is fetched once and reused."""

    @property
    def query(self) -> RetentionQuery:
        return self.meta["query"]  # type: ignore[no-any-return]

    @property
    def by(self) -> list[str]:
        """Output columns of the `by` dimensions."""
        return [out for out, _ in self.query.by]

    def pivot(self, values: str = "retention", complete_only: bool = False) -> pd.DataFrame:
        """The cohort triangle: one row per cohort (per by group), one column per period.

        values: "retention" (share, default), "active" (counts), "cohort_size", "complete",
        or (with `value=`) "value" and "value_retention". With brackets the columns are the
        bracket labels ("0-0", "1-1", "2-7", ...).
        complete_only: blank out (NaN) the cells of periods that have not ended yet.
        Cells beyond the last observed period are NaN, which gives the triangle its shape.
        """
        if values in ("value", "value_retention") and self.query.value is None:
            raise QueryError(f"pivot values {values!r} need a retention asked with value=")
        if values not in PIVOT_VALUES:
            raise QueryError(
                f"unknown pivot values {values!r}{suggest(values, PIVOT_VALUES)}: "
                f"use one of {', '.join(PIVOT_VALUES)}"
            )
        df = self.to_pandas()
        index = [*self.by, "cohort"]
        if complete_only and values != "complete":
            df[values] = df[values].where(df["complete"].astype(bool))
        if df.empty:
            return pd.DataFrame(
                index=pd.MultiIndex.from_arrays([[]] * len(index), names=index)
                if len(index) > 1
                else pd.Index([], name="cohort")
            )
        # set_index + unstack, not pivot_table: only existing (by, cohort) pairs become rows,
        # and a NULL by value stays a row of its own
        table = df.set_index([*index, "period"])[values].unstack("period")
        table = table.sort_index(na_position="last")
        if values == "active":
            table = table.astype("Int64")
        brackets = self.query.brackets
        table.columns = [
            f"{brackets[int(c)][0]}-{brackets[int(c)][1]}" if brackets else int(c)
            for c in table.columns
        ]
        table.columns.name = "bracket" if brackets else "period"
        return table

    def average_curve(self) -> pd.DataFrame:
        """Mean retention per period, weighted by cohort size, over complete cells only.

        retention(k) = sum(active) / sum(cohort_size) over the cohorts whose period k has
        ended (= the size-weighted mean of their retention). Columns: [by...], period,
        cohorts (how many contributed), cohort_size (their total size), active, retention.
        Periods without a complete cell are left out.
        """
        df = self.to_pandas()
        keys = [*self.by, "period"]
        done = df[df["complete"].astype(bool)]
        out = (
            done.groupby(keys, dropna=False, sort=True)
            .agg(
                cohorts=("cohort", "size"),
                cohort_size=("cohort_size", "sum"),
                active=("active", "sum"),
            )
            .reset_index()
        )
        out["retention"] = out["active"].astype(float) / out["cohort_size"].astype(float)
        return out[[*keys, "cohorts", "cohort_size", "active", "retention"]]

    def plot(
        self,
        kind: str = "heatmap",
        values: str = "retention",
        ax: Any = None,
        title: str | None = None,
    ) -> Figure:
        """A matplotlib Figure: "heatmap" (the annotated triangle) or "curve" (one line per
        cohort, the weighted average curve in bold). Pass `ax` to draw into your own axes."""
        from metrics_layer.analysis.retention_plot import curve, heatmap

        if kind == "heatmap":
            return heatmap(self, values=values, ax=ax, title=title)
        if kind == "curve":
            return curve(self, ax=ax, title=title)
        raise QueryError(
            f"unknown plot kind {kind!r}{suggest(kind, ('heatmap', 'curve'))}: "
            "use 'heatmap' or 'curve'"
        )
