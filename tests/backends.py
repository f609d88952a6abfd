"""Backend test harness: the same test on DuckDB, PostgreSQL and PySpark.

Tests ask for the ``backend`` fixture (see tests/conftest.py); it is parametrized over the
backends selected with ``--backends`` / ``ML_TEST_BACKENDS`` and yields a :class:`Backend`:

    def test_revenue(backend):
        name = backend.unique_name("orders")
        backend.load({name: orders_df}, schemas={name: {"amount": "decimal(15,2)"}})
        t = backend.con.table(name)
        got = backend.fetch(t.group_by("country").agg(revenue=t.amount.sum()))
        assert_frames_equal(got, expected_df, sort_by="country")

Loading (``Backend.load``)
    Each table is (re)created with the types of its frame, NULLs included, through the
    backend's native bulk path: DuckDB registers an Arrow table, PostgreSQL uses COPY, Spark
    builds a DataFrame from Arrow with an explicit schema and registers it as a temporary
    view. Types come from ``schemas={table: {column: ibis type}}`` (a partial mapping or an
    ``ibis.Schema``) where given, else they are inferred from the frame:

    ==========================================  ===========================================
    frame column                                table column
    ==========================================  ===========================================
    int64 / Int64 (nullable)                    int64 (BIGINT); declare "int64" for a
                                                float64 column of whole numbers and NaN
    float64                                     float64 (NaN is loaded as NULL)
    str / object of str                         string
    bool / boolean / object of bool             boolean
    datetime64 (naive, any unit)                timestamp without time zone, microseconds
    datetime64[..., tz]                         timestamp with time zone (UTC)
    object of datetime.date                     date
    object of decimal.Decimal                   decimal(18, <largest scale seen>); declare
                                                e.g. "decimal(15,2)" to be explicit
    pd.ArrowDtype(pa.decimal128(15, 2)) etc.    that Arrow type (an in-frame type marker)
    all NULL                                    error: declare the type
    ==========================================  ===========================================

    Values are converted strictly: sub-microsecond timestamps, Decimals with more digits
    than the declared scale, and non-integral floats in an int column raise instead of
    being rounded.

Fetching (``Backend.fetch``)
    Executes an expression and returns a pandas frame in a backend-independent form (see
    :func:`normalize_frame`): integers as nullable Int64, floats and decimals as float64
    (``decimals="exact"`` keeps ``decimal.Decimal`` objects), timestamps and dates as naive
    UTC ``datetime64[ns]``, booleans as nullable boolean, strings as ``object`` with None.
    ``via="pandas"`` goes through ``expr.execute()`` (what ``to_pandas()`` users get)
    instead of the exact Arrow route.

Comparing (:func:`assert_frames_equal`)
    Exact for integers, strings, booleans, timestamps and decimal-vs-decimal; ``rtol`` /
    ``atol`` for anything involving a float; NULL, None, NaN, NaT and pd.NA are all alike;
    order-insensitive with ``sort_by``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import decimal
import itertools
import math
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

KNOWN_BACKENDS = ("duckdb", "postgres", "pyspark", "spark-connect")
SPARK_BACKENDS = ("pyspark", "spark-connect")  # ibis's PySpark backend, local or remote
DEFAULT_BACKENDS = ("duckdb",)

__all__ = [
    "KNOWN_BACKENDS",
    "Backend",
    "BackendUnavailable",
    "assert_frames_equal",
    "infer_schema",
    "normalize_frame",
    "to_arrow",
]

SchemaLike = ibis.Schema | Mapping[str, Any]


class BackendUnavailable(RuntimeError):
    """A requested backend cannot be reached (missing server, driver or Java)."""


# ---------------------------------------------------------------------------------------
# Connections
# ---------------------------------------------------------------------------------------


def connect_duckdb() -> ibis.BaseBackend:
    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    return con


def connect_postgres(url: str | None = None) -> ibis.BaseBackend:
    from urllib.parse import unquote, urlparse

    url = url or os.environ.get("ML_TEST_POSTGRES_URL")
    if not url:
        raise BackendUnavailable(
            'ML_TEST_POSTGRES_URL is not set: run `eval "$(.ci/postgres.sh start)"` '
            "(or point it at a scratch database, postgres://user@host:port/db)"
        )
    parts = urlparse(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise BackendUnavailable(f"ML_TEST_POSTGRES_URL must be postgres://..., got {url!r}")
    try:
        con = ibis.postgres.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            database=(parts.path or "/").lstrip("/") or "postgres",
            connect_timeout=10,
        )
    except Exception as e:  # psycopg.OperationalError and friends
        raise BackendUnavailable(f"cannot connect to PostgreSQL at {url}: {e}") from e
    # ibis already does this on connect; repeat it so the harness does not depend on it
    con.raw_sql("SET TIME ZONE 'UTC'")
    return con


def start_spark(tmpdir: str):
    """A local[2] SparkSession tuned for small tests. ~5-10 s to start the JVM."""
    import shutil
    import subprocess
    import sys

    try:
        from pyspark.sql import SparkSession
    except ImportError as e:
        raise BackendUnavailable(
            f"pyspark is not installed ({e}); pip install -e '.[spark]'"
        ) from e
    java_home = os.environ.get("JAVA_HOME")
    java = shutil.which("java", path=os.path.join(java_home, "bin")) if java_home else None
    java = java or shutil.which("java")
    if not java:
        raise BackendUnavailable(
            "java not found (PySpark needs Java 17): apt-get install openjdk-17-jre-headless"
        )
    try:
        subprocess.run([java, "-version"], check=True, capture_output=True, timeout=60)
    except Exception as e:
        raise BackendUnavailable(f"`{java} -version` failed: {e}") from e

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    warehouse = os.path.join(tmpdir, "spark-warehouse")
    local_dir = os.path.join(tmpdir, "spark-local")
    os.makedirs(local_dir, exist_ok=True)
    # C1-only JIT and the serial GC: about twice as fast to start and to warm up for the
    # small, short queries of tests on 2 cores (measured: 12 queries 15 s vs 30 s)
    jvm_opts = os.environ.get("ML_TEST_SPARK_JAVA_OPTS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
    builder = (
        SparkSession.builder.master("local[2]")
        .appName("metrics_layer-tests")
        .config("spark.driver.memory", os.environ.get("ML_TEST_SPARK_MEMORY", "2g"))
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.catalogImplementation", "in-memory")
        .config("spark.sql.warehouse.dir", warehouse)
        .config("spark.local.dir", local_dir)
        .config(
            "spark.driver.extraJavaOptions",
            f"-Dderby.system.home={tmpdir} -Duser.timezone=UTC {jvm_opts}",
        )
        .config("spark.executor.extraJavaOptions", "-Duser.timezone=UTC")
    )
    try:
        session = builder.getOrCreate()
    except Exception as e:
        raise BackendUnavailable(f"cannot start a local SparkSession: {e}") from e
    # ERROR would print a JVM stack trace as JSON for every failed query (e.g. ANSI
    # division by zero); the Python exception carries the message anyway
    session.sparkContext.setLogLevel("FATAL")
    return session


def connect_pyspark(session) -> ibis.BaseBackend:
    return ibis.pyspark.connect(session)


def start_spark_connect(url: str | None = None):
    """A Spark Connect session on the server at ``url`` (``sc://host:port``), by default
    ``ML_TEST_SPARK_CONNECT_URL`` (``eval "$(.ci/spark-connect.sh start)"`` starts one).
    Only the gRPC client runs here: no JVM in this process."""
    url = url or os.environ.get("ML_TEST_SPARK_CONNECT_URL")
    if not url:
        raise BackendUnavailable(
            'ML_TEST_SPARK_CONNECT_URL is not set: run `eval "$(.ci/spark-connect.sh start)"` '
            "(or point it at a Spark Connect server, sc://host:port)"
        )
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:
        raise BackendUnavailable(
            f"pyspark is not installed ({e}); pip install -e '.[spark]'"
        ) from e
    try:
        session = SparkSession.builder.remote(url).getOrCreate()
        session.conf.set("spark.sql.session.timeZone", "UTC")
        session.sql("SELECT 1").collect()  # reach the server now, not in the first test
    except Exception as e:  # ImportError of grpcio & co, or the server not answering
        raise BackendUnavailable(f"cannot connect to Spark Connect at {url}: {e}") from e
    return session


# ---------------------------------------------------------------------------------------
# Schema inference and Arrow conversion
# ---------------------------------------------------------------------------------------


def _is_null(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float):
        return math.isnan(v)
    if isinstance(v, decimal.Decimal):
        return v.is_nan()
    if isinstance(v, np.datetime64 | np.timedelta64):
        return bool(np.isnat(v))
    if isinstance(v, np.floating):
        return bool(np.isnan(v))
    return False


def _decimal_scale(v: decimal.Decimal) -> int:
    exp = v.as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


def _integer_digits(v: decimal.Decimal) -> int:
    t = v.as_tuple()
    return max(len(t.digits) + t.exponent, 0) if isinstance(t.exponent, int) else 0


def _infer_object_column(name: str, values: Sequence[Any]) -> dt.DataType:
    vals = [v for v in values if not _is_null(v)]
    if not vals:
        raise TypeError(
            f"column {name!r} has only NULLs: declare its type, e.g. "
            f"schemas={{table: {{{name!r}: 'int64'}}}}"
        )
    kinds = set()
    for v in vals:
        if isinstance(v, bool | np.bool_):
            kinds.add("bool")
        elif isinstance(v, int | np.integer):
            kinds.add("int")
        elif isinstance(v, float | np.floating):
            kinds.add("float")
        elif isinstance(v, decimal.Decimal):
            kinds.add("decimal")
        elif isinstance(v, str):
            kinds.add("str")
        elif isinstance(v, pd.Timestamp | _dt.datetime):
            kinds.add("tstz" if v.tzinfo is not None else "ts")
        elif isinstance(v, _dt.date):
            kinds.add("date")
        else:
            kinds.add(type(v).__name__)
    if kinds == {"bool"}:
        return dt.boolean
    if kinds == {"int"}:
        return dt.int64
    if kinds <= {"int", "float"}:
        return dt.float64
    if kinds <= {"int", "decimal"}:
        decs = [decimal.Decimal(v) if not isinstance(v, decimal.Decimal) else v for v in vals]
        scale = max(_decimal_scale(v) for v in decs)
        integer_digits = max(_integer_digits(v) for v in decs)
        precision = max(18, integer_digits + scale)
        if precision > 38:
            raise TypeError(f"column {name!r}: Decimal values need precision {precision} > 38")
        return dt.Decimal(precision, scale)
    if kinds == {"str"}:
        return dt.string
    if kinds == {"ts"}:
        return dt.Timestamp()
    if kinds == {"tstz"}:
        return dt.Timestamp(timezone="UTC")
    if kinds == {"date"}:
        return dt.date
    raise TypeError(
        f"column {name!r} mixes value types {sorted(kinds)}: declare its type in schemas="
    )


def _canonical(dtype: dt.DataType) -> dt.DataType:
    """Types as all three backends store them: microsecond timestamps, tz UTC or none."""
    if dtype.is_timestamp():
        return dt.Timestamp(timezone="UTC" if dtype.timezone else None, nullable=dtype.nullable)
    if dtype.is_string():
        return dt.String(nullable=dtype.nullable)
    return dtype


def _infer_series(name: str, s: pd.Series) -> dt.DataType:
    d = s.dtype
    if isinstance(d, pd.ArrowDtype):
        return _canonical(dt.dtype(d.pyarrow_dtype))
    if isinstance(d, pd.DatetimeTZDtype):
        return dt.Timestamp(timezone="UTC")
    if pd.api.types.is_datetime64_dtype(d):
        return dt.Timestamp()
    if pd.api.types.is_bool_dtype(d):
        return dt.boolean
    if pd.api.types.is_integer_dtype(d):
        return dt.dtype(np.dtype(d.numpy_dtype if hasattr(d, "numpy_dtype") else d))
    if pd.api.types.is_float_dtype(d):
        return dt.dtype(np.dtype(d.numpy_dtype if hasattr(d, "numpy_dtype") else d))
    if pd.api.types.is_string_dtype(d) and not pd.api.types.is_object_dtype(d):
        return dt.string
    if pd.api.types.is_object_dtype(d):
        return _infer_object_column(name, list(s))
    raise TypeError(f"column {name!r}: cannot infer a type for dtype {d}: declare it")


def infer_schema(frame: pd.DataFrame | pa.Table, declared: SchemaLike | None = None) -> ibis.Schema:
    """The ibis schema a frame is loaded with: declared types first, inferred for the rest."""
    declared = dict(ibis.schema(declared).items()) if declared is not None else {}
    columns = list(frame.column_names if isinstance(frame, pa.Table) else frame.columns)
    unknown = set(declared) - set(columns)
    if unknown:
        raise KeyError(f"schemas= names columns not in the frame: {sorted(unknown)}")
    out: dict[str, dt.DataType] = {}
    for c in columns:
        if not isinstance(c, str):
            raise TypeError(f"column names must be strings, got {c!r}")
        if c in declared:
            out[c] = _canonical(dt.dtype(declared[c]))
        elif isinstance(frame, pa.Table):
            typ = frame.schema.field(c).type
            if pa.types.is_null(typ):
                raise TypeError(f"column {c!r} has only NULLs: declare its type in schemas=")
            out[c] = _canonical(dt.dtype(typ))
        else:
            out[c] = _infer_series(c, frame[c])
    return ibis.schema(out)


def _to_decimal(v: Any) -> decimal.Decimal:
    if isinstance(v, decimal.Decimal):
        return v
    if isinstance(v, float | np.floating):
        return decimal.Decimal(repr(float(v)))
    return decimal.Decimal(str(v))


def _to_date(v: Any) -> _dt.date:
    if isinstance(v, pd.Timestamp | _dt.datetime):
        if (v.hour, v.minute, v.second, v.microsecond) != (0, 0, 0, 0) or getattr(
            v, "nanosecond", 0
        ):
            raise ValueError(f"{v!r} is not midnight: refusing to truncate it to a date")
        return v.date()
    if isinstance(v, _dt.date):
        return v
    if isinstance(v, np.datetime64):
        return _to_date(pd.Timestamp(v))
    if isinstance(v, str):
        return _dt.date.fromisoformat(v)
    raise TypeError(f"cannot read {v!r} as a date")


def _series_to_arrow(name: str, s: pd.Series, dtype: dt.DataType) -> pa.Array:
    target = dtype.to_pyarrow()
    try:
        if isinstance(s.dtype, pd.ArrowDtype):
            arr = pa.array(s, from_pandas=True)
            return arr if arr.type == target else arr.cast(target, safe=True)
        if dtype.is_timestamp():
            ts = pd.to_datetime(s)  # strings, datetimes, Timestamps; None -> NaT
            if dtype.timezone is None and ts.dt.tz is not None:
                ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
            elif dtype.timezone is not None:
                ts = ts.dt.tz_localize("UTC") if ts.dt.tz is None else ts.dt.tz_convert("UTC")
            return pa.array(ts, from_pandas=True).cast(target, safe=True)
        if dtype.is_date():
            vals = [None if _is_null(v) else _to_date(v) for v in s]
            return pa.array(vals, type=target)
        if dtype.is_decimal():
            vals = [None if _is_null(v) else _to_decimal(v) for v in s]
            return pa.array(vals, type=target)
        if dtype.is_integer():
            if pd.api.types.is_float_dtype(s.dtype):
                nonnull = s.dropna()
                if not (nonnull == np.floor(nonnull)).all():
                    raise ValueError("non-integral float values in an integer column")
                s = s.astype("Int64")
            return pa.array(s, type=target, from_pandas=True)
        if dtype.is_string():
            vals = [None if _is_null(v) else v for v in s]
            bad = [v for v in vals if v is not None and not isinstance(v, str)]
            if bad:
                raise TypeError(f"non-string values in a string column, e.g. {bad[0]!r}")
            return pa.array(vals, type=target)
        return pa.array(s, type=target, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError, TypeError) as e:
        raise type(e)(f"column {name!r} as {dtype}: {e}") from e


def to_arrow(frame: pd.DataFrame | pa.Table, schema: ibis.Schema) -> pa.Table:
    """The frame as an Arrow table of exactly ``schema`` (strict conversion)."""
    arrays = []
    for name, dtype in schema.items():
        if isinstance(frame, pa.Table):
            col = frame.column(name)
            target = dtype.to_pyarrow()
            arrays.append(col if col.type == target else col.cast(target, safe=True))
        else:
            arrays.append(_series_to_arrow(name, frame[name], dtype))
    return pa.Table.from_arrays(arrays, schema=schema.to_pyarrow())


# ---------------------------------------------------------------------------------------
# Normalisation and comparison
# ---------------------------------------------------------------------------------------

DecimalMode = Literal["float", "exact"]


def _ts_to_naive_utc_ns(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    try:
        return s.astype("datetime64[ns]")
    except (OverflowError, pd.errors.OutOfBoundsDatetime):  # beyond 1677..2262: keep the unit
        return s


def _normalize_object(s: pd.Series, decimals: DecimalMode) -> pd.Series:
    vals = list(s)
    nonnull = [v for v in vals if not _is_null(v)]
    if not nonnull:
        return pd.Series([None] * len(vals), index=s.index, dtype=object)
    if all(isinstance(v, bool | np.bool_) for v in nonnull):
        return pd.Series(
            [None if _is_null(v) else bool(v) for v in vals], index=s.index, dtype="boolean"
        )
    if all(isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_) for v in nonnull):
        return pd.Series(
            [None if _is_null(v) else int(v) for v in vals], index=s.index, dtype="Int64"
        )
    if all(isinstance(v, decimal.Decimal) for v in nonnull):
        if decimals == "exact":
            return pd.Series(
                [None if _is_null(v) else v for v in vals], index=s.index, dtype=object
            )
        return pd.Series(
            [np.nan if _is_null(v) else float(v) for v in vals], index=s.index, dtype="float64"
        )
    if all(
        isinstance(v, int | float | np.integer | np.floating | decimal.Decimal) for v in nonnull
    ):
        return pd.Series(
            [np.nan if _is_null(v) else float(v) for v in vals], index=s.index, dtype="float64"
        )
    if all(isinstance(v, pd.Timestamp | _dt.datetime | np.datetime64) for v in nonnull):
        return _ts_to_naive_utc_ns(
            pd.to_datetime(pd.Series(vals, index=s.index, dtype=object), utc=True)
        )
    if all(isinstance(v, _dt.date) for v in nonnull):  # plain dates (datetimes handled above)
        return pd.to_datetime(pd.Series(vals, index=s.index, dtype=object)).astype("datetime64[ns]")
    return pd.Series([None if _is_null(v) else v for v in vals], index=s.index, dtype=object)


def normalize_series(s: pd.Series, decimals: DecimalMode = "float") -> pd.Series:
    d = s.dtype
    if isinstance(d, pd.ArrowDtype):
        return normalize_series(pd.Series(s.to_list(), index=s.index, dtype=object), decimals)
    if isinstance(d, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(d):
        return _ts_to_naive_utc_ns(s)
    if pd.api.types.is_bool_dtype(d):
        return s.astype("boolean")
    if pd.api.types.is_integer_dtype(d):
        return s.astype("Int64")
    if pd.api.types.is_float_dtype(d):
        return s.astype("float64")
    return _normalize_object(s, decimals)


def normalize_frame(df: pd.DataFrame, decimals: DecimalMode = "float") -> pd.DataFrame:
    """A frame in the harness's canonical types (see the module docstring)."""
    out = pd.DataFrame({c: normalize_series(df[c], decimals) for c in df.columns})
    out.columns = list(df.columns)
    return out.reset_index(drop=True)


def arrow_to_frame(table: pa.Table, decimals: DecimalMode = "float") -> pd.DataFrame:
    cols = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        t = col.type
        if pa.types.is_integer(t):
            cols[name] = pd.Series(col.to_pylist(), dtype="Int64")
        elif pa.types.is_decimal(t):
            vals = col.to_pylist()
            if decimals == "exact":
                cols[name] = pd.Series(vals, dtype=object)
            else:
                cols[name] = pd.Series(
                    [np.nan if v is None else float(v) for v in vals], dtype="float64"
                )
        elif pa.types.is_floating(t):
            cols[name] = pd.Series(col.to_numpy(zero_copy_only=False), dtype="float64")
        elif pa.types.is_boolean(t):
            cols[name] = pd.Series(col.to_pylist(), dtype="boolean")
        elif pa.types.is_timestamp(t):
            s = col.to_pandas()
            if t.tz is not None and not isinstance(s.dtype, pd.DatetimeTZDtype):
                s = s.dt.tz_localize("UTC")
            cols[name] = _ts_to_naive_utc_ns(s)
        elif pa.types.is_date(t):
            cols[name] = _normalize_object(pd.Series(col.to_pylist(), dtype=object), decimals)
        elif pa.types.is_null(t):
            cols[name] = pd.Series([None] * len(col), dtype=object)
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            cols[name] = pd.Series(col.to_pylist(), dtype=object)
        else:
            cols[name] = _normalize_object(pd.Series(col.to_pylist(), dtype=object), decimals)
    out = pd.DataFrame(cols, index=range(table.num_rows))
    out.columns = list(table.column_names)
    return out


def _kind(s: pd.Series) -> str:
    d = s.dtype
    if s.isna().all():
        return "null"
    if pd.api.types.is_bool_dtype(d):
        return "bool"
    if pd.api.types.is_integer_dtype(d):
        return "int"
    if pd.api.types.is_float_dtype(d):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(d):
        return "datetime"
    nonnull = s.dropna()
    if len(nonnull) and all(isinstance(v, decimal.Decimal) for v in nonnull):
        return "decimal"
    return "object"


def _nullmask(s: pd.Series) -> np.ndarray:
    return (
        np.array([_is_null(v) for v in s], dtype=bool) if s.dtype == object else s.isna().to_numpy()
    )


def _sort_key(v: Any) -> tuple:
    if _is_null(v):
        return (0, 0)
    if isinstance(v, bool | np.bool_ | int | float | np.integer | np.floating | decimal.Decimal):
        return (1, float(v) if not isinstance(v, int | np.integer) else int(v))
    if isinstance(v, pd.Timestamp | _dt.datetime | _dt.date | np.datetime64):
        return (2, pd.Timestamp(v).value)
    return (3, str(v))


def _sort(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sort by ``by``, then by the other columns (ties), NULLs first, any value types."""
    keys = by + [c for c in df.columns if c not in by]
    cols = [list(df[c]) for c in keys]
    order = sorted(range(len(df)), key=lambda i: tuple(_sort_key(col[i]) for col in cols))
    return df.iloc[order].reset_index(drop=True)


def _fmt(v: Any) -> str:
    return "NULL" if _is_null(v) else repr(v)


def assert_frames_equal(
    left: pd.DataFrame,
    right: pd.DataFrame,
    sort_by: str | Iterable[str] | bool | None = None,
    rtol: float = 1e-9,
    atol: float = 1e-12,
    check_column_order: bool = False,
    max_report: int = 10,
) -> None:
    """Assert two frames hold the same rows (see the module docstring for the rules).

    ``sort_by``: a column or columns to sort both frames by before comparing (the other
    columns break ties); ``True`` sorts by all columns; ``None`` compares in order.
    """
    __tracebackhide__ = True
    lcols, rcols = list(left.columns), list(right.columns)
    if sorted(map(str, lcols)) != sorted(map(str, rcols)) or len(lcols) != len(rcols):
        raise AssertionError(f"columns differ:\n  left:  {lcols}\n  right: {rcols}")
    if check_column_order and lcols != rcols:
        raise AssertionError(f"column order differs:\n  left:  {lcols}\n  right: {rcols}")
    if len(left) != len(right):
        raise AssertionError(
            f"row counts differ: left {len(left)}, right {len(right)}\n"
            f"left:\n{left.head(20)}\nright:\n{right.head(20)}"
        )
    left = normalize_frame(left, decimals="exact")
    right = normalize_frame(right[lcols], decimals="exact")
    if sort_by is not None and sort_by is not False:
        by = lcols if sort_by is True else [sort_by] if isinstance(sort_by, str) else list(sort_by)
        missing = [c for c in by if c not in lcols]
        if missing:
            raise KeyError(f"sort_by columns not in the frames: {missing}")
        left, right = _sort(left, by), _sort(right, by)

    problems = []
    for c in lcols:
        ls, rs = left[c], right[c]
        lk, rk = _kind(ls), _kind(rs)
        lnull, rnull = _nullmask(ls), _nullmask(rs)
        numeric = {"int", "float", "decimal", "null"}
        if lk == "null" or rk == "null":
            bad = lnull != rnull
        elif lk in numeric and rk in numeric and (lk == "float" or rk == "float" or lk != rk):
            lv = np.array(
                [np.nan if n else float(v) for v, n in zip(ls, lnull, strict=True)], dtype=float
            )
            rv = np.array(
                [np.nan if n else float(v) for v, n in zip(rs, rnull, strict=True)], dtype=float
            )
            bad = (lnull != rnull) | ~(
                np.isclose(lv, rv, rtol=rtol, atol=atol, equal_nan=True) | (lnull & rnull)
            )
        elif lk != rk:
            problems.append(f"column {c!r}: left is {lk} ({ls.dtype}), right is {rk} ({rs.dtype})")
            continue
        else:
            eq = np.array(
                [
                    (ln and rn) or (not ln and not rn and bool(a == b))
                    for a, b, ln, rn in zip(ls, rs, lnull, rnull, strict=True)
                ],
                dtype=bool,
            )
            bad = ~eq
        if bad.any():
            rows = np.flatnonzero(bad)
            lines = [
                f"    row {i}: left={_fmt(ls.iloc[i])} right={_fmt(rs.iloc[i])}"
                for i in rows[:max_report]
            ]
            more = f"\n    ... {len(rows) - max_report} more" if len(rows) > max_report else ""
            problems.append(
                f"column {c!r} ({lk} vs {rk}): {len(rows)} of {len(ls)} rows differ\n"
                + "\n".join(lines)
                + more
            )
    if problems:
        with pd.option_context("display.width", 200, "display.max_columns", 50):
            raise AssertionError(
                "frames differ"
                + (f" (sorted by {sort_by})" if sort_by else "")
                + ":\n  "
                + "\n  ".join(problems)
                + f"\nleft:\n{left.head(20)}\nright:\n{right.head(20)}"
            )


# ---------------------------------------------------------------------------------------
# The Backend object handed to tests
# ---------------------------------------------------------------------------------------

_counter = itertools.count()


class Backend:
    """One connected backend: ``name``, ``con`` (ibis), ``load``, ``fetch``, ``unique_name``."""

    def __init__(self, name: str, con: ibis.BaseBackend, session: Any = None):
        if name not in KNOWN_BACKENDS:
            raise ValueError(f"unknown backend {name!r}; known: {KNOWN_BACKENDS}")
        self.name = name
        self.con = con
        self.spark = session  # the SparkSession for pyspark and spark-connect, else None

    @property
    def is_spark(self) -> bool:
        """ibis's PySpark backend, on a local session or over Spark Connect."""
        return self.name in SPARK_BACKENDS

    @property
    def engine(self) -> str:
        """The ibis backend name (and SQL dialect family): spark-connect is pyspark."""
        return "pyspark" if self.is_spark else self.name

    def __repr__(self) -> str:
        return f"Backend({self.name!r})"

    @contextlib.contextmanager
    def fresh_connection(self) -> Iterator[ibis.BaseBackend]:
        """A second connection of the same kind, for a test that may break connection
        state: a new, empty in-memory DuckDB, or a new PostgreSQL session on the same
        database, disconnected afterwards. Spark has one session per process: this yields
        another ibis connection on it and leaves the session running."""
        if self.is_spark:
            yield connect_pyspark(self.spark)
            return
        con = connect_duckdb() if self.name == "duckdb" else connect_postgres()
        try:
            yield con
        finally:
            with contextlib.suppress(Exception):
                con.disconnect()

    # -- names ---------------------------------------------------------------------------
    def unique_name(self, prefix: str = "t") -> str:
        """A fresh lower-case table name, ``<prefix>_<n>_<random>``, unique per session."""
        prefix = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in prefix.lower()) or "t"
        return f"{prefix}_{next(_counter)}_{uuid.uuid4().hex[:8]}"

    def _quote(self, ident: str) -> str:
        q = "`" if self.is_spark else '"'
        return q + ident.replace(q, q + q) + q

    # -- loading -------------------------------------------------------------------------
    def load(
        self,
        tables: Mapping[str, pd.DataFrame | pa.Table],
        schemas: Mapping[str, SchemaLike] | None = None,
    ) -> dict[str, ir.Table]:
        """(Re)create each table from its frame; returns ``{name: con.table(name)}``.

        ``schemas`` maps a table name to column types for some or all of its columns
        (``{"amount": "decimal(15,2)", "user_id": "int64"}`` or an ``ibis.Schema``); the
        other columns are inferred (see the module docstring).
        """
        schemas = dict(schemas or {})
        unknown = set(schemas) - set(tables)
        if unknown:
            raise KeyError(f"schemas= names tables that are not loaded: {sorted(unknown)}")
        out = {}
        for name, frame in tables.items():
            schema = infer_schema(frame, schemas.get(name))
            data = to_arrow(frame, schema)
            getattr(self, f"_load_{self.engine}")(name, data, schema)
            out[name] = self.con.table(name)
        return out

    def _column_defs(self, schema: ibis.Schema, dialect: str) -> str:
        defs = schema.to_sqlglot_column_defs(dialect)
        return ", ".join(d.sql(dialect) for d in defs)

    def _load_duckdb(self, name: str, data: pa.Table, schema: ibis.Schema) -> None:
        # a cursor of ibis's duckdb connection: same database, its own statement state
        cur = self.con.con.cursor()
        view = f"__ml_load_{uuid.uuid4().hex}"
        try:
            cur.register(view, data)
            q = self._quote(name)
            cur.execute(
                f"CREATE OR REPLACE TABLE {q} ({self._column_defs(schema, 'duckdb')})"
            ).fetchall()
            cur.execute(f"INSERT INTO {q} SELECT * FROM {self._quote(view)}").fetchall()
            cur.unregister(view)
        finally:
            cur.close()

    def _load_postgres(self, name: str, data: pa.Table, schema: ibis.Schema) -> None:
        raw = self.con.con  # the psycopg.Connection
        q = self._quote(name)
        cols = ", ".join(self._quote(c) for c in schema.names)
        columns = [c.to_pylist() for c in data.columns]
        with raw.cursor() as cur, raw.transaction():
            cur.execute(f"DROP TABLE IF EXISTS {q} CASCADE")
            cur.execute(f"CREATE TABLE {q} ({self._column_defs(schema, 'postgres')})")
            if data.num_rows:
                with cur.copy(f"COPY {q} ({cols}) FROM STDIN") as copy:
                    for row in zip(*columns, strict=True):
                        copy.write_row(row)
            cur.execute(f"ANALYZE {q}")

    def _load_pyspark(self, name: str, data: pa.Table, schema: ibis.Schema) -> None:
        from ibis.backends.pyspark.datatypes import PySparkSchema

        spark_schema = PySparkSchema.from_ibis(schema)
        # from Arrow even when empty: a list of rows would start a Python worker (~2-8 s)
        sdf = self.spark.createDataFrame(data, schema=spark_schema)
        # a session-scoped temporary view: no files, replaced on reload
        sdf.createOrReplaceTempView(name)

    def drop(self, *names: str) -> None:
        for name in names:
            if self.is_spark:
                self.spark.catalog.dropTempView(name)
            elif self.name == "postgres":
                with self.con.con.cursor() as cur, self.con.con.transaction():
                    cur.execute(f"DROP TABLE IF EXISTS {self._quote(name)} CASCADE")
            else:
                cur = self.con.con.cursor()
                try:
                    cur.execute(f"DROP TABLE IF EXISTS {self._quote(name)}").fetchall()
                finally:
                    cur.close()

    # -- fetching ------------------------------------------------------------------------
    def to_arrow(self, expr: ir.Expr) -> pa.Table:
        """Execute a table or column expression to an Arrow table, exactly.

        PySpark's own ``to_pyarrow`` goes through pandas (ints with NULLs become floats);
        here Spark's native ``DataFrame.toArrow()`` is used instead.
        """
        table = expr.as_table() if not isinstance(expr, ir.Table) else expr
        if self.is_spark:
            self.con._run_pre_execute_hooks(table)  # registers memtables
            sdf = self.spark.sql(self.con.compile(table))
            result = sdf.toArrow()
            # Spark names are what ibis asked for; types may differ in width only
            target = table.schema().to_pyarrow()
            arrays = []
            for field, col in zip(target, result.columns, strict=True):
                if col.type != field.type and not (
                    pa.types.is_timestamp(col.type) and pa.types.is_timestamp(field.type)
                ):
                    col = col.cast(field.type)
                arrays.append(col)
            return pa.Table.from_arrays(arrays, names=target.names)
        return table.to_pyarrow()

    def fetch(
        self,
        expr: ir.Expr,
        decimals: DecimalMode = "float",
        via: Literal["arrow", "pandas"] = "arrow",
    ) -> pd.DataFrame | Any:
        """Execute ``expr``; a table/column gives a normalised frame, a scalar a value.

        ``decimals="exact"`` keeps decimal.Decimal values; ``via="pandas"`` uses
        ``expr.execute()`` (ibis's pandas conversion) instead of the exact Arrow route.
        """
        if isinstance(expr, ir.Scalar):
            frame = self.fetch(expr.as_table(), decimals=decimals, via=via)
            return None if _is_null(v := frame.iloc[0, 0]) else v
        if via == "pandas":
            res = expr.execute()
            if isinstance(res, pd.Series):
                res = res.to_frame()
            return normalize_frame(res, decimals=decimals)
        return arrow_to_frame(self.to_arrow(expr), decimals=decimals)

    def sql(self, query: str) -> pd.DataFrame:
        """Run raw SQL in the backend's dialect and return a normalised frame."""
        return self.fetch(self.con.sql(query))
