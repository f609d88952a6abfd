"""Typing rules shared by the compiler: NULL literals, temporal string literals, exact decimals.

These exist because ibis's own inference differs from SQL in ways that change results:
`x == NULL` would compile to `x IS NULL`, a bare NULL has no arithmetic, and
`decimal(15,2) * decimal(15,2)` is typed decimal(15,2), which rounds the product on fetch.
"""

from __future__ import annotations

import datetime as _dt
import re

import ibis
import ibis.expr.datatypes as dt
from sqlglot import exp

from metrics_layer.errors import ExpressionError

_MAX_PRECISION = 38
_INT_DIGITS = {8: 3, 16: 5, 32: 10, 64: 19}


class TypeProblem(ExpressionError):
    """Raised while building; compile_expression adds the expression text to the message."""


def is_null(value: ibis.Value) -> bool:
    """True for an untyped NULL literal."""
    return bool(value.type().is_null())


def typed_null(value: ibis.Value, like: dt.DataType) -> ibis.Value:
    """An untyped NULL given the type of its partner, so it keeps SQL (not ibis) meaning."""
    # ibis.null(type) is a NULL literal, which ibis turns `x = NULL` into `x IS NULL`; a cast
    # keeps the SQL meaning (NULL).
    return ibis.null().cast(like) if is_null(value) and not like.is_null() else value


def unify(left: ibis.Value, right: ibis.Value) -> tuple[ibis.Value, ibis.Value]:
    """Give a bare NULL operand its partner's type."""
    return typed_null(left, right.type()), typed_null(right, left.type())


def require(value: ibis.Value, kind: str, what: str) -> ibis.Value:
    """Check an operand's type family ('numeric', 'string', 'temporal', 'boolean', 'integer')."""
    typ = value.type()
    if typ.is_null():
        fallback = {"numeric": dt.float64, "string": dt.string, "temporal": dt.timestamp,
                    "boolean": dt.boolean, "integer": dt.int64}[kind]  # fmt: skip
        return ibis.null().cast(fallback)
    ok = {
        "numeric": typ.is_numeric(),
        "integer": typ.is_integer(),
        "string": typ.is_string(),
        "temporal": typ.is_date() or typ.is_timestamp(),
        "boolean": typ.is_boolean(),
    }[kind]
    if not ok:
        article = "an" if kind[0] in "aeiou" else "a"
        raise TypeProblem(f"{what} needs {article} {kind} value, got {typ}")
    return value


def string_literal_text(node: exp.Expression) -> str | None:
    """The text of a plain string literal node (through parentheses), else None."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Literal) and node.is_string:
        return str(node.this)
    return None


def temporal_literal(text: str, target: dt.DataType) -> ibis.Value:
    """Parse a date/timestamp literal in Python so a typo fails now, not in the database."""
    try:
        if target.is_date():
            return ibis.literal(_dt.date.fromisoformat(text.strip()), dt.date)
        stamp = _dt.datetime.fromisoformat(text.strip())
    except ValueError:
        kind = "date" if target.is_date() else "timestamp"
        raise TypeProblem(
            f"{text!r} is not a valid {kind} (use ISO format, e.g. "
            f"'2024-01-31'{' 13:45:00' if kind == 'timestamp' else ''})"
        ) from None
    return ibis.literal(stamp, target if stamp.tzinfo is None else dt.Timestamp("UTC"))


def coerce_pair(
    left: ibis.Value, lnode: exp.Expression, right: ibis.Value, rnode: exp.Expression
) -> tuple[ibis.Value, ibis.Value]:
    """Compare a date/timestamp with a string literal as SQL does: read the string as a date."""
    ltype, rtype = left.type(), right.type()
    rtext, ltext = string_literal_text(rnode), string_literal_text(lnode)
    if (ltype.is_date() or ltype.is_timestamp()) and rtext is not None:
        right = temporal_literal(rtext, ltype)
    elif (rtype.is_date() or rtype.is_timestamp()) and ltext is not None:
        left = temporal_literal(ltext, rtype)
    return unify(left, right)


def _int_literal_digits(node: exp.Expression) -> int | None:
    while isinstance(node, exp.Paren | exp.Neg):
        node = node.this
    if isinstance(node, exp.Literal) and not node.is_string and re.fullmatch(r"\d+", node.this):
        return max(len(node.this.lstrip("0")), 1)
    return None


def _decimal_spec(value: ibis.Value, node: exp.Expression) -> tuple[int, int] | None:
    """(precision, scale) of a decimal or integer operand; None when unknown or not exact."""
    typ = value.type()
    if typ.is_decimal():
        if typ.precision is None or typ.scale is None:
            return None
        return typ.precision, typ.scale
    if typ.is_integer():
        digits = _int_literal_digits(node)
        if digits is not None:
            return digits, 0
        return _INT_DIGITS.get(typ.nbytes * 8, 20) + (1 if typ.is_unsigned_integer() else 0), 0
    return None


def exact_multiply(
    left: ibis.Value, lnode: exp.Expression, right: ibis.Value, rnode: exp.Expression
) -> ibis.Value:
    """`*` keeping every digit: decimal(p1+p2, s1+s2), or float64 beyond 38 digits."""
    if not (left.type().is_decimal() or right.type().is_decimal()):
        return left * right
    lspec, rspec = _decimal_spec(left, lnode), _decimal_spec(right, rnode)
    if lspec is None or rspec is None:
        if left.type().is_floating() or right.type().is_floating():
            return left.cast(dt.float64) * right.cast(dt.float64)
        return left * right
    precision, scale = lspec[0] + rspec[0], lspec[1] + rspec[1]
    if precision > _MAX_PRECISION:
        return left.cast(dt.float64) * right.cast(dt.float64)
    # Widen an operand first: DuckDB types decimal(15,2) * decimal(15,2) as decimal(18,4) and
    # raises on overflow; a decimal(30,2) operand makes it multiply in 128 bits.
    wide = left.cast(dt.Decimal(precision, lspec[1]))
    return (wide * right).cast(dt.Decimal(precision, scale))


def exact_add(
    left: ibis.Value,
    lnode: exp.Expression,
    right: ibis.Value,
    rnode: exp.Expression,
    subtract: bool = False,
) -> ibis.Value:
    """`+`/`-` typed as SQL does for decimals (max scale, one more integer digit)."""
    result = left - right if subtract else left + right
    if not (left.type().is_decimal() or right.type().is_decimal()):
        return result
    lspec, rspec = _decimal_spec(left, lnode), _decimal_spec(right, rnode)
    if lspec is None or rspec is None:
        return result
    scale = max(lspec[1], rspec[1])
    precision = min(max(lspec[0] - lspec[1], rspec[0] - rspec[1]) + scale + 1, _MAX_PRECISION)
    return result.cast(dt.Decimal(precision, scale))
