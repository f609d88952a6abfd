"""Expressions: compiled results must equal DuckDB running the same SQL text directly.

The reference connection is a separate plain DuckDB database with SQL-standard division
(`ieee_floating_point_ops=false`, `error_on_division_by_zero=false`: x / 0 and x % 0 are NULL),
the semantics the compiled expressions promise on every backend without those settings.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import duckdb
import ibis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics_layer.errors import ExpressionError, QueryError
from metrics_layer.expressions import ParsedExpression, compile_expression, parse_expression

DATA_SQL = """
CREATE TABLE t AS SELECT * FROM (VALUES
  (1, 7, 2, 1.5, 0.0, 12345678901.23::DECIMAL(15,2), 98765.43::DECIMAL(15,2), 'Hello', 'World',
   DATE '2024-01-07', TIMESTAMP '2024-01-07 13:45:10', TRUE),
  (2, -7, 3, -2.25, 4.0, 0.05::DECIMAL(15,2), 0.05::DECIMAL(15,2), 'hello world', NULL,
   DATE '2024-02-29', TIMESTAMP '2024-02-29 00:00:00', FALSE),
  (3, NULL, 0, NULL, NULL, NULL, 1.00::DECIMAL(15,2), NULL, 'x', NULL, NULL, NULL),
  (4, 0, NULL, 0.0, -1.5, -99.99::DECIMAL(15,2), 3.33::DECIMAL(15,2), '  Padded  ', '',
   DATE '2023-12-31', TIMESTAMP '2023-12-31 23:59:59', TRUE),
  (5, 10, -3, 2.5, 3.5, 1.25::DECIMAL(15,2), 3.33::DECIMAL(15,2), 'ABC', 'abc',
   DATE '2024-06-15', TIMESTAMP '2024-06-15 06:30:00', FALSE)
) AS v(id, i, j, f, g, dec, dec2, s, s2, d, ts, b)
"""
INT_DATA_SQL = """
CREATE TABLE n AS SELECT * FROM (VALUES
  (1, 7::BIGINT, 2::BIGINT, 1.5::DOUBLE, 0.25::DOUBLE),
  (2, -7, 0, -2.25, 0.0),
  (3, NULL, 3, NULL, -4.5),
  (4, 0, -5, 0.0, NULL),
  (5, 12, NULL, 8.75, 2.0)
) AS v(id, a, b, x, y)
"""


@pytest.fixture(scope="module")
def con() -> Any:
    backend = ibis.duckdb.connect()
    backend.raw_sql(DATA_SQL)
    backend.raw_sql(INT_DATA_SQL)
    return backend


@pytest.fixture(scope="module")
def ref() -> duckdb.DuckDBPyConnection:
    db = duckdb.connect()
    db.execute("SET ieee_floating_point_ops = false")
    db.execute("SET error_on_division_by_zero = false")
    db.execute(DATA_SQL)
    db.execute(INT_DATA_SQL)
    return db


def compiled_values(con: Any, table: str, text: str) -> list[Any]:
    t = con.table(table)
    value = compile_expression(parse_expression(text), lambda name: t[name])
    return con.to_pyarrow(t.select(t.id, r=value).order_by("id")).column("r").to_pylist()


def reference_values(ref: duckdb.DuckDBPyConnection, table: str, text: str) -> list[Any]:
    return [row[1] for row in ref.execute(f"SELECT id, {text} FROM {table} ORDER BY id").fetchall()]


def normalise(value: Any) -> Any:
    """Dates and midnight timestamps compare equal (DuckDB returns DATE + INTERVAL as TIMESTAMP)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    return value


def same(left: Any, right: Any) -> bool:
    left, right = normalise(left), normalise(right)
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, bool) or isinstance(right, bool):
        return left == right
    if isinstance(left, int | float | Decimal) and isinstance(right, int | float | Decimal):
        return math.isclose(float(left), float(right), rel_tol=1e-9, abs_tol=1e-12)
    return left == right


def assert_matches(con: Any, ref: duckdb.DuckDBPyConnection, table: str, text: str) -> None:
    got, want = compiled_values(con, table, text), reference_values(ref, table, text)
    assert len(got) == len(want)
    assert all(same(g, w) for g, w in zip(got, want, strict=True)), (text, got, want)


