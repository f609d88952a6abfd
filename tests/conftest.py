"""Shared pytest configuration: the multi-backend harness (see tests/backends.py).

Select backends with ``--backends duckdb,postgres,pyspark`` (or ``all``), else the
``ML_TEST_BACKENDS`` environment variable, else ``duckdb``. A test that takes the
``backend`` fixture runs once per selected backend (ids ``[duckdb]``, ``[postgres]``, ...);
restrict one with ``@pytest.mark.backends("duckdb", "postgres")`` or exclude some with
``@pytest.mark.backends(exclude=["pyspark"])``.

A selected backend that cannot be reached is an error when the ``CI`` environment variable
is set, and a skip (with the reason) otherwise. PostgreSQL comes from
``ML_TEST_POSTGRES_URL`` (``eval "$(.ci/postgres.sh start)"`` starts a throwaway server);
PySpark starts one local[2] SparkSession per test session (needs Java 17); spark-connect
connects to the Spark Connect server at ``ML_TEST_SPARK_CONNECT_URL``
(``eval "$(.ci/spark-connect.sh start)"`` starts one).
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:  # `from tests.backends import ...` however pytest is started
    sys.path.insert(0, str(_ROOT))

from tests.backends import (  # noqa: E402
    DEFAULT_BACKENDS,
    KNOWN_BACKENDS,
    Backend,
    BackendUnavailable,
    connect_duckdb,
    connect_postgres,
    connect_pyspark,
    start_spark,
    start_spark_connect,
)

_SELECTED = pytest.StashKey[tuple]()


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backends",
        default=None,
        help=(
            "comma-separated backends for tests using the `backend` fixture: "
            f"{', '.join(KNOWN_BACKENDS)} or all (all but spark-connect, which needs a pytest "
            "run of its own; default: $ML_TEST_BACKENDS, else duckdb)"
        ),
    )
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        default=False,
        help="rewrite tests/snapshots/ from the current output (or ML_UPDATE_SNAPSHOTS=1)",
    )


def _parse_backends(value: str) -> tuple[str, ...]:
    names = [n.strip().lower() for n in value.split(",") if n.strip()]
    if names == ["all"]:  # one process holds local or remote Spark, not both
        return tuple(b for b in KNOWN_BACKENDS if b != "spark-connect")
    unknown = [n for n in names if n not in KNOWN_BACKENDS]
    if unknown:
        raise pytest.UsageError(
            f"unknown backend(s) {unknown} in --backends/ML_TEST_BACKENDS; known: {list(KNOWN_BACKENDS)}"
        )
    return tuple(dict.fromkeys(names)) or DEFAULT_BACKENDS


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "backends(*names, exclude=()): run only on these backends (of those selected), "
        "or on all selected but the excluded ones",
    )
    config.addinivalue_line("markers", "backend(name): run only on the named backend")
    value = config.getoption("--backends") or os.environ.get("ML_TEST_BACKENDS") or ""
    config.stash[_SELECTED] = _parse_backends(value) if value.strip() else DEFAULT_BACKENDS
    if {"pyspark", "spark-connect"} <= set(config.stash[_SELECTED]):
        raise pytest.UsageError(
            "pyspark and spark-connect cannot share one Python process (pyspark refuses a "
            "Spark Connect session beside a local one): run them in separate pytest runs"
        )


def _sqlglot_drop_is_broken() -> str | None:
    """ibis 12 builds DROP statements with `Drop(this=...)`; sqlglot >= 30.18 renamed
    that argument to `tables` and silently emits `DROP TABLE IF EXISTS` with no name
    (ibis-project/ibis#12101). Returns a warning text when this install is affected."""
    try:
        import sqlglot
        import sqlglot.expressions as sge

        sql = sge.Drop(kind="TABLE", this=sqlglot.table("probe_t"), exists=True).sql("duckdb")
    except Exception as e:  # pragma: no cover - only informative
        return f"could not probe sqlglot: {e}"
    if "probe_t" not in sql:
        return (
            f"sqlglot {sqlglot.__version__} breaks ibis's DROP statements "
            "(ibis#12101: create_table(overwrite=True), drop_table, memtable cleanup); "
            "pin sqlglot<30.18"
        )
    return None


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = [f"backends: {', '.join(config.stash[_SELECTED])} (CI={'yes' if _in_ci() else 'no'})"]
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for dist in ("ibis-framework", "sqlglot", "duckdb", "psycopg", "pyspark", "pandas", "pyarrow"):
        try:
            found.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            found.append(f"{dist} (not installed)")
    lines.append(", ".join(found))
    if "postgres" in config.stash[_SELECTED]:
        lines.append(f"ML_TEST_POSTGRES_URL={os.environ.get('ML_TEST_POSTGRES_URL', '(unset)')}")
    if warning := _sqlglot_drop_is_broken():
        lines.append(f"WARNING: {warning}")
    try:
        import duckdb

        if not hasattr(duckdb.DuckDBPyConnection, "fetch_arrow_table"):
            lines.append(
                f"NOTE: duckdb {duckdb.__version__} has no DuckDBPyConnection."
                "fetch_arrow_table, which ibis 12.0 calls in con.list_tables(), "
                "list_databases() and con.sql(): they fail and leave the connection "
                "with an unfinished result"
            )
    except ImportError:  # pragma: no cover
        pass
    return lines


def _allowed_backends(item_or_metafunc) -> tuple[tuple[str, ...], str | None]:
    """(backends this test runs on, reason when a selected backend is excluded)."""
    selected = item_or_metafunc.config.stash[_SELECTED]
    definition = getattr(item_or_metafunc, "definition", item_or_metafunc)
    allowed = list(selected)
    reason = None
    for mark in definition.iter_markers("backends"):
        names = [str(n).lower() for n in mark.args]
        exclude = mark.kwargs.get("exclude", ())
        exclude = [exclude] if isinstance(exclude, str) else list(exclude)
        for n in names + exclude:
            if n not in KNOWN_BACKENDS:
                raise pytest.UsageError(
                    f"{definition.nodeid}: unknown backend {n!r} in @pytest.mark.backends"
                )
        if names:
            allowed = [b for b in allowed if b in names]
        allowed = [b for b in allowed if b not in exclude]
        reason = f"runs only on {names or 'all'}{f' except {exclude}' if exclude else ''}"
    for mark in definition.iter_markers("backend"):
        names = [str(n).lower() for n in mark.args]
        allowed = [b for b in allowed if b in names]
        reason = f"runs only on {names}"
    return tuple(allowed), reason


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    allowed, reason = _allowed_backends(metafunc)
    selected = metafunc.config.stash[_SELECTED]
    if allowed:
        metafunc.parametrize("backend", allowed, indirect=True, ids=list(allowed), scope="session")
    else:
        metafunc.parametrize(
            "backend",
            [
                pytest.param(
                    None, marks=pytest.mark.skip(reason=f"{reason}; selected: {list(selected)}")
                )
            ],
            indirect=True,
            ids=["no-backend"],
            scope="session",
        )


def _unavailable(name: str, err: Exception) -> None:
    hint = {
        "postgres": 'set ML_TEST_POSTGRES_URL or run `eval "$(.ci/postgres.sh start)"`',
        "pyspark": "install Java 17 (apt-get install openjdk-17-jre-headless) and pyspark",
        "spark-connect": 'set ML_TEST_SPARK_CONNECT_URL or run `eval "$(.ci/spark-connect.sh start)"`',
    }.get(name, "")
    msg = f"backend {name!r} was requested but is unavailable: {err}"
    if hint and not any(
        k in msg for k in (".ci/postgres.sh", ".ci/spark-connect.sh", "openjdk")
    ):  # no hint twice
        msg += f" ({hint})"
    if _in_ci():
        pytest.fail(msg, pytrace=False)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory):
    """The one local SparkSession of this test session (stopped at the end)."""
    tmp = tmp_path_factory.mktemp("spark")
    try:
        session = start_spark(str(tmp))
    except BackendUnavailable as e:
        _unavailable("pyspark", e)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def spark_connect_session():
    """The Spark Connect session of this test session, on ML_TEST_SPARK_CONNECT_URL's
    server (the server itself is started and stopped outside pytest)."""
    try:
        session = start_spark_connect()
    except BackendUnavailable as e:
        _unavailable("spark-connect", e)
    yield session
    with contextlib.suppress(Exception):
        session.stop()


@pytest.fixture(scope="session")
def backend(request) -> Backend:
    """A connected :class:`tests.backends.Backend`, once per selected backend."""
    name = request.param
    try:
        if name == "duckdb":
            be = Backend("duckdb", connect_duckdb())
        elif name == "postgres":
            be = Backend("postgres", connect_postgres())
        elif name == "pyspark":
            session = request.getfixturevalue("spark_session")
            be = Backend("pyspark", connect_pyspark(session), session=session)
        elif name == "spark-connect":
            session = request.getfixturevalue("spark_connect_session")
            be = Backend("spark-connect", connect_pyspark(session), session=session)
        else:  # pragma: no cover - rejected in pytest_configure
            raise BackendUnavailable(f"unknown backend {name}")
    except BackendUnavailable as e:
        _unavailable(name, e)
    yield be
    if not be.is_spark:  # a Spark session is stopped by its own fixture
        with contextlib.suppress(Exception):
            be.con.disconnect()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Record pytest's own exit status for .ci/run (make only reports 0 or 2)."""
    path = os.environ.get("ML_TEST_EXITCODE_FILE")
    if path:
        with contextlib.suppress(OSError):
            Path(path).write_text(f"{int(exitstatus)}\n")
