"""Run checks: pick the targets, evaluate each, report progress, assemble the Report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from metrics_layer.checks import metric_rules, source_rules, source_table
from metrics_layer.checks import quarantine as quarantine_tables
from metrics_layer.checks.report import CheckError, Report, RuleResult
from metrics_layer.compile.timegrain import parse_bound
from metrics_layer.errors import unknown
from metrics_layer.planner import validate

if TYPE_CHECKING:
    from metrics_layer.layer import Layer

# progress(done, total, label): called before each task starts and once at the end.
Progress = Callable[[int, int, str], None]


def _selected(
    names: Sequence[str] | str | None,
    known: dict[str, Any],
    kind: str,
    has_rules: Callable[[Any], bool],
    what: str,
) -> list[str]:
    if isinstance(names, str):
        names = [names]
    if names is None:
        return [n for n, item in known.items() if has_rules(item)]
    out = []
    for n in names:
        if n not in known:
            raise CheckError(unknown(kind, n, known))
        if not has_rules(known[n]):
            raise CheckError(f"{kind} {n!r} declares no {what}")
        out.append(n)
    return list(dict.fromkeys(out))


def _metric_has_rules(m: Any) -> bool:
    return m.validation is not None and bool(metric_rules.rule_names(m.validation))


def _tasks(layer: Layer, metrics: list[str], sources: list[str]) -> list[tuple[str, str, Any]]:
    """(kind, target, what) in report order: metrics, then per source its row checks and the
    table checks."""
    tasks: list[tuple[str, str, Any]] = [("metric", m, None) for m in metrics]
    for s in sources:
        checks = layer.registry.sources[s].checks
        if any(isinstance(c, source_rules.ROW_CHECKS) for c in checks):
            tasks.append(("rows", s, None))
        tasks += [
            ("table", s, (i, c))
            for i, c in enumerate(checks)
            if isinstance(c, source_table.TABLE_CHECKS)
        ]
    return tasks


def _label(kind: str, target: str, what: Any) -> str:
    if kind == "metric":
        return f"metric {target}"
    if kind == "rows":
        return f"source {target}: row checks"
    return f"source {target}: {what[1].label}"


def run_checks(
    layer: Layer,
    metrics: Sequence[str] | str | None = None,
    sources: Sequence[str] | str | None = None,
    grain: str = "day",
    start: Any = None,
    end: Any = None,
    as_of: Any = None,
    quarantine: bool = False,
    progress: Progress | None = None,
) -> Report:
    """Validation rules of metrics and data checks of sources, as one Report.

    With neither `metrics` nor `sources`, everything that declares rules runs; naming one kind
    runs only the named targets of that kind. `start`/`end` bound the judged periods (metrics,
    volume) and the checked rows (sources with a `time:`); `as_of` is the reference time of
    freshness and `max: as_of`, and only periods complete by then are judged.
    """
    project = layer.registry.project
    if metrics is None and sources is None:
        metric_names = _selected(None, project.metrics, "metric", _metric_has_rules, "validation")
        source_names = _selected(
            None, project.sources, "source", lambda s: bool(s.checks), "checks"
        )
    else:
        metric_names = (
            _selected(
                metrics or [], project.metrics, "metric", _metric_has_rules, "validation rules"
            )
            if metrics is not None
            else []
        )
        source_names = (
            _selected(sources or [], project.sources, "source", lambda s: bool(s.checks), "checks")
            if sources is not None
            else []
        )
    validate.grain(grain, fiscal=False)
    s, e = validate.bounds(start, end, layer.timezone)
    ref = parse_bound(as_of, "as_of", layer.timezone)
    tasks = _tasks(layer, metric_names, source_names)
    results: list[tuple[int, int, int, RuleResult]] = []  # (task, check index, order): sort keys
    meta: dict[str, Any] = {
        "grain": grain,
        "start": s,
        "end": e,
        "as_of": ref,
        "failing_rows": {},
        "quarantine": {},
    }
    to_quarantine: list[quarantine_tables.Target] = []
    for n, (kind, target, what) in enumerate(tasks):
        if progress:
            progress(n, len(tasks), _label(kind, target, what))
        if kind == "metric":
            for j, r in enumerate(metric_rules.check_metric(layer, target, grain, s, e, ref)):
                results.append((n, 0, j, r))
        elif kind == "rows":
            rc = source_rules.build(layer, target, s, e, ref)
            for j, (index, r) in enumerate(source_rules.evaluate(layer, rc)):
                results.append((_first_task(tasks, target), index, j, r))
            meta["failing_rows"][target] = source_rules.failing_rows(rc)
            if quarantine:
                to_quarantine.append(
                    quarantine_tables.target(layer, target, meta["failing_rows"][target])
                )
        else:
            index, check = what
            res = source_table.check_table(layer, target, index, check, s, e, ref)
            results.append((_first_task(tasks, target), index, 0, res))
    if metrics is None and sources is None and project.materializations:
        from metrics_layer.materialize.freshness import freshness_results

        results += [(len(tasks), 0, j, r) for j, r in enumerate(freshness_results(layer, ref))]
    if to_quarantine:  # after every check ran: a run writes all its tables or none
        meta["quarantine"] = quarantine_tables.write_all(layer.con, to_quarantine)
    if progress:
        progress(len(tasks), len(tasks), "done")
    results.sort(key=lambda item: item[:3])
    return Report(_numbered([r for *_, r in results]), meta=meta)


def _numbered(results: list[RuleResult]) -> list[RuleResult]:
    """A rule declared twice on one target (two volume checks...) gets `#2`, `#3` so that
    `report.failing(target, rule)` can name each."""
    seen: dict[tuple[str, str], int] = {}
    for r in results:
        key = (r.target, r.rule)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            r.rule = f"{r.rule} #{seen[key]}"
    return results


def _first_task(tasks: list[tuple[str, str, Any]], source: str) -> int:
    """All results of a source sort together, in the order of its `checks:` list."""
    return next(
        i for i, (kind, target, _) in enumerate(tasks) if kind != "metric" and target == source
    )


def check_sources(
    layer: Layer,
    sources: Sequence[str] | str | None = None,
    start: Any = None,
    end: Any = None,
    as_of: Any = None,
    quarantine: bool = False,
    progress: Progress | None = None,
) -> Report:
    """Only the source data checks (every source with `checks:` when `sources` is None)."""
    project = layer.registry.project
    names = _selected(sources, project.sources, "source", lambda s: bool(s.checks), "checks")
    return run_checks(
        layer,
        metrics=None,
        sources=names,
        start=start,
        end=end,
        as_of=as_of,
        quarantine=quarantine,
        progress=progress,
    )
