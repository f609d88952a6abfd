"""The run log `metrics_layer_runs` and the lock of one materialization.

The log lives in the connection beside the tables, so watermarks survive restarts. A run
starts by inserting a `running` row and ends by setting `success` or `failed`; the watermark
an incremental run starts from is that of the last successful run that read the newest data.

The lock: a second run of one materialization at once is refused. On PostgreSQL it is a
session advisory lock (released by the server when the process dies); on DuckDB a file is
opened read-write by one process at a time, so the lock is per process (a `running` row of
a process still alive on this host, or a run in progress in this process). A `running` row
left by a killed process is marked `interrupted` by the next run. Spark SQL has neither
transactions nor UPDATE on plain tables: there a run's state changes are appended rows
(`rows()` reads the latest of each run) and the lock is the per-process one.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import socket
import threading
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

from metrics_layer.errors import QueryError
from metrics_layer.materialize import sqltext as q
from metrics_layer.materialize import swap
from metrics_layer.materialize.shape import RUNS_TABLE

SCHEMA = {
    "run_id": "string",
    "materialization": "string",
    "kind": "string",  # full | incremental | backfill
    "periods": "int64",
    "rows": "int64",
    "watermark_before": "timestamp",
    "watermark_after": "timestamp",
    "started": "timestamp",
    "finished": "timestamp",
    "status": "string",  # running | success | failed | interrupted
    "error": "string",
    "pid": "int64",
    "host": "string",
    "timezone": "string",  # the periods' timezone and week start: a table is built in one
    "week_start": "int64",
}

_IN_PROCESS: dict[tuple[int, str], threading.Lock] = {}
_GUARD = threading.Lock()


def now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC).replace(tzinfo=None)


def exists(con: Any, name: str) -> bool:
    """Whether a table exists (asked by name: ibis 12's DuckDB list_tables fails on duckdb 2)."""
    try:
        con.table(name)
    except Exception:  # noqa: BLE001 - backends raise their own not-found errors
        return False
    return True


def ensure(con: Any) -> None:
    """Create the run log on first use."""
    if not exists(con, RUNS_TABLE):
        import ibis

        con.create_table(RUNS_TABLE, schema=ibis.schema(SCHEMA))


def rows(con: Any, materialization: str) -> list[dict[str, Any]]:
    """Every logged run of one materialization, oldest first: one row per run (where rows
    are appended rather than updated, the latest state of each run)."""
    if not exists(con, RUNS_TABLE):
        return []
    t = con.table(RUNS_TABLE)
    t = t.filter(t.materialization == materialization).order_by("started")
    latest: dict[str, dict[str, Any]] = {}
    for r in t.to_pyarrow().to_pylist():
        seen = latest.get(r["run_id"])
        if seen is None or _STATE_RANK[r["status"]] > _STATE_RANK[seen["status"]]:
            latest[r["run_id"]] = r
    return sorted(latest.values(), key=lambda r: r["started"])


# a run's rows in the order its state moves (rows appended on engines without UPDATE)
_STATE_RANK = {"running": 0, "interrupted": 1, "failed": 2, "success": 2}


def last_success(con: Any, materialization: str) -> dict[str, Any] | None:
    """The row of the last successful full or incremental run with data (None: never ran)."""
    done = [
        r
        for r in rows(con, materialization)
        if r["status"] == "success" and r["kind"] != "backfill" and r["watermark_after"]
    ]
    return done[-1] if done else None


def last_watermark(con: Any, materialization: str) -> _dt.datetime | None:
    """The watermark of the last successful full or incremental run (None: never ran)."""
    row = last_success(con, materialization)
    return None if row is None else row["watermark_after"]


@dataclass
class Lock:
    """A held lock and the run it belongs to; release() ends both."""

    con: Any
    materialization: str
    run_id: str
    local: threading.Lock
    advisory: int | None
    row: dict[str, Any]  # the `running` row as logged

    def release(self) -> None:
        if self.advisory is not None:
            with contextlib.suppress(Exception):  # the session ends with the process anyway
                self.con.raw_sql(f"SELECT pg_advisory_unlock({int(self.advisory)})")
        self.local.release()


def start(
    con: Any,
    materialization: str,
    kind: str,
    before: _dt.datetime | None,
    time_settings: tuple[str, int] = ("UTC", 0),
) -> Lock:
    """Take the lock and log a `running` row; a run already in progress is a QueryError."""
    key = (id(con), materialization)
    with _GUARD:
        local = _IN_PROCESS.setdefault(key, threading.Lock())
    if not local.acquire(blocking=False):
        raise QueryError(
            f"materialization {materialization!r} is already being run in this process"
        )
    try:
        advisory = _advisory(con, materialization)
        ensure(con)
        run_id = uuid.uuid4().hex
        row = _claim(
            con, materialization, run_id, kind, before, advisory is not None, time_settings
        )
    except BaseException:
        local.release()
        raise
    return Lock(con, materialization, run_id, local, advisory, row)


def finish(lock: Lock, status: str, **values: Any) -> None:
    """Close the run's row: status, counts, watermark, finished time, error text."""
    _set(lock.con, lock.row, {"status": status, "finished": now(), **values})


def _set(con: Any, row: dict[str, Any], values: dict[str, Any]) -> None:
    """Change a run's logged state: UPDATE its row, or on Spark (no UPDATE on plain tables)
    append the row as it is now; `rows()` reads the latest state of each run."""
    table = q.table_ref(RUNS_TABLE)
    if swap.transactional(con):
        con.raw_sql(q.update(table, values, q.equals("run_id", row["run_id"]), con.dialect))
    else:
        con.raw_sql(q.insert_values(table, {**row, **values}, con.dialect))


def _advisory(con: Any, materialization: str) -> int | None:
    if getattr(con, "name", "") != "postgres":
        return None
    key = zlib.crc32(f"metrics_layer:{materialization}".encode()) & 0x7FFFFFFF
    got = con.raw_sql(f"SELECT pg_try_advisory_lock({int(key)})").fetchall()[0][0]
    if not got:
        raise QueryError(f"materialization {materialization!r} is being run by another process")
    return key


def _claim(
    con: Any,
    materialization: str,
    run_id: str,
    kind: str,
    before: _dt.datetime | None,
    locked: bool,
    time_settings: tuple[str, int],
) -> dict[str, Any]:
    """In one transaction: refuse if a live run holds the materialization, mark dead ones
    `interrupted`, insert our `running` row."""
    table, dialect = q.table_ref(RUNS_TABLE), con.dialect
    host, pid = socket.gethostname(), os.getpid()
    transactional = swap.transactional(con)
    if transactional:
        con.raw_sql("BEGIN")
    try:
        for r in rows(con, materialization):
            if r["status"] != "running":
                continue
            if not locked and r["host"] == host and r["pid"] != pid and _alive(r["pid"]):
                raise QueryError(
                    f"materialization {materialization!r} is being run by process {r['pid']} "
                    f"(started {r['started']:%Y-%m-%d %H:%M:%S} UTC); try again when it ends"
                )
            dead = {"status": "interrupted", "error": "the process ended before the run finished"}
            _set(con, {k: r.get(k) for k in SCHEMA}, dead)
        row = dict.fromkeys(SCHEMA)
        row.update(
            run_id=run_id, materialization=materialization, kind=kind, periods=0, rows=0,
            watermark_before=before, started=now(), status="running", pid=pid, host=host,
            timezone=time_settings[0], week_start=time_settings[1],
        )  # fmt: skip
        con.raw_sql(q.insert_values(table, row, dialect))
        if transactional:
            con.raw_sql("COMMIT")
    except BaseException:
        if transactional:
            con.raw_sql("ROLLBACK")
        raise
    return row


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
