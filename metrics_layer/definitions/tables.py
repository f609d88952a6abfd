"""A source's `table:` names a catalog table, never a file.

DuckDB reads files through table names (`exports/secret.csv`, `*.parquet`, `s3://...`), so a
definition could otherwise return any readable file's rows. A table is therefore one to three
identifiers, `table`, `schema.table` or `catalog.schema.table`; the dotted forms are split
into `database:` (what ibis calls the schema, optionally catalog-qualified) and `table:`, so
`table: {{ schema }}.events` finds `events` in that schema on every backend.
"""

from __future__ import annotations

import re
from typing import Any

from metrics_layer.errors import FieldProblem

# Letters, digits, `_` and `$`; `-` inside a part for BigQuery project ids (`my-project`).
_PART = re.compile(r"[^\W\d][\w$]*(?:-[\w$]+)*\Z")
MAX_PARTS = 3


def split_table(data: Any) -> Any:
    """Check and split a raw source mapping's `table` / `database` before model validation."""
    if not isinstance(data, dict):
        return data
    table, database = data.get("table"), data.get("database")
    if isinstance(database, str):
        _check_parts(database, "database", max_parts=MAX_PARTS - 1)
    if not isinstance(table, str):
        return data
    parts = _check_parts(table, "table", max_parts=MAX_PARTS)
    if len(parts) == 1:
        return data
    if database is not None:
        raise FieldProblem(
            "table",
            f"table {table!r} names its schema and database: {database!r} is given too; "
            "write `table: <schema>.<table>` or `database:` with a plain table name, not both",
        )
    return {**data, "table": parts[-1], "database": ".".join(parts[:-1])}


def _check_parts(text: str, field: str, *, max_parts: int) -> list[str]:
    parts = text.split(".")
    shapes = {3: "catalog.schema.table", 2: "schema.table", 1: "a table name"}
    if field == "database":
        shapes = {2: "catalog.schema", 1: "a schema name"}
    if len(parts) > max_parts or not all(_PART.match(p) for p in parts) or _looks_like_file(text):
        what = "file path, glob or URL" if _looks_like_file(text) else "name"
        raise FieldProblem(
            field,
            f"{field} {text!r} is not a catalog {'table' if field == 'table' else 'schema'} "
            f"name (a {what} cannot be read as a table): use {' or '.join(shapes.values())} "
            "made of letters, digits and underscores",
        )
    return parts


def _looks_like_file(text: str) -> bool:
    """`x.csv` splits into valid identifiers, but its author meant a file: say so."""
    return bool(_FILE.search(text))


_FILE = re.compile(
    r"[/\\*?]|://|\.(csv|tsv|json|jsonl|ndjson|parquet|gz|zst|txt|xlsx?|arrow|feather|avro|orc)$",
    re.IGNORECASE,
)
