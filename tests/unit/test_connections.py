"""Connections given as ibis backends, URLs, DuckDB files or through the CLI's --connection /
METRICS_LAYER_CONNECTION; a password never appears in an error, its repr, its traceback or
the CLI's output.

The PostgreSQL case uses the harness's server (ML_TEST_POSTGRES_URL, `eval "$(.ci/postgres.sh
start)"`): skipped when it is unset, a failure when CI is set.
"""

from __future__ import annotations

import os
import traceback
import uuid
from pathlib import Path

import duckdb
import ibis
import pandas as pd
import pytest

import metrics_layer as ml
from metrics_layer.connection import connect, redact, url_secrets
from tests.cli_helpers import CliResult, invoke, run_process

SECRET = "s3cr3t-Pw"
DEFS = """\
version: 1
sources:
  orders:
    table: "{{ table | default('orders') }}"
    time: ordered_at
    measures:
      orders: {agg: count}
      revenue: {agg: sum, expr: amount}
metrics:
  orders: {measure: orders.orders}
  revenue: {measure: orders.revenue}
"""
ORDERS = pd.DataFrame(
    {
        "order_id": [1, 2, 3, 4],
        "ordered_at": pd.to_datetime(
            ["2024-01-05 10:00", "2024-01-20 11:00", "2024-02-01 00:00", "2024-02-29 23:59"]
        ),
        "amount": [10.0, 5.5, 7.25, 100.0],
    }
)
EXPECTED = pd.DataFrame(
    {
        "month": pd.to_datetime(["2024-01-01", "2024-02-01"]),
        "orders": [2, 2],
        "revenue": [15.5, 107.25],
    }
)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture
def defs(tmp_path: Path) -> Path:
    folder = tmp_path / "defs"
    folder.mkdir()
    (folder / "shop.yml").write_text(DEFS)
    return folder


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "shop.duckdb"
    con = duckdb.connect(str(path))
    con.register("frame", ORDERS)
    con.execute("CREATE TABLE orders AS SELECT * FROM frame")
    con.close()
    return path


def monthly(layer: ml.Layer) -> pd.DataFrame:
    df = layer.query(["orders", "revenue"], grain="month").to_pandas()
    df["revenue"] = df["revenue"].astype(float)
    df["orders"] = df["orders"].astype("int64")
    return df.sort_values("month").reset_index(drop=True)


def assert_no_secret(exc: BaseException, *secrets: str) -> None:
    """Not in the message, the repr, the printed traceback, nor any chained exception."""
    printed = "".join(traceback.format_exception(exc))
    for secret in secrets or (SECRET,):
        assert secret not in str(exc)
        assert secret not in repr(exc)
        assert secret not in printed
    assert exc.__cause__ is None and exc.__context__ is None
    assert "\n" not in str(exc)


# --------------------------------------------------------------------------- Python API


def test_load_with_a_duckdb_url(defs: Path, db: Path) -> None:
    layer = ml.load(defs, con=f"duckdb:///{db}")
    pd.testing.assert_frame_equal(monthly(layer), EXPECTED, check_dtype=False)
    assert layer.backend == "duckdb"


@pytest.mark.parametrize("form", ["str", "path"])
def test_load_with_a_duckdb_file_path(defs: Path, db: Path, form: str) -> None:
    layer = ml.load(defs, con=str(db) if form == "str" else db)
    pd.testing.assert_frame_equal(monthly(layer), EXPECTED, check_dtype=False)


def test_a_missing_duckdb_file_is_an_error_not_a_new_database(tmp_path: Path) -> None:
    with pytest.raises(ml.ConnectionError, match="does not exist"):
        connect(str(tmp_path / "nope.duckdb"))
    assert not (tmp_path / "nope.duckdb").exists()


def test_in_memory_duckdb_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for url in ("duckdb://", "duckdb:///:memory:", "duckdb://:memory:"):
        con = connect(url)
        assert con.name == "duckdb"
        assert con.con.execute("SELECT 1").fetchall() == [(1,)]
    assert list(tmp_path.iterdir()) == []  # ibis alone would create a file ':memory:'


def test_an_ibis_backend_is_used_as_is(defs: Path, db: Path) -> None:
    con = ibis.duckdb.connect(str(db))
    assert connect(con) is con
    with pytest.raises(ml.ConnectionError, match="ibis backend or a URL"):
        connect(42)


@pytest.mark.parametrize(
    "url",
    [
        f"postgres://user:{SECRET}@127.0.0.1:1/db",
        f"postgresql://user:{SECRET}@127.0.0.1:1/db?connect_timeout=5",
        f"postgres://user:{SECRET}@127.0.0.1:1/db?sslmode=bogus",
        f"postgres://user@127.0.0.1:1/db?password={SECRET}",
    ],
)
def test_an_unreachable_postgres_url_never_shows_the_password(defs: Path, url: str) -> None:
    with pytest.raises(ml.ConnectionError) as info:
        ml.load(defs, con=url)
    assert_no_secret(info.value)
    assert "127.0.0.1:1/db" in str(info.value)  # but says where it tried


def test_an_encoded_password_is_hidden_in_both_forms() -> None:
    encoded, decoded = "p%40ss%2F" + "w0rd", "p@ss/" + "w0rd"  # not literally in this source
    with pytest.raises(ml.ConnectionError) as info:
        connect(f"postgres://user:{encoded}@127.0.0.1:1/db")
    assert_no_secret(info.value, encoded, decoded)


