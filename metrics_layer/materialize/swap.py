"""Replacing periods on an engine without transactions (Spark SQL): write a new version of
the whole table, then point a view at it.

Spark SQL has no multi-statement transactions, and its plain (parquet) tables no DELETE. So
the materialization's `table` is a view over a version table `<table>__v<run>`. A run writes
the next version, the stored rows outside the periods it replaces plus the fresh rows of
those periods, and then runs `CREATE OR REPLACE VIEW`, a single catalog operation. A reader
sees the old version or the new one, never a mix; a process killed before the view is
replaced leaves the old version in place and an unreferenced version table, which the next
successful run drops. A run is one write (the `batch` size does not apply) and costs a read
and a write of the whole table: fine for marts of aggregates, the usual size of these.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import ibis.expr.types as ir
import sqlglot.expressions as sge

from metrics_layer.errors import QueryError
from metrics_layer.materialize import sqltext as q


def transactional(con: Any) -> bool:
    """Whether DELETE + INSERT can run in one transaction on this connection."""
    return getattr(con, "name", "") != "pyspark"


def version_prefix(table: str) -> str:
    return f"{table}__v"


def replace(
    con: Any,
    table: str,
    schema: str | None,
    catalog: str | None,
    run_id: str,
    grain: str,
    fresh: ir.Table,
    span: tuple[_dt.datetime, _dt.datetime] | None,
    keep_old: bool,
) -> int:
    """Write a version holding `fresh` (the rows of the periods in `span`) and, with
    `keep_old`, the stored rows outside `span`; point the view `table` at it. Returns the
    fresh rows written."""
    database = ibis_database(schema, catalog)
    existing = _current(con, table, database)
    content = fresh
    if keep_old and existing is not None:
        old = existing.cast(fresh.schema())
        if span is not None:
            g = old[grain]
            old = old.filter(g.isnull() | (g < span[0]) | (g >= span[1]))
        content = old.union(fresh, distinct=False)
    version = f"{version_prefix(table)}{run_id[:16]}"
    con.create_table(version, content, database=database, overwrite=True)
    rows = 0
    if span is not None:
        written = con.table(version, database=database)
        g = written[grain]
        rows = int(written.filter((g >= span[0]) & (g < span[1])).count().to_pyarrow().as_py())
    _point_view(con, q.table_ref(table, schema, catalog), q.table_ref(version, schema, catalog),
                table, version, list(fresh.columns))  # fmt: skip
    drop_old_versions(con, table, database, keep=version)
    return rows


def ibis_database(schema: str | None, catalog: str | None) -> Any:
    """ibis's `database=` for a (catalog.)schema: a name, a (catalog, schema) pair or None."""
    if catalog and schema:
        return (catalog, schema)
    return schema or catalog or None


def _current(con: Any, table: str, database: Any) -> ir.Table | None:
    try:
        return con.table(table, database=database)
    except Exception:  # noqa: BLE001 - backends raise their own not-found errors
        return None


def _point_view(
    con: Any, ref: sge.Table, src: sge.Table, table: str, version: str, columns: list[str]
) -> None:
    select = sge.select(*[q.column(c) for c in columns]).from_(src)
    stmt = sge.Create(this=ref, kind="VIEW", expression=select, replace=True)
    try:
        con.raw_sql(stmt.sql(dialect=con.dialect))
    except Exception as exc:
        text = str(exc).strip().splitlines()
        raise QueryError(
            f"cannot point {table!r} at its new version {version!r} "
            f"({text[0] if text else type(exc).__name__}); on Spark a materialization's "
            "table is a view metrics_layer manages: drop a table of that name first"
        ) from None


def drop_old_versions(con: Any, table: str, database: Any, keep: str | None) -> None:
    """Drop version tables other than `keep` (the previous one, and any a killed run left)."""
    prefix = version_prefix(table)
    for name in con.list_tables(database=database):
        if name.startswith(prefix) and name != keep and name[len(prefix) :].isalnum():
            con.drop_table(name, database=database, force=True)
