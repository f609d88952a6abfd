"""A materialization run: which periods to replace, then one transaction per batch of them.

Each batch is `DELETE` of its periods and `INSERT` of `layer.query`'s answer for exactly
those periods, committed together, so a killed process leaves every period with its old or
its new rows. The watermark (latest local time of the metrics' rows read) is written to the
run log only when every batch is in, so an interrupted run is simply done again.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from metrics_layer.compile.frames import field_value
from metrics_layer.compile.timegrain import to_local
from metrics_layer.definitions.durations import parse_duration
from metrics_layer.errors import QueryError, unknown
from metrics_layer.grain import Grain, add_months
from metrics_layer.materialize import runlog, swap
from metrics_layer.materialize import sqltext as q
from metrics_layer.materialize.shape import Shape, shape_of

if TYPE_CHECKING:
    from metrics_layer.layer import Layer


@dataclass(frozen=True)
class RunReport:
    """What one run did (also its row in metrics_layer_runs)."""

    run_id: str
    materialization: str
    kind: str  # full | incremental | backfill
    periods: int
    rows: int
    watermark_before: _dt.datetime | None
    watermark: _dt.datetime | None
    seconds: float

    def __str__(self) -> str:
        mark = "none" if self.watermark is None else f"{self.watermark:%Y-%m-%d %H:%M:%S}"
        return (
            f"{self.materialization}: {self.kind} run replaced {self.periods} periods, "
            f"{self.rows} rows; watermark {mark} ({self.seconds:.2f}s)"
        )


def materialize(
    layer: Layer,
    name: str | None = None,
    start: Any = None,
    end: Any = None,
    full_refresh: bool = False,
    progress: bool | None = None,
) -> RunReport | list[RunReport]:
    """Run one materialization (or, with name=None, each of them in turn)."""
    defined = layer.registry.project.materializations
    if name is None:
        if not defined:
            raise QueryError("no materializations are defined")
        return [materialize(layer, n, start, end, full_refresh, progress) for n in defined]  # type: ignore[misc]
    if name not in defined:
        raise QueryError(unknown("materialization", name, defined))
    if full_refresh and (start is not None or end is not None):
        raise QueryError("full_refresh replaces every period; give it without start/end")
    shape = shape_of(layer.registry, name)
    return _Run(layer, shape, start, end, full_refresh, progress).run()


class _Run:
    def __init__(
        self, layer: Layer, shape: Shape, start: Any, end: Any, full: bool, progress: bool | None
    ) -> None:
        from metrics_layer.bounds import parse_bound

        self.layer, self.shape, self.con = layer, shape, layer.con
        self.grain = Grain.of(shape.grain, layer.week_start)
        self.start = parse_bound(start, "start", layer.timezone)
        self.end = parse_bound(end, "end", layer.timezone)
        if (self.start is None) != (self.end is None):
            raise QueryError("a backfill needs both start and end ([start, end))")
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise QueryError(f"start {self.start} must be before end {self.end}")
        backfill = self.start is not None
        self.kind = "backfill" if backfill else "full" if full else "incremental"
        self.progress = sys.stderr.isatty() if progress is None else progress
        self.table = q.table_ref(shape.table, shape.schema, shape.database)
        self.dialect = self.con.dialect

    # ------------------------------------------------------------------ plan
    def run(self) -> RunReport:
        began = time.monotonic()
        last = runlog.last_success(self.con, self.shape.name)
        before = None if last is None else last["watermark_after"]
        if self.kind == "incremental" and (
            before is None or not runlog.exists(self.con, self.shape.table)
        ):
            self.kind = "full"  # nothing stored yet: an incremental run starts from scratch
        settings = (self.layer.timezone, self.layer.week_start)
        if last is not None and self.kind != "full" and built_with(last) != settings:
            raise QueryError(
                f"materialization {self.shape.name!r} was built with timezone "
                f"{last['timezone']!r} and week start {last['week_start']}, this layer uses "
                f"{settings[0]!r} and {settings[1]}: run it with full_refresh=True to rebuild it"
            )
        lock = runlog.start(self.con, self.shape.name, self.kind, before, settings)
        periods = rows = 0
        try:
            low, mark, high = self._data_range()
            starts, drop_outside = self._periods(before, low, high)
            after = before if self.kind == "backfill" else mark
            self._ensure_table()
            batches = [starts[i : i + self._batch] for i in range(0, len(starts), self._batch)]
            with self._progress(len(starts)) as advance:
                if not swap.transactional(self.con):  # one new version of the table
                    rows, periods = self._swap(starts, lock.run_id), len(starts)
                    advance(periods)
                    batches = []
                elif drop_outside is not None and not batches:
                    self._replace(None, None, drop_outside)
                for i, batch in enumerate(batches):
                    rows += self._replace(batch[0], self.grain.next(batch[-1]),
                                          drop_outside if i == 0 else None)  # fmt: skip
                    periods += len(batch)
                    advance(len(batch))
        except BaseException as exc:
            try:
                runlog.finish(lock, "failed", periods=periods, rows=rows, error=_one_line(exc))
            finally:
                lock.release()
            raise
        runlog.finish(lock, "success", periods=periods, rows=rows, watermark_after=after)
        lock.release()
        return RunReport(
            lock.run_id, self.shape.name, self.kind, periods, rows, before, after,
            time.monotonic() - began,
        )  # fmt: skip

    @property
    def _batch(self) -> int:
        return self.layer.registry.project.materializations[self.shape.name].batch

    def _data_range(self) -> tuple[_dt.datetime | None, _dt.datetime | None, _dt.datetime | None]:
        """(earliest, watermark, latest) local time of the metrics' rows. With several time
        columns the watermark is the least of their latest values, so none is ahead of it."""
        lows, highs = [], []
        reg, tz, backend = self.layer.registry, self.layer.timezone, self.layer.backend
        for scan in self.shape.plan.scans:
            if scan.time is None or scan.time.path:
                raise QueryError(
                    f"materialization {self.shape.name!r}: source {scan.source!r} needs its own "
                    "time column to be stored per period"
                )
            t = self.layer.table(scan.source)
            v = to_local(field_value(reg, t, scan.time), tz, backend)
            v = v.cast("timestamp") if v.type().is_date() else v
            got = t.aggregate(lo=v.min(), hi=v.max()).to_pyarrow().to_pylist()[0]
            if got["hi"] is not None:
                lows.append(got["lo"])
                highs.append(got["hi"])
        if not lows:
            return None, None, None
        return _naive(min(lows)), _naive(min(highs)), _naive(max(highs))

    def _periods(
        self, before: _dt.datetime | None, low: _dt.datetime | None, high: _dt.datetime | None
    ) -> tuple[list[_dt.datetime], tuple[_dt.datetime, _dt.datetime] | None]:
        """Starts of the periods to replace, and for a full refresh the range outside which
        every stored row is dropped."""
        g = self.grain
        if self.kind == "backfill":
            assert self.start is not None and self.end is not None
            first = g.floor_literal(self.start)
            if first < self.start:
                first = g.next(first)
            return _starts(g, first, self.end), None
        if low is None or high is None:  # no data at all: a full refresh empties the table
            empty = _dt.datetime(1970, 1, 1)
            return [], ((empty, empty) if self.kind == "full" else None)
        last = g.next(high)
        if self.kind == "full":
            first = g.floor_literal(low)
            return _starts(g, first, last), (first, last)
        assert before is not None
        lookback = self.layer.registry.project.materializations[self.shape.name].lookback
        first = g.floor_literal(_minus(before, lookback))
        return _starts(g, first, last), None

    # ------------------------------------------------------------------ write
    def _ensure_table(self) -> None:
        """Create the table on first use; a table whose columns differ needs a full refresh."""
        expr = self._stored_expr(None, None)
        name, s = self.shape.table, self.shape
        if runlog.exists(self.con, name):
            have = list(self.con.table(name).columns)
            if have == s.columns:
                return
            if self.kind != "full":
                raise QueryError(
                    f"table {name!r} has columns {have}, materialization {s.name!r} stores "
                    f"{s.columns}: run it with full_refresh=True (--full-refresh) to rebuild it"
                )
            if not swap.transactional(self.con):
                return  # the view is pointed at a new version as a whole
            self.con.drop_table(name)
        if swap.transactional(self.con):
            self.con.create_table(name, schema=expr.schema())

    def _swap(self, starts: list[_dt.datetime], run_id: str) -> int:
        """Without transactions: the periods from starts[0] on, written as a new version of
        the whole table (swap.py); a full refresh keeps no old row."""
        s = self.shape
        span = (starts[0], self.grain.next(starts[-1])) if starts else None
        fresh = self._stored_expr(*span) if span else self._stored_expr(None, None).limit(0)
        return swap.replace(self.con, s.table, s.schema, s.database, run_id, s.grain, fresh,
                            span, keep_old=self.kind != "full")  # fmt: skip

    def _stored_expr(self, start: _dt.datetime | None, end: _dt.datetime | None) -> Any:
        s = self.shape
        res = self.layer.query(s.query_names, by=list(s.by) or None, grain=s.grain,
                               start=start, end=end)  # fmt: skip
        t = res.expr
        return t.select(**{stored: t[col] for stored, col in s.select})

    def _replace(
        self,
        start: _dt.datetime | None,
        end: _dt.datetime | None,
        drop_outside: tuple[_dt.datetime, _dt.datetime] | None,
    ) -> int:
        """Replace the periods in [start, end) in one transaction; returns the rows written."""
        col, d = self.shape.grain, self.dialect
        statements = []
        if drop_outside is not None:
            statements.append(q.delete(self.table, q.outside(col, *drop_outside), d))
        insert = None
        if start is not None and end is not None:
            statements.append(q.delete(self.table, q.between(col, start, end), d))
            select = self.con.compiler.to_sqlglot(self._stored_expr(start, end))
            insert = q.insert_select(self.table, self.shape.columns, select, d)
        self.con.raw_sql("BEGIN")
        try:
            for stmt in statements:
                self.con.raw_sql(stmt)
            written = 0 if insert is None else _count(self.con.raw_sql(insert))
            self.con.raw_sql("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):  # the failure itself is what to report
                self.con.raw_sql("ROLLBACK")
            raise
        return written

    def _progress(self, total: int) -> Any:
        if not self.progress or total == 0:
            return contextlib.nullcontext(lambda n: None)
        return _RichProgress(self.shape.name, self.kind, total)


class _RichProgress:
    """A rich progress bar on stderr, advanced per batch."""

    def __init__(self, name: str, kind: str, total: int) -> None:
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(console=Console(stderr=True))
        self.task = self.bar.add_task(f"{name} ({kind})", total=total)

    def __enter__(self) -> Any:
        self.bar.start()
        return lambda n: self.bar.advance(self.task, n)

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()


def built_with(row: dict[str, Any]) -> tuple[str, int]:
    """The (timezone, week start) a logged run built its periods in."""
    return str(row["timezone"]), int(row["week_start"])


def _starts(g: Grain, first: _dt.datetime, end: _dt.datetime) -> list[_dt.datetime]:
    out, p = [], first
    while p < end:
        out.append(p)
        p = g.shift(p, 1)
    return out


def _minus(moment: _dt.datetime, lookback: str) -> _dt.datetime:
    n, unit = parse_duration(lookback)
    months = {"month": 1, "quarter": 3, "year": 12}.get(unit)
    if months:
        return add_months(moment, -n * months)
    seconds = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}[unit]
    return moment - _dt.timedelta(seconds=n * seconds)


def _naive(moment: _dt.datetime) -> _dt.datetime:
    return moment.replace(tzinfo=None)


def _count(cursor: Any) -> int:
    """Rows an INSERT wrote: DuckDB returns them as a row, DB-API drivers as rowcount."""
    count = getattr(cursor, "rowcount", -1)
    if isinstance(count, int) and count >= 0:
        return count
    try:
        return int(cursor.fetchall()[0][0])
    except Exception:  # noqa: BLE001
        return 0


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:500]