def test_an_unknown_scheme_is_redacted() -> None:
    with pytest.raises(ml.ConnectionError) as info:
        connect(f"nosuchdb://user:{SECRET}@host/db")
    assert_no_secret(info.value)
    assert "nosuchdb://user:***@host/db" in str(info.value)


def test_text_that_is_no_url_is_not_echoed_with_its_password() -> None:
    with pytest.raises(ml.ConnectionError, match="not a URL") as info:
        connect(f"user:{SECRET}@host/db")
    assert_no_secret(info.value)


def test_a_backend_that_is_not_installed_says_how_to_install_it() -> None:
    try:
        import snowflake.connector  # noqa: F401

        pytest.skip("the snowflake driver is installed here")
    except ImportError:
        pass
    with pytest.raises(
        ml.ConnectionError, match=r"pip install 'ibis-framework\[snowflake\]'"
    ) as info:
        connect(f"snowflake://user:{SECRET}@account/db/schema?warehouse=wh")
    assert_no_secret(info.value)


def test_redact() -> None:
    text = (
        f"postgres://u:{SECRET}@h/db; postgres://u@h/db; password={SECRET}; pwd='{SECRET}'; "
        f"{{'password': '{SECRET}'}}; motherduck_token={SECRET}"
    )
    out = redact(text)
    assert SECRET not in out
    # a lone userinfo may be a token (https://TOKEN@host): it is hidden whole
    assert "postgres://u:***@h/db" in out and "postgres://***@h/db" in out
    assert redact("plain text", ("ab",)) == "plain text"  # too short to be worth hiding
    assert set(url_secrets("snowflake://u:p%40w@a/db?token=tk1&warehouse=w")) == {
        "p%40w",
        "p@w",
        "tk1",
    }


# --------------------------------------------------------------------------- CLI


def cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> CliResult:
    """The command in-process (typer's runner); see tests/cli_helpers.py."""
    return invoke(*args, env=env, cwd=cwd)


def _csv(out: str) -> pd.DataFrame:
    from io import StringIO

    df = pd.read_csv(StringIO(out), parse_dates=["month"])
    return df.sort_values("month").reset_index(drop=True)


def test_cli_connection_option_and_environment_variable(defs: Path, db: Path) -> None:
    """Real processes: the option and the variable of the installed command's environment."""
    args = ("query", str(defs), "orders", "revenue", "--grain", "month", "--format", "csv")
    by_option = run_process(*args, "--connection", f"duckdb:///{db}")
    assert by_option.returncode == 0, by_option.stderr
    pd.testing.assert_frame_equal(_csv(by_option.stdout), EXPECTED, check_dtype=False)
    by_env = run_process(*args, env={"METRICS_LAYER_CONNECTION": f"duckdb:///{db}"})
    assert by_env.returncode == 0, by_env.stderr
    assert by_env.stdout == by_option.stdout


def test_cli_plain_duckdb_file(defs: Path, db: Path) -> None:
    res = cli(
        "query",
        str(defs),
        "orders",
        "--grain",
        "month",
        "--format",
        "csv",
        "--connection",
        db.name,
        cwd=db.parent,
    )
    assert res.returncode == 0, res.stderr
    assert _csv(res.stdout)["orders"].tolist() == [2, 2]


@pytest.mark.parametrize("how", ["option", "env"])
def test_cli_connection_errors_are_one_line_without_the_password(defs: Path, how: str) -> None:
    url = f"postgres://analyst:{SECRET}@127.0.0.1:1/warehouse"
    args = ["validate", str(defs)]
    res = (
        cli(*args, "--connection", url)
        if how == "option"
        else cli(*args, env={"METRICS_LAYER_CONNECTION": url})
    )
    assert res.returncode == 2
    assert SECRET not in res.stderr + res.stdout
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: cannot connect to postgres://analyst:***@127.0.0.1:1/")


def test_cli_a_mistyped_url_does_not_show_its_password(defs: Path) -> None:
    res = cli("validate", str(defs), "--connection", f"postgres:/analyst:{SECRET}@db/warehouse")
    assert res.returncode == 2
    assert SECRET not in res.stderr + res.stdout


def test_cli_sql_for_a_dialect(defs: Path, db: Path) -> None:
    res = cli(
        "sql",
        str(defs),
        "revenue",
        "--grain",
        "month",
        "--dialect",
        "trino",
        "--connection",
        f"duckdb:///{db}",
    )
    assert res.returncode == 0, res.stderr
    assert "DATE_TRUNC('MONTH'" in res.stdout and '"orders"' in res.stdout


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get("ML_TEST_POSTGRES_URL")
    if not url:
        msg = 'ML_TEST_POSTGRES_URL is not set (eval "$(.ci/postgres.sh start)")'
        if _in_ci():
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    return url


def test_a_postgres_url_runs_a_query(defs: Path, postgres_url: str) -> None:
    table = f"orders_{uuid.uuid4().hex[:8]}"
    con = connect(postgres_url)
    try:
        con.create_table(table, ORDERS)
        layer = ml.load(defs, con=postgres_url, vars={"table": table})
        assert layer.backend == "postgres"
        pd.testing.assert_frame_equal(monthly(layer), EXPECTED, check_dtype=False)
        res = cli(
            "query",
            str(defs),
            "orders",
            "revenue",
            "--grain",
            "month",
            "--format",
            "csv",
            "--var",
            f"table={table}",
            "--connection",
            postgres_url,
        )
        assert res.returncode == 0, res.stderr
        pd.testing.assert_frame_equal(_csv(res.stdout), EXPECTED, check_dtype=False)
    finally:
        con.drop_table(table, force=True)
        con.disconnect()
