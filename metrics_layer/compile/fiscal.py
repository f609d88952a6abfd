"""Retail-calendar grains in ibis: fiscal_week, fiscal_month, fiscal_quarter, fiscal_year.

A fiscal period is a run of whole fiscal weeks, so a time is bucketed in two steps: its fiscal
week is a plain week floor (weeks start the day after the year's end weekday), and a small
generated table of the calendar's weeks maps that week to the start of its fiscal month,
quarter and year (an equality join). Spines, period ends, offsets and to-date starts read the
same generated tables, so every analysis places a time in the same period. The tables come
from the pure rules of metrics_layer/retail.py and span the fiscal years holding the calendar
source's [start, end); rows outside them belong to no fiscal period and are left out.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pandas as pd

from metrics_layer.errors import QueryError
from metrics_layer.grain import Grain
from metrics_layer.retail import FISCAL_GRAINS, FiscalWeek, RetailCalendar, is_fiscal

__all__ = ["FISCAL_GRAINS", "Fiscal", "is_fiscal"]

_FIELDS = {
    "fiscal_week": ("start", None, "week"),
    "fiscal_month": ("month_start", "month_end", "month"),
    "fiscal_quarter": ("quarter_start", "quarter_end", "quarter"),
    "fiscal_year": ("year_start", "year_end", None),
}


def _ts(day: _dt.date) -> _dt.datetime:
    return _dt.datetime(day.year, day.month, day.day)


class Fiscal:
    """The generated tables and Python rules of one retail calendar (a Calendar model)."""

    def __init__(self, spec: Any) -> None:
        self.spec = spec
        self.rules: RetailCalendar = spec.retail.rules()
        self.weeks: list[FiscalWeek] = self.rules.weeks(spec.start, spec.end - _dt.timedelta(1))
        self.week_grain = Grain.of("week", self.rules.week_start)

    # ------------------------------------------------------------------ Python
    def period_of(self, moment: _dt.datetime, grain: str) -> tuple[_dt.datetime, _dt.datetime]:
        """(start, end) of the fiscal period holding a naive local datetime."""
        w = self.rules.week_of(moment.date())
        start, end, _ = _FIELDS[grain]
        lo = getattr(w, start)
        hi = getattr(w, end) if end else w.start + _dt.timedelta(days=7)
        return _ts(lo), _ts(hi)

    def floor_literal(self, moment: _dt.datetime, grain: str) -> _dt.datetime:
        return self.period_of(moment, grain)[0]

    def year_start(self, moment: _dt.datetime, years_back: int = 0) -> _dt.datetime:
        """First day of the fiscal year holding `moment`, `years_back` years earlier."""
        closing = self.rules.closing_year(moment.date()) - years_back
        return _ts(self.rules.year_bounds(closing)[0])

    def year_end(self, moment: _dt.datetime) -> _dt.datetime:
        """The day after the fiscal year holding `moment`."""
        return _ts(self.rules.year_bounds(self.rules.closing_year(moment.date()))[1])

    # ------------------------------------------------------------------ tables
    def week_map(self) -> ir.Table:
        """One row per fiscal week: `__fw` (its first day) and each grain's period start."""
        frame = pd.DataFrame(
            {
                "__fw": [_ts(w.start) for w in self.weeks],
                "__fmap_month": [_ts(w.month_start) for w in self.weeks],
                "__fmap_quarter": [_ts(w.quarter_start) for w in self.weeks],
                "__fmap_year": [_ts(w.year_start) for w in self.weeks],
            }
        )
        return ibis.memtable(frame, schema={c: "timestamp" for c in frame.columns})

    def periods(self, grain: str) -> ir.Table:
        """One row per period of a fiscal grain: `__ps` start, `__pe` end (exclusive), `__seq`
        its number in order, `__yr` its year's number and `__pos` its place in that year."""
        start, end, pos = _FIELDS[grain]
        rows: dict[_dt.date, tuple[_dt.date, int, int]] = {}
        years: dict[_dt.date, int] = {}
        for w in self.weeks:
            lo = getattr(w, start)
            hi = getattr(w, end) if end else w.start + _dt.timedelta(days=7)
            years.setdefault(w.year_start, len(years))
            rows.setdefault(lo, (hi, years[w.year_start], getattr(w, pos) if pos else 1))
        frame = pd.DataFrame(
            {
                "__ps": [_ts(k) for k in rows],
                "__pe": [_ts(v[0]) for v in rows.values()],
                "__seq": list(range(len(rows))),
                "__yr": [v[1] for v in rows.values()],
                "__pos": [v[2] for v in rows.values()],
            }
        )
        schema = {"__ps": "timestamp", "__pe": "timestamp", "__seq": "int64", "__yr": "int64"}
        return ibis.memtable(frame, schema={**schema, "__pos": "int64"})

    # ------------------------------------------------------------------ ibis
    def bucket(self, table: ir.Table, column: str, grain: str, out: str) -> ir.Table:
        """`table` with `out` = start of the fiscal period holding `column` (a local time);
        rows outside the calendar's fiscal years are left out (an inner join)."""
        fw = self.week_grain.bucket(table[column])
        if grain == "fiscal_week":
            return table.mutate(**{out: fw})
        marked = table.mutate(__fwk=fw)
        weeks = self.week_map()
        joined = marked.join(weeks, marked["__fwk"] == weeks["__fw"])
        col = "__fmap_" + grain.removeprefix("fiscal_")
        return joined.select(*table.columns, **{out: joined[col]})

    def spine(
        self,
        source: ir.Table,
        lo: ir.Value,
        hi: ir.Value,
        grain: str,
        name: str,
        closed: bool = False,
    ) -> ir.Table:
        """The periods of `grain` overlapping [lo, hi) (or [lo, hi] when `closed`), with
        `__pend` (the period's end) and the period table's numbering columns."""
        p = self.periods(grain)
        ends = {"__lo": lo.cast(dt.timestamp), "__hi": hi.cast(dt.timestamp)}
        reduced = {k: v for k, v in ends.items() if v.op().find(ops.Field)}
        if reduced:
            bounds = source.aggregate(**reduced)
            bounds = bounds.mutate(**{k: v for k, v in ends.items() if k not in reduced})
            both = p.cross_join(bounds)
            lo_v, hi_v = both["__lo"], both["__hi"]
        else:
            both, lo_v, hi_v = p, ends["__lo"], ends["__hi"]
        upper = both["__ps"] <= hi_v if closed else both["__ps"] < hi_v
        kept = both.filter(both["__pe"] > lo_v, upper)
        return kept.select(
            **{name: kept["__ps"]},
            __pend=kept["__pe"],
            __seq=kept["__seq"],
            __yr=kept["__yr"],
            __pos=kept["__pos"],
        )

    def shifted_start(self, spine: ir.Table, grain: str, n: int, unit: str) -> ir.Table:
        """`spine` with `__Q`, the start of the period n `unit`s before each period: the same
        place in the year n years back for fiscal_year offsets (week 5 → week 5), else n
        periods back; NULL where that period does not exist (a 53rd week a year back)."""
        p = self.periods(grain)
        if unit == grain:
            key = [spine["__seq"] - n == p["__seq"]]
        elif unit == "fiscal_year":
            key = [spine["__yr"] - n == p["__yr"], spine["__pos"] == p["__pos"]]
        else:
            raise QueryError(
                f"an offset in {unit}s at grain {grain!r} is not supported: use whole {grain}s "
                "or fiscal years"
            )
        joined = spine.left_join(p, key)
        return joined.select(*spine.columns, __Q=joined["__ps"])


