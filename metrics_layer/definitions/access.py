"""The `access:` block: named policies that narrow what a caller of a restricted layer sees.

A policy lists the sources it makes visible, a row filter per source (an expression whose
`:name` placeholders are bound from the caller's attributes as literals, never as text), the
dimensions it hides and the `pii: true` dimensions it shows unmasked. Cross-references are
checked against the registry by `metrics_layer.access.validate`, which names file, line and
field.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from metrics_layer.definitions.yaml_lines import line_of
from metrics_layer.errors import DefinitionError, Location

Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Policy(_Strict):
    """What one policy grants: visible sources, their rows, and which dimensions show."""

    sources: list[Name] = Field(min_length=1)
    row_filters: dict[Name, str] = Field(default_factory=dict)
    hidden: list[str] = Field(default_factory=list)  # `source.dimension`
    unmask: list[str] = Field(default_factory=list)  # `source.dimension` of pii dimensions
    description: str | None = None


class Access(_Strict):
    """All policies of a project (merged across files like every other section)."""

    policies: dict[Name, Policy] = Field(default_factory=dict)


def merge_policies(
    project: Any, display: str, lines: dict[Any, int], origins: Any, merged: dict[str, Any]
) -> None:
    """Add one file's policies to the merged project; a policy defined twice names both files."""
    if not project.access.policies:
        return
    into = merged.setdefault("access", {"policies": {}})["policies"]
    for name, policy in project.access.policies.items():
        first = origins.files.get(("access", name))
        if first is not None:
            raise DefinitionError(
                f"policy {name!r} is defined twice: in {first} "
                f"(line {line_of(origins.lines[first], ('access', 'policies', name))}) and here",
                Location(
                    display, line_of(lines, ("access", "policies", name)), f"access.policies.{name}"
                ),
            )
        origins.files[("access", name)] = display
        into[name] = policy


def locate_policy(origins: Any, name: str, *fields: str | int) -> Location:
    """File, line and field of a policy's key (policies live under `access.policies`)."""
    path = ("access", "policies", name, *fields)
    dotted = ".".join(map(str, path))
    file = origins.files.get(("access", name))
    if file is None:
        return Location(field=dotted)
    return Location(file, line_of(origins.lines.get(file, {}), path), dotted)
