"""No credential in any message: a corpus of URL and setting shapes, checked in the message,
the repr and the formatted traceback of the error the layer raises, and in the CLI's output."""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

import metrics_layer as ml
from metrics_layer.connection import connect, redact, url_secrets

ROOT = Path(__file__).resolve().parents[2]
S = "s3cr3tValue"

# (text holding the secret S, a fragment that must survive so the message stays useful)
SHAPES = [
    (f"postgres://user:{S}@127.0.0.1:1/db", "127.0.0.1:1/db"),
    (f"postgres://user:pa/{S}@127.0.0.1:1/db", "127.0.0.1:1/db"),
    (f"postgres://user:p@{S}@host:5432/db", "host:5432/db"),
    (f"postgres://user:{S}?x@host/db", "host/db"),
    (f"postgres://user:{S}:more@host/db", "host/db"),
    (f"postgres://user:{S}#frag@host/db", "host/db"),
    (f"postgresql://user:{S}@[::1]:5432/db", "[::1]:5432/db"),
    (f"postgres://user:{S.replace('V', '%56')}@host/db", "host/db"),
    (f"https://{S}@github.com/org/repo.git", "github.com/org/repo.git"),
    (f"postgres://u@host/db?sslpassword={S}&sslmode=require", "sslmode=require"),
    (f"postgres://u@host/db?sslmode=require&password={S}", "sslmode=require"),
    (f"snowflake://u@acct/db?token={S}", "acct/db"),
    (f"bigquery://proj/ds?credentials_json={S}", "proj/ds"),
    (f"s3://bucket/key?X-Amz-Signature={S}&X-Amz-Credential={S}", "bucket/key"),
    (f"duckdb:///x.duckdb?motherduck_token={S}", "x.duckdb"),
    (f"clickhouse://default:{S}@localhost:9000/db", "localhost:9000/db"),
    (f"mssql://u:{S}@h/db?api_key={S}", "h/db"),
    (f"host=db user=app password={S} dbname=prod", "dbname=prod"),
    (f"host=db sslpassword={S}", "host=db"),
    (f"{{'password': '{S}'}}", "password"),
    (f'"secret": "{S}"', "secret"),
    (f"cannot connect to postgres://a:{S}@h/db: FATAL: password for user a", "FATAL"),
    (f"two URLs postgres://a:{S}@h1/d and mysql://b:{S}@h2/d", "h2/d"),
]


@pytest.mark.parametrize(("text", "kept"), SHAPES, ids=[str(i) for i in range(len(SHAPES))])
def test_redact_hides_every_shape(text: str, kept: str) -> None:
    out = redact(text)
    assert S not in out and S[:6] not in out and S[-6:] not in out, out
    assert kept in out, out


def test_innocent_text_is_left_alone() -> None:
    text = "source 'events': primary_key=event_id, keys=user_id, rows: 12, token count"
    assert redact(text) == text
    assert redact("postgres://host:5432/db") == "postgres://host:5432/db"


URLS = [text for text, _ in SHAPES if "://" in text and text.split("://")[0].isalpha()]


@pytest.mark.parametrize("url", URLS[:17], ids=[str(i) for i in range(len(URLS[:17]))])
def test_a_failed_connection_shows_no_secret(url: str) -> None:
    with pytest.raises(ml.MetricsLayerError) as info:
        connect(url.replace("127.0.0.1:1", "127.0.0.1:9").replace("host:", "127.0.0.1:"))
    err = info.value
    shown = str(err) + repr(err) + "".join(traceback.format_exception(err))
    for secret in url_secrets(url) + (S,):
        assert len(secret) < 3 or secret not in shown, shown
    assert err.__cause__ is None and err.__context__ is None
    assert "\n" not in str(err)


def test_the_cli_shows_no_secret(tmp_path: Path) -> None:
    defs = tmp_path / "defs"
    defs.mkdir()
    (defs / "d.yml").write_text("version: 1\n")
    for url in (
        f"postgres://u:pa/{S}@127.0.0.1:9/db",
        f"postgres://u@127.0.0.1:9/db?sslpassword={S}",
    ):
        res = subprocess.run(
            [sys.executable, "-m", "metrics_layer.cli", "validate", str(defs), "-c", url],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=60,
        )
        assert res.returncode == 2
        assert S not in res.stdout + res.stderr, res.stderr
