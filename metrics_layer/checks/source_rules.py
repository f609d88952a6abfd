"""Row-level source checks: not_null, unique, accepted_values, range, relationships.

Every check becomes a boolean flag on one table: the source's rows plus, for unique checks, a
window count of the rows sharing the key; relationships are `NOT IN` the related keys. Nothing
is joined, so no row can be multiplied or misaligned.
One aggregate query counts the failing rows of every check; a second query per failing check
fetches a small, ordered sample. The same flags give the full set of failing rows, returned as
an ibis expression or written to a quarantine table.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pandas as pd

from metrics_layer.checks import fmt
from metrics_layer.checks.models import (
    AcceptedValues,
    NotNull,
    Range,
    Relationships,
    ScdValidity,
    Unique,
)
from metrics_layer.checks.report import CheckError, RuleResult
from metrics_layer.compile.frames import field_value
from metrics_layer.compile.timegrain import time_range, to_local
from metrics_layer.errors import MetricsLayerError, unknown
from metrics_layer.expressions import compile_expression, parse_expression

if TYPE_CHECKING:
    from metrics_layer.layer import Layer

SAMPLE = 10
ROW_CHECKS = (NotNull, Unique, AcceptedValues, Range, Relationships, ScdValidity)
FAILED_COLUMN = "_failed_checks"


@dataclass
class Unit:
    """One reported rule: a flag on the augmented table, plus what to show for failing rows."""

    index: int  # position of the declaring item in `checks:`
    rule: str
    flag: ir.BooleanValue
    severity: str
    ok_text: str
    what: str
    columns: list[str]  # checked columns, shown first in samples
    extra: dict[str, str] = field(default_factory=dict)  # helper column -> shown name
    # The same flag on a table with only this check's helpers: samples stay cheap queries.
    solo: tuple[ir.Table, ir.BooleanValue] | None = None


@dataclass
class RowChecks:
    """The augmented table of one source and the flags of its row-level checks."""

    source: str
    base: ir.Table  # the source's rows inside the checked window
    table: ir.Table  # base + helper columns (window counts of unique keys)
    units: list[Unit]
    order: list[str]


def locate(layer: Layer, source: str, index: int) -> str:
    return str(layer.registry.locate("sources", source, "checks", index))


def own_value(layer: Layer, source: str, text: str, table: ir.Table) -> ir.Value:
    """A column, a dimension or an expression of the source's own columns, on `table`."""
    reg = layer.registry

    def resolve(name: str) -> ir.Value:
        if name in table.columns:
            return table[name]
        if name in reg.sources[source].dimensions:
            ref = reg.resolve_field(source, name)
            return field_value(reg, table, ref)
        raise CheckError(
            unknown("column", name, [*table.columns, *reg.sources[source].dimensions])
            + f" in source {source!r}"
        )

    if text in table.columns:
        return table[text]
    return compile_expression(parse_expression(text, what=f"source {source} check"), resolve)


def window(
    layer: Layer, source: str, table: ir.Table, start: _dt.datetime | None, end: _dt.datetime | None
) -> ir.Table:
    """Rows whose time (the source's `time`, in the layer's timezone) is in [start, end)."""
    src = layer.registry.sources[source]
    if start is None and end is None:
        return table
    if not src.time:
        raise CheckError(
            f"source {source!r} has no `time:` column, so its checks cannot take start/end"
        )
    local = to_local(own_value(layer, source, src.time, table), layer.timezone, layer.backend)
    return table.filter(*time_range(local, start, end))


