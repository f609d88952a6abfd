"""The column types of every table the definitions use, known before a query is compiled.

ibis types every expression, so compiling a query needs each column's type, never its data.
They come from, in this order (docs/sql-without-a-connection.md):

1. the connection, when it holds the table (read once per table, under a lock);
2. `schema-snapshot.json` beside the definitions, when loading without a connection
   (written by `metrics-layer schema-snapshot PATH -c URL`);
3. the definitions: `columns: {name: type}` declared on a source, the coarse types of a
   `columns` source check, then types inferred from use (registry/inference.py).

A layer without a connection builds unbound tables from (2) or (3), so `res.sql(dialect)`
works anywhere and the SQL runs unchanged on the real database. Inferred types never change a
number: the one place where a guess would (a median or percentile of what is really a
decimal, which DuckDB rounds to the column's scale) reads the column through an explicit
CAST to float64, the type the compiler gives every median and percentile anyway.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir

from metrics_layer.calendar import CALENDAR_SCHEMA
from metrics_layer.errors import DefinitionError, SchemaError, suggest
from metrics_layer.registry.inference import Inferred, Key, infer

if TYPE_CHECKING:
    from metrics_layer.registry.registry import Registry

SNAPSHOT_FILE = "schema-snapshot.json"
SNAPSHOT_FORMAT = 1
ORIGINS = ("connection", "snapshot", "definitions")


@dataclass(frozen=True)
class TableSchema:
    """Column name → ibis type string of one table, and where the types came from."""

    columns: dict[str, str]
    origin: str  # one of ORIGINS
    table: ir.Table | None = field(default=None, compare=False)  # the connection's own table
    to_float: frozenset[str] = frozenset()  # inferred numbers read by a median or percentile


class Schemas:
    """Where a layer's column types come from; `schema_of` is the Registry's schema callable."""

    def __init__(
        self,
        con: Any,
        *,
        connected: bool,
        snapshot: Mapping[Key, dict[str, str]] | None = None,
        snapshot_path: str | None = None,
    ) -> None:
        self.con = con
        self.connected = connected
        self.snapshot = dict(snapshot or {})
        self.snapshot_path = snapshot_path
        self._registry: Registry | None = None
        self._inferred: Inferred | None = None
        self._tables: dict[Key, TableSchema | None] = {}
        self._lock = threading.RLock()

    def bind(self, registry: Registry) -> Schemas:
        self._registry = registry
        return self

    # ------------------------------------------------------------------ lookups
    def schema_of(self, table: str, database: str | None) -> dict[str, str] | None:
        found = self.get(table, database)
        return None if found is None else found.columns

    def get(self, table: str, database: str | None) -> TableSchema | None:
        """The schema of a table (None: a connected layer whose connection lacks it)."""
        key = (table, database)
        try:
            return self._tables[key]
        except KeyError:
            pass
        with self._lock:
            if key not in self._tables:
                self._tables[key] = self._read(key)
            return self._tables[key]

    def origin(self, table: str, database: str | None) -> str | None:
        found = self.get(table, database)
        return None if found is None else found.origin

    def note(self, table: str, database: str | None) -> str:
        """A hint for an unknown column of a table whose types come from the definitions."""
        if self.origin(table, database) != "definitions":
            return ""
        return (
            f" (no connection: table {table!r} has only the columns the definitions use; "
            "declare others under the source's `columns:` or load with a schema snapshot)"
        )

    def _read(self, key: Key) -> TableSchema | None:
        table = _connection_table(self.con, *key)
        if table is not None:
            columns = {name: str(typ) for name, typ in table.schema().items()}
            return TableSchema(columns, "connection", table=table)
        if self.connected:
            return None
        if key in self.snapshot:
            return TableSchema(dict(self.snapshot[key]), "snapshot")
        return self._from_definitions(key)

    def _from_definitions(self, key: Key) -> TableSchema:
        reg = self._registry
        if reg is None:
            return TableSchema({}, "definitions")
        if self._inferred is None:
            self._inferred = infer(reg)
        known: dict[Key, dict[str, str]] = dict(self.snapshot)
        for name, src in reg.sources.items():
            if src.calendar is not None:
                known[(reg.table_name(name), src.database)] = dict(CALENDAR_SCHEMA)
        columns = self._inferred.types(key, known)
        exact = set(self._inferred.hints.get(key, {}))
        to_float = {
            c
            for c in self._inferred.to_float.get(key, set())
            if c not in exact and dt.dtype(columns[c]).is_floating()
        }
        return TableSchema(columns, "definitions", to_float=frozenset(to_float))

    # ------------------------------------------------------------------ tables
    def table(self, reg: Registry, source: str) -> ir.Table:
        """The ibis table of a source: the connection's, or an unbound one of known types."""
        src = reg.sources[source]
        name = reg.table_name(source)
        found = self.get(name, src.database)
        if found is None:
            from metrics_layer.registry.schema_check import list_tables

            raise SchemaError(
                f"source {source!r}: table {name!r} not found in the connection"
                f"{suggest(name, list_tables(self.con))}",
                reg.locate("sources", source, *(("table",) if src.table else ())),
            )
        if found.table is not None:
            return found.table
        t = ibis.table(ibis.schema(found.columns), name=name, database=src.database)
        if found.to_float:  # not `.cast()`, which ibis drops as a no-op on a float64 column
            t = t.mutate(
                **{c: ops.Cast(t[c], dt.float64).to_expr() for c in sorted(found.to_float)}
            )
        return t


