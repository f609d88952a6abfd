"""Turn a validated expression tree into an ibis expression, one allow-listed node at a time.

Values only ever enter the query as ibis literals or as the caller's resolved columns, so user
text is never pasted into SQL. Semantics follow standard SQL and are the same on every backend:
`/` is true division with NULL for a zero divisor, `%` is the remainder (NULL for zero),
`x = NULL` is NULL, an integer literal is int64 and a literal with a decimal point or exponent
is float64 (write CAST('1.10' AS decimal(p, s)) for an exact decimal constant).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.datatypes as dt
from ibis.common.exceptions import IbisError
from sqlglot import exp

from metrics_layer.errors import ExpressionError
from metrics_layer.expressions import coerce, functions
from metrics_layer.expressions.coerce import TypeProblem, require
from metrics_layer.expressions.parse import ParsedExpression, cast_target, interval_parts

Resolver = Callable[[str], ibis.Value]


def compile_expression(parsed: ParsedExpression, resolve: Resolver) -> ibis.Value:
    """Build the ibis value of `parsed`; resolve(name) supplies each referenced name's value.

    Errors raised by `resolve` propagate unchanged; type errors become ExpressionError.
    """
    values = {name: resolve(name) for name in parsed.names}
    try:
        return Compiler(values).visit(parsed.tree)
    except TypeProblem as err:
        raise ExpressionError(f"expression {parsed.text!r}: {err}") from None
    except (IbisError, TypeError, ValueError, AttributeError, NotImplementedError) as err:
        raise ExpressionError(f"expression {parsed.text!r} has a type error: {err}") from None
    except RecursionError:
        raise ExpressionError(f"expression {parsed.text[:60]!r}...: is nested too deeply") from None


class Compiler:
    """Dispatches on the sqlglot node class; handlers live in _HANDLERS and functions.py."""

    def __init__(self, values: dict[str, ibis.Value]) -> None:
        self.values = values

    def visit(self, node: exp.Expression) -> ibis.Value:
        handler = _HANDLERS.get(type(node)) or functions.HANDLERS.get(type(node))
        if handler is None:  # parse.py and the handler tables disagree: a bug, not user error
            raise TypeProblem(f"{type(node).__name__} has no compiler")
        return handler(self, node)

    def name(self, node: exp.Column | exp.Dot) -> ibis.Value:
        return self.values[".".join(str(p.this) for p in node.parts)]


def _literal(c: Compiler, node: exp.Literal) -> ibis.Value:
    text = str(node.this)
    if node.is_string:
        return ibis.literal(text, dt.string)
    if re.fullmatch(r"\d+", text):
        return ibis.literal(int(text), dt.int64)
    return ibis.literal(float(text), dt.float64)


def _binary(node: exp.Expression, c: Compiler) -> tuple[ibis.Value, ibis.Value]:
    left, right = c.visit(node.this), c.visit(node.expression)
    return coerce.coerce_pair(left, node.this, right, node.expression)


def _arith(kind: type[exp.Expression]) -> Callable[[Compiler, exp.Expression], ibis.Value]:
    symbols: dict[type[exp.Expression], str] = {
        exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/", exp.Mod: "%"
    }  # fmt: skip
    symbol = symbols[kind]

    def build(c: Compiler, node: exp.Expression) -> ibis.Value:
        left, right = _binary(node, c)
        if left.type().is_null() and right.type().is_null():
            return ibis.null()
        temporal = any(v.type().is_temporal() or v.type().is_interval() for v in (left, right))
        if kind in (exp.Add, exp.Sub) and temporal:
            return _temporal_arith(left, right, subtract=kind is exp.Sub)
        left = require(left, "numeric", f"`{symbol}`")
        right = require(right, "numeric", f"`{symbol}`")
        if kind is exp.Div:  # true division; x / 0 is NULL everywhere (PostgreSQL would raise)
            return left.cast(dt.float64) / _nonzero(right.cast(dt.float64), node.expression)
        if kind is exp.Mod:
            return left % _nonzero(right, node.expression)
        if kind is exp.Mul:
            return coerce.exact_multiply(left, node.this, right, node.expression)
        return coerce.exact_add(left, node.this, right, node.expression, kind is exp.Sub)

    return build


def _temporal_arith(left: ibis.Value, right: ibis.Value, subtract: bool) -> ibis.Value:
    """date/timestamp ± INTERVAL, INTERVAL ± INTERVAL, and date - date in whole days (PostgreSQL)."""
    ltype, rtype = left.type(), right.type()
    if ltype.is_interval() and rtype.is_interval():
        return left - right if subtract else left + right
    if ltype.is_temporal() and rtype.is_interval():
        return left - right if subtract else left + right
    if ltype.is_interval() and rtype.is_temporal() and not subtract:
        return right + left
    if subtract and ltype.is_date() and rtype.is_date():
        return left.delta(right, unit="day")
    if subtract and ltype.is_temporal() and rtype.is_temporal():
        raise TypeProblem(
            "subtracting timestamps is not supported; use "
            "EXTRACT(epoch FROM a) - EXTRACT(epoch FROM b) for seconds"
        )
    raise TypeProblem(
        f"`{'-' if subtract else '+'}` with a date/timestamp needs an INTERVAL "
        f"(e.g. d + INTERVAL '7' DAY), got {ltype} and {rtype}"
    )


def _nonzero(value: ibis.Value, node: exp.Expression) -> ibis.Value:
    """NULLIF(divisor, 0), skipped for a non-zero number literal."""
    if isinstance(node, exp.Literal) and not node.is_string and float(node.this) != 0:
        return value
    return value.nullif(0)


def _compare(kind: type[exp.Expression]) -> Callable[[Compiler, exp.Expression], ibis.Value]:
    def build(c: Compiler, node: exp.Expression) -> ibis.Value:
        left, right = _binary(node, c)
        if left.type().is_null() and right.type().is_null():
            return ibis.null().cast(dt.boolean)
        if kind is exp.EQ:
            return left == right
        if kind is exp.NEQ:
            return left != right
        if kind is exp.LT:
            return left < right
        if kind is exp.LTE:
            return left <= right
        if kind is exp.GT:
            return left > right
        return left >= right

    return build


def _logic(c: Compiler, node: exp.Expression) -> ibis.Value:
    word = "AND" if isinstance(node, exp.And) else "OR"
    left = require(c.visit(node.this), "boolean", word)
    right = require(c.visit(node.expression), "boolean", word)
    return left & right if word == "AND" else left | right


def _not(c: Compiler, node: exp.Not) -> ibis.Value:
    inner = node.this
    if isinstance(inner, exp.Is) and isinstance(inner.expression, exp.Null):
        return c.visit(inner.this).notnull()  # `x IS NOT NULL`, which backends filter natively
    return ~require(c.visit(inner), "boolean", "NOT")


def _neg(c: Compiler, node: exp.Neg) -> ibis.Value:
    value = c.visit(node.this)
    if value.type().is_interval():
        return value.negate()
    return -require(value, "numeric", "unary `-`")


def _in(c: Compiler, node: exp.In) -> ibis.Value:
    base = c.visit(node.this)
    items = []
    for item_node in node.expressions:
        base, item = coerce.coerce_pair(base, node.this, c.visit(item_node), item_node)
        _ = base == item  # raises, like `=` would, when an item cannot be compared with x
        items.append(item)
    if base.type().is_null():
        known = next((i.type() for i in items if not i.type().is_null()), dt.string)
        base = ibis.null().cast(known)
    return base.isin(items)


def _between(c: Compiler, node: exp.Between) -> ibis.Value:
    base = c.visit(node.this)
    base, low = coerce.coerce_pair(base, node.this, c.visit(node.args["low"]), node.args["low"])
    base, high = coerce.coerce_pair(base, node.this, c.visit(node.args["high"]), node.args["high"])
    low, high = coerce.typed_null(low, base.type()), coerce.typed_null(high, base.type())
    return base.between(low, high)


def _like(c: Compiler, node: exp.Like | exp.ILike) -> ibis.Value:
    word = "ILIKE" if isinstance(node, exp.ILike) else "LIKE"
    value = require(c.visit(node.this), "string", word)
    pattern = require(c.visit(node.expression), "string", f"the pattern of {word}")
    result = value.ilike(pattern) if word == "ILIKE" else value.like(pattern)
    return ~result if node.args.get("negate") else result


def _is(c: Compiler, node: exp.Is) -> ibis.Value:
    value = c.visit(node.this)
    if isinstance(node.expression, exp.Null):
        return value.isnull()
    flag = bool(node.expression.this)
    return require(value, "boolean", f"IS {'TRUE' if flag else 'FALSE'}").identical_to(flag)


def _case(c: Compiler, node: exp.Case) -> ibis.Value:
    default = node.args.get("default")
    else_ = c.visit(default) if default is not None else None
    if node.this is None:
        branches = [(require(c.visit(b.this), "boolean", "CASE WHEN"), c.visit(b.args["true"]))
                    for b in node.args["ifs"]]  # fmt: skip
        return ibis.cases(*branches, else_=else_)
    base = c.visit(node.this)
    branches = []
    for branch in node.args["ifs"]:
        base, match = coerce.coerce_pair(base, node.this, c.visit(branch.this), branch.this)
        branches.append((match, c.visit(branch.args["true"])))
    return base.cases(*branches, else_=else_)


def _cast(c: Compiler, node: exp.Cast) -> ibis.Value:
    target = cast_target(node.to)
    text = coerce.string_literal_text(node.this)
    if text is not None and (target.is_date() or target.is_timestamp()):
        return coerce.temporal_literal(text, target)  # DATE '2024-01-01', TIMESTAMP '...'
    value = c.visit(node.this)
    return value.cast(target)


def _interval(c: Compiler, node: exp.Interval) -> ibis.Value:
    unit, count = interval_parts(node)
    return ibis.interval(**{unit: count})


_HANDLERS: dict[type[exp.Expression], Callable[[Compiler, Any], ibis.Value]] = {
    exp.Column: Compiler.name,
    exp.Dot: Compiler.name,
    exp.Literal: _literal,
    exp.Boolean: lambda c, n: ibis.literal(bool(n.this), dt.boolean),
    exp.Null: lambda c, n: ibis.null(),
    exp.Paren: lambda c, n: c.visit(n.this),
    exp.Neg: _neg,
    exp.Not: _not,
    exp.And: _logic,
    exp.Or: _logic,
    **{k: _arith(k) for k in (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)},
    **{k: _compare(k) for k in (exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE)},
    exp.In: _in,
    exp.Between: _between,
    exp.Like: _like,
    exp.ILike: _like,
    exp.Is: _is,
    exp.Case: _case,
    exp.Cast: _cast,
    exp.Interval: _interval,
}
