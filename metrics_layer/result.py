"""Result: a compiled query that runs on demand and shows its SQL (for any dialect) and plan.

An expression is compiled for the layer's backend; `Result.sql(dialect)` renders it for any
dialect through `metrics_layer.dialects.render_sql`, which rewrites the engine-specific
formulations (time zones, epoch microseconds) into the target's exact equivalent and refuses
what has none there (an ASOF join for BigQuery, Trino or Spark; an approximate median).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis.expr.types as ir

from metrics_layer.dialects import render_sql
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
    """Lazy result of a query, a retention or a funnel: nothing runs until you ask for data."""

    def __init__(
        self,
        expr: ir.Table,
        *,
        explain: str | Callable[[], str] = "",
        backend: str | None = None,
        kind: str = "query",
        postprocess: Callable[[Any], Any] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self._expr = expr
        self._explain = explain
        self._backend = backend
        self.kind = kind
        self._post = postprocess
        self.meta = meta or {}
        self._cache: Any = None

    @property
    def expr(self) -> ir.Table:
        """The ibis table expression (compose it further, or run it yourself)."""
        return self._expr

    @property
    def columns(self) -> list[str]:
        return list(self._expr.columns)

    def sql(self, dialect: str | None = None, pretty: bool = True) -> str:
        """SQL text for a sqlglot dialect; default: the connection's (see dialects.render_sql)."""
        return render_sql(self._expr, self._backend, dialect, pretty)

    def explain(self) -> str:
        """The plan in words: sources, joins, aggregations and how metrics combine."""
        return self._explain() if callable(self._explain) else self._explain

    def to_pandas(self) -> Any:
        if self._cache is None:
            try:
                df = self._expr.execute()
            except Exception as exc:  # noqa: BLE001 - surface backend failures as our error
                raise ExecutionError(f"the backend failed to run the query: {exc}") from exc
            self._cache = self._post(df) if self._post else df
        return self._cache.copy()

    def to_pyarrow(self) -> Any:
        import pyarrow as pa

        return pa.Table.from_pandas(self.to_pandas(), preserve_index=False)

    def to_polars(self) -> Any:
        import polars as pl

        return pl.from_arrow(self.to_pyarrow())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind}: columns {', '.join(self.columns)}>"

    def _repr_html_(self) -> str:
        df = self.to_pandas()
        head = f"<p><b>{self.kind}</b> · {len(df)} rows</p>"
        return head + str(df.to_html(index=False, max_rows=50, na_rep="NULL"))