def _connection_table(con: Any, table: str, database: str | None) -> ir.Table | None:
    if con is None:
        return None
    try:
        return con.table(table, database=database) if database else con.table(table)
    except Exception:  # noqa: BLE001 - backends raise different errors for a missing table
        return None


def schemas_for(con: Any, path: str | Path | None, *, connected: bool) -> Schemas:
    """The schema sources of a layer loaded from `path` (a snapshot is read only without a
    connection: with one, the connection is the truth)."""
    snapshot_file = snapshot_path(path) if path is not None and not connected else None
    if snapshot_file is not None and snapshot_file.is_file():
        return Schemas(
            con,
            connected=connected,
            snapshot=read_snapshot(snapshot_file),
            snapshot_path=str(snapshot_file),
        )
    return Schemas(con, connected=connected)


# ---------------------------------------------------------------------- snapshot files
def snapshot_path(path: str | Path) -> Path:
    """`PATH/schema-snapshot.json` for a folder of definitions; beside it for a single file."""
    p = Path(path)
    return (p if p.is_dir() else p.parent) / SNAPSHOT_FILE


def read_snapshot(path: str | Path) -> dict[Key, dict[str, str]]:
    """The tables of a snapshot file; a malformed one is a DefinitionError naming the file."""
    where = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DefinitionError(f"{where}: not a readable schema snapshot ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != SNAPSHOT_FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise DefinitionError(
            f"{where}: schema snapshot format {found!r} is not {SNAPSHOT_FORMAT}; "
            "write it again with `metrics-layer schema-snapshot PATH -c URL`"
        )
    tables = data.get("tables")
    if not isinstance(tables, list):
        raise DefinitionError(f"{where}: `tables` must be a list of tables")
    out: dict[Key, dict[str, str]] = {}
    for i, entry in enumerate(tables):
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and isinstance(entry.get("columns"), dict)
            and isinstance(entry.get("database"), str | None)
        ):
            raise DefinitionError(
                f"{where}: tables[{i}] needs name (text), database (text or null) and columns"
            )
        columns: dict[str, str] = {}
        for col, typ in entry["columns"].items():
            try:
                columns[str(col)] = str(dt.dtype(str(typ)))
            except Exception:  # noqa: BLE001 - ibis raises several error types for bad types
                raise DefinitionError(
                    f"{where}: table {entry['name']!r} column {col!r}: unknown type {typ!r}"
                ) from None
        out[(entry["name"], entry["database"])] = columns
    return out


def snapshot_text(tables: Mapping[Key, Mapping[str, str]], backend: str) -> str:
    """Stable, diff-friendly JSON: tables sorted by name, columns in the table's own order."""
    entries = [
        {"name": name, "database": database, "columns": dict(tables[(name, database)])}
        for name, database in sorted(tables, key=lambda k: (k[0], k[1] or ""))
    ]
    data = {"format": SNAPSHOT_FORMAT, "backend": backend, "tables": entries}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def used_tables(reg: Registry) -> list[Key]:
    """Every (table, database) the definitions read (generated calendars need none)."""
    keys = {
        (reg.table_name(name), src.database)
        for name, src in reg.sources.items()
        if src.calendar is None
    }
    return sorted(keys, key=lambda k: (k[0], k[1] or ""))
