"""Connections: an ibis backend, a URL or a DuckDB file; credentials never reach messages.

A URL is handed to `ibis.connect` (duckdb://, postgres://, snowflake://, trino://, bigquery://,
clickhouse://, ...). When that fails, the ConnectionError names the URL with its password
replaced by `***`, carries the driver's message redacted the same way, on one line, and is
raised outside the `except` block: neither `__cause__` nor `__context__` holds the driver's
exception, so a logged traceback cannot print it either.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import ibis

from metrics_layer.errors import ConnectionError

_URL_CREDENTIALS = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s'\"]*):[^@/\s'\"]*@", re.IGNORECASE
)
_SECRET_KEYS = (
    "password",
    "passwd",
    "pwd",
    "token",
    "motherduck_token",
    "secret",
    "api_key",
    "apikey",
    "access_key",
    "secret_key",
    "private_key",
    "private_key_passphrase",
    "credentials",
)
_KEY_VALUE = re.compile(
    r"(?P<key>\b(?:" + "|".join(_SECRET_KEYS) + r")\b['\"]?\s*[=:]\s*)(?P<q>['\"]?)[^'\"\s&;,)}]+",
    re.IGNORECASE,
)
_DUCKDB_FILES = (".duckdb", ".ddb")


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Hide credentials in any text (errors, logs): the password of a URL, `password=...`
    style settings, and each of `secrets` wherever it appears."""
    text = _URL_CREDENTIALS.sub(lambda m: f"{m.group('scheme')}{m.group('user')}:***@", text)
    text = _KEY_VALUE.sub(lambda m: f"{m.group('key')}{m.group('q')}***", text)
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= 3:  # a one- or two-character "secret" would shred the message
            text = text.replace(secret, "***")
    return text


def url_secrets(url: str) -> tuple[str, ...]:
    """The credentials inside a URL (password, secret-like query values), raw and decoded."""
    found: list[str] = []
    try:
        parts = urlsplit(url)
        if parts.password:
            found.append(parts.password)
        found += [v for k, v in parse_qsl(parts.query) if k.lower() in _SECRET_KEYS]
    except ValueError:  # a malformed URL: fall back to the text between ':' and '@'
        m = re.search(r"://[^:/@\s]*:([^@\s]*)@", url)
        if m:
            found.append(m.group(1))
    return tuple({s for v in found for s in (v, unquote(v))})


def connect(con: Any = None) -> Any:
    """An ibis backend from an existing backend, a URL, a DuckDB file path, or None (an
    in-memory DuckDB)."""
    if con is None:
        return ibis.duckdb.connect()
    if isinstance(con, os.PathLike):
        con = os.fspath(con)
    if isinstance(con, str):
        return _connect_text(con.strip())
    if not hasattr(con, "table") or not hasattr(con, "name"):
        raise ConnectionError(f"con must be an ibis backend or a URL, got {type(con).__name__}")
    return con


def _connect_text(text: str) -> Any:
    secrets = url_secrets(text)
    if "://" not in text:
        if text.lower().endswith(_DUCKDB_FILES) and "@" not in text:
            if not Path(text).exists():
                raise ConnectionError(f"database file {text!r} does not exist")
            return ibis.duckdb.connect(text)
        shown = text if "@" not in text else "***@" + text.rsplit("@", 1)[1]  # user:password@
        raise ConnectionError(
            f"connection {redact(shown, secrets)!r} is not a URL (e.g. "
            "duckdb:///path/file.duckdb, postgres://user@host:5432/db) or a "
            ".duckdb file"
        )
    scheme, _, rest = text.partition("://")
    scheme = scheme.lower()
    if scheme == "postgresql":
        text = "postgres://" + rest
    if scheme == "duckdb" and rest.split("?")[0] in ("", ":memory:", "/:memory:"):
        return ibis.duckdb.connect()  # ibis would create a file named ':memory:'
    error = ""
    try:
        return ibis.connect(text)
    except ModuleNotFoundError as exc:
        error = (
            f"the {scheme} backend of ibis is not installed ({exc}): "
            f"pip install 'ibis-framework[{scheme}]'"
        )
    except Exception as exc:  # noqa: BLE001 - drivers raise many types
        error = f"{type(exc).__name__}: {exc}"
    # raised here, not inside `except`: the driver's exception must not be chained
    message = " ".join(f"cannot connect to {text}: {error}".split())
    raise ConnectionError(redact(message, secrets))


def backend_name(con: Any) -> str:
    return str(getattr(con, "name", "duckdb"))
