"""The shape of a request: what one compiled query serves, with its bound values set apart.

A shape is the request with `start`, `end`, `as_of` and the slottable literals of a text
`where` replaced by sentinels (engine/params.py). Everything else (metrics, by and its order,
grain, fill, order_by, limit, timezone, the where text around its literals, literal kinds)
is part of it, so two requests share a compiled query only when nothing but those values
differs. Requests are frozen dataclasses of hashable fields, so the slotted request itself
is the key.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from dataclasses import dataclass
from typing import Any

from metrics_layer.engine.params import Slot, bound_sentinel, where_template

BOUNDS = ("start", "end", "as_of")


@dataclass(frozen=True)
class Shape:
    """A request made into its shape: `request` holds sentinels, `values` the real values."""

    request: Any
    slots: tuple[Slot, ...]
    values: dict[int, Any]


def shape_of(request: Any, bounds: tuple[str, ...] = BOUNDS, where: bool = True) -> Shape | None:
    """The shape of a frozen request dataclass, slotting the named datetime `bounds` fields and
    (if `where`) the literals of its text `where` field; None when it cannot be cached (an
    ibis deferred `where`)."""
    changes: dict[str, Any] = {}
    slots: list[Slot] = []
    values: dict[int, Any] = {}
    for index, name in enumerate(BOUNDS):
        value = getattr(request, name, None)
        if name in bounds and isinstance(value, _dt.datetime):
            slots.append(Slot(index, "bound"))
            values[index] = value
            changes[name] = bound_sentinel(index)
    text = getattr(request, "where", None) if where else None
    if text is not None:
        if not isinstance(text, str):
            return None
        template = where_template(text, len(BOUNDS))
        slots += template.slots
        values.update({s.index: v for s, v in zip(template.slots, template.values, strict=True)})
        changes["where"] = template.text
    slotted = dataclasses.replace(request, **changes) if changes else request
    try:
        hash(slotted)
    except TypeError:
        return None
    return Shape(slotted, tuple(slots), values)