ALLOWED = [
    # literals, arithmetic, NULLs
    "1 + 2 * 3", "(1 + 2) * 3", "2 - -3", "7 / 2", "i / j", "f / g", "i / 0", "f / 0",
    "i % j", "i % 3", "-i % 3", "f % 1.5", "-f * 2", "i + NULL", "i * 1.5", "1.25 + f",
    "dec * 2", "dec * i", "dec + dec2", "dec - 1", "dec * f", "dec / dec2",
    "ROUND(f * 100) / 100",
    # comparisons and logic
    "i = 7", "i <> 7", "i != 7", "i < j", "i <= j", "f > g", "f >= 0", "i = NULL",
    "NULL = NULL", "b AND i > 0", "b OR NULL", "NOT b", "i > 0 AND (s = 'Hello' OR s IS NULL)",
    "i IN (7, 10)", "i IN (7, NULL)", "i NOT IN (7, 10)", "s IN ('ABC', 'Hello')",
    "i BETWEEN 0 AND 7", "i NOT BETWEEN 0 AND 7", "f BETWEEN g AND 3",
    "s LIKE 'H%'", "s NOT LIKE '%o%'", "s ILIKE 'h%'", "s NOT ILIKE 'HELLO%'",
    "i IS NULL", "s IS NOT NULL", "b IS TRUE", "b IS NOT TRUE", "b IS FALSE",
    "b IS NOT FALSE", "NULL IS NULL",
    # CASE, CAST, NULL functions
    "CASE WHEN i > 5 THEN 'big' WHEN i < 0 THEN 'neg' ELSE 'small' END",
    "CASE WHEN b THEN f END", "CASE WHEN b THEN 1 ELSE NULL END",
    "CASE i WHEN 7 THEN 'seven' WHEN -7 THEN 'minus' ELSE 'other' END",
    "CAST(i AS varchar)", "i::bigint", "CAST('12' AS int) + i", "CAST(f AS decimal(10, 2))",
    "CAST(dec AS double)", "CAST(d AS timestamp)", "CAST(ts AS date)", "CAST(i AS text)",
    "s2::text", "CAST(i AS smallint)", "CAST(i AS integer)", "CAST('true' AS boolean)",
    "COALESCE(i, j, 0)", "COALESCE(s, 'none')", "NULLIF(i, 0)", "NULLIF(s2, '')",
    "GREATEST(i, j)", "LEAST(f, g)", "GREATEST(i, j, 5)",
    # strings
    "LOWER(s)", "UPPER(s)", "LENGTH(s)", "TRIM(s)", "LTRIM(s)", "RTRIM(s)",
    "SUBSTRING(s, 2, 3)", "SUBSTRING(s, 3)", "SUBSTRING(s FROM 1 FOR 2)", "SUBSTRING(s, 0, 3)",
    "SUBSTRING(s, ABS(j), 2)", "SUBSTR(s, 2)", "s || s2", "s || '!'", "'a' || NULL",
    "CONCAT(s, '-', s2)", "CONCAT(i, s)", "CONCAT(NULL, s2)", "CONCAT(s, NULL)",
    "s = 'it''s'",
    # numbers
    "ABS(i)", "ABS(f)", "FLOOR(f)", "CEIL(f)", "CEILING(g)", "ROUND(f)", "ROUND(f, 1)",
    "ROUND(dec, 1)", "FLOOR(dec)",
    # dates and timestamps
    "d >= '2024-01-01'", "ts < '2024-03-01 00:00:00'", "d = DATE '2024-02-29'",
    "ts BETWEEN TIMESTAMP '2024-01-01' AND TIMESTAMP '2024-03-01'",
    "d IN (DATE '2024-01-07', DATE '2024-02-29')",
    "EXTRACT(year FROM d)", "EXTRACT(quarter FROM d)", "EXTRACT(month FROM ts)",
    "EXTRACT(week FROM d)", "EXTRACT(day FROM ts)", "EXTRACT(dow FROM d)",
    "EXTRACT(dow FROM ts)", "EXTRACT(isodow FROM d)", "EXTRACT(doy FROM d)",
    "EXTRACT(hour FROM ts)", "EXTRACT(minute FROM ts)", "EXTRACT(second FROM ts)",
    "EXTRACT(epoch FROM ts)", "EXTRACT(week FROM DATE '2024-12-30')",
    "DATE_TRUNC('month', d)", "DATE_TRUNC('week', ts)", "DATE_TRUNC('quarter', d)",
    "DATE_TRUNC('year', ts)", "DATE_TRUNC('day', ts)", "DATE_TRUNC('hour', ts)",
    "d + INTERVAL '7' DAY", "ts + INTERVAL '1' HOUR", "ts - INTERVAL '7 days'",
    "d + INTERVAL '1' MONTH", "INTERVAL '2' DAY + d", "d - DATE '2024-01-01'", "ts - INTERVAL '7 days' > TIMESTAMP '2024-01-01'",
]  # fmt: skip


