"""Table-level source checks: required columns and types, freshness, volume per period."""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

import ibis.expr.datatypes as dt
import pandas as pd

from metrics_layer.checks import fmt, series
from metrics_layer.checks.models import Columns, Freshness, Volume, freshness_limit
from metrics_layer.checks.report import CheckError, RuleResult
from metrics_layer.checks.source_rules import locate, own_value
from metrics_layer.compile.timegrain import bucket, time_range, to_local
from metrics_layer.errors import MetricsLayerError
from metrics_layer.expressions import compile_expression, parse_expression

if TYPE_CHECKING:
    from metrics_layer.layer import Layer

TABLE_CHECKS = (Columns, Freshness, Volume)

# Declared type families: `int` matches int8..int64, `decimal` any precision, and so on.
_FAMILIES = {
    "int": "is_integer",
    "integer": "is_integer",
    "bigint": "is_integer",
    "float": "is_floating",
    "double": "is_floating",
    "number": "is_numeric",
    "numeric": "is_numeric",
    "decimal": "is_decimal",
    "string": "is_string",
    "text": "is_string",
    "varchar": "is_string",
    "bool": "is_boolean",
    "boolean": "is_boolean",
    "date": "is_date",
    "timestamp": "is_timestamp",
    "datetime": "is_timestamp",
    "time": "is_time",
    "json": "is_json",
    "array": "is_array",
    "struct": "is_struct",
}


def type_matches(declared: str, actual: dt.DataType) -> bool:
    """Does a column type satisfy a declared type (a family name or an exact ibis type)?"""
    key = declared.strip().lower()
    if key in _FAMILIES:
        return bool(getattr(actual, _FAMILIES[key])())
    try:
        wanted = dt.dtype(key)
    except Exception:  # noqa: BLE001 - ibis raises several errors for unknown type names
        raise CheckError(
            f"unknown type {declared!r}: use a family ({', '.join(sorted(_FAMILIES))}) "
            "or an ibis type such as int64, decimal(12,2), timestamp('UTC')"
        ) from None
    return bool(wanted.copy(nullable=True) == actual.copy(nullable=True))


def check_table(
    layer: Layer,
    source: str,
    i: int,
    check: Any,
    start: _dt.datetime | None,
    end: _dt.datetime | None,
    as_of: _dt.datetime | None,
) -> RuleResult:
    """Evaluate one table-level check; failures to evaluate name the check's location."""
    try:
        if isinstance(check, Columns):
            res = _columns(layer, source, check)
        elif isinstance(check, Freshness):
            res = _freshness(layer, source, check, as_of)
        else:
            res = _volume(layer, source, check, start, end, as_of)
    except CheckError as exc:
        raise CheckError(f"{locate(layer, source, i)}: {exc}") from None
    except MetricsLayerError as exc:
        raise CheckError(
            f"{locate(layer, source, i)}: cannot evaluate {check.label}: {exc}"
        ) from exc
    res.severity = check.severity
    return res


def _columns(layer: Layer, source: str, check: Columns) -> RuleResult:
    schema = layer.table(source).schema()
    problems = []
    for name, declared in check.columns.items():
        if name not in schema:
            problems.append({"column": name, "expected": declared or "(any)", "actual": "missing"})
        elif declared and not type_matches(declared, schema[name]):
            problems.append({"column": name, "expected": declared, "actual": str(schema[name])})
    failing = pd.DataFrame(problems, columns=["column", "expected", "actual"])
    n = len(check.columns)
    if not problems:
        detail = f"all {fmt.plural(n, 'required column')} present with the declared types"
    else:
        detail = f"{len(problems)} of {fmt.plural(n, 'column')} missing or mistyped: " + "; ".join(
            f"{p['column']} {p['actual']}"
            + ("" if p["actual"] == "missing" else f" (expected {p['expected']})")
            for p in problems[:5]
        )
    return RuleResult(
        "source", source, "columns", not problems, len(problems), detail, failing=failing
    )


def _time_value(layer: Layer, source: str, column: str | None, table: Any) -> Any:
    src = layer.registry.sources[source]
    text = column or src.time
    if not text:
        raise CheckError(f"source {source!r} has no `time:`; give the check a column")
    value = own_value(layer, source, text, table)
    if not (value.type().is_timestamp() or value.type().is_date()):
        raise CheckError(f"time column {text!r} has type {value.type()}, not a timestamp or date")
    return value, text


def _filtered(layer: Layer, source: str, check: Any, table: Any) -> Any:
    if not check.where:
        return table
    pred = compile_expression(
        parse_expression(check.where, what="check where"),
        lambda n: own_value(layer, source, n, table),
    )
    return table.filter(pred.fill_null(False))


