"""Result: a compiled query that runs on demand and shows its SQL (for any dialect) and plan.

Data is not cached: every export runs the query again (`cached()` keeps one fetch).

An expression is compiled for the layer's backend; `Result.sql(dialect)` renders it for any
dialect through `metrics_layer.dialects.render_sql`, which rewrites the engine-specific
formulations (time zones, epoch microseconds) into the target's exact equivalent and refuses
what has none there (an ASOF join for BigQuery, Trino or Spark; an approximate median).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa

from metrics_layer.dialects import render_sql
from metrics_layer.engine import Compiled, Engine, Prepared
from metrics_layer.engine.exports import to_pandas, to_polars
from metrics_layer.errors import ExecutionError

SQL_DIALECTS = (
    "duckdb",
    "postgres",
    "bigquery",
    "snowflake",
    "trino",
    "clickhouse",
    "spark",
    "pyspark",
    "mysql",
    "sqlite",
    "databricks",
    "datafusion",
    "risingwave",
    "mssql",
    "oracle",
    "exasol",
    "druid",
    "impala",
    "athena",
    "flink",
)


class Result:
    """Lazy result of a query, a retention or a funnel: nothing runs until you ask for data.

    A Result holds a compiled query (engine/compiled.py) and the values it binds. Its SQL is
    rendered once per dialect and kept; every `to_pyarrow()` / `to_pandas()` / `to_polars()`
    runs the query again (new rows are seen), unless the Result was made with `cached()`.
    """

    def __init__(
        self,
        expr: ir.Table | None = None,
        *,
        explain: str | Callable[[], str] = "",
        backend: str | None = None,
        kind: str = "query",
        meta: dict[str, Any] | None = None,
        prepared: Prepared | None = None,
        engine: Engine | None = None,
    ) -> None:
        if prepared is None:
            if expr is None:
                raise TypeError("Result needs an expression or a prepared query")
            prepared = Prepared(Compiled(expr), cached=False, slotted=False)
        self._prepared = prepared
        self._bound: ir.Table | None = expr if not prepared.values else None
        self._explain = explain
        self._backend = backend
        self._engine = engine
        self.kind = kind
        self.meta = meta if meta is not None else {}
        self._sql: dict[tuple[str | None, bool], str] = {}
        self._lock = threading.Lock()
        self._data: pa.Table | None = None

    @property
    def expr(self) -> ir.Table:
        """The ibis table expression (compose it further, or run it yourself)."""
        if self._bound is None:
            p = self._prepared
            self._bound = p.compiled.bind(p.values)
        return self._bound

    @property
    def columns(self) -> list[str]:
        return list(self._prepared.compiled.columns)

    @property
    def cache_hit(self) -> bool:
        """Whether the compiled query came from the layer's cache."""
        return self._prepared.hit

    def sql(self, dialect: str | None = None, pretty: bool = True) -> str:
        """SQL text for a sqlglot dialect; default: the connection's (see dialects.render_sql).

        The literals are rendered safely into the text; it is rendered once per dialect.
        """
        key = (dialect, pretty)
        found = self._sql.get(key)
        if found is None:
            found = render_sql(self.expr, self._backend, dialect, pretty)
            with self._lock:
                found = self._sql.setdefault(key, found)
        return found

    def explain(self) -> str:
        """The plan in words: sources, joins, aggregations and how metrics combine, and
        whether the compiled query came from the cache."""
        text = self._explain() if callable(self._explain) else self._explain
        if not self._prepared.cached and self._engine is None:
            return text
        return (
            f"{text.rstrip()}\n{self._prepared.describe()}" if text else self._prepared.describe()
        )

    def to_pyarrow(self) -> Any:
        """The rows as an Arrow table, fetched from the backend as Arrow (exact types)."""
        if self._data is not None:
            return self._data
        p = self._prepared
        if self._engine is not None:
            return self._engine.arrow(p.compiled, p.values)
        try:
            return self.expr.to_pyarrow()
        except Exception as exc:  # noqa: BLE001 - surface backend failures as our error
            raise ExecutionError(f"the backend failed to run the query: {exc}") from exc

    def head_pyarrow(self, n: int) -> Any:
        """At most `n` rows as Arrow, run like `to_pyarrow` (on this thread's engine connection)."""
        if self._data is not None:
            return self._data.slice(0, n)
        expr = self.expr.limit(n)
        if self._engine is not None:
            return self._engine.arrow(Compiled(expr), {})
        try:
            return expr.to_pyarrow()
        except Exception as exc:  # noqa: BLE001 - surface backend failures as our error
            raise ExecutionError(f"the backend failed to run the query: {exc}") from exc

    def to_pandas(self) -> Any:
        """The rows as pandas, derived from Arrow: nullable Int64/Float64/boolean where a
        column has NULLs (NaN stays NaN), decimals as Decimal with their scale."""
        return to_pandas(self.to_pyarrow(), self._prepared.compiled.schema, self._backend or "")

    def to_polars(self) -> Any:
        return to_polars(self.to_pyarrow())

    def cached(self) -> Result:
        """This result with its rows fetched now and kept: later exports do not run the
        query again (and do not see new rows)."""
        data = self.to_pyarrow()
        out = copy.copy(self)
        out._lock = threading.Lock()
        out._sql = dict(self._sql)
        out._data = data
        return out

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind}: columns {', '.join(self.columns)}>"

    def _repr_html_(self) -> str:
        df = self.to_pandas()
        head = f"<p><b>{self.kind}</b> · {len(df)} rows</p>"
        return head + str(df.to_html(index=False, max_rows=50, na_rep="NULL"))
