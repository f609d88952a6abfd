"""The Layer: definitions bound to a connection; the entry point of every analysis."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import ibis.expr.types as ir

from metrics_layer.compile.kpi import Context, compile_plan
from metrics_layer.compile.timegrain import check_timezone
from metrics_layer.connection import backend_name, connect
from metrics_layer.definitions import load_project
from metrics_layer.errors import guarded
from metrics_layer.planner.plan import Plan, Planner
from metrics_layer.planner.request import Request
from metrics_layer.registry import Registry
from metrics_layer.registry.schemas import Schemas, schemas_for
from metrics_layer.result import Result


class Layer:
    """Metric definitions bound to an ibis connection."""

    def __init__(
        self, registry: Registry, con: Any, *, timezone: str = "UTC", path: str | None = None
    ) -> None:
        self.registry = registry
        self.con = con
        self.backend = backend_name(con)
        self.timezone = check_timezone(timezone)
        self.path = path
        self._tables: dict[str, ir.Table] = {}
        self.planner = Planner(registry)

    # ---------------------------------------------------------------- tables
    def table(self, source: str) -> ir.Table:
        """The ibis table of a source (cached per layer), typed without a query when it can be:
        from the connection, a schema snapshot or the definitions (registry/schemas.py)."""
        t = self._tables.get(source)
        if t is None:
            src = self.registry.sources[source]
            if src.calendar is not None:
                from metrics_layer.calendar import calendar_table

                t = calendar_table(src.calendar)
            else:
                t = self.schemas.table(self.registry, source)
            t = self._tables.setdefault(source, t)
        return t

    @property
    def schemas(self) -> Schemas:
        """Where column types come from; a layer built by hand reads its connection."""
        found = getattr(self.registry, "schemas", None)
        if found is None:
            found = self.registry.schemas = Schemas(self.con, connected=True).bind(self.registry)
        return found

    def context(self) -> Context:
        return Context(self.registry, self.table, self.backend, self.timezone)

    # ---------------------------------------------------------------- catalog
    def metrics(self) -> list[str]:
        """Names of the declared metrics."""
        return list(self.registry.project.metrics)

    def dimensions(self, source: str) -> list[str]:
        """Dimension names reachable from a source (by path of join roles)."""
        self.registry.source(source)
        return self.registry.field_names(source)

    # ---------------------------------------------------------------- KPI queries
    def plan(self, metrics: str | Sequence[str], **kwargs: Any) -> Plan:
        request = Request.build(metrics, timezone=self.timezone, **kwargs)
        return self.planner.plan(request)

    def query(
        self,
        metrics: str | Sequence[str],
        by: str | Sequence[str] | None = None,
        grain: str | None = None,
        where: Any = None,
        start: Any = None,
        end: Any = None,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        fill: str | None = None,
        as_of: Any = None,
    ) -> Result:
        """KPIs × dimensions × grain, as one ibis expression (nothing runs until you ask).

        fill="zero"|"null" yields every period of the range; as_of="current" or a date pins the
        version of SCD Type 2 dimensions (default: the version valid at each fact's time).
        """
        plan = self.plan(
            metrics,
            by=by,
            grain=grain,
            where=where,
            start=start,
            end=end,
            order_by=order_by,
            limit=limit,
            fill=fill,
            as_of=as_of,
        )
        expr = guarded(lambda: compile_plan(self.context(), plan), "the query")
        return Result(
            expr, explain=plan.explain, backend=self.backend, kind="query", meta={"plan": plan}
        )

    def sql(self, metrics: str | Sequence[str], dialect: str | None = None, **kwargs: Any) -> str:
        return self.query(metrics, **kwargs).sql(dialect=dialect)

    # ---------------------------------------------------------------- analyses
    def retention(
        self,
        name: str,
        periods: int | None = 12,
        by: str | Sequence[str] | None = None,
        mode: str = "exact",
        cohort_type: str | None = None,
        start: Any = None,
        end: Any = None,
        as_of: Any = None,
    ) -> Result:
        """Cohort retention (see docs/retention.md): a RetentionResult with pivot(),
        average_curve() and plot(). periods=None returns every observed period."""
        from metrics_layer.analysis.retention import retention

        return retention(
            self,
            name,
            periods=periods,
            by=by,
            mode=mode,
            cohort_type=cohort_type,
            start=start,
            end=end,
            as_of=as_of,
        )

    def funnel(
        self,
        name: str,
        by: str | Sequence[str] | None = None,
        start: Any = None,
        end: Any = None,
        order: str | None = None,
        window: Any = None,
        grain: str | None = None,
        strategy: str | None = None,
        times: bool = True,
    ) -> Result:
        """Conversion funnel with windowFunnel semantics (see docs/funnels.md).

        window: '7 days', a timedelta or seconds; strategy: 'asof' | 'window' (default: per
        backend, ASOF joins on DuckDB, window functions on PostgreSQL and PySpark);
        times=False: counts only, without median_seconds / avg_seconds (cheaper).
        """
        from metrics_layer.analysis.funnel import funnel

        return funnel(
            self,
            name,
            by=by,
            start=start,
            end=end,
            order=order,
            window=window,
            grain=grain,
            strategy=strategy,
            times=times,
        )

    def check(
        self,
        metrics: Sequence[str] | None = None,
        sources: Sequence[str] | None = None,
        grain: str = "day",
        start: Any = None,
        end: Any = None,
        as_of: Any = None,
    ) -> Any:
        """Validation rules of metrics and data checks of sources (see docs/checks.md)."""
        from metrics_layer.checks import run_checks

        return run_checks(
            self, metrics=metrics, sources=sources, grain=grain, start=start, end=end, as_of=as_of
        )

    def check_sources(
        self,
        sources: str | Sequence[str] | None = None,
        start: Any = None,
        end: Any = None,
        as_of: Any = None,
        quarantine: bool = False,
    ) -> Any:
        """Only the source data checks; quarantine=True writes failing rows to `<table>__quarantine`."""
        from metrics_layer.checks.runner import check_sources

        return check_sources(
            self, sources=sources, start=start, end=end, as_of=as_of, quarantine=quarantine
        )

    def lineage(self, metric: str) -> Any:
        """What a metric is computed from: metrics, measures, columns, tables and joins (docs/lineage.md)."""
        from metrics_layer.lineage import lineage

        return lineage(self.registry, metric)

    def impact(self, table_or_column: str) -> list[str]:
        """Every metric that depends on a table (`assignments`) or a column (`assignments.revenue`)."""
        from metrics_layer.lineage import impact

        return impact(self.registry, table_or_column)

    def docs(
        self, out: str | Path, formats: Sequence[str] = ("html", "md"), real_sql: bool | None = None
    ) -> Path:
        """Render the data dictionary (HTML and Markdown) into `out`; returns its index path."""
        from metrics_layer.catalog import build_catalog

        return build_catalog(self, out, formats=formats, real_sql=real_sql)

    def __repr__(self) -> str:
        reg = self.registry.project
        return (
            f"<Layer {self.path or ''} on {self.backend}: {len(reg.sources)} sources, "
            f"{len(reg.metrics)} metrics, {len(reg.retention)} retention, {len(reg.funnels)} funnels>"
        )


def load(
    path: str | Path,
    con: Any = None,
    vars: Mapping[str, Any] | None = None,
    timezone: str = "UTC",
    check_schema: bool | None = None,
    strict: bool = False,
    read_only: bool = True,
) -> Layer:
    """Load definitions from a folder or file and bind them to a connection.

    With a connection given, every table and column the definitions use is checked against the
    real schema now, so a typo fails at load time (check_schema=False skips it). Without one,
    column types come from `schema-snapshot.json` beside the definitions, else from the
    definitions themselves: SQL works, data needs `con`.
    strict=True resolves the names of requests (by, where) to declared dimensions only.
    A DuckDB file or URL given as `con` is opened read-only (so other processes can read it
    too) unless read_only=False; connections passed in are used as they are.
    """
    project, origins = load_project(path, vars)
    given = con is not None
    backend = connect(con, read_only=read_only)
    schemas = schemas_for(backend, path, connected=given)
    registry = Registry(project, origins, schemas.schema_of, strict=strict)
    registry.schemas = schemas.bind(registry)
    layer = Layer(registry, backend, timezone=timezone, path=str(path))
    if check_schema if check_schema is not None else given:
        from metrics_layer.analysis.funnel_defs import check_all_funnels
        from metrics_layer.analysis.retention_defs import check_all_retention
        from metrics_layer.registry.schema_check import check_schema as run_check

        run_check(layer)
        check_all_retention(registry)  # time columns, entity, by paths: fail at load, not at query
        check_all_funnels(registry)
    return layer
