"""What changed between two versions of a definitions folder, and whether it breaks users.

A change is breaking when a query that worked before fails or returns other numbers: a name
removed or renamed (metric, measure, dimension, join role, source, retention, funnel), a
changed formula, filter, aggregation, time column or table, grains narrowed. Additions, new
aliases, deprecations, labels, descriptions, formats and owners are compatible. A metric
renamed with `aliases: [old_name]` keeps the old name working, so that rename is compatible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from metrics_layer.definitions.models import Project

# Fields that only describe: changing them changes no number and breaks no query.
DESCRIPTIVE = {"label", "description", "owner", "format", "validation", "aliases", "deprecated"}
METRIC_FORMULA = (
    "type",
    "measure",
    "numerator",
    "denominator",
    "expr",
    "metric",
    "window",
    "grain_to_date",
    "offset",
    "offset_to_grain",
    "share_of",
    "period_agg",
    "fill_nulls_with",
    "join_to_timespine",
)


@dataclass(frozen=True)
class Change:
    kind: str  # metric, source, measure, dimension, join, retention, funnel
    name: str
    change: str  # added, removed, renamed, changed, deprecated
    breaking: bool
    detail: str = ""

    def __str__(self) -> str:
        flag = "BREAKING  " if self.breaking else "compatible"
        return f"{flag} {self.kind} {self.name}: {self.change}" + (
            f" ({self.detail})" if self.detail else ""
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "change": self.change,
            "breaking": self.breaking,
            "detail": self.detail,
        }


def diff_projects(old: Project, new: Project) -> list[Change]:
    """Every change from `old` to `new`, breaking ones first, then by kind and name."""
    out = _metrics(old, new)
    out += _sources(old, new)
    for section, kind in (("retention", "retention"), ("funnels", "funnel")):
        out += _plain_section(getattr(old, section), getattr(new, section), kind)
    return sorted(out, key=lambda c: (not c.breaking, c.kind, c.name, c.change))


def _metrics(old: Project, new: Project) -> list[Change]:
    out: list[Change] = []
    aliases = {a: n for n, m in new.metrics.items() for a in m.aliases}
    for name, m in old.metrics.items():
        if name in new.metrics:
            out += _metric_changes(name, m, new.metrics[name])
        elif name in aliases:
            out.append(
                Change("metric", name, "renamed", False, f"to {aliases[name]!r}, kept as an alias")
            )
        else:
            twin = [
                n for n, x in new.metrics.items() if n not in old.metrics and _same_metric(m, x)
            ]
            if twin:
                out.append(
                    Change(
                        "metric",
                        name,
                        "renamed",
                        True,
                        f"to {twin[0]!r}; add `aliases: [{name}]` to keep the old name working",
                    )
                )
            else:
                out.append(Change("metric", name, "removed", True))
    for name in new.metrics:
        if name not in old.metrics:
            out.append(Change("metric", name, "added", False))
    return out


def _same_metric(a: Any, b: Any) -> bool:
    return all(getattr(a, f) == getattr(b, f) for f in (*METRIC_FORMULA, "filter"))


def _metric_changes(name: str, a: Any, b: Any) -> list[Change]:
    out: list[Change] = []
    if a.kind != b.kind or any(getattr(a, f) != getattr(b, f) for f in METRIC_FORMULA):
        fields = [f for f in METRIC_FORMULA if getattr(a, f) != getattr(b, f)]
        out.append(Change("metric", name, "formula changed", True, _fields(a, b, fields)))
    if a.filter != b.filter:
        out.append(Change("metric", name, "filter changed", True, _fields(a, b, ["filter"])))
    if a.grains != b.grains:
        lost = sorted(set(a.grains or GRAIN_ALL) - set(b.grains or GRAIN_ALL))
        detail = f"{a.grains} -> {b.grains}"
        out.append(Change("metric", name, "grains changed", bool(lost), detail))
    if b.deprecated and not a.deprecated:
        out.append(Change("metric", name, "deprecated", False, b.deprecated))
    added = [x for x in b.aliases if x not in a.aliases]
    if added:
        out.append(Change("metric", name, "aliases added", False, ", ".join(added)))
    dropped = [x for x in a.aliases if x not in b.aliases]
    if dropped:
        out.append(Change("metric", name, "aliases removed", True, ", ".join(dropped)))
    rest = sorted(
        f
        for f in DESCRIPTIVE - {"aliases", "deprecated"}
        if getattr(a, f, None) != getattr(b, f, None)
    )
    if rest:
        out.append(Change("metric", name, "description changed", False, ", ".join(rest)))
    return out


GRAIN_ALL = ("hour", "day", "week", "month", "quarter", "year")


def _fields(a: Any, b: Any, fields: list[str]) -> str:
    return "; ".join(f"{f}: {getattr(a, f)!r} -> {getattr(b, f)!r}" for f in fields)


def _sources(old: Project, new: Project) -> list[Change]:
    out: list[Change] = []
    for name, a in old.sources.items():
        b = new.sources.get(name)
        if b is None:
            out.append(Change("source", name, "removed", True))
            continue
        for f in ("table", "database", "time", "calendar", "scd", "primary_key"):
            if getattr(a, f) != getattr(b, f):
                out.append(Change("source", name, f"{f} changed", True, _fields(a, b, [f])))
        for kind, section in (("measure", "measures"), ("dimension", "dimensions")):
            out += _plain_section(getattr(a, section), getattr(b, section), kind, prefix=f"{name}.")
        out += _plain_section(a.joins, b.joins, "join", prefix=f"{name}.")
        if a.checks != b.checks:
            out.append(Change("source", name, "checks changed", False))
    for name in new.sources:
        if name not in old.sources:
            out.append(Change("source", name, "added", False))
    return out


def _plain_section(
    a: dict[str, Any], b: dict[str, Any], kind: str, prefix: str = ""
) -> list[Change]:
    """Named items compared field by field: descriptive fields are compatible, others breaking."""
    out: list[Change] = []
    for name, x in a.items():
        y = b.get(name)
        if y is None:
            out.append(Change(kind, prefix + name, "removed", True))
            continue
        fields = [f for f in type(x).model_fields if getattr(x, f) != getattr(y, f)]
        hard = [f for f in fields if f not in DESCRIPTIVE]
        if hard:
            out.append(Change(kind, prefix + name, "changed", True, _fields(x, y, hard)))
        elif fields:
            out.append(Change(kind, prefix + name, "description changed", False, ", ".join(fields)))
    for name in b:
        if name not in a:
            out.append(Change(kind, prefix + name, "added", False))
    return out
