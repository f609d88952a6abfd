"""Naming fields across joins: a dimension is named by its path of join roles, or any unambiguous suffix."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JoinStep:
    """One hop of a join path: from `left` through role `role` to source `right`."""

    left: str
    role: str
    right: str
    pairs: tuple[tuple[str, str], ...]
    relationship: str

    @property
    def fans_out(self) -> bool:
        return self.relationship == "one_to_many"


@dataclass(frozen=True)
class FieldRef:
    """A name resolved relative to a base source: the join path to its source and the field there."""

    base: str
    path: tuple[JoinStep, ...]
    source: str
    name: str
    kind: str  # "dimension" or "column"
    grain: str | None = None  # `<name>__<grain>`: a time field truncated to the grain's start

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(step.role for step in self.path)

    @property
    def full_name(self) -> str:
        name = f"{self.name}__{self.grain}" if self.grain else self.name
        return ".".join((self.base, *self.roles, name))

    @property
    def fans_out(self) -> bool:
        return any(step.fans_out for step in self.path)

    def describe_path(self) -> str:
        hops = [self.base] + [
            f"{s.role}" + (f" ({s.right})" if s.role != s.right else "") for s in self.path
        ]
        return " → ".join(hops)


def suffix_matches(full: tuple[str, ...], ref: tuple[str, ...]) -> bool:
    return len(ref) <= len(full) and full[len(full) - len(ref) :] == ref