@pytest.mark.parametrize("text", ALLOWED)
def test_allowed_expressions_match_duckdb(con: Any, ref: Any, text: str) -> None:
    assert_matches(con, ref, "t", text)


def test_true_division_and_zero_divisor(con: Any) -> None:
    assert compiled_values(con, "t", "7 / 2")[0] == 3.5
    assert compiled_values(con, "t", "i / j")[:3] == [3.5, pytest.approx(-7 / 3), None]
    assert [normalise(v) for v in compiled_values(con, "t", "i % j")][2] is None
    assert [normalise(v) for v in compiled_values(con, "t", "f / g")][:2] == [None, -0.5625]


def test_remainder_has_the_sign_of_the_dividend(con: Any) -> None:
    assert compiled_values(con, "t", "i % 3")[:2] == [1, -1]
    assert compiled_values(con, "t", "i % -3")[:2] == [1, -1]


def test_substring_is_one_based_sql(con: Any) -> None:
    assert compiled_values(con, "t", "SUBSTRING(s, 1, 3)")[0] == "Hel"
    assert compiled_values(con, "t", "SUBSTRING(s FROM 2 FOR 3)")[0] == "ell"
    # SQL standard (PostgreSQL): positions before 1 are clipped; DuckDB counts from the end
    assert compiled_values(con, "t", "SUBSTRING(s, -1, 3)")[0] == "H"
    assert compiled_values(con, "t", "SUBSTRING(s, i - 8, 3)")[0] == "H"


def test_concat_treats_null_as_empty_but_pipes_propagate(con: Any) -> None:
    assert compiled_values(con, "t", "CONCAT(s, s2)")[1] == "hello world"
    assert normalise(compiled_values(con, "t", "s || s2")[1]) is None
    assert compiled_values(con, "t", "CONCAT(NULL, NULL)")[0] == ""


def test_decimal_multiplication_keeps_every_digit(con: Any, ref: Any) -> None:
    # ibis types decimal(15,2) * decimal(15,2) as decimal(15,2) (rounding on fetch) and DuckDB
    # as decimal(18,4) (overflowing here); the product needs decimal(30,4).
    t = con.table("t")
    value = compile_expression(parse_expression("dec * dec2"), lambda name: t[name])
    assert str(value.type()) == "decimal(30, 4)"
    got = con.to_pyarrow(t.select(t.id, r=value).order_by("id")).column("r").to_pylist()
    want = reference_values(ref, "t", "CAST(dec AS DECIMAL(38, 2)) * dec2")
    assert got[0] == want[0] == Decimal("12345678901.23") * Decimal("98765.43")
    assert [normalise(v) for v in got] == [normalise(v) for v in want]
    assert got[1] == Decimal("0.0025")
    wide_sum = "SELECT sum(CAST(dec AS DECIMAL(38, 2)) * dec2) FROM t"
    assert con.execute(value.sum()) == ref.execute(wide_sum).fetchall()[0][0]  # scale kept
    small = compile_expression(parse_expression("dec2 * dec2"), lambda name: t[name])
    assert (
        con.execute(small.sum()) == ref.execute("SELECT sum(dec2 * dec2) FROM t").fetchall()[0][0]
    )


def test_decimal_precision_beyond_38_digits_becomes_float(con: Any) -> None:
    t = con.table("t")
    wide = compile_expression(
        parse_expression("CAST(dec AS decimal(30, 2)) * CAST(dec2 AS decimal(20, 2))"),
        lambda name: t[name],
    )
    assert wide.type().is_floating()


def test_literal_types() -> None:
    def typ(text: str) -> str:
        return str(compile_expression(parse_expression(text), lambda name: ibis.literal(1)).type())

    assert typ("1") == "int64"
    assert typ("1.5") == "float64"
    assert typ("1e3") == "float64"
    assert typ("'x'") == "string"
    assert typ("TRUE") == "boolean"
    assert typ("DATE '2024-01-01'") == "date"
    assert typ("TIMESTAMP '2024-01-01 10:00:00'") == "timestamp"
    assert typ("CAST(1 AS float)") == "float64"  # never narrowed to float32


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("ts", ("ts",)),
        ("a + users.country * orders.customer.cust_nation.name - a",
         ("a", "users.country", "orders.customer.cust_nation.name")),
        ('"My Col" + "users"."the country"', ("My Col", "users.the country")),
        ('"a.b" = 1', ("a.b",)),
        ("a.b.c.d.e.f > 0", ("a.b.c.d.e.f",)),
        ("CASE WHEN z > 1 THEN y ELSE x END + z", ("z", "y", "x")),
        ("EXTRACT(dow FROM ts) = 1 AND DATE_TRUNC('month', ts) = d", ("ts", "d")),
        ("COALESCE(b, a, b)", ("b", "a")),
        ("1 + 2", ()),
        ("x IN (y, x, z)", ("x", "y", "z")),
    ],
)  # fmt: skip
def test_names_in_order_of_first_appearance(text: str, names: tuple[str, ...]) -> None:
    parsed = parse_expression(text)
    assert isinstance(parsed, ParsedExpression)
    assert parsed.names == names
    assert parsed.text == text


