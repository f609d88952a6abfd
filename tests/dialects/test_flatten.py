"""Folding derived tables (metrics_layer/dialects/flatten.py) never changes a result.

- hand cases: the shapes ibis writes for the layer (a join's renamed columns, a filter over
  it, an aggregate over that) become one SELECT; shapes where folding could change the rows
  (DISTINCT, LIMIT, GROUP BY, windows or computed columns inside; a subquery outside) stay;
- a hypothesis property: random ibis pipelines (joins with renames, filters with NULLs and
  three-valued logic, selects, computed columns, DISTINCT, ORDER BY + LIMIT, windows,
  aggregates) over tables with duplicate and NULL keys give the same rows from ibis's own
  SQL and from the folded SQL, on DuckDB and PostgreSQL (the engines that run the folded
  text).
"""

from __future__ import annotations

import ibis
import ibis.backends.sql.compilers as sc
import pandas as pd
import pytest
import sqlglot
import sqlglot.expressions as sge
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics_layer.dialects.flatten import flatten
from tests.backends import Backend, arrow_to_frame, assert_frames_equal, normalize_frame

A_ROWS = [
    (1, "x", 1.5, 10),
    (1, "x", 1.5, 10),
    (2, "y", None, 20),
    (3, None, -2.0, None),
    (None, "x", 4.0, 30),
    (4, "z", 0.0, 40),
    (2, "y", 7.25, 50),
]
B_ROWS = [(1, "US", 1), (1, "DE", 2), (2, "US", None), (None, "FR", 3), (5, None, 4)]


@pytest.fixture(scope="module")
def tables(backend: Backend) -> dict[str, str]:
    a, b = backend.unique_name("fa"), backend.unique_name("fb")
    backend.load(
        {
            a: pd.DataFrame(A_ROWS, columns=["k", "g", "x", "n"]),
            b: pd.DataFrame(B_ROWS, columns=["k", "c", "m"]),
        },
        schemas={
            a: {"k": "int64", "g": "string", "x": "float64", "n": "int64"},
            b: {"k": "int64", "c": "string", "m": "int64"},
        },
    )
    return {"a": a, "b": b}


def unbound(names: dict[str, str]) -> tuple[ibis.Table, ibis.Table]:
    a = ibis.table({"k": "int64", "g": "string", "x": "float64", "n": "int64"}, name=names["a"])
    b = ibis.table({"k": "int64", "c": "string", "m": "int64"}, name=names["b"])
    return a, b


def sql_pair(expr: ibis.Table, backend: Backend) -> tuple[str, str]:
    """ibis's SQL for the backend, and the same tree folded."""
    compiler = getattr(sc, backend.name).compiler
    tree = compiler.to_sqlglot(expr)
    return tree.sql(dialect=compiler.dialect), flatten(tree).sql(dialect=compiler.dialect)


def run(backend: Backend, text: str) -> pd.DataFrame:
    """The rows of SQL text, as the engine's executor runs it (no ibis in between)."""
    if backend.name == "duckdb":
        return arrow_to_frame(backend.con.con.sql(text).to_arrow_table())
    with backend.con.raw_sql(text) as cur:
        names = [d.name for d in cur.description]
        return normalize_frame(pd.DataFrame(cur.fetchall(), columns=names))


def selects(text: str) -> int:
    return len(list(sqlglot.parse_one(text, read="duckdb").find_all(sge.Select)))


def assert_same(backend: Backend, expr: ibis.Table) -> tuple[str, str]:
    raw, folded = sql_pair(expr, backend)
    want, got = run(backend, raw), run(backend, folded)
    assert list(got.columns) == list(want.columns), folded
    assert_frames_equal(got, want, sort_by=list(want.columns))
    return raw, folded


# ----------------------------------------------------------------------------- hand cases
@pytest.mark.backends("duckdb", "postgres")
def test_the_layers_filtered_join_becomes_one_select(backend, tables):
    a, b = unbound(tables)
    right = b.select(__k=b.k, __c=b.c)
    j = a.left_join(right, a.k == right.__k).select(a.k, a.x, a.n, __c=right.__c)
    f = j.filter(j.__c == "US", j.n.notnull())
    q = f.aggregate(s=f.x.sum(), cnt=f.k.nunique())
    raw, folded = assert_same(backend, q)
    assert selects(raw) == 4
    assert selects(folded) == 1, folded


@pytest.mark.backends("duckdb", "postgres")
def test_a_renamed_column_keeps_its_output_name(backend, tables):
    a, b = unbound(tables)
    right = b.select(kk=b.k, country=b.c)
    j = a.inner_join(right, a.k == right.kk).select(a.k, country=right.country)
    q = j.filter(j.country.isnull() | (j.country != "DE")).select("country", "k")
    raw, folded = assert_same(backend, q)
    assert selects(folded) == 1, folded


