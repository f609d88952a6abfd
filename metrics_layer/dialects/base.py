"""The Dialect base class: what an engine can do and how it writes the few formulations that
differ between engines. An engine is a small subclass overriding only its differences (the way
sqlglot's dialects override tables), registered by its ibis backend names."""

from __future__ import annotations

from typing import Any, ClassVar

import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from metrics_layer.errors import QueryError

UTC = dt.Timestamp(timezone="UTC")


class Dialect:
    """An engine family. Capability flags are class attributes; formulations are methods."""

    name: ClassVar[str] = "generic"
    backends: ClassVar[tuple[str, ...]] = ()  # ibis backend names of this family
    compiler: ClassVar[str | None] = None  # module in ibis.backends.sql.compilers
    asof_join: ClassVar[bool] = False  # a native ASOF join, the fast funnel strategy
    asof_sql: ClassVar[bool] = False  # ibis renders an ASOF join as valid SQL (maybe LATERAL)
    exact_median: ClassVar[bool] = False  # an exact median/percentile aggregate exists
    functions: ClassVar[frozenset[str]] = frozenset()  # builtins its formulations use

    def wall_clock(self, ts: ir.Value, zone: str | ir.StringValue, naive: bool) -> ir.Value:
        """Naive wall-clock time in `zone` of `ts` (naive = a timestamp meaning UTC, else an
        instant). Only exact formulations exist; without one it is a QueryError."""
        shown = zone if isinstance(zone, str) else getattr(zone.op(), "value", "of the layer")
        raise QueryError(
            f"converting timestamps to the time zone {shown!r} has no verified "
            f"formulation for {self.label}; use timezone='UTC' there"
        )

    def utc_of(self, wall: ir.Value, zone: str | ir.StringValue) -> ir.Value:
        """The naive UTC timestamp of a naive wall-clock time in `zone`: the inverse of
        `wall_clock`, used where elapsed time counts (rolling windows in hours)."""
        raise QueryError(
            f"converting wall-clock times of {zone!r} to UTC has no verified formulation for "
            f"{self.label}; use timezone='UTC' there"
        )

    def utc_naive(self, ts: ir.Value) -> ir.Value:
        """A timestamp with a zone as the naive UTC timestamp (wall clock in UTC)."""
        return self.wall_clock(ts, "UTC", naive=False)

    def epoch_micros(self, ts: ir.Value) -> ir.Value:
        """Integer microseconds since 1970-01-01 UTC of a timestamp (naive = UTC), exactly."""
        raise QueryError(f"epoch microseconds (funnels) have no formulation for {self.label}")

    def finish_sql(self, queries: list[Any]) -> list[Any]:
        """A last rewrite of the sqlglot trees ibis produced: the derived tables that only
        rename or filter columns folded into their readers (dialects/flatten.py)."""
        from metrics_layer.dialects.flatten import flatten

        return [flatten(q) for q in queries]

    @property
    def label(self) -> str:
        return self.name if self.name != "generic" else "this backend"

    def __repr__(self) -> str:
        return f"<Dialect {self.name}>"
