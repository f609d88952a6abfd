"""ml.load(): definitions read (folder, file or dict), checked and bound to a connection."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from metrics_layer.connection import connect
from metrics_layer.definitions import load_project
from metrics_layer.layer import Layer
from metrics_layer.registry import Registry
from metrics_layer.registry.schemas import schemas_for


def load(
    path: str | Path | Mapping[str, Any],
    con: Any = None,
    vars: Mapping[str, Any] | None = None,
    timezone: str = "UTC",
    check_schema: bool | None = None,
    strict: bool = False,
    read_only: bool = True,
    week_start: str | int | None = None,
    audit: str | Path | None = None,
    cache_ttl: float = 0.0,
) -> Layer:
    """Load definitions from a folder or file (or a dict of the YAML structure) and bind them
    to a connection.

    With a connection given, every table and column the definitions use is checked against the
    real schema now, so a typo fails at load time (check_schema=False skips it). Without one,
    column types come from `schema-snapshot.json` beside the definitions, else from the
    definitions themselves: SQL works, data needs `con`.
    strict=True resolves the names of requests (by, where) to declared dimensions only.
    A DuckDB file or URL given as `con` is opened read-only (so other processes can read it
    too) unless read_only=False; connections passed in are used as they are.
    timezone (IANA name) and week_start (weekday, default monday) are the defaults of every
    call, which may override them (docs/time.md).
    audit=PATH appends one JSON line per call; cache_ttl=SECONDS keeps answers that long
    (off by default); see docs/service.md.
    """
    if not isinstance(path, str | Path):  # a dict of the YAML structure (anything else: an error)
        from metrics_layer.interchange.as_data import load_data

        project, origins = load_data(path)
        folder: str | Path | None = None
    else:
        project, origins = load_project(path, vars)
        folder = path
    given = con is not None
    backend = connect(con, read_only=read_only)
    schemas = schemas_for(backend, folder, connected=given)
    from metrics_layer.interchange.aliases import check_aliases, rename_references

    check_aliases(project, origins)
    project = rename_references(project, origins)  # experiments/materializations by an alias
    registry = Registry(project, origins, schemas.schema_of, strict=strict)
    registry.schemas = schemas.bind(registry)
    from metrics_layer.access.validate import check_access
    from metrics_layer.analysis.experiment_defs import check_all_experiments

    check_access(registry, resolve_names=False)
    check_all_experiments(registry)  # unknown metrics, untestable kinds: fail at load
    from metrics_layer.materialize import check_all_materializations

    check_all_materializations(registry)  # unstorable metrics, bad by/grain: fail at load
    layer = Layer(
        registry,
        backend,
        timezone=timezone,
        path=None if folder is None else str(folder),
        week_start=week_start,
    )
    if check_schema if check_schema is not None else given:
        from metrics_layer.analysis.funnel_defs import check_all_funnels
        from metrics_layer.analysis.retention_defs import check_all_retention
        from metrics_layer.registry.schema_check import check_schema as run_check

        run_check(layer)
        check_access(registry)
        check_all_retention(registry)  # time columns, entity, by paths: fail at load, not at query
        check_all_funnels(registry)
    if audit is not None or cache_ttl:
        from metrics_layer.service.observed import observe

        observe(layer, audit=audit, cache_ttl=cache_ttl)
    return layer
