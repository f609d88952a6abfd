"""Fold the derived tables ibis writes around plain column lists into the query that reads them.

ibis renders every step of an expression as its own SELECT: a join's renamed columns, then
`SELECT * FROM (...) WHERE ...` for the filter, then the aggregate over that. The numbers are
the same either way, but an engine parses, binds and plans each level: on DuckDB three levels
instead of one cost 0.2 ms of a 5 ms query, as much as the rest of the layer's own overhead.

`flatten` merges a derived table S into the SELECT O that reads it only where the result is
the same query by the rules of SQL itself, checked on the sqlglot tree:

- S is a plain SELECT: no DISTINCT, GROUP BY, HAVING, QUALIFY, window, ORDER BY, LIMIT,
  OFFSET, WITH or sampling; each of its columns is a bare column reference (renamed or not),
  so no expression moves to a place where it would be evaluated differently or more often;
- O reads S alone (no joins of its own) and every column O names is qualified with S's alias
  and is one of S's columns; a subquery inside O names only tables of its own (an
  uncorrelated `IN (SELECT ...)` semi-join stays as it is);
- O's WHERE is applied after S's (`S.where AND O.where`): WHERE filters the rows of FROM and
  its joins in both readings, so moving O's filter next to S's joins changes nothing (a
  filter on a LEFT JOIN's columns stays a filter after the join, never a join condition);
- O's output names stay O's: a bare column whose source is renamed keeps its name by an alias;
  `SELECT *` takes S's column list.

A joined derived table that only renames columns of one table (`JOIN (SELECT t1.a AS k FROM
w AS t1) AS t4`, ibis's way of avoiding name clashes) is replaced by that table, and every
reference to it by the column it renames: the same rows are joined on the same condition.

Anything else is left as ibis wrote it. Inner levels fold first, so a chain of such levels
becomes one SELECT.
"""

from __future__ import annotations

from typing import Any

import sqlglot.expressions as sge

# clauses of the inner SELECT that make it more than "these columns of these rows"
_INNER_ALLOWED = frozenset({"expressions", "from", "joins", "where"})
# clauses of the outer SELECT that are evaluated after FROM/WHERE over the same rows
_OUTER_ALLOWED = frozenset(
    {"with", "expressions", "from", "where", "group", "having", "qualify", "order", "limit"}
    | {"offset", "distinct", "windows"}
)
# clauses of the outer SELECT that may read S's columns (its FROM and WITH are not among them)
_OUTER_READS = ("expressions", "where", "group", "having", "qualify", "order", "distinct")
_OUTER_READS_ALSO = ("windows", "limit", "offset")


def flatten(tree: Any) -> Any:
    """A copy of `tree` with every foldable derived table folded into its reader.

    The copy matters beyond not changing the caller's tree: ibis shares node objects between
    places of its trees (one column node selected and filtered on), and a rewrite in place
    would change only one of those places."""
    if not isinstance(tree, sge.Expression):
        return tree
    tree = _copy(tree)
    for select in reversed(list(tree.find_all(sge.Select, bfs=True))):
        while _fold(select):
            pass
        for join in list(select.args.get("joins") or []):
            _fold_join(select, join)
    return tree


def _copy(tree: sge.Expression) -> sge.Expression:
    """A deep copy in which every node has one place, and every list of nodes is a list.

    ibis builds some arguments as tuples (a window's PARTITION BY), which sqlglot neither
    walks nor copies (`Expression.copy` keeps their nodes shared with the original); the
    checks here must see every column, so tuples become lists. Iterative: deep trees (long
    CASE chains) would exceed the recursion limit."""
    root = tree.__class__()
    stack = [(tree, root)]
    while stack:
        node, copy = stack.pop()
        copy.comments = list(node.comments) if node.comments else node.comments
        copy._type = node._type
        copy._meta = dict(node._meta) if node._meta else node._meta
        for key, value in node.args.items():
            if isinstance(value, sge.Expression):
                child = value.__class__()
                stack.append((value, child))
                copy.set(key, child)
            elif isinstance(value, (list, tuple)):
                items = []
                for v in value:
                    if isinstance(v, sge.Expression):
                        child = v.__class__()
                        stack.append((v, child))
                        items.append(child)
                    else:
                        items.append(v)
                copy.set(key, items)
            else:
                copy.args[key] = value
    return root