def _as_utc(v: Any) -> _dt.datetime | None:
    if v is None or v is pd.NaT or (isinstance(v, float) and pd.isna(v)):
        return None
    ts = pd.Timestamp(v)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    out: _dt.datetime = ts.to_pydatetime()
    return out


def _freshness(
    layer: Layer, source: str, check: Freshness, as_of: _dt.datetime | None
) -> RuleResult:
    table = _filtered(layer, source, check, layer.table(source))
    value, column = _time_value(layer, source, check.freshness.column, table)
    latest = _as_utc(layer.engine.execute(table.aggregate(latest=value.max()))["latest"].iloc[0])
    ref = as_of or _dt.datetime.now(_dt.UTC).replace(tzinfo=None)
    limit = freshness_limit(check.freshness.max_age)
    age = ref - latest if latest is not None else None
    ok = age is not None and age <= limit
    failing = (
        pd.DataFrame(
            [
                {
                    "column": column,
                    "latest": latest,
                    "as_of": ref,
                    "age": age,
                    "max_age": check.freshness.max_age,
                }
            ]
        )
        if not ok
        else pd.DataFrame(columns=["column", "latest", "as_of", "age", "max_age"])
    )
    if latest is None:
        detail = f"no rows with a {column}: nothing is fresh"
    elif age is not None and age < _dt.timedelta(0):
        detail = f"latest {column} {fmt.value(latest)} is {_age(-age)} after as_of {fmt.value(ref)}"
    else:
        detail = (
            f"latest {column} {fmt.value(latest)} is {_age(age)} old at {fmt.value(ref)} "
            f"(max_age {check.freshness.max_age})"
        )
    return RuleResult("source", source, check.label, ok, 0 if ok else 1, detail, failing=failing)


def _age(age: _dt.timedelta | None) -> str:
    if age is None:
        return "unknown"
    days, rest = age.days, age.seconds
    hours, minutes = rest // 3600, rest % 3600 // 60
    parts = [f"{days}d"] if days else []
    parts += [f"{hours}h"] if hours or days else []
    parts += [f"{minutes}m"] if not days else []
    return " ".join(parts)


def _volume(
    layer: Layer,
    source: str,
    check: Volume,
    start: _dt.datetime | None,
    end: _dt.datetime | None,
    as_of: _dt.datetime | None,
) -> RuleResult:
    spec = check.volume
    grain = spec.grain
    table = _filtered(layer, source, check, layer.table(source))
    value, column = _time_value(layer, source, spec.column, table)
    local = to_local(value, layer.timezone, layer.backend)
    lookback = spec.window * (spec.seasonality or 1)
    first = series.floor(start, grain) if start is not None else None
    q_start = series.shift(first, grain, -lookback) if first is not None else None
    if q_start is not None or end is not None:
        table = table.filter(*time_range(local, q_start, end))
        value, _ = _time_value(layer, source, spec.column, table)
        local = to_local(value, layer.timezone, layer.backend)
    counts = table.group_by(**{grain: bucket(local, grain)}).aggregate(__v=table.count())
    cutoff = series.floor(as_of, grain) if as_of is not None else None
    stop = min(x for x in (end, cutoff) if x is not None) if (end or cutoff) else None
    t = series.spine(counts, grain, [], grain, q_start, stop)
    t = t.mutate(__v=t["__v"].fill_null(0))
    t = series.trailing(series.numbered(t, grain, []), "__v", spec, "__a_")
    if first is not None:
        t = t.filter(t[grain] >= first)
    df = layer.engine.execute(t.order_by(grain))
    bad = df[df["__a_flag"].astype(bool)]
    failing = (
        bad[[grain, "__v", "__a_expected", "__a_score"]]
        .rename(columns={"__v": "rows", "__a_expected": "expected", "__a_score": "score"})
        .reset_index(drop=True)
    )
    judged = int((df["__a_n"] >= spec.needed).sum())
    ref = f"trailing {spec.window} {grain}s" + (
        f" (every {spec.seasonality}th)" if spec.seasonality else ""
    )
    if bad.empty:
        detail = (
            f"rows per {grain} ({column}) within ±{fmt.value(spec.threshold)} of the {ref} "
            f"({fmt.plural(judged, 'period')} judged)"
        )
    else:
        detail = (
            f"{len(bad):,} of {fmt.plural(judged, 'judged period')} anomalous against the {ref}: "
            + fmt.examples(
                bad,
                lambda r: (
                    f"{fmt.value(r[grain])} = {fmt.value(r['__v'])} rows "
                    f"(expected {fmt.value(r['__a_expected'])})"
                ),
            )
        )
    return RuleResult("source", source, check.label, bad.empty, len(bad), detail, failing=failing)
