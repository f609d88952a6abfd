"""Validation rules of metric values, evaluated on the metric's series at a grain.

The series comes from `layer.query` (so it is exactly the number users see), is completed to a
spine of periods (a missing period is NULL), and every rule becomes a flag column computed in
ibis: comparisons, `lag`, trailing-window statistics. One query per metric returns the judged
periods with their flags; each rule's failures are read from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pandas as pd

from metrics_layer.checks import fmt, series
from metrics_layer.checks.report import CheckError, RuleResult
from metrics_layer.compile.timegrain import parse_bound
from metrics_layer.definitions.models import Reconcile, Validation
from metrics_layer.errors import MetricsLayerError
from metrics_layer.expressions import compile_expression, parse_expression
from metrics_layer.grain import Grain
from metrics_layer.planner.plan import output_names

if TYPE_CHECKING:
    from metrics_layer.layer import Layer

V = "__v"


def rule_names(v: Validation) -> list[str]:
    """The rules a validation declares, in report order."""
    names = []
    if v.min is not None or v.max is not None:
        names.append("range")
    if v.not_null:
        names.append("not_null")
    if v.max_change is not None:
        names.append("max_change")
    if v.anomaly is not None:
        names.append("anomaly")
    names += [f"reconcile({r.target})" for r in v.reconciles]
    return names


@dataclass
class _Series:
    """The judged periods of one metric with every rule's flag, as pandas (small: periods × groups)."""

    metric: str
    period: str
    groups: list[str]
    frame: pd.DataFrame
    others: dict[str, str]  # reconcile target -> column of the other side