def _fold(outer: sge.Select) -> bool:
    """Merge the derived table `outer` reads into `outer`; False where that could change the
    result (see the module docstring) or there is none."""
    if any(v not in (None, [], False) for k, v in outer.args.items() if k not in _OUTER_ALLOWED):
        return False
    source = outer.args.get("from")
    sub = source.this if isinstance(source, sge.From) else None
    if not isinstance(sub, sge.Subquery) or not isinstance(sub.this, sge.Select):
        return False
    if any(v not in (None, [], False) for k, v in sub.args.items() if k not in ("this", "alias")):
        return False
    alias = sub.args.get("alias")
    if isinstance(alias, sge.TableAlias) and alias.columns:
        return False  # (t(a, b)): S's columns renamed by position
    name = sub.alias
    if not isinstance(alias, (sge.TableAlias, sge.Identifier)) or not name:
        return False
    inner: sge.Select = sub.this
    if any(v not in (None, [], False) for k, v in inner.args.items() if k not in _INNER_ALLOWED):
        return False
    columns = _plain_columns(inner)
    if columns is None:
        return False
    star = [e for e in outer.expressions if isinstance(e, sge.Star) or _is_star_column(e)]
    if star and (len(outer.expressions) != 1 or _reads_more_than_filter(outer)):
        return False
    reads = _reads(outer)
    if reads is None:
        return False
    for col in reads:
        if col.table != name or col.name not in columns or col.args.get("db"):
            return False
    if not star and not all(isinstance(e, (sge.Column, sge.Alias)) for e in outer.expressions):
        return False

    # every check passed: rewrite `outer` in place
    _substitute(outer, reads, columns)
    if star:
        outer.set("expressions", [e.copy() for e in inner.expressions])
    inner_where = inner.args.get("where")
    outer_where = outer.args.get("where")
    if inner_where is not None and outer_where is not None:
        both = sge.and_(inner_where.this.copy(), outer_where.this.copy())
        outer.set("where", sge.Where(this=both))
    elif inner_where is not None:
        outer.set("where", inner_where.copy())
    outer.set("from", inner.args["from"].copy())
    outer.set("joins", [j.copy() for j in inner.args.get("joins") or []])
    return True


def _fold_join(outer: sge.Select, join: sge.Join) -> bool:
    """Replace a joined derived table that only renames the columns of one table by that
    table: `JOIN (SELECT t1.a AS k FROM w AS t1) AS t4 ON ... t4.k` -> `JOIN w AS t1 ON ...
    t1.a`. The same rows are joined; every reference to t4 in `outer` (its columns, its
    filters, every join condition) becomes the column it renames."""
    sub = join.this
    if not isinstance(sub, sge.Subquery) or not isinstance(sub.this, sge.Select):
        return False
    if any(v not in (None, [], False) for k, v in sub.args.items() if k not in ("this", "alias")):
        return False
    if any(join.args.get(k) for k in ("using", "method", "global", "match_condition")):
        return False
    if outer.args.get("laterals") or any(
        not isinstance(j.this, (sge.Table, sge.Subquery)) for j in outer.args.get("joins") or []
    ):
        return False  # a lateral item could name the derived table's alias
    alias = sub.args.get("alias")
    if isinstance(alias, sge.TableAlias) and alias.columns:
        return False
    name = sub.alias
    inner: sge.Select = sub.this
    if not name or any(
        v not in (None, [], False)
        for k, v in inner.args.items()
        if k not in ("expressions", "from")
    ):
        return False
    table = inner.args["from"].this if isinstance(inner.args.get("from"), sge.From) else None
    if not isinstance(table, sge.Table) or not table.alias_or_name:
        return False
    if table.alias_or_name in _aliases(outer):
        return False
    columns = _plain_columns(inner)
    reads = _reads(outer, with_joins=True)
    if columns is None or reads is None:
        return False
    mine = [c for c in reads if c.table == name]
    if any(c.name not in columns or c.args.get("db") for c in mine):
        return False
    if any(c.table != table.alias_or_name for c in columns.values()):
        return False
    _substitute(outer, mine, columns)
    sub.replace(table.copy())
    return True


