"""`:name` placeholders in row filters: bound from the caller's attributes as ibis literals.

The filter text is parsed once with each placeholder replaced by a reserved identifier; at
compile time that identifier resolves to `ibis.literal(value)`, so an attribute's value never
becomes SQL text, whatever it contains.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from typing import Any

import ibis

from metrics_layer.errors import QueryError
from metrics_layer.expressions import ParsedExpression, parse_expression

PREFIX = "__ml_attr_"
_PLACEHOLDER = re.compile(r"(?<![\w:]):([A-Za-z_]\w*)")
_SCALARS = (str, int, float, bool, _dt.date, _dt.datetime)


def _outside_quotes(text: str) -> list[tuple[str, bool]]:
    """Split text into (chunk, quoted) parts so placeholders inside string literals stay text."""
    parts: list[tuple[str, bool]] = []
    buf, quote = "", None
    for ch in text:
        if quote:
            buf += ch
            if ch == quote:
                parts.append((buf, True))
                buf, quote = "", None
        elif ch in "'\"":
            parts.append((buf, False))
            buf, quote = ch, ch
        else:
            buf += ch
    parts.append((buf, quote is not None))
    return parts


def placeholders(text: str) -> list[str]:
    """Attribute names a filter needs, in order of first use."""
    found: dict[str, None] = {}
    for chunk, quoted in _outside_quotes(text):
        if not quoted:
            for m in _PLACEHOLDER.finditer(chunk):
                found[m.group(1)] = None
    return list(found)


def parse_filter(text: str, what: str) -> ParsedExpression:
    """Parse a row filter; placeholders become reserved names (see `bind`)."""
    rewritten = "".join(
        chunk if quoted else _PLACEHOLDER.sub(lambda m: PREFIX + m.group(1), chunk)
        for chunk, quoted in _outside_quotes(text)
    )
    return parse_expression(rewritten, what=what)


def column_names(parsed: ParsedExpression) -> list[str]:
    """The names of a parsed filter that are fields, not placeholders."""
    return [n for n in parsed.names if not n.startswith(PREFIX)]


def bind(parsed: ParsedExpression, attributes: Mapping[str, Any]) -> dict[str, ibis.Value]:
    """Reserved name -> literal of the caller's attribute (a missing one is an error)."""
    out: dict[str, ibis.Value] = {}
    for name in parsed.names:
        if not name.startswith(PREFIX):
            continue
        key = name[len(PREFIX) :]
        if key not in attributes:
            raise QueryError(f"the caller has no attribute {key!r}, which a row filter needs")
        out[name] = ibis.literal(attributes[key])
    return out


def check_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Attributes are scalars (text, numbers, booleans, dates): anything else is refused."""
    if not isinstance(attributes, Mapping):
        raise QueryError("attributes must be a mapping of name to value")
    for key, value in attributes.items():
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_]\w*", key):
            raise QueryError(f"attribute name {key!r} is not a plain name")
        if value is None or not isinstance(value, _SCALARS):
            raise QueryError(
                f"attribute {key!r} must be text, a number, a boolean or a date, "
                f"not {type(value).__name__}"
            )
    return dict(attributes)
