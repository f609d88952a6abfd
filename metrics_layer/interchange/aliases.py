"""Renamed and deprecated metrics: old names keep working while their users move on.

A metric's `aliases: [old_name]` lets a request ask for `old_name`; the request is answered by
the metric under its new name and the result column keeps the name that was asked (a
dashboard reading `old_name` keeps working), with a DeprecationWarning naming the new one.
`deprecated: "reason"` makes every request for the metric warn with the reason.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence

from metrics_layer.definitions.loader import Origins
from metrics_layer.definitions.models import Project
from metrics_layer.errors import DefinitionError, QueryError


def alias_targets(project: Project) -> dict[str, str]:
    """alias -> the metric it now names."""
    return {a: name for name, m in project.metrics.items() for a in m.aliases}


def check_aliases(project: Project, origins: Origins) -> None:
    """An alias may not be another metric's name, nor an alias of two metrics."""
    seen: dict[str, str] = {}
    names = set(project.metrics)
    for name, m in project.metrics.items():
        for i, alias in enumerate(m.aliases):
            where = origins.locate("metrics", name, "aliases", i)
            if alias in names:
                raise DefinitionError(
                    f"alias {alias!r} of metric {name!r} is the name of a metric: "
                    "an old name can only be an alias once no metric has it",
                    where,
                )
            if alias in seen:
                raise DefinitionError(
                    f"alias {alias!r} is given to metrics {seen[alias]!r} and {name!r}", where
                )
            seen[alias] = name


def resolve(project: Project, asked: str | Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """The metric names to plan for `asked`, and {asked alias: metric} for the result columns.

    Warns (DeprecationWarning) for each alias and each deprecated metric asked."""
    names = [asked] if isinstance(asked, str) or not isinstance(asked, Iterable) else list(asked)
    if not all(isinstance(n, str) for n in names):
        return names, {}  # the request validator explains what is wrong
    targets = alias_targets(project)
    out: list[str] = []
    renames: dict[str, str] = {}
    for name in names:
        target = targets.get(name)
        if target is not None:
            warnings.warn(
                f"metric {name!r} is renamed to {target!r}; ask for {target!r} "
                f"(the alias {name!r} will be removed)",
                DeprecationWarning,
                stacklevel=3,
            )
            if target in names:
                raise QueryError(
                    f"metric {target!r} is asked twice: by its name and by its alias {name!r}"
                )
            renames[name] = target
        metric = project.metrics.get(target or name)
        if metric is not None and metric.deprecated:
            warnings.warn(
                f"metric {target or name!r} is deprecated: {metric.deprecated}",
                DeprecationWarning,
                stacklevel=3,
            )
        out.append(target or name)
    return out, renames


def rename_order(order_by: str | Sequence[str], renames: dict[str, str]) -> list[str]:
    """order_by entries naming an alias (`old` or `-old`) name the metric."""
    items = [order_by] if isinstance(order_by, str) else list(order_by)
    out = []
    for item in items:
        if not isinstance(item, str):
            out.append(item)
            continue
        sign, name = ("-", item[1:]) if item.startswith("-") else ("", item)
        out.append(sign + renames.get(name, name))
    return out


_LISTS = ("experiments", "materializations")  # definitions that list metrics by name


def rename_references(project: Project, origins: Origins) -> Project:
    """The project with experiments and materializations that list a metric by an alias
    listing it by its new name; each such reference warns (DeprecationWarning) with its place."""
    targets = alias_targets(project)
    if not targets:
        return project
    update: dict[str, dict[str, object]] = {}
    for section in _LISTS:
        items = getattr(project, section)
        renamed = dict(items)
        for name, item in items.items():
            if not any(m in targets for m in item.metrics):
                continue
            new = []
            for i, m in enumerate(item.metrics):
                where = origins.locate(section, name, "metrics", i)
                target = targets.get(m)
                if target is None:
                    new.append(m)
                    continue
                if target in item.metrics:
                    raise DefinitionError(
                        f"metric {target!r} is listed twice: by its name and by its alias {m!r}",
                        where,
                    )
                warnings.warn(
                    f"{where}: metric {m!r} is renamed to {target!r}; list {target!r} "
                    f"(the alias {m!r} will be removed)",
                    DeprecationWarning,
                    stacklevel=3,
                )
                new.append(target)
            renamed[name] = item.model_copy(update={"metrics": new})
        update[section] = renamed
    return project.model_copy(update=update)


def metric_names(project: Project, asked: str | Sequence[str] | None) -> list[str] | None:
    """Metric names given to an entry point other than query (checks, experiments): aliases
    become the metrics they name, with the same warnings as a query."""
    if asked is None:
        return None
    return resolve(project, asked)[0]