def test_parse_is_cached() -> None:
    assert parse_expression("x + 1") is parse_expression("x + 1", what="filter of measure m")


REJECTED = [
    ("(SELECT 1)", "subqueries"),
    ("x IN (SELECT id FROM t)", "subqueries"),
    ("EXISTS (SELECT 1)", "subqueries"),
    ("SELECT 1", "statements"),
    ("DROP TABLE x", "statements"),
    ("INSERT INTO t VALUES (1)", "statements"),
    ("1; DROP TABLE x", "`;`"),
    ("x = 1;", "`;`"),
    ("x -- comment", "comments"),
    ("/* x */ 1", "comments"),
    ("x /* c */ + 1", "comments"),
    ("x = 1 --", "comments"),
    ("sum(x)", "aggregate function SUM"),
    ("count(*)", "aggregate function COUNT"),
    ("count(DISTINCT x)", "aggregate"),
    ("avg(x) + 1", "aggregate"),
    ("row_number() over ()", "window functions"),
    ("sum(x) OVER (PARTITION BY y)", "window functions"),
    ("foo(x)", "unknown function 'foo'"),
    ("lowr(x)", "did you mean 'lower'"),
    ("substrng(x, 1)", "did you mean 'substring'"),
    ("pg_sleep(1)", "unknown function 'pg_sleep'"),
    ("read_csv('x')", "function 'read_csv' is not allowed"),
    ("current_timestamp", "not allowed"),
    ("TRY_CAST(x AS int)", "not allowed"),
    ("if(x, 1, 2)", "function 'if' is not allowed"),
    ("x = ?", "placeholders"),
    ("x = :param", "placeholders"),
    ("x = @p", "placeholders"),
    ("x = $1", "parameters"),
    ("", "empty"),
    ("   ", "empty"),
    ("(1 + 2", "cannot be parsed"),
    ("1 + 2)", "cannot be parsed"),
    ("1 +", "cannot be parsed"),
    ("'unterminated", "cannot be"),
    ("*", "`*`"),
    ("t.*", "`*`"),
    ("x AS y", "aliases"),
    ("CAST(x AS blob)", "cannot CAST"),
    ("x::int[]", "cannot CAST"),
    ("CAST(x AS decimal)", "explicit precision"),
    ("CAST(x AS decimal(50, 2))", "not valid"),
    ("EXTRACT(century FROM ts)", "EXTRACT part"),
    ("DATE_TRUNC('decade', ts)", "DATE_TRUNC unit"),
    ("INTERVAL '1 day 2 hours'", "INTERVAL"),
    ("INTERVAL '7' fortnight", "INTERVAL unit"),
    ("x IS 1", "IS may only"),
    ("x LIKE 'a' ESCAPE '!'", "not allowed"),
    ("x SIMILAR TO 'a'", "not allowed"),
    ("x -> 'a'", "not allowed"),
    ("x COLLATE 'de'", "not allowed"),
    ("TRIM(LEADING 'x' FROM s)", "this form of TRIM"),
    ("ROUND(x, 1, 2)", "this form of ROUND"),
    ("[1, 2]", "not allowed"),
    ("x[1]", "not allowed"),
    ("x IN ()", "IN needs"),
    ("x IN y", "IN needs"),
    ("x BETWEEN SYMMETRIC 1 AND 2", "SYMMETRIC"),
    ("12345678901234567890123", "64-bit"),
    ("(x).y", "name parts"),
    ("CASE END", "cannot be parsed"),
]