@pytest.mark.backends("duckdb", "postgres")
def test_filters_of_both_levels_are_kept(backend, tables):
    a, _ = unbound(tables)
    inner = a.filter(a.x > 0).select("k", "g", "x")
    q = inner.filter((inner.g == "x") | inner.k.isnull())
    _, folded = assert_same(backend, q)
    assert selects(folded) == 1, folded
    assert "> 0" in folded and "IS NULL" in folded.upper()


@pytest.mark.backends("duckdb", "postgres")
def test_grouping_windows_and_order_over_plain_columns_fold(backend, tables):
    a, _ = unbound(tables)
    inner = a.filter(a.n.notnull()).select("k", "g", "x")
    grouped = inner.group_by("g").aggregate(s=inner.x.sum(), c=inner.k.count())
    assert_same(backend, grouped.order_by("g"))
    ranked = inner.mutate(r=ibis.row_number().over(group_by="g", order_by=["x", "k"]))
    _, folded = assert_same(backend, ranked)
    assert selects(folded) == 1, folded


@pytest.mark.parametrize(
    "shape",
    ["distinct", "limit", "aggregate", "window", "computed"],
)
@pytest.mark.backends("duckdb", "postgres")
def test_an_inner_level_that_changes_rows_or_values_stays(backend, tables, shape):
    a, _ = unbound(tables)
    base = a.select("k", "g", "x")
    inner = {
        "distinct": base.distinct(),
        "limit": base.order_by(["k", "g", "x"]).limit(3),
        "aggregate": base.group_by("k").aggregate(x=base.x.sum(), g=base.g.max()),
        "window": base.mutate(x=base.x.sum().over(group_by="g")),
        "computed": base.mutate(x=base.x * 2),
    }[shape]
    q = inner.filter(inner.x.notnull()).group_by("g").aggregate(s=inner.x.sum(), c=inner.k.count())
    raw, folded = assert_same(backend, q)
    # the level that changes rows or values survives as a derived table
    assert selects(folded) >= 2, folded


@pytest.mark.backends("duckdb", "postgres")
def test_an_uncorrelated_semi_join_in_the_reader_folds_around(backend, tables):
    a, b = unbound(tables)
    inner = a.select("k", "x")
    q = inner.filter(inner.k.isin(b.filter(b.m > 1).k))
    raw, folded = assert_same(backend, q)
    assert (selects(raw), selects(folded)) == (3, 2), folded


FOLDING_TEXTS = [
    # both levels filter: the result keeps both filters
    "SELECT t.k, t.x FROM (SELECT a.k, a.x FROM {a} AS a WHERE a.x > 0) AS t"
    " WHERE t.k = 1 OR t.k IS NULL",
    # a filter on the optional side of a LEFT JOIN stays a filter after the join
    "SELECT t.k, t.c FROM (SELECT a.k, b.c FROM {a} AS a LEFT JOIN {b} AS b ON a.k = b.k"
    " WHERE b.m IS NULL OR b.m > 1) AS t WHERE t.c IS NULL",
    # a joined rename inside a filtered join
    "SELECT t.k, t.cc FROM (SELECT a.k, r.cc FROM {a} AS a JOIN (SELECT b.k AS kk, b.c AS cc"
    " FROM {b} AS b) AS r ON a.k = r.kk WHERE a.x > 0) AS t WHERE t.cc <> 'DE'",
    # an aggregate over a filtered, renamed projection
    "SELECT t.grp, COUNT(*) AS n, SUM(t.v) AS v FROM (SELECT a.g AS grp, a.x AS v FROM {a} AS a"
    " WHERE a.n IS NOT NULL) AS t WHERE t.v > -5 GROUP BY t.grp",
]


@pytest.mark.parametrize("text", FOLDING_TEXTS)
@pytest.mark.backends("duckdb", "postgres")
def test_hand_written_foldable_queries_keep_their_rows(backend, tables, text):
    raw = text.format(**tables)
    tree = sqlglot.parse_one(raw, read="duckdb")
    folded = flatten(tree).sql(dialect="postgres" if backend.name == "postgres" else "duckdb")
    assert selects(folded) < selects(raw), folded
    want, got = (
        run(backend, tree.sql(dialect="postgres" if backend.name == "postgres" else "duckdb")),
        run(backend, folded),
    )
    assert list(got.columns) == list(want.columns), folded
    assert_frames_equal(got, want, sort_by=list(want.columns))


