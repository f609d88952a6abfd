"""From the per-arm sums the engine returns to the readout table, the SRM and the dropped units.

The sums table has one row per arm (and a NULL-arm row counting the entities exposed to two
or more arms); this module reads it into Moments per (metric, arm) and applies
experiment_stats to every non-control arm against control.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from metrics_layer.analysis.experiment_compile import Layout, N, layout
from metrics_layer.analysis.experiment_stats import (
    Moments,
    arm_value,
    compare,
    moments,
    srm_p_value,
)

if TYPE_CHECKING:
    from metrics_layer.analysis.experiment import ExperimentQuery

COLUMNS = [
    "metric",
    "variant",
    "units",
    "value",
    "control_units",
    "control_value",
    "lift",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
]
SRM_THRESHOLD = 0.001  # GrowthBook's default warning level (Eppo uses the same)


@dataclass(frozen=True)
class Srm:
    """Sample-ratio-mismatch check: χ² p-value of the units per arm against the weights."""

    p_value: float
    units: dict[str, int]
    weights: dict[str, float]

    @property
    def mismatch(self) -> bool:
        """True when p < 0.001: the split is not what the weights say (GrowthBook's default)."""
        return self.p_value < SRM_THRESHOLD


@dataclass(frozen=True)
class Readout:
    table: pd.DataFrame
    srm: Srm
    multiple_exposures: int
    thetas: dict[tuple[str, str], float | None] = field(default_factory=dict)


def read_sums(q: ExperimentQuery, sums: pd.DataFrame) -> Readout:
    """The readout of an executed sums table (one row per arm, NULL arm = multi-arm units)."""
    lay = layout(q)
    rows: dict[str, Any] = {}
    dropped = 0
    for rec in sums.to_dict("records"):
        arm = rec["arm"]
        if arm is None or (isinstance(arm, float) and math.isnan(arm)):
            dropped = int(rec[N])
        else:
            rows[str(arm)] = rec
    arms = _arms(q, rows)
    units = {a: int(rows[a][N]) if a in rows else 0 for a in arms}
    if q.weights:
        declared_weights = dict(q.weights)
        weights = {a: float(declared_weights.get(a, 0.0)) for a in arms}
    else:
        weights = {a: 1.0 for a in arms}
    srm = Srm(srm_p_value(list(units.values()), list(weights.values())), units, weights)
    if units.get(q.control, 0) == 0:
        warnings.warn(
            f"experiment {q.name!r}: control arm {q.control!r} has no exposed units "
            f"(arms seen: {sorted(rows)}); every lift is reported as 0 with p = 1",
            stacklevel=3,
        )
    out, thetas = [], {}
    for k, shape in enumerate(q.metrics):
        control = _moments(rows.get(q.control), lay, k, shape.binary, bool(q.lookback))
        for arm in arms:
            if arm == q.control:
                continue
            treat = _moments(rows.get(arm), lay, k, shape.binary, bool(q.lookback))
            kind = "ratio" if shape.kind == "ratio" else "mean"
            effect = compare(
                control,
                treat,
                kind,
                cuped=bool(q.lookback),
                relative=q.relative,
                alpha=q.alpha,
            )
            thetas[(shape.name, arm)] = effect.theta
            out.append(
                {
                    "metric": shape.name,
                    "variant": arm,
                    "units": treat.n,
                    "value": arm_value(treat, kind),
                    "control_units": control.n,
                    "control_value": arm_value(control, kind),
                    "lift": effect.lift,
                    "se": effect.se,
                    "ci_low": effect.ci_low,
                    "ci_high": effect.ci_high,
                    "p_value": effect.p_value,
                }
            )
    table = pd.DataFrame(out, columns=COLUMNS)
    table["units"] = table["units"].astype("int64")
    table["control_units"] = table["control_units"].astype("int64")
    return Readout(table, srm, dropped, thetas)


def _arms(q: ExperimentQuery, rows: dict[str, Any]) -> list[str]:
    """Control first, then the declared arms, then any other arm seen (sorted)."""
    declared = [a for a, _ in q.weights] if q.weights else []
    seen = sorted(a for a in rows if a not in declared)
    out = [q.control]
    out += [a for a in declared if a != q.control]
    out += [a for a in seen if a != q.control]
    return out


def _moments(
    rec: dict[str, Any] | None, lay: Layout, k: int, binary: tuple[bool, ...], cuped: bool
) -> Moments:
    comps = len(lay.components[k])
    flags = binary + binary if cuped else binary
    if rec is None:
        return moments(0, [0.0] * comps, _zero_products(comps), flags)
    sums = [_num(rec[lay.sum_column(k, i)]) for i in range(comps)]
    products = {
        (i, j): _num(rec[lay.product_column(k, i, j)])
        for i in range(comps)
        for j in range(i, comps)
    }
    return moments(int(rec[N]), sums, products, flags)


def _zero_products(k: int) -> dict[tuple[int, int], float]:
    return {(i, j): 0.0 for i in range(k) for j in range(i, k)}


def _num(value: Any) -> float:
    """A sum from the engine (NULL when the arm has no rows at all) as a float."""
    if value is None:
        return 0.0
    f = float(value)
    return 0.0 if math.isnan(f) else f
