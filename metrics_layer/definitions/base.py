"""What every definition model shares: strict, frozen models, names, `by` lists."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
_DIMENSION_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


class Strict(BaseModel):
    """Unknown keys are errors naming the field (`extra="forbid"`), never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def check_by_names(names: list[str], example: str) -> list[str]:
    """A `by` list: dimension names or paths (`users.country`), none twice."""
    for name in names:
        if not _DIMENSION_PATH.fullmatch(name):
            raise ValueError(
                f"by entry {name!r} is not a dimension name (e.g. {example} or users.country)"
            )
    if len(set(names)) != len(names):
        raise ValueError(f"by names a dimension twice: {names}")
    return names


def checked_expression(value: str | None, what: str) -> str | None:
    """An expression field of a definition, parsed at load so a broken one fails at its own
    line (`what` names it in the error: "retention cohort", "funnel step filter"). Empty
    text is refused: it would parse as nothing and fail later, far from where it was written.
    Used by retention and funnel definitions alike."""
    from metrics_layer.errors import ExpressionError
    from metrics_layer.expressions import parse_expression

    if value is None:
        return value
    if not value.strip():
        raise ValueError(f"{what} must not be empty")
    try:
        parse_expression(value, what=what)
    except ExpressionError as exc:
        raise ValueError(str(exc)) from None
    return value
