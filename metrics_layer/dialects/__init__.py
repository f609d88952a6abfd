"""Per-engine capabilities and formulations, as small tables of differences.

`dialect("postgres")` is the Dialect of an ibis backend (or sqlglot dialect) name: its flags
(`asof_join`, `asof_sql`, `exact_median`), its exact formulations (`wall_clock`,
`epoch_micros`) and its ibis compiler. `render_sql` (dialects/sql.py) turns an expression
compiled for one engine into SQL text for another. Everything engine-specific lives
here, so analyses ask a flag instead of comparing backend names.
"""

from __future__ import annotations

from metrics_layer.dialects.base import Dialect
from metrics_layer.dialects.engines import ENGINES

_ALIASES = {"spark": "pyspark", "postgresql": "postgres"}
_BY_BACKEND: dict[str, Dialect] = {b: cls() for cls in ENGINES for b in cls.backends}
GENERIC = Dialect()


def canonical(name: str) -> str:
    """An ibis backend name for a dialect name ('spark' -> 'pyspark', 'postgresql' -> 'postgres')."""
    low = name.lower()
    return _ALIASES.get(low, low)


def dialect(backend: str | None) -> Dialect:
    """The Dialect of an ibis backend or sqlglot dialect name; a generic one (no capabilities,
    no formulations) for engines without a table here."""
    if backend is None:
        return GENERIC
    return _BY_BACKEND.get(canonical(backend), GENERIC)


def family(backend: str) -> str | None:
    """duckdb, postgres, pyspark, bigquery, snowflake, trino or clickhouse; None if unknown."""
    d = dialect(backend)
    return None if d is GENERIC else d.name


__all__ = [
    "GENERIC",
    "Dialect",
    "canonical",
    "compile_sql",
    "dialect",
    "family",
    "portable",
    "render_sql",
]

from metrics_layer.dialects.sql import compile_sql, portable, render_sql  # noqa: E402