def build(
    layer: Layer,
    source: str,
    start: _dt.datetime | None = None,
    end: _dt.datetime | None = None,
    as_of: _dt.datetime | None = None,
) -> RowChecks:
    """Flags of every row-level check of a source (no query runs here)."""
    src = layer.registry.sources[source]
    base = window(layer, source, layer.table(source), start, end)
    t = base
    units: list[Unit] = []
    now = _dt.datetime.now(_dt.UTC).replace(tzinfo=None)
    row_checks = [(i, c) for i, c in enumerate(src.checks) if isinstance(c, ROW_CHECKS)]
    for step in ("augment", "flag"):  # helper columns first: every flag is built on the final table
        for i, check in row_checks:
            try:
                if step == "augment":
                    t = _augment(layer, source, i, check, t)
                else:
                    new = _units(layer, source, i, check, t, as_of or now, now)
                    solo_t = _augment(layer, source, i, check, base)
                    solo = _units(layer, source, i, check, solo_t, as_of or now, now)
                    for u, v in zip(new, solo, strict=True):
                        u.solo = (solo_t, v.flag)
                    units.extend(new)
            except CheckError as exc:
                raise CheckError(f"{locate(layer, source, i)}: {exc}") from None
            except MetricsLayerError as exc:
                raise CheckError(
                    f"{locate(layer, source, i)}: cannot evaluate {check.label}: {exc}"
                ) from exc
    pk = src.primary_key
    order = [pk] if isinstance(pk, str) else list(pk or [])
    order = [c for c in order if c in base.columns] or list(base.columns[:1])
    return RowChecks(source, base, t, units, order)


def _augment(layer: Layer, source: str, i: int, check: Any, t: ir.Table) -> ir.Table:
    """Add what a unique check needs: the number of rows sharing the row's key (a window count,
    so no join can multiply or misalign rows)."""
    if isinstance(check, Unique):
        keys = [own_value(layer, source, c, t) for c in check.unique]
        return t.mutate(**{f"__u{i}_n": t.count().over(group_by=keys)})
    if isinstance(check, ScdValidity):
        scd = _scd_spec(layer, source, i)
        keys = [t[k] for k in ([scd.key] if isinstance(scd.key, str) else scd.key)]
        following = t[scd.valid_from].lead().over(group_by=keys, order_by=[t[scd.valid_from]])
        return t.mutate(**{f"__s{i}_next": following})
    return t


def _scd_spec(layer: Layer, source: str, i: int) -> Any:
    scd = layer.registry.sources[source].scd
    if scd is None:
        raise CheckError(
            f"{locate(layer, source, i)}: scd_validity needs a source declared with "
            f"`scd:`; {source!r} has none"
        )
    return scd


def _units(
    layer: Layer,
    source: str,
    i: int,
    check: Any,
    t: ir.Table,
    as_of: _dt.datetime,
    now: _dt.datetime,
) -> list[Unit]:
    where = (
        compile_expression(
            parse_expression(check.where, what="check where"),
            lambda n: own_value(layer, source, n, t),
        ).fill_null(False)
        if check.where
        else None
    )

    def unit(
        rule: str,
        flag: ir.BooleanValue,
        ok: str,
        what: str,
        cols: list[str],
        extra: dict[str, str] | None = None,
    ) -> Unit:
        f = flag.fill_null(False)
        return Unit(
            i,
            rule,
            (f & where) if where is not None else f,
            check.severity,
            ok,
            what,
            cols,
            extra or {},
        )

    def value(name: str) -> ir.Value:
        return own_value(layer, source, name, t)

    if isinstance(check, NotNull):
        return [
            unit(f"not_null({c})", value(c).isnull(), "no NULL", "NULL", [c])
            for c in check.not_null
        ]
    if isinstance(check, AcceptedValues):
        spec = check.accepted_values
        v = value(spec.column)
        shown = ", ".join(map(fmt.value, spec.values))
        flag = v.notnull() & ~v.isin(spec.values)
        return [
            unit(
                check.label, flag, f"every value in [{shown}]", "with another value", [spec.column]
            )
        ]
    if isinstance(check, Range):
        return [_range(check, value(check.range.column), as_of, now, unit)]
    if isinstance(check, Unique):
        keys_present = [value(c).notnull() for c in check.unique]
        flag = t[f"__u{i}_n"] > 1
        for p in keys_present:
            flag = flag & p
        return [
            unit(
                check.label,
                flag,
                "no duplicated key",
                "sharing their key with another row",
                list(check.unique),
                {f"__u{i}_n": "rows_with_key"},
            )
        ]
    if isinstance(check, ScdValidity):
        scd = _scd_spec(layer, source, i)
        vf, vt, nxt = t[scd.valid_from], t[scd.valid_to], t[f"__s{i}_next"]
        cols = ([scd.key] if isinstance(scd.key, str) else list(scd.key)) + [
            scd.valid_from,
            scd.valid_to,
        ]
        extra = {f"__s{i}_next": "next_valid_from"}
        return [
            unit(
                "scd_validity(overlap)",
                nxt.notnull() & (vt.isnull() | (nxt < vt)),
                "no overlapping versions",
                "overlapping the next version",
                cols,
                extra,
            ),
            unit(
                "scd_validity(gap)",
                nxt.notnull() & vt.notnull() & (nxt > vt),
                "no gap between versions",
                "followed by a gap before the next version",
                cols,
                extra,
            ),
            unit(
                "scd_validity(order)",
                vt.notnull() & (vt <= vf),
                "valid_from before valid_to",
                "ending before they start",
                cols,
            ),
        ]
    out = []
    for role in check.relationships:
        out.append(
            unit(
                f"relationships({role})",
                _orphan(layer, source, role, t),
                f"every key found in {role}",
                f"without a match in {role}",
                [left for left, _ in _role(layer, source, role)[1]],
            )
        )
    return out


