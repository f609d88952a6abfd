"""Quarantine tables: the failing rows of each checked source, `<table>__quarantine`, written
next to the source table (in its `database:`), all of a run's tables or none.

A table is the layer's only if its name is listed in the registry table OWNERS of its
database, which the layer creates and fills; a table of that name that the layer did not
write is the user's, and the run stops with an error instead of replacing it. Every new
table is first built under a staging name, so a failing query (a check that cannot be
evaluated, a full disk) leaves the old tables as they were; the staged tables then replace
the old ones in one transaction. Table names come from validated definitions and are quoted
as identifiers, never pasted as text.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import sqlglot.expressions as sge

from metrics_layer.checks.report import CheckError
from metrics_layer.checks.source_rules import FAILED_COLUMN

OWNERS = "_metrics_layer_tables"
SUFFIX = "__quarantine"
_STAGING = "__ml_staging"


@dataclass(frozen=True)
class Target:
    source: str
    table: str  # the quarantine table's name
    database: str | None  # the source's database (None: the connection's current one)
    rows: ir.Table

    @property
    def staging(self) -> str:
        return self.table + _STAGING

    @property
    def shown(self) -> str:
        return f"{self.database}.{self.table}" if self.database else self.table


def target(layer: Any, source: str, rows: ir.Table) -> Target:
    src = layer.registry.sources[source]
    return Target(source, f"{layer.registry.table_name(source)}{SUFFIX}", src.database, rows)


def write_all(con: Any, targets: Sequence[Target]) -> dict[str, str]:
    """Write every target's rows, or none of them; source -> the table written."""
    _no_shared_tables(targets)
    owned = {db: _owned(con, db) for db in {t.database for t in targets}}
    for t in targets:
        for name in (t.table, t.staging):
            if not _exists(con, name, t.database):
                continue
            if name not in owned[t.database] or not _looks_written(con, name, t.database):
                raise CheckError(
                    f"source {t.source!r}: table {t.shown if name == t.table else name!r} exists "
                    f"and was not written by metrics-layer (not listed in {OWNERS}); drop or "
                    "rename it, or check this source without quarantine"
                )
    for db in owned:
        names = [n for t in targets if t.database == db for n in (t.table, t.staging)]
        _register(con, db, [n for n in names if n not in owned[db]])
    staged: list[Target] = []
    try:
        for t in targets:
            con.create_table(t.staging, t.rows, database=t.database, overwrite=True)
            staged.append(t)
        _swap(con, targets)
    except Exception as exc:  # noqa: BLE001 - backends raise their own errors
        for t in staged:
            _drop_quietly(con, t)
        if isinstance(exc, CheckError):
            raise
        raise CheckError(
            f"cannot write the quarantine tables (none was changed): {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}"
        ) from exc
    return {t.source: t.shown for t in targets}


def _no_shared_tables(targets: Sequence[Target]) -> None:
    seen: dict[tuple[str | None, str], str] = {}
    for t in targets:
        key = (t.database, t.table)
        if key in seen:
            raise CheckError(
                f"sources {seen[key]!r} and {t.source!r} would both write the quarantine table "
                f"{t.shown!r}; quarantine them in separate runs"
            )
        seen[key] = t.source


def _exists(con: Any, name: str, database: str | None) -> bool:
    """Whether a table or view exists (asked by name: ibis 12's DuckDB list_tables fails on
    duckdb 2)."""
    try:
        con.table(name, database=database) if database else con.table(name)
    except Exception:  # noqa: BLE001 - backends raise their own not-found errors
        return False
    return True


def _looks_written(con: Any, name: str, database: str | None) -> bool:
    """A listed name whose table lacks the failed-checks column was dropped and made again by
    someone else: it is not the layer's any more."""
    table = con.table(name, database=database) if database else con.table(name)
    return FAILED_COLUMN in table.columns


def _owned(con: Any, database: str | None) -> set[str]:
    if not _exists(con, OWNERS, database):
        return set()
    table = con.table(OWNERS, database=database) if database else con.table(OWNERS)
    return set(table.select("table_name").distinct().to_pyarrow()["table_name"].to_pylist())


def _register(con: Any, database: str | None, names: list[str]) -> None:
    """List names in OWNERS (created on first use) before any table of that name is made,
    so a run that stops half-way leaves only tables the next run may replace."""
    if not names:
        return
    now = _dt.datetime.now(_dt.UTC).replace(tzinfo=None)
    rows = ibis.memtable(
        {"table_name": names, "written_at": [now] * len(names)},
        schema={"table_name": "string", "written_at": "timestamp"},
    )
    if _exists(con, OWNERS, database):
        con.insert(OWNERS, rows, database=database)
    else:
        con.create_table(OWNERS, rows, database=database)


def _swap(con: Any, targets: Sequence[Target]) -> None:
    """Replace each old table by its staged one, in one transaction. Spark SQL has no
    multi-statement transactions: there each table is swapped on its own (docs/backends.md)."""
    dialect = con.dialect
    transactional = getattr(con, "name", "") != "pyspark"
    statements = ["BEGIN"] if transactional else []
    for t in targets:
        final, staging = _qualified(t.database, t.table), _qualified(t.database, t.staging)
        new_name = sge.to_identifier(t.table, quoted=True)
        statements.append(f"DROP TABLE IF EXISTS {final.sql(dialect)}")
        statements.append(f"ALTER TABLE {staging.sql(dialect)} RENAME TO {new_name.sql(dialect)}")
    try:
        for statement in statements:
            con.raw_sql(statement)
        if transactional:
            con.raw_sql("COMMIT")
    except Exception:
        if transactional:
            with contextlib.suppress(Exception):  # nothing left to undo
                con.raw_sql("ROLLBACK")
        raise


def _qualified(database: str | None, table: str) -> sge.Table:
    parts = (database.split(".") if database else []) + [table]
    ids = [sge.to_identifier(p, quoted=True) for p in parts]
    if len(ids) == 1:
        return sge.Table(this=ids[0])
    if len(ids) == 2:
        return sge.Table(this=ids[1], db=ids[0])
    return sge.Table(this=ids[2], db=ids[1], catalog=ids[0])


def _drop_quietly(con: Any, t: Target) -> None:
    with contextlib.suppress(Exception):  # the staged table is the layer's: a later run replaces it
        con.drop_table(t.staging, database=t.database, force=True)
