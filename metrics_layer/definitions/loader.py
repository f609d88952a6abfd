"""Read definition files: Jinja2 (sandboxed) → YAML with line numbers → pydantic → one Project.

Every failure becomes a DefinitionError naming the file, the line and the field path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from pydantic import ValidationError

from metrics_layer.definitions.models import Project
from metrics_layer.definitions.yaml_lines import Path_, YamlSyntaxError, line_of, load_with_lines
from metrics_layer.errors import DefinitionError, Location, suggest

SECTIONS = ("sources", "metrics", "retention", "funnels")


@dataclass
class Origins:
    """Where each definition came from: file and line per key path, for later error messages."""

    files: dict[tuple[str, str], str] = field(default_factory=dict)  # (section, name) -> file
    lines: dict[str, dict[Path_, int]] = field(default_factory=dict)  # file -> key path -> line

    def locate(self, section: str, name: str, *fields: str | int) -> Location:
        file = self.files.get((section, name))
        if file is None:
            return Location(field=".".join(map(str, (section, name, *fields))))
        line = line_of(self.lines.get(file, {}), (section, name, *fields))
        return Location(file, line, ".".join(map(str, (section, name, *fields))))


def definition_files(path: str | Path) -> list[Path]:
    """The YAML files of a folder (recursively, sorted) or the single file given."""
    p = Path(path)
    if p.is_file():
        return [p]
    if not p.exists():
        raise DefinitionError(f"definitions path {str(p)!r} does not exist")
    files = sorted(f for f in p.rglob("*") if f.suffix in (".yml", ".yaml") and f.is_file())
    if not files:
        raise DefinitionError(f"no *.yml or *.yaml files under {str(p)!r}")
    return files


def render(text: str, file: str, variables: Mapping[str, Any]) -> str:
    """Render Jinja2 in a sandbox; undefined variables are errors, not empty strings."""
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                               autoescape=False)
    try:
        return env.from_string(text).render(**dict(variables))
    except jinja2.TemplateSyntaxError as exc:
        raise DefinitionError(f"template error: {exc.message}", Location(file, exc.lineno)) from None
    except jinja2.UndefinedError as exc:
        line = _template_line(exc)
        raise DefinitionError(
            f"template error: {exc.message}{suggest(_undefined_name(exc), variables)}"
            " (pass it with vars={...})",
            Location(file, line),
        ) from None
    except jinja2.exceptions.SecurityError as exc:
        raise DefinitionError(f"template error: unsafe operation: {exc}", Location(file)) from None
    except Exception as exc:  # noqa: BLE001 - any template runtime error is a definition error
        raise DefinitionError(f"template error: {exc}", Location(file, _template_line(exc))) from None


def _undefined_name(exc: Exception) -> str:
    msg = str(exc)
    return msg.split("'")[1] if msg.count("'") >= 2 else msg


def _template_line(exc: BaseException) -> int | None:
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def parse_file(path: Path, variables: Mapping[str, Any], display: str) -> tuple[dict[str, Any], dict[Path_, int]]:
    """Render and parse one file into raw data plus its line index."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(f"cannot read file: {exc}", Location(display)) from None
    rendered = render(text, display, variables)
    try:
        data, lines = load_with_lines(rendered)
    except YamlSyntaxError as exc:
        raise DefinitionError(str(exc), Location(display, exc.line)) from None
    if data is None:
        return {}, lines
    if not isinstance(data, dict):
        raise DefinitionError("a definition file must be a mapping with sources/metrics/retention/funnels",
                              Location(display, 1))
    _reject_bool_keys(data, (), lines, display)
    return data, lines


