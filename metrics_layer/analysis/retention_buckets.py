"""Which result row a period k falls in: the period itself, or the bracket holding it.

Every function here is the identity (or the `periods` cap) without brackets, so plain and
bracketed retention share one counting and one grid code path. Brackets are few, so the
mapping is a CASE over literals (portable, no join to a bracket table).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from metrics_layer.analysis.retention_options import label

if TYPE_CHECKING:
    from metrics_layer.analysis.retention import RetentionQuery


def cap(q: RetentionQuery, per_period: bool = False) -> int | None:
    """Periods at or beyond this k never count (exact mode, and `value`, which is always per
    period): the last bracket's hi + 1, else `periods`. Rolling `active` has no cap: an
    activity after the last row counts as 'later'."""
    if q.mode == "rolling" and not per_period:
        return None
    if q.brackets is not None:
        return q.brackets[-1][1] + 1
    return q.periods


def exact_index(k: ir.IntegerValue, q: RetentionQuery) -> ir.IntegerValue:
    """The row of period k: its bracket's index (NULL between or beyond brackets), else k."""
    if q.brackets is None:
        return k
    branches = [((k >= lo) & (k <= hi), i) for i, (lo, hi) in enumerate(q.brackets)]
    return ibis.cases(*branches, else_=ibis.null().cast(dt.int64)).cast(dt.int64)


def rolling_index(last_k: ir.IntegerValue, q: RetentionQuery) -> ir.IntegerValue:
    """The last row an entity whose last active period is `last_k` counts in (rolling): the
    last bracket starting at or before it (NULL before the first), else min(k, periods - 1)."""
    if q.brackets is not None:
        branches = [(last_k >= lo, i) for i, (lo, _) in reversed(list(enumerate(q.brackets)))]
        return ibis.cases(*branches, else_=ibis.null().cast(dt.int64)).cast(dt.int64)
    return last_k if q.periods is None else ibis.least(last_k, q.periods - 1)


def rows_observed(span: ir.IntegerValue, q: RetentionQuery) -> ir.IntegerValue:
    """How many rows a cohort has when `span` periods (k = 0 … span - 1) are observed: the
    brackets whose first period is observed, else min(span, periods)."""
    if q.brackets is not None:
        parts = [ibis.ifelse(span > lo, 1, 0) for lo, _ in q.brackets]
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        return total.cast(dt.int64)
    return span if q.periods is None else ibis.least(span, q.periods)


def last_period_of(row: ir.IntegerValue, q: RetentionQuery) -> ir.IntegerValue:
    """The last period k of a row (a bracket's hi), which decides whether it is complete."""
    if q.brackets is None:
        return row
    branches = [(row == i, hi) for i, (_, hi) in enumerate(q.brackets)]
    return ibis.cases(*branches, else_=ibis.null().cast(dt.int64)).cast(dt.int64)


def label_of(row: ir.IntegerValue, q: RetentionQuery) -> ir.StringValue:
    """The 'lo-hi' label of a bracket row."""
    assert q.brackets is not None
    branches = [(row == i, label(lo, hi)) for i, (lo, hi) in enumerate(q.brackets)]
    return ibis.cases(*branches, else_=ibis.null().cast(dt.string)).cast(dt.string)
