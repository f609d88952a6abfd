"""Calendar periods of retention as integers, so `k` is a subtraction on every backend.

The index is `Grain.index` (metrics_layer/grain.py): whole periods since a fixed origin, the
same formula in ibis and in Python, so a bound and a row are always placed alike. Weekly
periods follow the query's week start.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import ibis.expr.types as ir

from metrics_layer.grain import Grain

PERIODS: tuple[str, ...] = ("day", "week", "month", "quarter")


def _of(period: Any) -> Any:
    """A Grain, or a fiscal period (compile/fiscal.py FiscalPeriod) with the same methods."""
    return Grain.of(period) if isinstance(period, (str, Grain)) else period


def period_index(local: ir.Value, period: Any) -> ir.IntegerValue:
    """Whole periods since the origin of a local timestamp or date (portable ibis ops only)."""
    return _of(period).index(local)


def py_period_index(value: _dt.datetime | _dt.date, period: Any) -> int:
    """The same index for a Python date or naive local datetime."""
    return _of(period).index_literal(value)  # type: ignore[no-any-return]


def py_period_start(value: _dt.datetime, period: Any) -> _dt.datetime:
    """First instant of the period holding `value` (naive local time)."""
    return _of(period).floor_literal(value)  # type: ignore[no-any-return]


def period_label(value: object, period: Any) -> str:
    """Short human label of a period start: 2024-03-04 (day/week), 2024-03, 2024-Q1."""
    return _of(period).label(value)  # type: ignore[no-any-return]