def _reject_bool_keys(data: Any, path: Path_, lines: dict[Path_, int], file: str) -> None:
    """YAML 1.1 reads `on:`/`yes:` keys as booleans; say so instead of a baffling type error."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, bool):
                field = ".".join(map(str, (*path, key)))
                raise DefinitionError(
                    f"key read as boolean {key!r}: YAML 1.1 turns bare on/off/yes/no into booleans; "
                    "quote it, and note that joins take `keys:`, not `on:`",
                    Location(file, lines.get((*path, key)), field),
                )
            if not isinstance(key, str):
                raise DefinitionError(f"key {key!r} must be a name, not a {type(key).__name__}",
                                      Location(file, lines.get((*path, key)), ".".join(map(str, path))))
            _reject_bool_keys(value, (*path, key), lines, file)
    elif isinstance(data, list):
        for i, item in enumerate(data):
            _reject_bool_keys(item, (*path, i), lines, file)


def validate(data: dict[str, Any], lines: dict[Path_, int], display: str) -> Project:
    """Validate raw data with pydantic; turn the first error into a located DefinitionError."""
    try:
        return Project.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        loc = _strip_union_tags(loc, data)
        field = ".".join(map(str, loc))
        message = _friendly(err, loc, data)
        more = len(exc.errors()) - 1
        if more:
            message += f" (and {more} more error{'s' if more > 1 else ''} in this file)"
        raise DefinitionError(message, Location(display, line_of(lines, loc), field)) from None


def _strip_union_tags(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """Keep the parts of a pydantic location that are keys of the data (drop union-member tags)."""
    out: list[Any] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str):
            out.append(part)  # a missing key is still the field to name
            break
    return tuple(out)


def _friendly(err: Any, loc: tuple[Any, ...], data: Any) -> str:
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        known = _known_fields(loc)
        return f"unknown field {loc[-1]!r}{suggest(str(loc[-1]), known)}"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"invalid value {err.get('input')!r}: expected {expected}{_literal_hint(err)}"
    if kind == "missing":
        return f"missing required field {loc[-1]!r}"
    if kind == "string_pattern_mismatch":
        return f"invalid name {err.get('input')!r}: use letters, digits and underscores, starting with a letter"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    return msg


def _literal_hint(err: Any) -> str:
    expected = str(err.get("ctx", {}).get("expected", ""))
    options = [o.strip().strip("'") for o in expected.replace(" or ", ",").split(",") if o.strip()]
    return suggest(str(err.get("input")), options)


def _known_fields(loc: tuple[Any, ...]) -> list[str]:
    """Field names valid at a location, for 'did you mean' on misspelt keys."""
    from metrics_layer.definitions import models as m

    chain: dict[str, type] = {
        "sources": m.Source, "metrics": m.Metric, "retention": m.Retention, "funnels": m.Funnel,
        "dimensions": m.Dimension, "measures": m.Measure, "joins": m.Join, "validation": m.Validation,
        "steps": m.FunnelStep, "exclusions": m.FunnelExclusion, "scd": m.Scd, "anomaly": m.Anomaly,
        "non_additive": m.NonAdditive, "reconcile": m.Reconcile,
    }
    model: type = m.Project
    for part in loc[:-1]:
        if isinstance(part, str) and part in chain and part in model.model_fields:  # type: ignore[attr-defined]
            model = chain[part]
    return list(model.model_fields)  # type: ignore[attr-defined]


def load_project(path: str | Path, variables: Mapping[str, Any] | None = None) -> tuple[Project, Origins]:
    """Load every definition file under `path` and merge them; duplicates name both files."""
    variables = dict(variables or {})
    root = Path(path)
    origins = Origins()
    merged: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    for file in definition_files(root):
        display = _display(file)
        data, lines = parse_file(file, variables, display)
        project = validate(data, lines, display)
        origins.lines[display] = lines
        for section in SECTIONS:
            for name, item in getattr(project, section).items():
                first = origins.files.get((section, name))
                if first is not None:
                    raise DefinitionError(
                        f"{section[:-1] if section != 'retention' else 'retention'} {name!r} is defined twice: "
                        f"in {first} (line {line_of(origins.lines[first], (section, name))}) and here",
                        Location(display, line_of(lines, (section, name)), f"{section}.{name}"),
                    )
                origins.files[(section, name)] = display
                merged[section][name] = item
    return Project(**merged), origins


def _display(file: Path) -> str:
    try:
        return str(file.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(file)
