"""MetricFlow's filter templates, translated into metrics_layer expressions.

`{{ Dimension('customer__country') }}`, `{{ TimeDimension('metric_time', 'month') }}`,
`{{ Entity('customer') }}` (and `Dimension('ds').grain('month')`, `entity_path=[...]`) name
fields by MetricFlow's entity paths. Each becomes the path of join roles from the measure's
source (the converter's `resolve` callback decides which); the SQL around them is kept. The
templates are parsed as Python call syntax with literal arguments only, never evaluated.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass

GRAINS = ("day", "week", "month", "quarter", "year")
_TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


class Untranslatable(Exception):
    """A construct the converter cannot express; the message says what and why."""


@dataclass(frozen=True)
class FieldCall:
    """One `{{ ... }}` call: kind (Dimension, TimeDimension, Entity), the entity path and the
    field name, and a grain for time dimensions."""

    kind: str
    entities: tuple[str, ...]
    name: str
    grain: str | None = None


def parse_call(text: str) -> FieldCall:
    """`Dimension('a__b', entity_path=['x']).grain('month')` -> FieldCall."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise Untranslatable(f"cannot read the template {{{{{text}}}}}") from None
    grain: object = None
    if (
        isinstance(tree, ast.Call)
        and isinstance(tree.func, ast.Attribute)
        and tree.func.attr in ("grain", "date_part")
    ):
        if tree.func.attr == "date_part":
            raise Untranslatable("date_part() in a filter is not translated")
        grain = _literal(tree.args[0]) if tree.args else None
        tree = tree.func.value
    if not (isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name)):
        raise Untranslatable(f"cannot read the template {{{{{text}}}}}")
    kind = tree.func.id
    if kind not in ("Dimension", "TimeDimension", "Entity"):
        raise Untranslatable(f"{kind}() in a filter is not translated")
    args = [_literal(a) for a in tree.args]
    kwargs = {k.arg: _literal(k.value) for k in tree.keywords if k.arg}
    if not args or not isinstance(args[0], str):
        raise Untranslatable(f"{kind}() needs a name")
    if kind == "TimeDimension":
        grain = args[1] if len(args) > 1 else kwargs.get("time_granularity_name", grain)
    grain = kwargs.get("grain", grain)
    path = kwargs.get("entity_path") or []
    if not isinstance(path, list) or not all(isinstance(p, str) for p in path):
        raise Untranslatable("entity_path must be a list of entity names")
    parts = args[0].split("__")
    if kind != "Entity" and len(parts) > 1 and parts[-1] in GRAINS and grain is None:
        grain, parts = parts[-1], parts[:-1]
    if grain is not None and (not isinstance(grain, str) or grain.lower() not in GRAINS):
        raise Untranslatable(f"grain {grain!r} is not one of {', '.join(GRAINS)}")
    return FieldCall(kind, (*path, *parts[:-1]), parts[-1], grain.lower() if grain else None)


def _literal(node: ast.expr) -> object:
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise Untranslatable("template arguments must be literals") from None


def translate_filter(text: str, resolve: Callable[[FieldCall], str]) -> str:
    """The filter with every template replaced by `resolve(call)`; Untranslatable otherwise."""
    if "{%" in text or "{#" in text:
        raise Untranslatable("Jinja statements in a filter are not translated")

    def sub(m: re.Match[str]) -> str:
        return resolve(parse_call(m.group(1)))

    out = _TEMPLATE.sub(sub, text)
    if "{{" in out or "}}" in out:
        raise Untranslatable("unbalanced {{ }} in a filter")
    return " ".join(out.split())


def combine(filters: list[str]) -> str | None:
    """Several filters (a metric's list, a measure's and the metric's) as one AND."""
    kept = [f for f in filters if f and f.strip()]
    if not kept:
        return None
    if len(kept) == 1:
        return kept[0]
    return " AND ".join(f"({f})" for f in kept)