def _range(
    check: Range, v: ir.Value, as_of: _dt.datetime, now: _dt.datetime, unit: Callable[..., Unit]
) -> Unit:
    spec = check.range

    def lit(bound: Any) -> ir.Value:
        if bound == "now":
            bound = now
        elif bound == "as_of":
            bound = as_of
        typ = v.type()
        if typ.is_timestamp() or typ.is_date():
            if not isinstance(bound, _dt.date):
                raise CheckError(
                    f"range({spec.column}): bound {bound!r} is not a date or timestamp "
                    f"but the column is {typ}"
                )
            if typ.is_date():
                return ibis.literal(
                    bound.date() if isinstance(bound, _dt.datetime) else bound, type=dt.date
                )
            if not isinstance(bound, _dt.datetime):
                bound = _dt.datetime(bound.year, bound.month, bound.day)
            if typ.timezone is not None:
                return ibis.literal(
                    bound.replace(tzinfo=_dt.UTC), type=dt.Timestamp(timezone="UTC")
                )
            return ibis.literal(bound, type=dt.timestamp)
        if not typ.is_numeric() or isinstance(bound, _dt.date | str):
            raise CheckError(
                f"range({spec.column}): bound {bound!r} does not fit a column of type {typ}"
            )
        return ibis.literal(float(bound), type=dt.float64)

    x = v.cast(dt.float64) if v.type().is_numeric() else v
    conds = []
    if spec.min is not None:
        conds.append(x < lit(spec.min))
    if spec.max is not None:
        conds.append(x > lit(spec.max))
    flag = conds[0] if len(conds) == 1 else conds[0] | conds[1]
    span = f"[{_bound_text(spec.min, '-∞')}, {_bound_text(spec.max, '+∞')}]"
    return unit(
        check.label,
        v.notnull() & flag,
        f"every value within {span}",
        f"outside {span}",
        [spec.column],
    )


def _bound_text(bound: Any, default: str) -> str:
    if bound is None:
        return default
    return bound if isinstance(bound, str) else fmt.value(bound)


def _role(layer: Layer, source: str, role: str) -> tuple[str, list[tuple[str, str]]]:
    """The join role named by a relationships check (a role, or the only join to that source)."""
    joins = layer.registry.sources[source].joins
    if role not in joins:
        by_target = [r for r, j in joins.items() if (j.source or r) == role]
        if len(by_target) != 1:
            raise CheckError(
                unknown("join role", role, joins) + f" of source {source!r} in "
                "relationships (name a key of its `joins:`)"
            )
        role = by_target[0]
    return role, joins[role].key_pairs()


