"""A plain-pandas reading of CONTRACT.md §7 (units and per-unit values), sharing nothing with
the ibis implementation: Python loops over entities, no joins, no group-bys in the engine.

- exposures with a NULL entity, arm or time are ignored; only those with start <= time < end
  (naive UTC wall clock) count; an entity's t0 is its first such exposure, its arm the arm
  of its exposures, and an entity with two or more distinct arms is dropped (and counted);
- a unit's value of a measure uses the rows of its entity with t0 <= ts < t0 + window (from
  t0 on without a window); the CUPED copy uses t0 - lookback <= ts < t0; a unit without rows
  has 0 (sum, count) or 0 (distinct count of the entity = any matching row);
- the per-arm sums are n, Σc and Σc·c' of the metric's components, summed in Python floats.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pandas as pd

Row = dict


def units(
    exposures: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> tuple[dict[object, tuple[str, pd.Timestamp]], int]:
    """entity -> (arm, t0) for single-arm entities, and the count of multi-arm entities."""
    seen: dict[object, list[tuple[str, pd.Timestamp]]] = {}
    for rec in exposures.to_dict("records"):
        e, arm, ts = rec["user_id"], rec["variant"], rec["exposed_at"]
        if _null(e) or _null(arm) or _null(ts):
            continue
        if start is not None and ts < start:
            continue
        if end is not None and ts >= end:
            continue
        seen.setdefault(int(e), []).append((str(arm), ts))
    out, dropped = {}, 0
    for e, rows in seen.items():
        arms = {a for a, _ in rows}
        if len(arms) > 1:
            dropped += 1
            continue
        out[e] = (rows[0][0], min(t for _, t in rows))
    return out, dropped


def unit_values(
    unit_map: dict[object, tuple[str, pd.Timestamp]],
    events: pd.DataFrame,
    measure: Callable[[list[Row]], float],
    window: pd.Timedelta | None,
    lookback: pd.Timedelta | None = None,
) -> dict[object, tuple[float, float]]:
    """entity -> (value after exposure, value in the lookback before it)."""
    by_entity: dict[object, list[Row]] = {}
    for rec in events.to_dict("records"):
        if _null(rec["user_id"]) or _null(rec["ts"]):
            continue
        by_entity.setdefault(int(rec["user_id"]), []).append(rec)
    out = {}
    for e, (_, t0) in unit_map.items():
        rows = by_entity.get(e, [])
        post = [r for r in rows if r["ts"] >= t0 and (window is None or r["ts"] < t0 + window)]
        pre = [r for r in rows if lookback is not None and t0 - lookback <= r["ts"] < t0]
        out[e] = (measure(post), measure(pre))
    return out


def arm_sums(
    unit_map: dict[object, tuple[str, pd.Timestamp]],
    components: Sequence[dict[object, float]],
) -> dict[str, dict[str, float]]:
    """arm -> {'n': units, 's{i}': Σc_i, 'p{i}_{j}': Σc_i·c_j} over single-arm units."""
    out: dict[str, dict[str, float]] = {}
    for e, (arm, _) in unit_map.items():
        acc = out.setdefault(arm, {"n": 0})
        acc["n"] += 1
        vals = [c[e] for c in components]
        for i, a in enumerate(vals):
            acc[f"s{i}"] = acc.get(f"s{i}", 0.0) + a
            for j in range(i, len(vals)):
                acc[f"p{i}_{j}"] = acc.get(f"p{i}_{j}", 0.0) + a * vals[j]
    return out


# measures of the test definitions (tests/experiments/helpers.py), row by row
def revenue(rows: list[Row]) -> float:
    return float(sum(r["amount"] for r in rows if not _null(r["amount"])))


def orders(rows: list[Row]) -> float:
    return float(len(rows))


def buyer(rows: list[Row]) -> float:
    return 1.0 if any(r["kind"] == "buy" for r in rows) else 0.0


def amount_count(rows: list[Row]) -> float:
    return float(sum(1 for r in rows if not _null(r["amount"])))


def _null(v: object) -> bool:
    return v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v))
