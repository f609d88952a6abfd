"""An independent pandas implementation of KPI queries, written from the contract text.

It shares no code with metrics_layer. It reads CONTRACT.md §3 and docs/semantics.md literally:

- facts are LEFT-joined many-to-one to a dimension table (a NULL or unknown key finds nothing);
- the query's `where` keeps rows where it is TRUE (SQL three-valued logic: NULL drops the row);
- times are converted from UTC to the layer's timezone; `start` <= local time < `end`; a row
  without a time is in no period (left out with a grain or a bound);
- rows are grouped by the grain's period start (ISO weeks from Monday) and the `by` columns,
  NULL being a group of its own;
- each measure is aggregated over the rows of its own source in each group, restricted to the
  rows its filter makes TRUE; sources are then merged on the group keys, NULL matching NULL;
  a group missing from a source has NULL for that source's measures;
- a ratio is sum(numerator) / sum(denominator) of the group, NULL for a zero or NULL
  denominator; a difference is NULL when either side is;
- with no grain and no `by` there is exactly one row of totals.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

# --------------------------------------------------------------------------- predicates


def _is_null(v: Any) -> bool:
    if v is None or v is pd.NaT or v is pd.NA:
        return True
    return isinstance(v, float) and math.isnan(v)


def _sql_literal(v: Any) -> str:
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    return repr(v)


class Pred:
    """A boolean expression with an SQL rendering and a three-valued evaluation on a frame."""

    def sql(self) -> str:
        raise NotImplementedError

    def truth(self, row: dict[str, Any]) -> bool | None:
        """True, False or None (unknown) for one row."""
        raise NotImplementedError

    def columns(self) -> set[str]:
        raise NotImplementedError

    def mask(self, df: pd.DataFrame) -> pd.Series:
        """Rows where the predicate is TRUE (unknown counts as not TRUE, as in WHERE)."""
        rows = df.to_dict("records")
        return pd.Series([self.truth(r) is True for r in rows], index=df.index, dtype=bool)

    def __repr__(self) -> str:
        return f"<{self.sql()}>"


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


@dataclass(frozen=True, repr=False)
class Cmp(Pred):
    column: str
    op: str
    value: Any

    def sql(self) -> str:
        return f"{self.column} {self.op} {_sql_literal(self.value)}"

    def truth(self, row: dict[str, Any]) -> bool | None:
        v = row[self.column]
        return None if _is_null(v) else bool(_OPS[self.op](v, self.value))

    def columns(self) -> set[str]:
        return {self.column}


@dataclass(frozen=True, repr=False)
class IsNull(Pred):
    column: str
    negated: bool = False

    def sql(self) -> str:
        return f"{self.column} IS {'NOT ' if self.negated else ''}NULL"

    def truth(self, row: dict[str, Any]) -> bool | None:
        return _is_null(row[self.column]) != self.negated

    def columns(self) -> set[str]:
        return {self.column}


@dataclass(frozen=True, repr=False)
class InList(Pred):
    column: str
    values: tuple[Any, ...]
    negated: bool = False

    def sql(self) -> str:
        items = ", ".join(_sql_literal(v) for v in self.values)
        return f"{self.column} {'NOT ' if self.negated else ''}IN ({items})"

    def truth(self, row: dict[str, Any]) -> bool | None:
        v = row[self.column]
        if _is_null(v):
            return None
        return (v in self.values) != self.negated

    def columns(self) -> set[str]:
        return {self.column}


@dataclass(frozen=True, repr=False)
class Between(Pred):
    column: str
    low: Any
    high: Any

    def sql(self) -> str:
        return f"{self.column} BETWEEN {_sql_literal(self.low)} AND {_sql_literal(self.high)}"

    def truth(self, row: dict[str, Any]) -> bool | None:
        v = row[self.column]
        return None if _is_null(v) else bool(self.low <= v <= self.high)

    def columns(self) -> set[str]:
        return {self.column}


@dataclass(frozen=True, repr=False)
class Not(Pred):
    inner: Pred

    def sql(self) -> str:
        return f"NOT ({self.inner.sql()})"

    def truth(self, row: dict[str, Any]) -> bool | None:
        t = self.inner.truth(row)
        return None if t is None else not t

    def columns(self) -> set[str]:
        return self.inner.columns()


@dataclass(frozen=True, repr=False)
class And(Pred):
    left: Pred
    right: Pred

    def sql(self) -> str:
        return f"({self.left.sql()}) AND ({self.right.sql()})"

    def truth(self, row: dict[str, Any]) -> bool | None:
        a, b = self.left.truth(row), self.right.truth(row)
        if a is False or b is False:
            return False
        return None if a is None or b is None else True

    def columns(self) -> set[str]:
        return self.left.columns() | self.right.columns()


@dataclass(frozen=True, repr=False)
class Or(Pred):
    left: Pred
    right: Pred

    def sql(self) -> str:
        return f"({self.left.sql()}) OR ({self.right.sql()})"

    def truth(self, row: dict[str, Any]) -> bool | None:
        a, b = self.left.truth(row), self.right.truth(row)
        if a is True or b is True:
            return True
        return None if a is None or b is None else False

    def columns(self) -> set[str]:
        return self.left.columns() | self.right.columns()


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Measure:
    source: str
    agg: str  # count | count_distinct | sum | avg | min | max | median | percentile
    column: str | None = None  # None: count(*)
    filter: Pred | None = None
    p: float | None = None


@dataclass(frozen=True)
class Ratio:
    numerator: str
    denominator: str


@dataclass(frozen=True)
class Difference:
    left: str
    right: str


@dataclass
class Fact:
    """A fact table: its UTC time column and its key into the dimension table."""

    frame: pd.DataFrame
    time: str
    key: str


@dataclass
class Model:
    facts: dict[str, Fact]
    dimension: pd.DataFrame  # joined many-to-one; its columns are seen as `<prefix>.<column>`
    dimension_key: str
    prefix: str
    measures: dict[str, Measure]
    metrics: dict[str, Ratio | Difference] = field(default_factory=dict)


# --------------------------------------------------------------------------- time


def local_time(ts: pd.Series, tz: str) -> pd.Series:
    """Wall-clock time in `tz` of naive UTC timestamps."""
    return ts.dt.tz_localize("UTC").dt.tz_convert(tz).dt.tz_localize(None)


def period_start(t: pd.Timestamp, grain: str) -> pd.Timestamp:
    """First instant of the period holding `t` (weeks start on Monday)."""
    if grain == "hour":
        return t.replace(minute=0, second=0, microsecond=0, nanosecond=0)
    day = pd.Timestamp(t.year, t.month, t.day)
    if grain == "day":
        return day
    if grain == "week":
        return day - pd.Timedelta(days=t.weekday())
    if grain == "month":
        return pd.Timestamp(t.year, t.month, 1)
    if grain == "quarter":
        return pd.Timestamp(t.year, 3 * ((t.month - 1) // 3) + 1, 1)
    if grain == "year":
        return pd.Timestamp(t.year, 1, 1)
    raise ValueError(grain)


# --------------------------------------------------------------------------- aggregation


def aggregate(measure: Measure, rows: pd.DataFrame) -> Any:
    """One measure over the rows of one group of its source."""
    if measure.filter is not None:
        rows = rows[measure.filter.mask(rows)]
    if measure.agg == "count" and measure.column is None:
        return len(rows)
    values = [v for v in rows[measure.column].tolist() if not _is_null(v)]
    if measure.agg == "count":
        return len(values)
    if measure.agg == "count_distinct":
        return len(set(values))
    if not values:
        return None
    if measure.agg == "sum":
        return sum(values)
    if measure.agg == "avg":
        return float(np.mean(np.array(values, dtype=float)))
    if measure.agg == "min":
        return min(values)
    if measure.agg == "max":
        return max(values)
    if measure.agg == "median":
        return float(np.percentile(np.array(values, dtype=float), 50, method="linear"))
    if measure.agg == "percentile":
        return float(
            np.percentile(np.array(values, dtype=float), 100 * (measure.p or 0), method="linear")
        )
    raise ValueError(measure.agg)


def _key(v: Any) -> Any:
    """A hashable group key in which every kind of NULL is the same None."""
    if _is_null(v):
        return None
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, np.integer):
        return int(v)
    return v


def joined(model: Model, source: str) -> pd.DataFrame:
    """The fact LEFT JOIN the dimension (many-to-one: a NULL or unknown key finds nothing)."""
    fact = model.facts[source]
    dim = model.dimension
    keys = dim[model.dimension_key].tolist()
    assert all(not _is_null(k) for k in keys) and len(set(keys)) == len(keys), "many-to-one"
    lookup = {k: i for i, k in enumerate(keys)}
    out = fact.frame.copy()
    positions = [None if _is_null(k) else lookup.get(_key(k)) for k in out[fact.key].tolist()]
    for col in dim.columns:
        values = dim[col].tolist()
        out[f"{model.prefix}.{col}"] = pd.Series(
            [None if i is None else values[i] for i in positions], index=out.index, dtype=object
        )
    return out


def _bound(value: dt.datetime | None) -> pd.Timestamp | None:
    return None if value is None else pd.Timestamp(value)


def reference_query(
    model: Model,
    metrics: Sequence[str],
    by: Sequence[str] = (),
    grain: str | None = None,
    where: Pred | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    tz: str = "UTC",
    names: dict[str, str] | None = None,
) -> pd.DataFrame:
    """The expected result: key columns (grain, then `by` under `names`), then metrics."""
    names = names or {}
    needed: dict[str, list[str]] = {}

    def need(metric: str) -> None:
        if metric in model.metrics:
            m = model.metrics[metric]
            for part in (m.numerator, m.denominator) if isinstance(m, Ratio) else (m.left, m.right):
                need(part)
        else:
            measure = model.measures[metric]
            needed.setdefault(measure.source, [])
            if metric not in needed[measure.source]:
                needed[measure.source].append(metric)

    for metric in metrics:
        need(metric)

    per_source: list[dict[tuple[Any, ...], dict[str, Any]]] = []
    for source, measure_names in needed.items():
        frame = joined(model, source)
        local = local_time(frame[model.facts[source].time], tz)
        keep = pd.Series(True, index=frame.index)
        if where is not None:
            keep &= where.mask(frame)
        if grain is not None or start is not None or end is not None:
            keep &= local.notna()
        if start is not None:
            keep &= (local >= _bound(start)).fillna(False)
        if end is not None:
            keep &= (local < _bound(end)).fillna(False)
        frame, local = frame[keep], local[keep]
        groups: dict[tuple[Any, ...], list[Any]] = {}
        for idx in frame.index:
            key: tuple[Any, ...] = ()
            if grain is not None:
                key += (period_start(local[idx], grain),)
            key += tuple(_key(frame.at[idx, col]) for col in by)
            groups.setdefault(key, []).append(idx)
        if grain is None and not by:
            groups = {(): list(frame.index)}  # totals: one row even without any rows
        per_source.append(
            {
                key: {m: aggregate(model.measures[m], frame.loc[idx]) for m in measure_names}
                for key, idx in groups.items()
            }
        )

    all_keys: list[tuple[Any, ...]] = []
    for part in per_source:
        for key in part:
            if key not in all_keys:
                all_keys.append(key)

    def value(metric: str, row: dict[str, Any]) -> Any:
        if metric in model.metrics:
            m = model.metrics[metric]
            if isinstance(m, Ratio):
                num, den = value(m.numerator, row), value(m.denominator, row)
                if num is None or den is None or den == 0:
                    return None
                return float(num) / float(den)
            left, right = value(m.left, row), value(m.right, row)
            return None if left is None or right is None else left - right
        return row.get(metric)

    key_columns = ([grain] if grain else []) + [names.get(b, b.rsplit(".", 1)[-1]) for b in by]
    records = []
    for key in all_keys:
        row: dict[str, Any] = {}
        for part in per_source:
            row.update(part.get(key, {}))
        records.append(list(key) + [value(m, row) for m in metrics])
    out = pd.DataFrame(records, columns=key_columns + list(metrics), dtype=object)
    return out
