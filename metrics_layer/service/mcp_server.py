"""The MCP tools (official `mcp` SDK, 1.x FastMCP) over stdio: the service's operations for agents.

Arguments are the Python keyword names of the Layer methods. A user error (an unknown name, a
bad option) is an error result carrying the one-line message, never a crash of the server.
Tabular answers are `{"columns", "rows", "truncated"}` capped at `max_rows`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from mcp.server.fastmcp import FastMCP
from mcp.server.fastmcp.exceptions import ToolError

from metrics_layer.errors import MetricsLayerError
from metrics_layer.layer import Layer
from metrics_layer.service import operations as ops
from metrics_layer.service.answers import JSON, Answer, encode, execute
from metrics_layer.service.audit import AuditLog

INSTRUCTIONS = (
    "Metrics of one semantic layer. Start with list_metrics (each metric lists the dimensions "
    "it can be grouped by), then query. Dimension names are paths such as workers.country; "
    "dimension_values shows a dimension's values for filters (where= is SQL over dimensions)."
)


def build_server(layer: Layer, *, max_rows: int = 1000, audit: AuditLog | None = None) -> FastMCP:
    server = FastMCP("metrics_layer", instructions=INSTRUCTIONS)

    def call(operation: str, request: dict[str, Any], build: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        status, rows, sql = 200, None, None
        try:
            out = build()  # the engine is thread-safe: no lock around backend calls
            if isinstance(out, ops.Result):
                sql = ops.safe_sql(out) if audit is not None else None
                out = execute(out, max_rows)
            if isinstance(out, Answer):
                rows = out.rows
                return json.loads(encode(out, JSON)[0])
            return out
        except MetricsLayerError as exc:
            status = 404 if isinstance(exc, ops.NotFound) else 400
            raise ToolError(str(exc).splitlines()[0]) from None
        except Exception as exc:  # noqa: BLE001 - an agent gets one line, never a traceback
            status = 500
            raise ToolError(f"internal error: {type(exc).__name__}") from None
        finally:
            if audit is not None:
                audit.write(
                    user="mcp",
                    operation=operation,
                    request=request,
                    sql=sql,
                    rows=rows,
                    ms=(time.perf_counter() - t0) * 1000,
                    status=status,
                )

    def args(**kw: Any) -> dict[str, Any]:
        return {k: v for k, v in kw.items() if v is not None}

    @server.tool()
    def list_metrics() -> dict[str, Any]:
        """Every metric with its type, description, format and the dimensions it can be grouped by."""
        return call("list_metrics", {}, lambda: {"metrics": ops.list_metrics(layer)})  # type: ignore[no-any-return]

    @server.tool()
    def describe_metric(name: str) -> dict[str, Any]:
        """One metric's definition, sources and dimensions."""
        return call("describe_metric", {"name": name}, lambda: ops.describe_metric(layer, name))  # type: ignore[no-any-return]

    @server.tool()
    def list_dimensions(source: str) -> dict[str, Any]:
        """The dimensions reachable from a source (by path of joins)."""
        answer: dict[str, Any] = call(
            "list_dimensions", {"source": source}, lambda: ops.list_dimensions(layer, source)
        )
        return answer

    @server.tool()
    def dimension_values(
        dimension: str, search: str | None = None, limit: int = 100
    ) -> dict[str, Any]:
        """Distinct values of a dimension named source.dimension; search matches text, case-insensitive."""
        a = {"dimension": dimension, "search": search, "limit": limit}
        answer: dict[str, Any] = call(
            "dimension_values", a, lambda: ops.run(layer, "dimension_values", a, in_path=False)
        )
        return answer

    @server.tool()
    def query(
        metrics: list[str],
        by: list[str] | None = None,
        grain: str | None = None,
        where: str | None = None,
        start: str | None = None,
        end: str | None = None,
        order_by: list[str] | None = None,
        limit: int | None = None,
        fill: str | None = None,
    ) -> dict[str, Any]:
        """Metrics by dimensions and time grain; start inclusive, end exclusive; where is SQL."""
        a = args(
            metrics=metrics,
            by=by,
            grain=grain,
            where=where,
            start=start,
            end=end,
            order_by=order_by,
            limit=limit,
            fill=fill,
        )
        return call("query", a, lambda: ops.run(layer, "query", a, in_path=False))  # type: ignore[no-any-return]

    @server.tool()
    def sql(
        metrics: list[str],
        by: list[str] | None = None,
        grain: str | None = None,
        where: str | None = None,
        start: str | None = None,
        end: str | None = None,
        dialect: str | None = None,
    ) -> dict[str, Any]:
        """The SQL text of a query, for any sqlglot dialect."""
        a = args(
            metrics=metrics, by=by, grain=grain, where=where, start=start, end=end, dialect=dialect
        )
        return call("sql", a, lambda: {"sql": ops.sql_text(layer, a)})  # type: ignore[no-any-return]

    @server.tool()
    def retention(
        name: str,
        periods: int | None = 12,
        by: list[str] | None = None,
        mode: str = "exact",
        cohort_type: str | None = None,
        start: str | None = None,
        end: str | None = None,
    ) -> dict[str, Any]:
        """Cohort retention of a retention definition."""
        a = {
            "name": name,
            "periods": periods,
            "mode": mode,
            **args(by=by, cohort_type=cohort_type, start=start, end=end),
        }
        return call("retention", a, lambda: ops.run(layer, "retention", a, in_path=False))  # type: ignore[no-any-return]

    @server.tool()
    def funnel(
        name: str,
        by: list[str] | None = None,
        start: str | None = None,
        end: str | None = None,
        order: str | None = None,
        window: str | None = None,
    ) -> dict[str, Any]:
        """Conversion through a funnel definition's steps."""
        a = {"name": name, **args(by=by, start=start, end=end, order=order, window=window)}
        return call("funnel", a, lambda: ops.run(layer, "funnel", a, in_path=False))  # type: ignore[no-any-return]

    @server.tool()
    def experiment(
        name: str,
        start: str | None = None,
        end: str | None = None,
        metrics: list[str] | None = None,
        alpha: float = 0.05,
        relative: bool = True,
    ) -> dict[str, Any]:
        """A/B test readout of an experiment definition."""
        a = {
            "name": name,
            "alpha": alpha,
            "relative": relative,
            **args(start=start, end=end, metrics=metrics),
        }
        return call("experiment", a, lambda: ops.run(layer, "experiment", a, in_path=False))  # type: ignore[no-any-return]

    return server
