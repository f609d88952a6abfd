"""Exports: Arrow fetched from the backend is the source of truth; pandas and polars derive
from it without losing a value.

Through pandas' numpy types an int64 column with a NULL becomes float64
(9007199254740993 -> 9007199254740992.0) and NaN becomes the same as NULL. Here an integer
or boolean column with NULLs becomes pandas' nullable Int64 / boolean, a float column with
NULLs a nullable Float64 whose NaN stays NaN (not NA), decimals stay `decimal.Decimal` with
their scale; columns without NULLs keep the plain numpy types ibis gives.
"""

from __future__ import annotations

from typing import Any

import ibis
import pyarrow as pa
import pyarrow.types as pat


def conform(table: pa.Table, target: pa.Schema, schema: ibis.Schema, backend: str) -> pa.Table:
    """The fetched table with the column names and Arrow types of the expression's schema
    (`target`: `schema` in Arrow, as ibis's own `to_pyarrow` gives them); a table that has
    them already is returned as it is."""
    if table.schema.equals(target):  # the usual case, checked first: once per request
        return table
    if table.column_names != target.names:
        table = table.rename_columns(target.names)
        if table.schema.equals(target):
            return table
    if backend == "duckdb":
        from ibis.backends.duckdb.converter import DuckDBPyArrowData as Data
    else:
        from ibis.formats.pyarrow import PyArrowData as Data
    return Data.convert_table(table, schema)


def to_pandas(table: pa.Table, schema: ibis.Schema, backend: str, exact: bool = True) -> Any:
    """A pandas frame of the Arrow table, exact (see the module docstring); `exact=False`
    gives ibis's own conversion (ints with NULLs as float64), for internal callers written
    against it."""
    import pandas as pd

    if backend == "duckdb":
        from ibis.backends.duckdb.converter import DuckDBPandasData as Data
    else:
        from ibis.formats.pandas import PandasData as Data
    columns: dict[str, Any] = {}
    nullable: dict[str, Any] = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        if exact and col.null_count and _nullable_kind(col.type):
            nullable[name] = _nullable(col)
            columns[name] = col.to_pylist()
        elif pat.is_nested(col.type) or pat.is_dictionary(col.type) or col.null_count:
            columns[name] = col.to_pylist()
        else:
            columns[name] = col.to_pandas()
    df = Data.convert_table(pd.DataFrame(columns), schema)
    for name, values in nullable.items():
        df[name] = values
    return df


def _nullable_kind(typ: pa.DataType) -> bool:
    return bool(pat.is_integer(typ) or pat.is_floating(typ) or pat.is_boolean(typ))


def _nullable(col: pa.ChunkedArray) -> Any:
    import numpy as np
    import pandas as pd

    mask = col.is_null().to_numpy(zero_copy_only=False)
    if pat.is_boolean(col.type):
        values = col.fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
        return pd.arrays.BooleanArray(values, mask)
    if pat.is_floating(col.type):
        values = col.cast(pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False)
        return pd.arrays.FloatingArray(np.asarray(values, dtype="float64"), mask)
    values = col.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    return pd.arrays.IntegerArray(np.asarray(values, dtype="int64"), mask)


def to_polars(table: pa.Table) -> Any:
    import polars as pl

    return pl.from_arrow(table)
