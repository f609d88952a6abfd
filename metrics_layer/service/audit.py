"""The audit log: one JSON line per request, appended (rotation is left to the OS: logrotate
with `copytruncate`, or move the file away; the log is reopened per line).

Keys: time (ISO-8601 UTC), user, operation, request, sql_hash (SHA-256 of the SQL text that
ran, or null), rows, ms, status (the HTTP code; 200 for a layer's successful call).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any


def sql_hash(sql: str | None) -> str | None:
    return hashlib.sha256(sql.encode()).hexdigest() if sql else None


class AuditLog:
    """Appends lines to a file; safe to share between threads (one write per line, locked)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        if self.path.is_symlink():
            raise ValueError(f"audit log {self.path} is a symlink; give a regular file")

    def write(
        self,
        *,
        user: str | None,
        operation: str,
        request: Any,
        sql: str | None = None,
        rows: int | None = None,
        ms: float,
        status: int,
    ) -> None:
        line = json.dumps(
            {
                "time": dt.datetime.now(dt.UTC)
                .isoformat(timespec="milliseconds")
                .replace("+00:00", "Z"),
                "user": user,
                "operation": operation,
                "request": request,
                "sql_hash": sql_hash(sql),
                "rows": rows,
                "ms": round(ms, 3),
                "status": status,
            },
            default=str,
            separators=(",", ":"),
        )
        data = (line + "\n").encode()
        with self._lock:
            fd = os.open(
                self.path,
                os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0),
                0o600,
            )
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