def test_unfoldable_trees_come_back_unchanged() -> None:
    texts = [
        "SELECT t.a FROM (SELECT DISTINCT s.a FROM s) AS t",
        "SELECT t.a FROM (SELECT s.a FROM s LIMIT 1) AS t",
        "SELECT t.a FROM (SELECT s.a + 1 AS a FROM s) AS t",
        "SELECT a FROM (SELECT s.a FROM s) AS t",  # unqualified: could be an outer name
        "SELECT t.a FROM (SELECT s.a FROM s) AS t JOIN u ON t.a = u.a",  # reader joins
        "SELECT t.a FROM (SELECT s.a FROM s) AS t(b)",  # positional rename
        "SELECT t.a FROM (SELECT s.a FROM s) AS t WHERE t.a IN (SELECT t.a FROM v)",
        "SELECT t.a FROM (SELECT s.a FROM s) AS t WHERE EXISTS(SELECT 1 FROM v WHERE v.a = t.a)",
        "SELECT t.a FROM (SELECT s.a FROM s) AS t WHERE t.a IN (SELECT a FROM v)",
        "SELECT * FROM (SELECT s.a FROM s) AS t GROUP BY 1",
        "SELECT t.b FROM (SELECT s.a FROM s) AS t",  # a column S does not have
        "SELECT x.a FROM s AS x LEFT JOIN (SELECT y.a FROM y WHERE y.b = 1) AS t ON x.a = t.a",
        "SELECT x.a FROM s AS x LEFT JOIN (SELECT x.a FROM y AS x) AS t ON x.a = t.a",
    ]
    for text in texts:
        tree = sqlglot.parse_one(text, read="duckdb")
        assert flatten(tree).sql("duckdb") == tree.sql("duckdb"), text


def test_the_callers_tree_is_not_changed() -> None:
    tree = sqlglot.parse_one(
        "SELECT t.a FROM (SELECT s.a FROM s WHERE s.b > 1) AS t", read="duckdb"
    )
    before = tree.sql("duckdb")
    assert flatten(tree).sql("duckdb") == "SELECT s.a FROM s WHERE s.b > 1"
    assert tree.sql("duckdb") == before


# ----------------------------------------------------------------------------- property
COMPARISONS = ["eq", "ne", "lt", "isnull", "notnull"]


@st.composite
def predicates(draw: st.DrawFn, t: ibis.Table, depth: int = 0):
    """A predicate over `t`'s columns: comparisons with literals, NULL tests, AND/OR/NOT."""
    if depth < 2 and draw(st.integers(0, 3)) == 0:
        left = draw(predicates(t, depth + 1))
        right = draw(predicates(t, depth + 1))
        combined = left & right if draw(st.booleans()) else left | right
        return ~combined if draw(st.integers(0, 4)) == 0 else combined
    name = draw(st.sampled_from(list(t.columns)))
    col = t[name]
    op = draw(st.sampled_from(COMPARISONS))
    if op == "isnull":
        return col.isnull()
    if op == "notnull":
        return col.notnull()
    if col.type().is_string():
        value = ibis.literal(draw(st.sampled_from(["x", "y", "US", "DE", "z"])))
    else:
        value = ibis.literal(draw(st.sampled_from([0, 1, 2, 10, 30])), type=col.type())
    return {"eq": col == value, "ne": col != value, "lt": col < value}[op]


@st.composite
def pipelines(draw: st.DrawFn, names: dict[str, str]) -> ibis.Table:
    a, b = unbound(names)
    t: ibis.Table = a
    if draw(st.booleans()):
        rename = draw(st.booleans())
        right = b.select(rk=b.k, rc=b.c, rm=b.m) if rename else b.rename(rk="k", rc="c", rm="m")
        how = draw(st.sampled_from(["left", "inner", "outer"]))
        t = a.join(right, a.k == right.rk, how=how).select(a.k, a.g, a.x, a.n, right.rc, right.rm)
    for _ in range(draw(st.integers(1, 4))):
        step = draw(st.sampled_from(["filter", "filter", "select", "rename", "compute", "rare"]))
        if step == "filter":
            t = t.filter(draw(predicates(t)))
        elif step == "select" and len(t.columns) > 2:
            keep = draw(st.lists(st.sampled_from(list(t.columns)), min_size=2, unique=True))
            t = t.select(*keep)
        elif step == "rename":
            old = draw(st.sampled_from(list(t.columns)))
            t = t.rename({f"{old}_r": old})
        elif step == "compute" and "x" in t.columns:
            t = t.mutate(x=t.x + 1)
        elif step == "rare":
            kind = draw(st.sampled_from(["distinct", "limit", "window"]))
            if kind == "distinct":
                t = t.distinct()
            elif kind == "limit":
                t = t.order_by(list(t.columns)).limit(draw(st.integers(0, 5)))
            else:
                col = draw(st.sampled_from(list(t.columns)))
                t = t.mutate(rn=ibis.row_number().over(group_by=col, order_by=list(t.columns)))
    finish = draw(st.sampled_from(["rows", "aggregate", "group"]))
    numeric = [c for c in t.columns if t[c].type().is_numeric()]
    if finish == "rows" or not numeric:
        return t
    measures = {"cnt": t.count(), "s": t[numeric[0]].sum(), "d": t[numeric[-1]].nunique()}
    if finish == "aggregate":
        return t.aggregate(**measures)
    key = draw(st.sampled_from(list(t.columns)))
    measures = {k: v for k, v in measures.items() if k != key}
    return t.group_by(key).aggregate(**measures)


@pytest.mark.backends("duckdb", "postgres")
def test_folded_sql_gives_ibis_sqls_rows(backend, tables):
    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(expr=pipelines(tables))
    def check(expr: ibis.Table) -> None:
        assert_same(backend, expr)

    check()
