"""The allow-list: which sqlglot nodes, types, date parts and functions an expression may use.

Kept as plain tables so that widening the grammar is a one-line, reviewable change and the
validator (parse.py) and the compiler (compile.py, functions.py) cannot drift apart.
"""

from __future__ import annotations

import ibis.expr.datatypes as dt
from sqlglot import exp

_T = exp.DataType.Type

# Node class -> argument keys that may hold child expressions. Any other argument holding an
# expression (CAST ... FORMAT, TRIM(chars FROM x), BETWEEN SYMMETRIC's flags are not
# expressions, FLOOR(x, 2), ...) makes the node unsupported, so no input is silently ignored.
NODE_ARGS: dict[type[exp.Expression], frozenset[str]] = {
    exp.Literal: frozenset(),
    exp.Boolean: frozenset(),
    exp.Null: frozenset(),
    exp.Paren: frozenset({"this"}),
    exp.Neg: frozenset({"this"}),
    exp.Not: frozenset({"this"}),
    exp.Add: frozenset({"this", "expression"}),
    exp.Sub: frozenset({"this", "expression"}),
    exp.Mul: frozenset({"this", "expression"}),
    exp.Div: frozenset({"this", "expression"}),
    exp.Mod: frozenset({"this", "expression"}),
    exp.EQ: frozenset({"this", "expression"}),
    exp.NEQ: frozenset({"this", "expression"}),
    exp.LT: frozenset({"this", "expression"}),
    exp.LTE: frozenset({"this", "expression"}),
    exp.GT: frozenset({"this", "expression"}),
    exp.GTE: frozenset({"this", "expression"}),
    exp.And: frozenset({"this", "expression"}),
    exp.Or: frozenset({"this", "expression"}),
    exp.In: frozenset({"this", "expressions"}),
    exp.Between: frozenset({"this", "low", "high"}),
    exp.Like: frozenset({"this", "expression"}),
    exp.ILike: frozenset({"this", "expression"}),
    exp.Is: frozenset({"this", "expression"}),
    exp.Case: frozenset({"this", "ifs", "default"}),
    exp.If: frozenset({"this", "true"}),  # only as a CASE branch (checked in parse.py)
    exp.Cast: frozenset({"this", "to"}),
    exp.Interval: frozenset({"this", "unit"}),
    exp.Coalesce: frozenset({"this", "expressions"}),
    exp.Nullif: frozenset({"this", "expression"}),
    exp.Extract: frozenset({"this", "expression"}),
    exp.DateTrunc: frozenset({"unit", "this"}),
    exp.Lower: frozenset({"this"}),
    exp.Upper: frozenset({"this"}),
    exp.Length: frozenset({"this"}),
    exp.Substring: frozenset({"this", "start", "length"}),
    exp.Concat: frozenset({"expressions"}),
    exp.DPipe: frozenset({"this", "expression"}),
    exp.Abs: frozenset({"this"}),
    exp.Round: frozenset({"this", "decimals"}),
    exp.Floor: frozenset({"this"}),
    exp.Ceil: frozenset({"this"}),
    exp.Greatest: frozenset({"this", "expressions"}),
    exp.Least: frozenset({"this", "expressions"}),
    exp.Trim: frozenset({"this"}),
}

# What users may call, as they would spell it (for error messages and suggestions).
FUNCTIONS: tuple[str, ...] = (
    "abs", "cast", "ceil", "ceiling", "char_length", "coalesce", "concat", "date_trunc",
    "extract", "floor", "greatest", "least", "length", "lower", "ltrim", "mod", "nullif",
    "round", "rtrim", "substr", "substring", "trim", "upper",
)  # fmt: skip

# sqlglot type -> ibis type. FLOAT/REAL become float64 on purpose: precision is never narrowed
# (PostgreSQL's `float` is double precision too). VARCHAR(n)/CHAR(n) lengths are not enforced.
CAST_TYPES: dict[exp.DataType.Type, dt.DataType] = {
    _T.SMALLINT: dt.int16,
    _T.INT: dt.int32,
    _T.BIGINT: dt.int64,
    _T.DOUBLE: dt.float64,
    _T.FLOAT: dt.float64,
    _T.VARCHAR: dt.string,
    _T.CHAR: dt.string,
    _T.TEXT: dt.string,
    _T.DATE: dt.date,
    _T.TIMESTAMP: dt.timestamp,
    _T.BOOLEAN: dt.boolean,
}
CAST_TYPE_NAMES = (
    "int/integer", "bigint", "smallint", "double/float/real", "decimal(p, s)/numeric(p, s)",
    "varchar/text/string", "date", "timestamp", "boolean",
)  # fmt: skip

# EXTRACT parts (PostgreSQL meaning: dow 0 = Sunday, isodow 1 = Monday, week = ISO week).
EXTRACT_PARTS: frozenset[str] = frozenset(
    {"year", "quarter", "month", "week", "day", "dow", "isodow", "doy", "hour", "minute",
     "second", "epoch"}
)  # fmt: skip
TIME_OF_DAY_PARTS: frozenset[str] = frozenset({"hour", "minute", "second"})

# DATE_TRUNC units -> ibis truncate units. Weeks start on Monday (ISO).
TRUNC_UNITS: dict[str, str] = {
    "year": "Y", "quarter": "Q", "month": "M", "week": "W", "day": "D",
    "hour": "h", "minute": "m", "second": "s",
}  # fmt: skip

# INTERVAL units -> ibis.interval keyword.
INTERVAL_UNITS: dict[str, str] = {
    "year": "years", "quarter": "quarters", "month": "months", "week": "weeks", "day": "days",
    "hour": "hours", "minute": "minutes", "second": "seconds",
}  # fmt: skip


def unit_name(text: str) -> str:
    """Normalise a unit spelling ('DAYS', 'Day') to the singular lower-case key of the tables."""
    low = text.strip().lower()
    return low[:-1] if low.endswith("s") and low[:-1] in INTERVAL_UNITS else low