def _orphan(layer: Layer, source: str, role: str, t: ir.Table) -> ir.BooleanValue:
    """Rows whose join key is set but absent from the related source (`NOT IN` the keys there).

    A composite key is compared as one text value built the same way on both sides.
    """
    role, pairs = _role(layer, source, role)
    join = layer.registry.sources[source].joins[role]
    target = layer.table(join.source or role)
    lefts = [t[left] for left, _ in pairs]
    rights = [target[right] for _, right in pairs]
    present = lefts[0].notnull()
    for v in lefts[1:]:
        present = present & v.notnull()
    if len(pairs) == 1:
        keys = target.filter(rights[0].notnull()).select(__k=rights[0])
        return present & ~lefts[0].isin(keys["__k"])
    sep = ibis.literal("\x1f")

    def text(values: list[ir.Value]) -> ir.StringValue:
        out = values[0].cast(dt.string)
        for v in values[1:]:
            out = out.concat(sep, v.cast(dt.string))
        return out

    filtered = target
    for r in rights:
        filtered = filtered.filter(filtered[r.get_name()].notnull())
    keys = filtered.select(__k=text([filtered[r.get_name()] for r in rights]))
    return present & ~text(lefts).isin(keys["__k"])


def evaluate(layer: Layer, rc: RowChecks) -> list[tuple[int, RuleResult]]:
    """Count failing rows of every unit in one query, then sample the failing ones."""
    if not rc.units:
        return []
    t = rc.table
    aggs = {f"__c{j}": u.flag.sum() for j, u in enumerate(rc.units)}
    aggs["__rows"] = t.count()
    counts = layer.engine.execute(t.aggregate(**aggs)).iloc[0]
    total = int(counts["__rows"])
    results = []
    for j, u in enumerate(rc.units):
        n = int(counts[f"__c{j}"] or 0) if not pd.isna(counts[f"__c{j}"]) else 0
        sample = pd.DataFrame(columns=u.columns)
        if n:
            sample = _sample(layer, rc, u)
        detail = (
            f"{u.ok_text} ({fmt.plural(total, 'row')} checked)"
            if n == 0
            else f"{n:,} of {fmt.plural(total, 'row')} {u.what}"
            + (f": {_examples(sample, u)}" if not sample.empty else "")
        )
        results.append(
            (
                u.index,
                RuleResult(
                    "source",
                    rc.source,
                    u.rule,
                    n == 0,
                    n,
                    detail,
                    severity=u.severity,
                    failing=sample,
                ),
            )
        )
    return results


def _sample(layer: Layer, rc: RowChecks, u: Unit) -> pd.DataFrame:
    t, flag = u.solo or (rc.table, u.flag)
    cols = list(
        dict.fromkeys([c for c in u.columns if c in rc.base.columns] + list(rc.base.columns))
    )
    bad = t.filter(flag).select(*cols, *u.extra)
    order = [c for c in u.columns if c in rc.base.columns] + [
        c for c in rc.order if c not in u.columns
    ]
    df = layer.engine.execute(bad.order_by(order).limit(SAMPLE))
    return df.rename(columns=u.extra)


def _examples(sample: pd.DataFrame, u: Unit) -> str:
    cols = [c for c in u.columns if c in sample.columns]
    if not cols:
        return ""
    seen = list(
        dict.fromkeys(
            ", ".join(f"{c}={fmt.value(row[c])}" for c in cols) for _, row in sample.iterrows()
        )
    )
    return "; ".join(seen[:3]) + (", ..." if len(seen) > 3 else "")


def failing_rows(rc: RowChecks) -> ir.Table:
    """Every row failing at least one row-level check, with the names of the failed checks."""
    t = rc.table
    if not rc.units:
        return rc.base.filter(ibis.literal(False)).mutate(**{FAILED_COLUMN: ibis.literal("")})
    any_flag = rc.units[0].flag
    names: ir.StringValue = ibis.literal("")
    for u in rc.units:
        if u is not rc.units[0]:
            any_flag = any_flag | u.flag
        names = names + ibis.ifelse(u.flag, ibis.literal(u.rule + "; "), ibis.literal(""))
    trimmed = names.substr(0, names.length() - 2)  # every name ends with "; "
    out = t.filter(any_flag).select(*rc.base.columns, **{FAILED_COLUMN: trimmed})
    return out.order_by(rc.order)