def _aliases(outer: sge.Select) -> set[str]:
    """Names of the FROM items of `outer` (its FROM and each join)."""
    items = [outer.args["from"].this] if isinstance(outer.args.get("from"), sge.From) else []
    items += [j.this for j in outer.args.get("joins") or []]
    return {i.alias_or_name for i in items}


def _substitute(outer: sge.Select, reads: list[sge.Column], columns: dict[str, sge.Column]) -> None:
    """Each column of `reads` replaced by the column it names; a selected column keeps its
    output name."""
    for col in reads:
        source_col = columns[col.name].copy()
        if col.parent is outer and col.arg_key == "expressions" and source_col.name != col.name:
            source_col = sge.alias_(source_col, sge.to_identifier(col.name, quoted=True))
        col.replace(source_col)


def _plain_columns(inner: sge.Select) -> dict[str, sge.Column] | None:
    """Output name -> the column reference it is, when every output of `inner` is a bare
    (possibly renamed) column with a unique name; else None."""
    if inner.args.get("from") is None:
        return None
    out: dict[str, sge.Column] = {}
    for e in inner.expressions:
        if isinstance(e, sge.Alias) and isinstance(e.this, sge.Column):
            name, col = e.alias, e.this
        elif isinstance(e, sge.Column):
            name, col = e.name, e
        else:
            return None
        if not name or name in out or isinstance(col.this, sge.Star) or not col.table:
            return None
        if col.args.get("db") or col.args.get("catalog"):
            return None
        out[name] = col
    return out


def _is_star_column(e: sge.Expression) -> bool:
    return isinstance(e, sge.Column) and isinstance(e.this, sge.Star)


def _reads_more_than_filter(outer: sge.Select) -> bool:
    """`SELECT *` folds only under a filter, an order or a limit (no grouping, no windows)."""
    return any(outer.args.get(k) for k in ("group", "having", "qualify", "distinct", "windows"))


def _reads(outer: sge.Select, with_joins: bool = False) -> list[sge.Column] | None:
    """Every column reference in the clauses of `outer` that read its FROM (and, with
    `with_joins`, in its join conditions), or None when one of them holds a subquery that
    names anything outside itself (a correlated one could name the derived table's alias,
    or, once folded, be captured by an alias moved into `outer`)."""
    cols: list[sge.Column] = []
    parts: list[Any] = []
    for key in _OUTER_READS + _OUTER_READS_ALSO:
        value = outer.args.get(key)
        parts += value if isinstance(value, list) else [value]
    if with_joins:
        parts += [j.args.get("on") for j in outer.args.get("joins") or []]
    for part in parts:
        if not isinstance(part, sge.Expression):
            continue
        for node in part.walk(prune=lambda n: isinstance(n, (sge.Select, sge.Subquery))):
            if isinstance(node, (sge.Select, sge.Subquery)):
                if not _self_contained(node):
                    return None
            elif isinstance(node, sge.Column) and not _is_star_column(node):
                cols.append(node)
    return cols


def _self_contained(query: sge.Expression) -> bool:
    """True when every column `query` names is qualified by a table or derived table
    defined inside it (an uncorrelated subquery: folding around it cannot change it)."""
    defined = {n.alias_or_name for n in query.find_all(sge.Table, sge.Subquery, sge.CTE)}
    defined.discard("")
    return all(
        c.table and c.table in defined and not c.args.get("db") for c in query.find_all(sge.Column)
    )
