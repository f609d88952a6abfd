"""FunnelResult: the long funnel table plus the shapes analysts reach for first.

`pivot()` puts steps in columns (one row per group or period), `plot()` draws the classic
funnel bars (grouped with `by`) or, for a funnel asked with a `grain`, conversion over time.
All of them work from the one executed long table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from metrics_layer.analysis.funnel_spec import TIME_COLUMNS
from metrics_layer.errors import QueryError, suggest
from metrics_layer.result import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from metrics_layer.analysis.funnel_spec import FunnelQuery

PIVOT_VALUES = ("entities", "conversion", "step_conversion", "median_seconds", "avg_seconds")


class FunnelResult(Result):
    """Lazy funnel table: columns [grain], [by...], step, step_name, entities, conversion,
    step_conversion, median_seconds, avg_seconds (not with times=False). Nothing runs until
    data is asked for."""

    @property
    def query(self) -> FunnelQuery:
        return self.meta["query"]  # type: ignore[no-any-return]

    @property
    def by(self) -> list[str]:
        """Output columns of the `by` dimensions."""
        return [out for out, _ in self.query.by]

    @property
    def keys(self) -> list[str]:
        """Columns identifying one funnel in the table: the grain column, then the by columns."""
        return ([self.query.grain] if self.query.grain else []) + self.by

    def pivot(self, values: str = "entities") -> pd.DataFrame:
        """One row per group (period, by values), one column per step name."""
        if values in TIME_COLUMNS and not self.query.times:
            raise QueryError(
                f"pivot({values!r}) needs the times: ask the funnel with times=True (the default)"
            )
        if values not in PIVOT_VALUES:
            raise QueryError(
                f"unknown pivot values {values!r}{suggest(values, PIVOT_VALUES)}: "
                f"use one of {', '.join(PIVOT_VALUES)}"
            )
        df = self.to_pandas()
        names = self.query.step_names
        if not self.keys:
            row = df.set_index("step_name")[values].reindex(names)
            return pd.DataFrame([row.to_numpy()], columns=names)
        table = df.pivot_table(
            index=self.keys,
            columns="step_name",
            values=values,
            aggfunc="first",
            dropna=False,
            observed=True,
        )
        return table.reindex(columns=names)

    def plot(
        self, kind: str | None = None, ax: Any = None, title: str | None = None, top: int = 8
    ) -> Figure:
        """A matplotlib Figure: "bars" (funnel; grouped bars with `by`, the `top` groups by
        step-1 entities) or "trend" (conversion to the last step per period; needs a grain).
        Default: "trend" for a funnel asked with a grain, else "bars"."""
        from metrics_layer.analysis.funnel_plot import bars, trend

        chosen = kind or ("trend" if self.query.grain else "bars")
        if chosen == "trend":
            if not self.query.grain:
                raise QueryError(
                    "plot(kind='trend') needs a funnel asked with grain=... "
                    "(e.g. layer.funnel(name, grain='week'))"
                )
            return trend(self, ax=ax, title=title, top=top)
        if chosen == "bars":
            return bars(self, ax=ax, title=title, top=top)
        raise QueryError(
            f"unknown plot kind {chosen!r}{suggest(chosen, ('bars', 'trend'))}: "
            "use 'bars' or 'trend'"
        )
