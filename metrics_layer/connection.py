"""Connections: an ibis backend, a URL or a DuckDB file; credentials never reach messages.

A URL is handed to `ibis.connect` (postgres://, snowflake://, trino://, bigquery://,
clickhouse://, ...). When that fails, the ConnectionError names the URL with its credentials
replaced by `***`, carries the driver's message redacted the same way, on one line, and is
raised outside the `except` block: neither `__cause__` nor `__context__` holds the driver's
exception, so a logged traceback cannot print it either.

DuckDB connections the layer opens itself (a `.duckdb` path, a `duckdb://` URL, the default
in-memory database) are safe by default: files are opened read-only unless the caller writes
(quarantine, materialization, the demo generator), a missing file is an error rather than a
new empty database, and `enable_external_access` is off, so no table name, function or
extension can read a file of the machine (DuckDB's replacement scans would otherwise return
the rows of `secret.csv` named as a table).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import ibis

from metrics_layer.errors import ConnectionError

# A setting's value is a credential when its name holds one of these words (sslpassword,
# sas_token, api_key, X-Amz-Signature, ...); names below are keys of another kind.
_SECRET_PARTS = ("password", "passwd", "secret", "token", "credential", "passphrase", "apikey")
_SECRET_WORDS = frozenset(("pwd", "pass", "key", "auth", "sig", "signature", "session", "sas"))
_NOT_SECRET = frozenset(("primary_key", "foreign_key", "sort_key", "partition_key", "key_column"))
_URL_START = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_URL_END = re.compile(r"[\s'\"<>`]")
_KEY_VALUE = re.compile(
    r"(?P<key>(?P<name>[A-Za-z0-9_.-]+)['\"]?\s*(?P<sep>=|:\s)\s*)(?P<q>['\"]?)[^'\"\s&;,)}]+"
)
_DUCKDB_FILES = (".duckdb", ".ddb")


def secret_name(name: str) -> bool:
    """Whether a setting's name says its value is a credential (sslpassword, sas_token, ...)."""
    lowered = name.lower().strip("'\"")
    if lowered in _NOT_SECRET:
        return False
    if any(part in lowered for part in _SECRET_PARTS):
        return True
    return any(word in _SECRET_WORDS for word in re.split(r"[^a-z0-9]+", lowered))


