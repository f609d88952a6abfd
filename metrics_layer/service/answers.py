"""Tabular answers: executed with a row cap, encoded as JSON, CSV or Arrow IPC by `Accept`.

JSON is `{"columns": [...], "rows": [[...], ...], "truncated": bool}` with timestamps as
ISO-8601 text and NaN as null; CSV and Arrow carry the flag in the `X-Truncated` header (and
Arrow also in the schema metadata). A plain query is capped in the database (`LIMIT cap + 1`),
so a huge answer is never fetched whole.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import math
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from metrics_layer.result import Result

JSON = "application/json"
CSV = "text/csv"
ARROW = "application/vnd.apache.arrow.stream"


@dataclass(frozen=True)
class Answer:
    table: pa.Table
    truncated: bool

    @property
    def rows(self) -> int:
        return int(self.table.num_rows)


def execute(result: Result, cap: int) -> Answer:
    """Run a result, keeping at most `cap` rows (and saying whether there were more)."""
    if type(result) is Result and result.kind in ("query", "dimension_values"):
        # through the layer's engine: requests run concurrently, each on its own connection
        table = result.head_pyarrow(cap + 1)
    else:
        table = pa.Table.from_pandas(result.to_pandas(), preserve_index=False)
    truncated = table.num_rows > cap
    return Answer(table.slice(0, cap) if truncated else table, truncated)


def media_type(accept: str | None) -> str:
    """The answer's type: the first of CSV or Arrow named in Accept, else JSON."""
    for part in (accept or "").split(","):
        kind = part.split(";")[0].strip().lower()
        if kind in (CSV, ARROW, JSON):
            return kind
    return JSON


def encode(answer: Answer, kind: str) -> tuple[bytes, dict[str, str]]:
    headers = {"X-Truncated": "true" if answer.truncated else "false"}
    if kind == CSV:
        buf = io.BytesIO()
        pacsv.write_csv(_csv_safe(answer.table), buf)
        return buf.getvalue(), headers
    if kind == ARROW:
        table = answer.table.replace_schema_metadata(
            {
                **(answer.table.schema.metadata or {}),
                b"truncated": str(answer.truncated).lower().encode(),
            }
        )
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return sink.getvalue().to_pybytes(), headers
    body = {
        "columns": answer.table.column_names,
        "rows": [[_json_value(v) for v in row.values()] for row in answer.table.to_pylist()],
        "truncated": answer.truncated,
    }
    return json.dumps(body, separators=(",", ":")).encode(), headers


def _csv_safe(table: pa.Table) -> pa.Table:
    """Arrow's CSV writer has no writer for some types (lists, structs): write those as JSON."""
    cols = []
    for col in table.columns:
        if pa.types.is_nested(col.type):
            cols.append(pa.array([json.dumps(v, default=str) for v in col.to_pylist()]))
        else:
            cols.append(col)
    return pa.table(cols, names=table.column_names)


def _json_value(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dt.datetime | dt.date | dt.time):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return v.total_seconds()
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, list):
        return [_json_value(x) for x in v]
    if isinstance(v, dict):
        return {k: _json_value(x) for k, x in v.items()}
    return v
