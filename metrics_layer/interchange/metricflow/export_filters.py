"""Our expressions (filters, derived formulas) rewritten for MetricFlow.

A filter names fields by join-role paths (`customer.country.region`, `ds__month`); MetricFlow
names them by entity paths inside templates (`{{ Dimension('country__region',
entity_path=['customer']) }}`). The expression is parsed with the same allow-list as
everywhere else (expressions/parse.py); each column reference is handed to a callback that
returns its MetricFlow text, and the tree is printed back as SQL. String literals are never
touched, so a value that looks like a name stays a value.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from metrics_layer.errors import ExpressionError
from metrics_layer.expressions import parse_expression


class NotExportable(Exception):
    """A definition (or part of one) MetricFlow cannot express; the message says why."""


def column_names(text: str) -> list[str]:
    """The dotted names an expression refers to, in order of appearance."""
    try:
        parsed = parse_expression(text)
    except ExpressionError as exc:
        raise NotExportable(str(exc)) from None
    return [_dotted(c) for c in parsed.tree.find_all(exp.Column)]


def rewrite(text: str, replace: Callable[[str], str]) -> str:
    """`text` with every column reference `name` replaced by `replace(name)` (raw text)."""
    try:
        tree = parse_expression(text).tree.copy()
    except ExpressionError as exc:
        raise NotExportable(str(exc)) from None
    texts: list[str] = []

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            texts.append(replace(_dotted(node)))
            return exp.column(f"mlref{len(texts) - 1}xx")
        return node

    tree = tree.transform(swap)
    sql = tree.sql()
    # longest index first, so mlref1xx is not replaced inside mlref11xx
    for i in sorted(range(len(texts)), reverse=True):
        sql = sql.replace(f"mlref{i}xx", texts[i])
    return sql


def _dotted(node: exp.Column) -> str:
    return ".".join(part.name for part in node.parts)


def dimension_template(
    kind: str, entities: tuple[str, ...], name: str, grain: str | None = None
) -> str:
    """`{{ Dimension('e__name') }}` or `{{ TimeDimension('e__name', 'day') }}` (`entities`: the
    entity path, its last entity the prefix, the hops before it `entity_path`), or
    `{{ Entity('name', entity_path=[...]) }}` (`entities`: the hops to the entity's model)."""
    if kind == "Entity":
        ref, path = name, list(entities)
    else:
        ref, path = f"{entities[-1]}__{name}", list(entities[:-1])
    args = [repr(ref)]
    if kind == "TimeDimension":
        args.append(repr(grain or "day"))
    if path:
        args.append(f"entity_path={path!r}")
    return "{{ " + f"{kind}({', '.join(args)})" + " }}"