class FiscalPeriod:
    """A fiscal grain as retention's period: the interface of `Grain` that retention uses
    (bucket, index, floor_literal, index_literal, label), written as CASE expressions over the
    calendar's period starts so that a period is a plain value, with no join."""

    week_start = 0  # weeks of retention's context: unused at a fiscal period

    def __init__(self, fiscal: Fiscal, name: str) -> None:
        self.fiscal = fiscal
        self.name = name
        p = fiscal.periods(name).execute()
        self._starts = [pd.Timestamp(v).to_pydatetime() for v in p["__ps"]]
        self._ends = [pd.Timestamp(v).to_pydatetime() for v in p["__pe"]]

    def __str__(self) -> str:
        return self.name

    # Requests holding a FiscalPeriod key the compiled-query cache (engine/keys.py): two
    # periods are the same when they name the same grain of the same calendar definition
    # (the registry's object, which lives as long as the layer).
    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, FiscalPeriod)
            and other.name == self.name
            and other.fiscal.spec is self.fiscal.spec
        )

    def __hash__(self) -> int:
        return hash((self.name, id(self.fiscal.spec)))

    def describe(self) -> str:
        return self.name

    def _cases(self, value: ir.Value, results: list[Any], typ: dt.DataType) -> ir.Value:
        v = value.cast(dt.timestamp) if value.type().is_date() else value
        lo = _literal_ts(self._starts[0])
        branches = [
            (v < _literal_ts(e), ibis.literal(r, type=typ))
            for e, r in zip(self._ends, results, strict=True)
        ]
        return ibis.ifelse(v >= lo, ibis.cases(*branches, else_=ibis.null(typ)), ibis.null(typ))

    def bucket(self, value: ir.Value) -> ir.Value:
        """Start of the fiscal period holding a local time (NULL outside the calendar)."""
        return self._cases(value, self._starts, dt.timestamp)

    floor = bucket

    def index(self, value: ir.Value) -> ir.Value:
        """The period's number in order (so period k is a subtraction)."""
        return self._cases(value, list(range(len(self._starts))), dt.int64)

    def spans(self) -> list[tuple[_dt.datetime, _dt.datetime]]:
        """(start, end) of every period in order: period number i is spans()[i]."""
        return list(zip(self._starts, self._ends, strict=True))

    def floor_literal(self, moment: _dt.datetime | _dt.date) -> _dt.datetime:
        if not isinstance(moment, _dt.datetime):
            moment = _dt.datetime(moment.year, moment.month, moment.day)
        return self.fiscal.floor_literal(moment, self.name)

    def index_literal(self, moment: _dt.datetime | _dt.date) -> int:
        start = self.floor_literal(moment)
        try:
            return self._starts.index(start)
        except ValueError:
            raise QueryError(f"{moment} lies outside the retail calendar's fiscal years") from None

    def label(self, value: Any) -> str:
        ts = pd.Timestamp(value)
        return "NULL" if pd.isna(ts) else f"{ts:%Y-%m-%d}"


def _literal_ts(moment: _dt.datetime) -> ir.Value:
    return ibis.literal(moment, type=dt.timestamp)
