"""Definitions as plain data: `ml.load(dict)` and `layer.definitions()`.

A service that generates definitions (from a UI, a catalog, another tool) builds the same
structure the YAML files hold and passes it in; `layer.definitions()` gives it back, so
generated definitions round-trip: `ml.load(layer.definitions())` is the same layer. The dict
is validated exactly as a file is (the same models, the same one-line errors, which name the
field path under the file name `<definitions>`). It is not rendered with Jinja: templating
is for text, and a caller building a dict has its values already.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from metrics_layer.definitions.loader import SECTIONS, Origins, validate
from metrics_layer.definitions.models import Project
from metrics_layer.errors import DefinitionError, Location

DISPLAY = "<definitions>"


def load_data(data: Mapping[str, Any]) -> tuple[Project, Origins]:
    """Validate a definitions dict into a Project; errors name `<definitions>` and the field."""
    if not isinstance(data, Mapping):
        raise DefinitionError(
            f"definitions must be a mapping with version/sources/metrics/..., "
            f"not {type(data).__name__}",
            Location(DISPLAY),
        )
    project = validate(dict(data), {}, DISPLAY)
    origins = Origins()
    origins.lines[DISPLAY] = {}
    for section in SECTIONS:
        for name in getattr(project, section):
            origins.files[(section, name)] = DISPLAY
    return project, origins


def project_data(project: Project) -> dict[str, Any]:
    """The YAML structure of a Project: what was written, without the defaults filled in.

    Only fields that were set are kept (so `dimensions: {country: {}}` stays `{}` and the
    output reads like a hand-written file); values are the types YAML reads (text, numbers,
    booleans, lists, mappings, and dates as `datetime.date`, as `2024-01-01` loads in YAML).
    """
    body = _plain(project.model_dump(mode="python", exclude_unset=True, by_alias=True))
    out: dict[str, Any] = {"version": project.version}
    for section in type(project).model_fields:
        if section != "version" and getattr(project, section):
            out[section] = body.get(section, {})
    return out


def _plain(value: Any) -> Any:
    """Tuples as lists, so the structure is exactly what a YAML or JSON loader produces."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
