"""The Layer: definitions bound to a connection; the entry point of every analysis."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis.expr.types as ir

from metrics_layer import kpi_query
from metrics_layer.compile.kpi import Context
from metrics_layer.compile.timegrain import check_timezone, check_week_start
from metrics_layer.connection import backend_name
from metrics_layer.engine import Engine
from metrics_layer.engine.calls import CallMemo
from metrics_layer.planner.plan import Plan, Planner
from metrics_layer.planner.request import Request
from metrics_layer.registry import Registry
from metrics_layer.registry.schemas import Schemas
from metrics_layer.result import Result

if TYPE_CHECKING:
    from metrics_layer.analysis.experiment_result import ExperimentResult


class Layer:
    """Metric definitions bound to an ibis connection."""

    def __init__(
        self,
        registry: Registry,
        con: Any,
        *,
        timezone: str = "UTC",
        path: str | None = None,
        week_start: str | int | None = None,
    ) -> None:
        self.registry = registry
        self.con = con
        self.backend = backend_name(con)
        self.timezone = check_timezone(timezone)
        self.week_start = check_week_start(week_start)  # 0 = Monday … 6 = Sunday
        self.path = path
        self._tables: dict[str, ir.Table] = {}
        self.planner = Planner(registry)
        self.engine = Engine(con, self.backend)
        self.use_materializations = False  # the default of query(use_materializations=...)
        self._calls = CallMemo()  # query() arguments seen -> the request they built

    # ---------------------------------------------------------------- tables
    def table(self, source: str) -> ir.Table:
        """The ibis table of a source (cached per layer), typed without a query when it can be:
        from the connection, a schema snapshot or the definitions (registry/schemas.py)."""
        t = self._tables.get(source)
        if t is None:
            src = self.registry.sources[source]
            if src.calendar is not None:
                from metrics_layer.calendar import calendar_table

                t = calendar_table(src.calendar, self.week_start)
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

    def context(self, timezone: str | None = None, week_start: int | None = None) -> Context:
        """What compilation needs; a call's timezone / week start override the layer's."""
        return Context(
            self.registry,
            self.table,
            self.backend,
            self.timezone if timezone is None else timezone,
            self.week_start if week_start is None else week_start,
        )

    def time_settings(self, timezone: Any = None, week_start: Any = None) -> tuple[str, int]:
        """The effective (timezone, week start) of a call: its own values, else the layer's."""
        tz = self.timezone if timezone is None else check_timezone(timezone)
        ws = self.week_start if week_start is None else check_week_start(week_start)
        return tz, ws

    # ---------------------------------------------------------------- catalog
    def metrics(self) -> list[str]:
        """Names of the declared metrics."""
        return list(self.registry.project.metrics)

    def definitions(self) -> dict[str, Any]:
        """The definitions as data (the YAML structure); `ml.load()` of it gives this layer."""
        from metrics_layer.interchange.as_data import project_data

        return project_data(self.registry.project)

    def dimensions(self, source: str) -> list[str]:
        """Dimension names reachable from a source (by path of join roles)."""
        self.registry.source(source)
        return self.registry.field_names(source)

    # ---------------------------------------------------------------- KPI queries
    def plan(self, metrics: str | Sequence[str], **kwargs: Any) -> Plan:
        tz, ws = self.time_settings(kwargs.pop("timezone", None), kwargs.pop("week_start", None))
        request = Request.build(metrics, timezone=tz, week_start=ws, **kwargs)
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
        timezone: str | None = None,
        week_start: str | int | None = None,
        fill_days: str | None = None,
        use_materializations: bool | None = None,
    ) -> Result:
        """KPIs × dimensions × grain, as one ibis expression (nothing runs until you ask).

        fill="zero"|"null" yields every period of the range; as_of="current" or a date pins the
        version of SCD Type 2 dimensions (default: the version valid at each fact's time).
        timezone / week_start override the layer's for this query; fill_days="business" makes
        a day-grain fill span only the calendar's business days (docs/time.md).
        use_materializations=True (default: layer.use_materializations) answers from a
        materialization's table when that is exact (docs/materializations.md).
        """
        return kpi_query.query(
            self,
            (metrics, by, grain, where, start, end, order_by, limit, fill, as_of),
            timezone=timezone,
            week_start=week_start,
            fill_days=fill_days,
            use_materializations=use_materializations,
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
        timezone: str | None = None,
        week_start: str | int | None = None,
        period_mode: str = "calendar",
        brackets: Sequence[Any] | None = None,
        value: str | None = None,
    ) -> Result:
        """Cohort retention (see docs/retention.md): a RetentionResult with pivot(),
        average_curve() and plot(). periods=None returns every observed period;
        period_mode="since_entry" counts elapsed days/weeks from entry, brackets=[(lo, hi),
        ...] groups periods, value="<measure>" adds value and value_retention."""
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
            timezone=timezone,
            week_start=week_start,
            period_mode=period_mode,
            brackets=brackets,
            value=value,
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
        timezone: str | None = None,
        week_start: str | int | None = None,
        times: bool = True,
        within: dict[str, Any] | None = None,
        hold: str | Sequence[str] | None = None,
    ) -> Result:
        """Conversion funnel with windowFunnel semantics (see docs/funnels.md).

        window: '7 days', a timedelta or seconds; strategy: 'asof' | 'window' (default: per
        backend, ASOF joins on DuckDB, window functions on PostgreSQL and PySpark);
        times=False: counts only, without median_seconds / avg_seconds (cheaper);
        within: {step: duration} per-step bounds from the previous step (over the
        definition's; None removes one); hold: dimensions every step shares with step 1.
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
            timezone=timezone,
            week_start=week_start,
            times=times,
            within=within,
            hold=hold,
        )

    def lifecycle(
        self,
        name: str,
        grain: str | None = None,
        start: Any = None,
        end: Any = None,
        by: str | Sequence[str] | None = None,
        timezone: str | None = None,
        week_start: str | int | None = None,
    ) -> Result:
        """New / returning / resurrecting / dormant entities per period of a retention's
        activity (see docs/lifecycle.md): a LifecycleResult with pivot() and plot()."""
        from metrics_layer.analysis.lifecycle import lifecycle

        return lifecycle(self, name, grain=grain, start=start, end=end, by=by,
                         timezone=timezone, week_start=week_start)  # fmt: skip

    def stickiness(
        self,
        name: str,
        grain: str = "week",
        unit: str = "day",
        start: Any = None,
        end: Any = None,
        by: str | Sequence[str] | None = None,
        timezone: str | None = None,
        week_start: str | int | None = None,
    ) -> Result:
        """Entities active on exactly n units (days of a week, ...) of each period of a
        retention's activity (see docs/lifecycle.md): a StickinessResult with plot()."""
        from metrics_layer.analysis.lifecycle import stickiness

        return stickiness(self, name, grain=grain, unit=unit, start=start, end=end, by=by,
                          timezone=timezone, week_start=week_start)  # fmt: skip

    def experiment(
        self,
        name: str,
        start: Any = None,
        end: Any = None,
        metrics: str | Sequence[str] | None = None,
        alpha: float = 0.05,
        relative: bool = True,
        cuped: Any = None,
    ) -> ExperimentResult:
        """A/B readout of an `experiments:` definition (see docs/experiments.md): an
        ExperimentResult with to_pandas(), srm, multiple_exposures, explain(), sql() and plot()."""
        from metrics_layer.analysis.experiment import experiment
        from metrics_layer.interchange.aliases import metric_names

        return experiment(
            self,
            name,
            start=start,
            end=end,
            metrics=metric_names(self.registry.project, metrics),
            alpha=alpha,
            relative=relative,
            cuped=cuped,
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
        from metrics_layer.interchange.aliases import metric_names

        return run_checks(
            self,
            metrics=metric_names(self.registry.project, metrics),
            sources=sources,
            grain=grain,
            start=start,
            end=end,
            as_of=as_of,
        )

    def materialize(
        self,
        name: str | None = None,
        start: Any = None,
        end: Any = None,
        full_refresh: bool = False,
        progress: bool | None = None,
    ) -> Any:
        """Run a materialization (all of them when name=None): incremental from the stored
        watermark minus its lookback, a backfill of [start, end), or a full refresh; returns
        a RunReport (docs/materializations.md). The connection must be writable."""
        from metrics_layer.materialize.run import materialize

        return materialize(self, name, start=start, end=end, full_refresh=full_refresh,
                           progress=progress)  # fmt: skip

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

    def dimension_values(
        self, dimension: str, search: str | None = None, limit: int = 100
    ) -> Result:
        """Distinct values of a dimension (`source.dimension`, a path from the source allowed),
        sorted, optionally only those whose text contains `search` (case-insensitive)."""
        from metrics_layer.access.values import dimension_values

        return dimension_values(self, dimension, search=search, limit=limit)

    def restrict(
        self, policies: Sequence[str] | str, attributes: Mapping[str, Any] | None = None
    ) -> Layer:
        """A strict layer seeing only what the named `access:` policies grant (docs/service.md)."""
        from metrics_layer.access import restrict

        return restrict(self, policies, attributes)

    def lineage(self, metric: str) -> Any:
        """What a metric is computed from: metrics, measures, columns, tables and joins (docs/lineage.md)."""
        from metrics_layer.lineage import lineage

        return lineage(self.registry, metric)

    def impact(self, table_or_column: str) -> list[str]:
        """Every metric that depends on a table (`assignments`) or a column (`assignments.revenue`)."""
        from metrics_layer.lineage import impact

        return impact(self.registry, table_or_column)

    def docs(
        self,
        out: str | Path,
        formats: Sequence[str] = ("html", "md"),
        real_sql: bool | None = None,
        force: bool = False,
    ) -> Path:
        """Render the data dictionary (HTML and Markdown) into `out`; returns its index path.

        `out` must be new, empty or a catalog written before; `force` replaces other content."""
        from metrics_layer.catalog import build_catalog

        return build_catalog(self, out, formats=formats, real_sql=real_sql, force=force)

    def __repr__(self) -> str:
        reg = self.registry.project
        return (
            f"<Layer {self.path or ''} on {self.backend}: {len(reg.sources)} sources, "
            f"{len(reg.metrics)} metrics, {len(reg.retention)} retention, {len(reg.funnels)} funnels>"
        )


def __getattr__(name: str) -> Any:
    """`metrics_layer.layer.load` still names ml.load, which lives in loading.py."""
    if name == "load":
        from metrics_layer.loading import load

        return load
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
