"""Readable values in check details: periods as dates, numbers without float noise."""

from __future__ import annotations

import datetime as _dt
import decimal
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd


def value(v: Any) -> str:
    if v is None or v is pd.NaT:
        return "NULL"
    if isinstance(v, float):
        if math.isnan(v):
            return "NULL"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if v == int(v) and abs(v) < 1e15:
            return f"{int(v):,}"
        return f"{v:,.4g}" if abs(v) >= 1e6 else f"{v:.6g}"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int | decimal.Decimal):
        return str(v)
    if isinstance(v, pd.Timestamp | _dt.datetime):
        ts = pd.Timestamp(v)
        return str(ts.date().isoformat() if ts == ts.normalize() else ts.isoformat(sep=" "))
    if hasattr(v, "isoformat"):
        return str(v.isoformat())
    try:
        if pd.isna(v):
            return "NULL"
    except (TypeError, ValueError):
        pass
    return str(v)


def bound(v: Any) -> str:
    return "-∞" if v is None else value(v)


def percent(x: float) -> str:
    return f"{x * 100:+.1f}%" if math.isfinite(x) else ("+inf%" if x > 0 else "-inf%")


def period_label(row: pd.Series, period: str | None, groups: Sequence[str]) -> str:
    text = value(row[period]) if period else "total"
    if groups:
        text += " (" + ", ".join(f"{g}={value(row[g])}" for g in groups) + ")"
    return text


def examples(df: pd.DataFrame, describe: Any, n: int = 3) -> str:
    """'a; b; c, ...' for the first rows of a failing frame."""
    items = [describe(row) for _, row in df.head(n).iterrows()]
    more = ", ..." if len(df) > n else ""
    return "; ".join(items) + more


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"
