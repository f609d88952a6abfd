"""Declared column types of a source's table (`columns: {name: type}`).

They let a layer compile exact SQL without a connection: an ibis type string per column
(`int64`, `float64`, `decimal(18,2)`, `string`, `boolean`, `date`, `timestamp`,
`timestamp('UTC')`, ...). Each is parsed at load, so a misspelt type fails at its own line.
See docs/sql-without-a-connection.md for which source of types wins.
"""

from __future__ import annotations

from typing import Annotated

import ibis.expr.datatypes as dt
from pydantic import AfterValidator, Field

from metrics_layer.errors import suggest

# The common spellings, for suggestions (ibis accepts more, e.g. int32, array<string>).
COMMON_TYPES = (
    "boolean",
    "int8",
    "int16",
    "int32",
    "int64",
    "float32",
    "float64",
    "decimal(18,2)",
    "string",
    "date",
    "time",
    "timestamp",
    "timestamp('UTC')",
    "interval",
    "json",
    "uuid",
    "binary",
)


def column_type(text: str) -> dt.DataType:
    """The ibis type of a declared type string; ValueError with close matches otherwise."""
    try:
        return dt.dtype(text.strip())
    except Exception:  # noqa: BLE001 - ibis raises several error types for bad type strings
        raise ValueError(
            f"unknown column type {text!r}{suggest(text.strip().lower(), COMMON_TYPES)}: use an "
            "ibis type such as int64, float64, decimal(18,2), string, boolean, date or timestamp"
        ) from None


def _check(text: str) -> str:
    column_type(text)
    return text.strip()


ColumnType = Annotated[str, AfterValidator(_check)]
Columns = Annotated[dict[str, ColumnType], Field(default_factory=dict)]
