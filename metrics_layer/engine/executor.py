"""Running compiled queries from many threads: one connection strategy per backend.

A DuckDB connection runs one statement at a time ("connection is busy" when threads share
it), and so does a psycopg connection. So:

- DuckDB: each thread runs on its own cursor of the layer's database (`cursor()` of the raw
  connection: same database and settings, its own statement state), created on first use
  and kept for that thread; the parameterised SQL is executed there and Arrow fetched
  directly.
- PostgreSQL: a small pool of raw psycopg connections opened with the backend's own
  connection arguments (and its session settings: UTC, search path); a thread borrows one
  per query. A backend that cannot reconnect (built from an existing connection) shares
  that one connection under a lock.
- Anything else (PySpark, other ibis backends): the backend's own `to_pyarrow`, with the
  values bound into the expression; PySpark sessions do their own locking.

In-memory tables (ibis memtables) live in one connection, so an expression that uses them
runs through ibis on the layer's connection, under a lock.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import weakref
from collections.abc import Iterator, Mapping
from typing import Any

import ibis.expr.operations as ops
import pyarrow as pa

from metrics_layer.engine.compiled import Compiled
from metrics_layer.engine.exports import conform

POOL_SIZE = 4


class Executor:
    """Runs a compiled query with bound values and returns its Arrow table."""

    def __init__(self, con: Any, backend: str) -> None:
        self.con = con
        self.backend = backend
        self._lock = threading.RLock()

    def arrow(self, compiled: Compiled, values: Mapping[int, Any]) -> pa.Table:
        expr = compiled.bind(values)
        if self.backend == "pyspark":
            return _spark_arrow(self.con, expr)
        with self._lock:
            return self.con.to_pyarrow(expr)

    def _uses_memtables(self, compiled: Compiled) -> bool:
        found = getattr(compiled, "_memtables", None)
        if found is None:
            found = bool(compiled.expr.op().find(ops.InMemoryTable))
            compiled._memtables = found  # type: ignore[attr-defined]
        return found

    def close(self) -> None:
        """Release connections this executor opened (not the layer's own)."""


class DuckDBExecutor(Executor):
    """A cursor per thread on the layer's DuckDB database."""

    def __init__(self, con: Any, backend: str) -> None:
        super().__init__(con, backend)
        self._local = threading.local()
        self._cursors: weakref.WeakSet[Any] = weakref.WeakSet()

    def cursor(self) -> Any:
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            with self._lock:
                cur = self.con.con.cursor()
            self._local.cursor = cur
        return cur

    def arrow(self, compiled: Compiled, values: Mapping[int, Any]) -> pa.Table:
        if self._uses_memtables(compiled):
            return super().arrow(compiled, values)
        sql = compiled.param_sql("duckdb")
        params = compiled.bound_params(sql, values)
        cur = self.cursor()
        table = cur.sql(sql.text, params=params or None).to_arrow_table()
        return conform(table, compiled.schema, "duckdb")


class PostgresExecutor(Executor):
    """A small pool of psycopg connections with the backend's settings."""

    def __init__(self, con: Any, backend: str, size: int = POOL_SIZE) -> None:
        super().__init__(con, backend)
        self._size = size
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue()
        self._opened: list[Any] = []
        self._can_open = bool(getattr(con, "_can_reconnect", True)) and hasattr(con, "_con_kwargs")

    @contextlib.contextmanager
    def connection(self) -> Iterator[Any]:
        if not self._can_open:
            with self._lock:
                yield self.con.con
            return
        try:
            raw = self._idle.get_nowait()
        except queue.Empty:
            raw = self._open_or_wait()
        try:
            yield raw
        finally:
            if raw.closed or raw.broken:
                with self._lock:
                    self._opened.remove(raw)
            else:
                self._idle.put(raw)

    def _open_or_wait(self) -> Any:
        with self._lock:
            if len(self._opened) < self._size:
                raw = _pg_connect(self.con)
                self._opened.append(raw)
                return raw
        return self._idle.get()

    def arrow(self, compiled: Compiled, values: Mapping[int, Any]) -> pa.Table:
        if self._uses_memtables(compiled):
            return super().arrow(compiled, values)
        sql = compiled.param_sql("postgres")
        params = compiled.bound_params(sql, values)
        with self.connection() as raw, raw.cursor() as cur:
            cur.execute(sql.text, params or None)
            names = [d.name for d in cur.description]
            rows = cur.fetchall()
        table = _rows_to_arrow(rows, names, compiled)
        return conform(table, compiled.schema, "postgres")

    def close(self) -> None:
        with self._lock:
            for raw in self._opened:
                with contextlib.suppress(Exception):
                    raw.close()
            self._opened.clear()


def _pg_connect(con: Any) -> Any:
    """A new psycopg connection like the backend's (ibis sets UTC and the search path)."""
    import psycopg

    kwargs = dict(con._con_kwargs)
    schema = kwargs.pop("schema", None)
    if "database" in kwargs:
        kwargs["dbname"] = kwargs.pop("database")
    kwargs.setdefault("autocommit", True)
    raw = psycopg.connect(*con._con_args, **kwargs)
    with raw.cursor() as cur:
        cur.execute("SET TIMEZONE = UTC")
        if schema:
            cur.execute("SELECT set_config('search_path', %s, false)", (schema,))
    return raw


def _rows_to_arrow(rows: list[tuple[Any, ...]], names: list[str], compiled: Compiled) -> pa.Table:
    """psycopg rows as Arrow typed by the expression's schema (exact: ints stay ints,
    decimals keep their digits, NaN stays NaN and NULL stays NULL)."""
    schema = compiled.schema.to_pyarrow()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays = []
    for field, values in zip(schema, columns, strict=True):
        try:
            arrays.append(pa.array(list(values), type=field.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays.append(pa.array(list(values)).cast(field.type))
    return pa.Table.from_arrays(arrays, names=list(schema.names))


def _spark_arrow(con: Any, expr: Any) -> pa.Table:
    """Spark's own Arrow export (ibis's goes through pandas, which loses exact integers)."""
    con._run_pre_execute_hooks(expr)
    frame = con._session.sql(con.compile(expr))
    return frame.toArrow()


def executor_for(con: Any, backend: str) -> Executor:
    if backend == "duckdb" and hasattr(getattr(con, "con", None), "cursor"):
        return DuckDBExecutor(con, backend)
    if backend == "postgres" and hasattr(con, "con"):
        return PostgresExecutor(con, backend)
    return Executor(con, backend)
