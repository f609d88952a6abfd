"""ExperimentResult: the readout table, SRM, dropped multi-arm units, SQL, plan and a forest plot.

The expression returns only per-arm sums; they are fetched once (on the first access of
`to_pandas()`, `srm` or `multiple_exposures`) and the statistics computed from them in Python.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import pandas as pd

from metrics_layer.result import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from metrics_layer.analysis.experiment import ExperimentQuery
    from metrics_layer.analysis.experiment_readout import Readout, Srm


class ExperimentResult(Result):
    """Lazy A/B readout: one row per metric and non-control arm (CONTRACT.md §7 columns)."""

    @property
    def query(self) -> ExperimentQuery:
        return self.meta["query"]  # type: ignore[no-any-return]

    def sums(self) -> pd.DataFrame:
        """The per-arm sums the engine returned (arm, n, s{k}_{i}, p{k}_{i}_{j}); NULL arm =
        entities dropped for having seen two or more arms."""
        return self._readout()[0].copy()

    def _readout(self, fresh: bool = False) -> tuple[pd.DataFrame, Readout]:
        """The per-arm sums and the statistics computed from them. `to_pandas()` runs the
        query again each time (fresh=True); `srm`, `multiple_exposures` and `thetas` describe
        the last readout fetched (running the query when none was)."""
        from metrics_layer.analysis.experiment_readout import read_sums

        last: tuple[pd.DataFrame, Readout] | None = getattr(self, "_last_readout", None)
        if last is None or fresh:
            sums = Result.to_pandas(self)  # through the layer's engine (thread-safe)
            last = (sums, read_sums(self.query, sums))
            with self._lock:
                self._last_readout = last
        return last

    def to_pandas(self) -> pd.DataFrame:
        return self._readout(fresh=True)[1].table.copy()

    @property
    def srm(self) -> Srm:
        """`srm.p_value` and `srm.units` (arm -> units after dropping multi-arm entities)."""
        return self._readout()[1].srm

    @property
    def multiple_exposures(self) -> int:
        """Entities dropped from every arm for having been exposed to two or more arms."""
        return self._readout()[1].multiple_exposures

    @property
    def thetas(self) -> dict[tuple[str, str], float | None]:
        """CUPED θ per (metric, arm); None where CUPED is off or fell back to unadjusted."""
        return dict(self._readout()[1].thetas)

    @property
    def columns(self) -> list[str]:
        from metrics_layer.analysis.experiment_readout import COLUMNS

        return list(COLUMNS)

    def plot(self, ax: Any = None, title: str | None = None) -> Figure:
        """Forest plot: each metric's lift per arm with its confidence interval."""
        from metrics_layer.analysis.experiment_plot import forest

        return forest(self, ax=ax, title=title)

    def _repr_html_(self) -> str:
        df = self.to_pandas()
        q, srm = self.query, self.srm
        units = ", ".join(f"{html.escape(a)} {n:,}" for a, n in srm.units.items())
        head = (
            f"<p><b>experiment {html.escape(q.name)}</b> · units {units} · "
            f"SRM p = {srm.p_value:.4g} · multiple exposures dropped: {self.multiple_exposures:,}</p>"
        )
        if srm.mismatch:
            head += (
                '<p style="color:#b00020"><b>Warning: sample ratio mismatch</b> (SRM p = '
                f"{srm.p_value:.2e} &lt; 0.001): the split of units does not match the weights, "
                "so the assignment or the exposure logging is broken; do not trust the lifts.</p>"
            )
        return head + str(df.to_html(index=False, na_rep="NaN"))
