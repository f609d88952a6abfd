"""SQL statements of materialization runs, built as sqlglot trees: every value (names of
materializations, error texts, period bounds) is a quoted literal, never pasted text."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import Any

import sqlglot
import sqlglot.expressions as sge


def table_ref(table: str, schema: str | None = None, database: str | None = None) -> sge.Table:
    """A quoted (catalog.)(schema.)table reference."""

    def q(name: str) -> sge.Identifier:
        return sge.to_identifier(name, quoted=True)

    return sge.Table(
        this=q(table),
        db=q(schema) if schema else None,
        catalog=q(database) if database else None,
    )


def column(name: str) -> sge.Column:
    return sge.Column(this=sge.to_identifier(name, quoted=True))


def literal(value: Any) -> sge.Expression:
    """A Python value as a typed SQL literal."""
    if value is None:
        return sge.Null()
    if isinstance(value, bool):
        return sge.Boolean(this=value)
    if isinstance(value, int | float):
        return sge.Literal.number(value)
    if isinstance(value, _dt.datetime):
        text = value.replace(tzinfo=None).isoformat(sep=" ")
        return sge.Cast(this=sge.Literal.string(text), to=sge.DataType.build("timestamp"))
    return sge.Literal.string(str(value))


def between(col: str, start: _dt.datetime, end: _dt.datetime) -> sge.Expression:
    """start <= col < end."""
    return sge.and_(sge.GTE(this=column(col), expression=literal(start)),
                    sge.LT(this=column(col), expression=literal(end)))  # fmt: skip


def outside(col: str, start: _dt.datetime, end: _dt.datetime) -> sge.Expression:
    """col < start OR col >= end OR col IS NULL: rows a full refresh drops."""
    return sge.or_(
        sge.LT(this=column(col), expression=literal(start)),
        sge.GTE(this=column(col), expression=literal(end)),
        sge.Is(this=column(col), expression=sge.Null()),
    )


def delete(table: sge.Table, where: sge.Expression | None, dialect: str) -> str:
    stmt = sge.Delete(this=table)
    if where is not None:
        stmt = stmt.where(where)
    return stmt.sql(dialect=dialect)


def insert_select(
    table: sge.Table, columns: Sequence[str], select: sge.Expression, dialect: str
) -> str:
    """INSERT INTO table (columns) <select>; the SELECT is ibis's compiled query (a tree,
    so it is not rendered and parsed again)."""
    schema = sge.Schema(
        this=table, expressions=[sge.to_identifier(c, quoted=True) for c in columns]
    )
    return sge.Insert(this=schema, expression=select).sql(
        dialect=dialect, unsupported_level=sqlglot.ErrorLevel.RAISE
    )


def insert_values(table: sge.Table, row: dict[str, Any], dialect: str) -> str:
    schema = sge.Schema(this=table, expressions=[sge.to_identifier(c, quoted=True) for c in row])
    values = sge.Values(expressions=[sge.Tuple(expressions=[literal(v) for v in row.values()])])
    return sge.Insert(this=schema, expression=values).sql(dialect=dialect)


def update(table: sge.Table, values: dict[str, Any], where: sge.Expression, dialect: str) -> str:
    sets = [sge.EQ(this=column(k), expression=literal(v)) for k, v in values.items()]
    return sge.Update(this=table, expressions=sets, where=sge.Where(this=where)).sql(
        dialect=dialect
    )


def equals(col: str, value: Any) -> sge.Expression:
    return sge.EQ(this=column(col), expression=literal(value))