def _hide_setting(m: re.Match[str]) -> str:
    if not secret_name(m.group("name")):
        return m.group(0)
    if m.group("sep") != "=" and m.group("name").lower() in ("key", "keys", "session"):
        return m.group(0)  # `key: value` in prose is rarely a credential
    return f"{m.group('key')}{m.group('q')}***"


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Hide credentials in any text (errors, logs).

    Every URL in the text is parsed: its whole userinfo (`user:pa/s3cret@`, `user:p@ss@`,
    `token@`) becomes `user:***@` (or `***@`), and the value of every query parameter whose
    name suggests a secret becomes `***`. Outside URLs, `password=...`-style settings are
    hidden too, and each of `secrets` wherever it appears.
    """
    text = _redact_urls(str(text))
    text = _KEY_VALUE.sub(_hide_setting, text)
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= 3:  # a one- or two-character "secret" would shred the message
            text = text.replace(secret, "***")
    return text


def _redact_urls(text: str) -> str:
    out: list[str] = []
    at = 0
    for m in _URL_START.finditer(text):
        if m.start() < at:
            continue  # inside a URL already handled (a URL in a query value)
        end_m = _URL_END.search(text, m.end())
        end = end_m.start() if end_m else len(text)
        out.append(text[at : m.start()])
        out.append(_redact_url(m.group(0), text[m.end() : end]))
        at = end
    out.append(text[at:])
    return "".join(out)


def _redact_url(scheme: str, rest: str) -> str:
    """One URL, its scheme apart. The userinfo ends at the LAST '@' of the URL: a password may
    hold '@', '/', '?' or ':' written raw, and a wrongly cut password would leak its tail."""
    if "@" in rest:
        userinfo, _, rest = rest.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        shown = f"{user}:***@" if colon and user else "***@"
        return scheme + shown + _redact_query(rest)
    return scheme + _redact_query(rest)


def _redact_query(rest: str) -> str:
    head, mark, query = rest.partition("?")
    if not mark:
        return rest
    fragment = ""
    if "#" in query:
        query, _, frag = query.partition("#")
        fragment = "#" + frag
    parts = re.split(r"([&;])", query)
    for i in range(0, len(parts), 2):
        name, eq, _ = parts[i].partition("=")
        if eq and secret_name(unquote(name)):
            parts[i] = f"{name}=***"
    return head + mark + "".join(parts) + fragment


def url_secrets(url: str) -> tuple[str, ...]:
    """The credentials inside a URL (userinfo, secret-like query values), raw and decoded, so
    that a driver echoing one of them anywhere in its message gets it hidden too."""
    found: list[str] = []
    m = _URL_START.match(url.strip())
    if m:
        rest = url.strip()[m.end() :]
        if "@" in rest:
            userinfo = rest.rpartition("@")[0]
            user, colon, password = userinfo.partition(":")
            secret = password if colon else user
            # a driver that cuts the URL elsewhere ('?', '#', '/', '@' or ':' in a raw
            # password) may echo any piece of it: each piece is hidden too
            found += [secret, *re.split(r"[?#/@:]", secret)]
    try:  # a driver may cut the URL as urlsplit does: '?' or '#' inside a raw password
        parts = urlsplit(url)
        found += [parts.password or "", *(v for k, v in parse_qsl(parts.query) if secret_name(k))]
    except ValueError:  # a malformed URL: the userinfo above is still hidden
        pass
    return tuple({s for v in found if v for s in (v, unquote(v))})


def connect(con: Any = None, *, read_only: bool = True) -> Any:
    """An ibis backend from an existing backend, a URL, a DuckDB file path, or None (an
    in-memory DuckDB). DuckDB files opened here are read-only unless `read_only=False`."""
    if con is None:
        return _duckdb(None, read_only=False)
    if isinstance(con, os.PathLike):
        con = os.fspath(con)
    if isinstance(con, str):
        return _connect_text(con.strip(), read_only)
    if not hasattr(con, "table") or not hasattr(con, "name"):
        raise ConnectionError(
            f"con must be an ibis backend or a URL (or a .duckdb path), got {type(con).__name__}"
        )
    return con


def _connect_text(text: str, read_only: bool) -> Any:
    secrets = url_secrets(text)
    if not text:
        raise ConnectionError("connection is empty: give a URL or a .duckdb file path")
    if "://" not in text:
        if text.lower().endswith(_DUCKDB_FILES) and "@" not in text:
            return _duckdb(text, read_only=read_only)
        shown = text if "@" not in text else "***@" + text.rsplit("@", 1)[1]  # user:password@
        raise ConnectionError(
            f"connection {redact(shown, secrets)!r} is not a URL (e.g. "
            "duckdb:///path/file.duckdb, postgres://host:5432/db) or a .duckdb file"
        )
    scheme, _, rest = text.partition("://")
    scheme = scheme.lower()
    if scheme == "postgresql":
        text = "postgres://" + rest
    if scheme == "duckdb":
        path = rest.split("?")[0]
        if path in ("", ":memory:", "/:memory:"):
            return _duckdb(None, read_only=False)  # ibis would create a file named ':memory:'
        return _duckdb(unquote(path), read_only=read_only)
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


def _duckdb(path: str | None, *, read_only: bool) -> Any:
    """A DuckDB connection without access to the machine's files; a missing, foreign or
    locked file is one clear line, never a new empty database or DuckDB's multi-line text."""
    if path is None:
        return ibis.duckdb.connect(enable_external_access=False)
    file = Path(path)
    if not file.exists():
        raise ConnectionError(
            f"database file {path!r} does not exist (create it with duckdb, or "
            "`metrics-layer demo --db` for the demo data)"
        )
    if file.is_dir():
        raise ConnectionError(f"database file {path!r} is a folder, not a DuckDB file")
    error = ""
    try:
        return ibis.duckdb.connect(str(file), read_only=read_only, enable_external_access=False)
    except Exception as exc:  # noqa: BLE001 - duckdb raises IOException, InvalidInputException...
        error = _duckdb_problem(str(exc), read_only)
    raise ConnectionError(f"cannot open database file {path!r}: {error}")


def _duckdb_problem(message: str, read_only: bool) -> str:
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    if "lock" in message.lower():
        holder = re.search(r"PID (\d+)", message)
        by = f" (process {holder.group(1)})" if holder else ""
        mode = "read-only" if read_only else "for writing"
        return (
            f"it is locked by another process{by} that writes to it; it cannot be opened "
            f"{mode} until that process closes it"
        )
    if "different configuration" in message.lower():
        return (
            "this process already has it open in another mode (read-only vs read-write); "
            "close that connection first, or pass it as con="
        )
    if "not a valid duckdb" in message.lower():
        return "it is not a DuckDB database file"
    return redact(" ".join(first.split()))


def backend_name(con: Any) -> str:
    return str(getattr(con, "name", "duckdb"))