@pytest.mark.parametrize(("text", "fragment"), REJECTED)
def test_rejected_expressions(text: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse_expression(text, what="filter of measure events.purchasers")
    message = str(info.value)
    assert fragment in message, message
    assert "filter of measure events.purchasers" in message


def test_unknown_function_lists_allowed_functions() -> None:
    with pytest.raises(ExpressionError, match=r"allowed functions: abs, cast, .*upper"):
        parse_expression("foo(x)")


def test_non_string_and_deeply_nested_input_is_rejected() -> None:
    with pytest.raises(ExpressionError, match="expected SQL expression text"):
        parse_expression(None)  # type: ignore[arg-type]
    with pytest.raises(ExpressionError, match="nested too deeply"):
        parse_expression("(" * 3000 + "1" + ")" * 3000)


def test_comment_markers_inside_strings_are_data() -> None:
    assert parse_expression("s = 'a -- b /* c */'").names == ("s",)
    assert parse_expression("s = 'it''s -- fine'").names == ("s",)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("s = 1", "not comparable"),
        ("LOWER(i)", "LOWER needs a string"),
        ("i + s", "`+` needs a numeric"),
        ("NOT i", "NOT needs a boolean"),
        ("EXTRACT(hour FROM d)", "needs a timestamp"),
        ("d = '2024-02-30'", "not a valid date"),
        ("i IS TRUE", "IS TRUE needs a boolean"),
        ("CASE WHEN i THEN 1 END", "CASE WHEN needs a boolean"),
        ("s IN ('a', 1)", "not comparable"),
        ("d + 1", "needs an INTERVAL"),
        ("ts - ts", "subtracting timestamps"),
        ("ROUND(f, i)", "whole number literal"),
        ("SUBSTRING(s, 1.5)", "needs an integer"),
        ("CAST('nope' AS DATE)", "not a valid date"),
    ],
)
def test_type_errors_become_expression_errors(con: Any, text: str, fragment: str) -> None:
    t = con.table("t")
    with pytest.raises(ExpressionError) as info:
        compile_expression(parse_expression(text), lambda name: t[name])
    assert fragment in str(info.value)
    assert repr(text) in str(info.value)


def test_resolver_errors_propagate() -> None:
    def resolve(name: str) -> ibis.Value:
        raise QueryError(f"unknown dimension {name!r}")

    with pytest.raises(QueryError, match="unknown dimension 'users.contry'"):
        compile_expression(parse_expression("users.contry = 'x'"), resolve)


@pytest.mark.parametrize("text", ["s = '; DROP TABLE t; --'", "s = '''; DROP TABLE t; --'"])
def test_string_literals_are_data_not_sql(con: Any, text: str) -> None:
    con.raw_sql(
        "CREATE TABLE victim AS SELECT * FROM (VALUES ('''; DROP TABLE t; --'), ('x')) v(s)"
    )
    try:
        victim = con.table("victim")
        value = compile_expression(parse_expression(text), lambda name: victim[name])
        sql = ibis.to_sql(victim.filter(value))
        literal = "'''; DROP TABLE t; --'" if "''" in text else "'; DROP TABLE t; --'"
        assert literal in sql
        rows = con.execute(victim.filter(value))
        assert len(rows) == (1 if "''" in text else 0)
        assert con.raw_sql("SELECT count(*) FROM t").fetchall() == [(5,)]
    finally:
        con.raw_sql("DROP TABLE victim")


# --- property: random arithmetic/comparisons agree with DuckDB --------------------------------

_leaf = st.one_of(
    st.sampled_from(["a", "b", "x", "y", "NULL"]),
    st.integers(min_value=0, max_value=12).map(str),
    st.sampled_from(["0.5", "1.25", "2.75", "0.0", "3.5"]),
)


def _binary(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    ops = st.sampled_from(["+", "-", "*", "/", "%"])
    return st.one_of(
        st.tuples(children, ops, children).map(lambda p: f"({p[0]} {p[1]} {p[2]})"),
        children.map(lambda c: f"-({c})"),
        st.tuples(children, children).map(lambda p: f"COALESCE({p[0]}, {p[1]})"),
    )


_numeric = st.recursive(_leaf, _binary, max_leaves=8)
_comparison = st.tuples(_numeric, st.sampled_from(["=", "<>", "<", "<=", ">", ">="]), _numeric).map(
    lambda p: f"{p[0]} {p[1]} {p[2]}"
)
_boolean = st.one_of(
    _comparison,
    st.tuples(_comparison, st.sampled_from(["AND", "OR"]), _comparison).map(
        lambda p: f"({p[0]}) {p[1]} NOT ({p[2]})"
    ),
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.one_of(_numeric, _boolean))
def test_random_expressions_agree_with_duckdb(con: Any, ref: Any, text: str) -> None:
    assert_matches(con, ref, "n", text)
