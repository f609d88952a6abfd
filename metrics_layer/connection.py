"""Connections: an ibis backend object or a URL; credentials never reach messages."""

from __future__ import annotations

import re
from typing import Any

import ibis

from metrics_layer.errors import ConnectionError

_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@]*)(:[^@/]*)?@", re.IGNORECASE)


def redact(text: str) -> str:
    """Hide passwords in URLs inside any text (errors, logs)."""
    return _CREDENTIALS.sub(lambda m: f"{m.group('scheme')}{m.group('user')}:***@", text)


def connect(con: Any = None) -> Any:
    """An ibis backend from an existing backend, a URL string, or None (in-memory DuckDB)."""
    if con is None:
        return ibis.duckdb.connect()
    if isinstance(con, str):
        url = con.strip()
        if "://" not in url:
            raise ConnectionError(f"connection {redact(url)!r} is not a URL (e.g. duckdb:///path/file.duckdb, "
                                  "postgres://user@host:5432/db)")
        if url.startswith("postgresql://"):
            url = "postgres://" + url[len("postgresql://"):]
        try:
            return ibis.connect(url)
        except Exception as exc:  # noqa: BLE001 - drivers raise many types
            raise ConnectionError(f"cannot connect to {redact(url)}: {redact(str(exc))}") from None
    if not hasattr(con, "table") or not hasattr(con, "name"):
        raise ConnectionError(f"con must be an ibis backend or a URL, got {type(con).__name__}")
    return con


def backend_name(con: Any) -> str:
    return str(getattr(con, "name", "duckdb"))
