"""Compilers for the allow-listed SQL functions (string, date, math, NULL handling).

Each keeps standard SQL meaning where ibis differs: SUBSTRING is 1-based, CONCAT treats NULL
as '' while `||` propagates it, EXTRACT(dow) counts from Sunday = 0 like PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.datatypes as dt
from sqlglot import exp

from metrics_layer.expressions.coerce import TypeProblem, require, typed_null
from metrics_layer.expressions.parse import extract_part, trunc_unit

if TYPE_CHECKING:
    from metrics_layer.expressions.compile import Compiler


def _args(node: exp.Expression) -> list[exp.Expression]:
    """`this` followed by `expressions`: the argument list of variadic functions."""
    first = node.this if isinstance(node.this, exp.Expression) else None
    return ([first] if first is not None else []) + list(node.expressions)


def _unify_all(values: list[ibis.Value]) -> list[ibis.Value]:
    known = next((v.type() for v in values if not v.type().is_null()), None)
    return values if known is None else [typed_null(v, known) for v in values]


def _coalesce(c: Compiler, node: exp.Coalesce) -> ibis.Value:
    values = _unify_all([c.visit(a) for a in _args(node)])
    return values[0] if len(values) == 1 else ibis.coalesce(*values)


def _greatest_least(c: Compiler, node: exp.Greatest | exp.Least) -> ibis.Value:
    values = _unify_all([c.visit(a) for a in _args(node)])
    if len(values) == 1:
        return values[0]
    return ibis.greatest(*values) if isinstance(node, exp.Greatest) else ibis.least(*values)


def _nullif(c: Compiler, node: exp.Nullif) -> ibis.Value:
    left, right = _unify_all([c.visit(node.this), c.visit(node.expression)])
    return left.nullif(right)


def _as_text(value: ibis.Value) -> ibis.Value:
    return value if value.type().is_string() else value.cast(dt.string)


def _concat(c: Compiler, node: exp.Concat) -> ibis.Value:
    """SQL CONCAT: NULL arguments count as empty strings, non-strings are cast to text."""
    parts = [ibis.coalesce(_as_text(c.visit(a)), ibis.literal("")) for a in node.expressions]
    if not parts:
        raise TypeProblem("CONCAT needs at least one argument")
    return parts[0].concat(*parts[1:]) if len(parts) > 1 else parts[0]


def _dpipe(c: Compiler, node: exp.DPipe) -> ibis.Value:
    """`a || b`: NULL if either side is NULL."""
    return _as_text(c.visit(node.this)).concat(_as_text(c.visit(node.expression)))


def _string_fn(method: str, sql: str) -> Callable[[Compiler, Any], ibis.Value]:
    def build(c: Compiler, node: exp.Expression) -> ibis.Value:
        return getattr(require(c.visit(node.this), "string", sql), method)()

    return build


def _trim(c: Compiler, node: exp.Trim) -> ibis.Value:
    """TRIM/LTRIM/RTRIM remove surrounding whitespace (ibis strips tabs and newlines too)."""
    value = require(c.visit(node.this), "string", "TRIM")
    position = str(node.args.get("position") or "BOTH").upper()
    return {"LEADING": value.lstrip, "TRAILING": value.rstrip}.get(position, value.strip)()


def _substring(c: Compiler, node: exp.Substring) -> ibis.Value:
    """SQL SUBSTRING(x, start[, len]) is 1-based and clips before position 1; ibis is 0-based."""
    value = require(c.visit(node.this), "string", "SUBSTRING")
    start_node, length_node = node.args.get("start"), node.args.get("length")
    if start_node is None:
        raise TypeProblem("SUBSTRING needs a start position")
    start_lit, length_lit = _int_literal(start_node), _int_literal(length_node)
    if start_lit is not None and (length_node is None or length_lit is not None):
        begin = max(start_lit, 1)
        if length_lit is None:
            return value.substr(begin - 1)
        return value.substr(begin - 1, max(start_lit + length_lit - begin, 0))
    start = require(c.visit(start_node), "integer", "SUBSTRING start")
    begin = (start < 1).ifelse(1, start)
    if length_node is None:
        return value.substr(begin - 1)
    length = require(c.visit(length_node), "integer", "SUBSTRING length")
    remaining = start + length - begin
    return value.substr(begin - 1, (remaining < 0).ifelse(0, remaining))


def _int_literal(node: exp.Expression | None) -> int | None:
    sign = 1
    while isinstance(node, exp.Paren | exp.Neg):
        sign = -sign if isinstance(node, exp.Neg) else sign
        node = node.this
    if isinstance(node, exp.Literal) and not node.is_string and str(node.this).isdigit():
        return sign * int(node.this)
    return None


def _numeric_fn(method: str, sql: str) -> Callable[[Compiler, Any], ibis.Value]:
    def build(c: Compiler, node: exp.Expression) -> ibis.Value:
        return getattr(require(c.visit(node.this), "numeric", sql), method)()

    return build


def _round(c: Compiler, node: exp.Round) -> ibis.Value:
    value = require(c.visit(node.this), "numeric", "ROUND")
    decimals = node.args.get("decimals")
    if decimals is None:
        return value.round()
    digits = _int_literal(decimals)
    if digits is None:  # DuckDB and others need a constant
        raise TypeProblem("ROUND digits must be a whole number literal, e.g. ROUND(x, 2)")
    return value.round(digits)


def _extract(c: Compiler, node: exp.Extract) -> ibis.Value:
    part = extract_part(node)
    value = require(c.visit(node.expression), "temporal", f"EXTRACT({part})")
    if part in ("hour", "minute", "second") and value.type().is_date():
        raise TypeProblem(f"EXTRACT({part}) needs a timestamp, got a date")
    if part == "dow":  # PostgreSQL: 0 = Sunday ... 6 = Saturday; ibis index is 0 = Monday
        return (value.day_of_week.index() + 1) % 7
    if part == "isodow":
        return value.day_of_week.index() + 1
    if part == "epoch":
        stamp = value.cast(dt.timestamp) if value.type().is_date() else value
        return stamp.epoch_seconds().cast(dt.float64)
    method = {"week": "week_of_year", "doy": "day_of_year"}.get(part, part)
    return getattr(value, method)()


def _date_trunc(c: Compiler, node: exp.DateTrunc) -> ibis.Value:
    unit = trunc_unit(node)
    value = require(c.visit(node.this), "temporal", "DATE_TRUNC")
    if unit in ("h", "m", "s") and value.type().is_date():
        raise TypeProblem("DATE_TRUNC to hour/minute/second needs a timestamp, got a date")
    return value.truncate(unit)


HANDLERS: dict[type[exp.Expression], Callable[[Compiler, Any], ibis.Value]] = {
    exp.Coalesce: _coalesce,
    exp.Greatest: _greatest_least,
    exp.Least: _greatest_least,
    exp.Nullif: _nullif,
    exp.Concat: _concat,
    exp.DPipe: _dpipe,
    exp.Lower: _string_fn("lower", "LOWER"),
    exp.Upper: _string_fn("upper", "UPPER"),
    exp.Length: _string_fn("length", "LENGTH"),
    exp.Trim: _trim,
    exp.Substring: _substring,
    exp.Abs: _numeric_fn("abs", "ABS"),
    exp.Floor: _numeric_fn("floor", "FLOOR"),
    exp.Ceil: _numeric_fn("ceil", "CEIL"),
    exp.Round: _round,
    exp.Extract: _extract,
    exp.DateTrunc: _date_trunc,
}