def check_metric(
    layer: Layer, name: str, grain: str, start: Any = None, end: Any = None, as_of: Any = None
) -> list[RuleResult]:
    """Evaluate the validation rules of one metric; a rule that cannot be evaluated raises."""
    metric = layer.registry.project.metrics[name]
    v = metric.validation
    if v is None or not rule_names(v):
        return []
    where = layer.registry.locate("metrics", name, "validation")
    try:
        s = _evaluate(layer, name, v, v.grain or grain, start, end, as_of)
    except MetricsLayerError as exc:
        raise CheckError(
            f"{where}: cannot evaluate the validation of metric {name!r}: {exc}"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - backend failures of the check query
        raise CheckError(
            f"{where}: cannot evaluate the validation of metric {name!r}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    results = []
    n = len(s.frame)
    if "range" in rule_names(v):
        results.append(_range(s, v, n))
    if v.not_null:
        results.append(_not_null(s, n))
    if v.max_change is not None:
        results.append(_max_change(s, v, n))
    if v.anomaly is not None:
        results.append(_anomaly(s, v, n))
    for i, rec in enumerate(v.reconciles):
        results.append(_reconcile(s, rec, i, n))
    for r in results:
        r.severity = v.severity
    return results


def _evaluate(
    layer: Layer, name: str, v: Validation, grain: str, start: Any, end: Any, as_of: Any
) -> _Series:
    s, e = parse_bound(start, "start"), parse_bound(end, "end")
    g = Grain.of(grain, layer.week_start)  # the periods layer.query gives at this grain
    bound = parse_bound(as_of, "as_of") if as_of is not None else None
    cutoff = series.floor(bound, g) if bound is not None else None
    lookback = 1 if v.max_change is not None else 0
    if v.anomaly is not None:
        lookback = max(lookback, v.anomaly.window * (v.anomaly.seasonality or 1))
    first = series.floor(s, g) if s is not None else None
    q_start = series.shift(first, g, -lookback) if first is not None else None
    spine_end = min(x for x in (e, cutoff) if x is not None) if (e or cutoff) else None

    targets: dict[str, list[str]] = {}
    for r in v.reconciles:
        targets[r.target] = [r.metric] if r.metric else list(parse_expression(r.expr or "").names)
    names = list(dict.fromkeys([name, *(n for ns in targets.values() for n in ns)]))
    res = layer.query(names, by=v.by or None, grain=grain, start=q_start, end=e)
    expr = res.expr
    groups = [out for out, _ in output_names(tuple(v.by))]
    column = dict((ref, out) for out, ref in output_names(tuple(names)))
    inputs = {n: (V if n == name else f"__in{i}") for i, n in enumerate(names)}
    t = expr.select(grain, *groups, **{inputs[n]: expr[column[n]] for n in names})
    t = series.spine(t, grain, groups, g, q_start, spine_end)
    t = series.numbered(t, grain, groups)
    flags = _flags(t, v, grain, groups, inputs, targets)
    judged = flags
    if first is not None:
        judged = judged.filter(judged[grain] >= first)
    frame = layer.engine.execute(judged.order_by([grain, *groups]))
    others = {target: f"__o{i}" for i, target in enumerate(targets)}
    return _Series(name, grain, groups, frame, others)


def _flags(
    t: ir.Table,
    v: Validation,
    period: str,
    groups: list[str],
    inputs: dict[str, str],
    targets: dict[str, list[str]],
) -> ir.Table:
    """Add one boolean column per rule (and the helper values shown in failures)."""
    x = t[V].cast(dt.float64)
    cols: dict[str, ir.Value] = {}
    if v.min is not None or v.max is not None:
        outside = [x < v.min] if v.min is not None else []
        if v.max is not None:
            outside.append(x > v.max)
        out = outside[0] if len(outside) == 1 else outside[0] | outside[1]
        cols["__f_range"] = out.fill_null(False)
    if v.not_null:
        cols["__f_not_null"] = t[V].isnull()
    if v.max_change is not None:
        prev = series.previous(t, V, period, groups).cast(dt.float64)
        change = (x - prev) / prev.abs().nullif(0) if v.change == "relative" else x - prev
        too_big = change.abs() > v.max_change
        if v.change == "relative":
            too_big = too_big | ((prev == 0) & (x != 0))
        cols["__prev"] = prev
        cols["__change"] = change
        cols["__f_change"] = (x.notnull() & prev.notnull() & too_big).fill_null(False)
    for i, (target, names) in enumerate(targets.items()):
        if len(names) == 1 and target == names[0]:
            other = t[inputs[target]]
        else:
            parsed = parse_expression(target, what=f"reconcile expr {target!r}")
            other = compile_expression(parsed, lambda n: t[inputs[n]])
        cols[f"__o{i}"] = other
    t = t.mutate(**cols)
    if v.anomaly is not None:
        t = series.trailing(t, V, v.anomaly, "__a_")
    for i, r in enumerate(v.reconciles):
        other = t[f"__o{i}"].cast(dt.float64)
        diff = (x - other).abs()
        allowed = other.abs() * r.tolerance if r.relative else r.tolerance
        both = x.notnull() & other.notnull()
        ok = (x.isnull() & other.isnull()) | (both & (diff <= allowed))
        t = t.mutate(**{f"__d{i}": t[V] - t[f"__o{i}"], f"__f_rec{i}": ~ok.fill_null(False)})
    return t


def _result(
    s: _Series,
    rule: str,
    flag: str,
    n: int,
    ok_text: str,
    columns: dict[str, str],
    describe: Callable[[pd.Series], str],
    what: str,
) -> RuleResult:
    bad = s.frame[s.frame[flag].astype(bool)] if flag in s.frame else s.frame.iloc[0:0]
    keep = [s.period, *s.groups]
    failing = bad[keep + list(columns)].rename(columns=columns).reset_index(drop=True)
    if bad.empty:
        detail = f"{ok_text} ({fmt.plural(n, 'period')} checked)"
    else:
        detail = f"{len(bad):,} of {fmt.plural(n, 'period')} {what}: {fmt.examples(bad, describe)}"
    return RuleResult("metric", s.metric, rule, bad.empty, len(bad), detail, failing=failing)


def _label(s: _Series, row: pd.Series) -> str:
    return fmt.period_label(row, s.period, s.groups)


def _range(s: _Series, v: Validation, n: int) -> RuleResult:
    span = f"[{fmt.bound(v.min)}, {fmt.bound(v.max) if v.max is not None else '+∞'}]"
    return _result(
        s,
        "range",
        "__f_range",
        n,
        f"every value within {span}",
        {V: s.metric},
        lambda r: f"{_label(s, r)} = {fmt.value(r[V])}",
        f"outside {span}",
    )


def _not_null(s: _Series, n: int) -> RuleResult:
    return _result(
        s,
        "not_null",
        "__f_not_null",
        n,
        "no NULL value",
        {V: s.metric},
        lambda r: _label(s, r),
        "NULL (or no data)",
    )


def _max_change(s: _Series, v: Validation, n: int) -> RuleResult:
    limit = (
        fmt.percent(v.max_change or 0).lstrip("+")
        if v.change == "relative"
        else fmt.value(v.max_change)
    )
    kind = "relative" if v.change == "relative" else "absolute"

    def describe(r: pd.Series) -> str:
        ch = fmt.percent(r["__change"]) if v.change == "relative" else fmt.value(r["__change"])
        return f"{_label(s, r)} {fmt.value(r['__prev'])} → {fmt.value(r[V])} ({ch})"

    return _result(
        s,
        "max_change",
        "__f_change",
        n,
        f"{kind} change from the previous period at most {limit}",
        {"__prev": "previous", V: s.metric, "__change": "change"},
        describe,
        f"changed by more than {limit}",
    )


def _anomaly(s: _Series, v: Validation, n: int) -> RuleResult:
    a = v.anomaly
    assert a is not None
    judged = int((s.frame["__a_n"] >= a.needed).sum()) if "__a_n" in s.frame else 0
    ref = f"the trailing {a.window} periods" + (
        f" (every {a.seasonality}th)" if a.seasonality else ""
    )
    what = "robust z-score" if a.method == "mad" else "z-score"

    def describe(r: pd.Series) -> str:
        return (
            f"{_label(s, r)} = {fmt.value(r[V])} (expected {fmt.value(r['__a_expected'])}, "
            f"score {fmt.value(r['__a_score'])})"
        )

    res = _result(
        s,
        "anomaly",
        "__a_flag",
        n,
        f"{what} within ±{fmt.value(a.threshold)} of {ref}",
        {V: s.metric, "__a_expected": "expected", "__a_score": "score"},
        describe,
        f"anomalous against {ref}",
    )
    res.detail += f"; {fmt.plural(judged, 'period')} had enough history"
    return res


def _reconcile(s: _Series, r: Reconcile, i: int, n: int) -> RuleResult:
    tol = fmt.percent(r.tolerance).lstrip("+") if r.relative else fmt.value(r.tolerance)
    other = f"__o{i}"
    label = r.target if r.metric else "expected"

    def describe(row: pd.Series) -> str:
        return f"{_label(s, row)} {fmt.value(row[V])} vs {fmt.value(row[other])}"

    exact = r.tolerance == 0
    return _result(
        s,
        f"reconcile({r.target})",
        f"__f_rec{i}",
        n,
        f"equals {r.target}" + ("" if exact else f" within {tol}"),
        {V: s.metric, other: label, f"__d{i}": "difference"},
        describe,
        f"differ from {r.target}" + ("" if exact else f" by more than {tol}"),
    )
