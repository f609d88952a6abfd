"""Read definition files: Jinja2 (sandboxed) → YAML with line numbers → pydantic → one Project.

Every failure becomes a DefinitionError naming the file, the line and the field path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from pydantic import ValidationError

from metrics_layer.definitions.access import merge_policies
from metrics_layer.definitions.models import Project
from metrics_layer.definitions.templates import render_template
from metrics_layer.definitions.yaml_lines import Path_, YamlSyntaxError, line_of, load_with_lines
from metrics_layer.errors import DefinitionError, FieldProblem, Location, suggest

SECTIONS = ("sources", "metrics", "retention", "funnels", "experiments", "materializations")


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


def render(text: str, file: str, variables: Mapping[str, Any]) -> tuple[str, list[int]]:
    """Render Jinja2 in a sandbox (definitions/templates.py); undefined variables are errors,
    not empty strings. Returns the text and the file's line of each rendered line."""
    try:
        return render_template(text, file, variables)
    except DefinitionError:
        raise
    except jinja2.TemplateSyntaxError as exc:
        message, at = exc.message or str(exc), exc.lineno
        opened = _unclosed_block(text, message) if "end of template" in message else None
        if opened is not None:
            message, at = f"{{% {opened[0]} %}} is never closed: {message}", opened[1]
        raise DefinitionError(f"template syntax error: {message}", Location(file, at)) from None
    except jinja2.UndefinedError as exc:
        line = _template_line(exc)
        message = exc.message or str(exc)
        if message.endswith("is undefined"):
            message += f"{suggest(_undefined_name(exc), variables)} (pass it with vars={{...}})"
        raise DefinitionError(f"template error: {message}", Location(file, line)) from None
    except jinja2.exceptions.SecurityError as exc:
        raise DefinitionError(
            f"template error: unsafe operation: {exc}", Location(file, _template_line(exc))
        ) from None
    except Exception as exc:  # noqa: BLE001 - any template runtime error is a definition error
        detail = str(exc) or type(exc).__name__
        raise DefinitionError(
            f"template error: {type(exc).__name__}: {detail}", Location(file, _template_line(exc))
        ) from None


_BLOCKS = ("for", "if", "macro", "block", "call", "filter", "with", "raw", "autoescape", "trans")


def _unclosed_block(text: str, message: str) -> tuple[str, int] | None:
    """The innermost block tag (name, line) left open, which Jinja reports at the end of the file."""
    env = SandboxedEnvironment()
    stack: list[tuple[str, int]] = []
    after_begin = False
    try:
        for line, kind, value in env.lex(text):
            if kind == "block_begin" or (after_begin and kind == "whitespace"):
                after_begin = True
                continue
            if after_begin and kind == "name":
                if value in _BLOCKS:
                    stack.append((value, line))
                elif value.startswith("end") and stack and stack[-1][0] == value[3:]:
                    stack.pop()
            after_begin = False
    except jinja2.TemplateSyntaxError:
        return None
    innermost = re.search(r"needs to be closed is '(\w+)'", message)
    for name, line in reversed(stack):
        if innermost is None or innermost.group(1) == name:
            return name, line
    return None


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


def parse_file(
    path: Path, variables: Mapping[str, Any], display: str
) -> tuple[dict[str, Any], dict[Path_, int]]:
    """Render and parse one file into raw data plus its line index."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise DefinitionError(
            f"cannot read file: not UTF-8 text ({exc.reason} at byte {exc.start})",
            Location(display, line),
        ) from None
    except OSError as exc:
        raise DefinitionError(f"cannot read file: {exc}", Location(display)) from None
    rendered, line_of = render(text, display, variables)
    try:
        data, lines = load_with_lines(rendered)
    except YamlSyntaxError as exc:
        at = _written_line(line_of, exc.line)
        raise DefinitionError(str(exc), Location(display, at, exc.field)) from None
    if line_of:
        lines = {path: line_of[min(n, len(line_of)) - 1] for path, n in lines.items()}
    if data is None:
        return {}, lines
    if not isinstance(data, dict):
        raise DefinitionError(
            "a definition file must be a mapping with version/sources/metrics/retention/funnels, "
            f"not {_describe(data)}",
            Location(display, lines.get((), 1)),
        )
    return data, lines


def _written_line(line_of: list[int], rendered: int | None) -> int | None:
    """The line of the file as written for a 1-based line of the rendered text."""
    if rendered is None or not line_of:
        return rendered
    return line_of[min(rendered, len(line_of)) - 1]


def validate(data: dict[str, Any], lines: dict[Path_, int], display: str) -> Project:
    """Validate raw data with pydantic; turn the most telling error into a located DefinitionError."""
    try:
        return Project.model_validate(data)
    except ValidationError as exc:
        errors = [(_data_loc(err, data), err) for err in exc.errors(include_url=False)]
        loc, err = _pick(errors)
        field = ".".join(map(str, loc))
        message = _friendly(err, loc, data)
        if err["type"].endswith("_type"):
            expected = _union_alternatives(errors, loc)
            if len(expected) > 1:
                message = f"expected {', '.join(expected[:-1])} or {expected[-1]}, got {_describe(err.get('input'))}"
        more = _others(errors, loc, err)
        if more:
            message += f" (and {more} more error{'s' if more > 1 else ''} in this file)"
        raise DefinitionError(message, Location(display, line_of(lines, loc), field)) from None


def _data_loc(err: Any, data: Any) -> tuple[Any, ...]:
    """The error's path through the data: union-member tags dropped, validator blame appended."""
    out: list[Any] = []
    node = data
    parts = list(err["loc"])
    for i, part in enumerate(parts):
        in_dict = isinstance(node, dict) and part in node
        if in_dict or (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
            out.append(part)
            node = node[part]
        elif i == len(parts) - 1 and err["type"] == "missing" and isinstance(part, str):
            out.append(part)  # a missing key is still the field to name
        # anything else is a union-member tag such as 'str' or 'list[str]'
    problem = err.get("ctx", {}).get("error")
    if isinstance(problem, FieldProblem):
        out.append(problem.field)
    return tuple(out)


def _pick(errors: list[tuple[tuple[Any, ...], Any]]) -> tuple[tuple[Any, ...], Any]:
    """The error to report: a misspelt key beats the 'missing' it causes; deeper beats shallower."""
    loc, err = errors[0]
    if err["type"] == "missing":
        for other_loc, other in errors:
            if other["type"] == "extra_forbidden" and other_loc[:-1] == loc[:-1]:
                return other_loc, other
    deeper = [e for e in errors if e[0][: len(loc)] == loc]
    return max(deeper, key=lambda e: len(e[0]))


def _others(errors: list[tuple[tuple[Any, ...], Any]], loc: tuple[Any, ...], err: Any) -> int:
    """How many other places are wrong, not counting echoes of the reported error."""
    echoes = {
        other_loc
        for other_loc, other in errors
        if other_loc == loc[: len(other_loc)]
        or (
            err["type"] == "extra_forbidden"
            and other["type"] == "missing"
            and other_loc[:-1] == loc[:-1]
        )
    }
    return len({other_loc for other_loc, _ in errors} - echoes)


def _union_alternatives(
    errors: list[tuple[tuple[Any, ...], Any]], loc: tuple[Any, ...]
) -> list[str]:
    """'text', 'a list', ... when a value matched none of a union's types."""
    out: list[str] = []
    for other_loc, other in errors:
        wanted = _EXPECTED.get(other["type"])
        if other_loc == loc and wanted and wanted not in out:
            out.append(wanted)
    return out


def _friendly(err: Any, loc: tuple[Any, ...], data: Any) -> str:
    kind, msg = err["type"], str(err["msg"])
    if kind == "extra_forbidden":
        known = _known_fields(loc)
        what = "top-level section" if len(loc) == 1 else "field"
        hint = suggest(str(loc[-1]), known) or f"; known: {', '.join(known)}"
        return f"unknown {what} {loc[-1]!r}{hint}"
    if kind == "literal_error" and loc == ("version",):
        return f"unsupported version {err.get('input')!r}: this metrics_layer reads version 1"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"invalid value {err.get('input')!r}: expected {expected}{_literal_hint(err)}"
    if kind == "missing":
        return f"missing required field {loc[-1]!r}"
    if kind == "string_pattern_mismatch":
        return f"invalid name {err.get('input')!r}: use letters, digits and underscores, starting with a letter"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {_describe(err.get('input'))}"
    if kind in ("too_short", "too_long"):
        ctx = err.get("ctx", {})
        bound = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        what = "at least" if kind == "too_short" else "at most"
        noun = "steps" if loc and loc[-1] == "steps" else "items"
        return f"needs {what} {bound} {noun}, got {ctx.get('actual_length')}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"{msg.replace('Input should be', 'must be')}, got {err.get('input')!r}"
    return msg.replace("Input should be", "expected")


_EXPECTED = {
    "dict_type": "a mapping (name: value pairs)",
    "model_type": "a mapping of fields",
    "model_attributes_type": "a mapping of fields",
    "list_type": "a list",
    "tuple_type": "a list",
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
}


def _describe(value: Any) -> str:
    """How a wrongly typed YAML value reads to its author."""
    if value is None:
        return "nothing (null)"
    kind = {
        dict: "a mapping",
        list: "a list",
        str: "text",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)
    shown = repr(value) if not isinstance(value, dict | list) else ""
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f"{kind} {shown}".strip()


def _literal_hint(err: Any) -> str:
    expected = str(err.get("ctx", {}).get("expected", ""))
    options = [o.strip().strip("'") for o in expected.replace(" or ", ",").split(",") if o.strip()]
    return suggest(str(err.get("input")), options)


def _known_fields(loc: tuple[Any, ...]) -> list[str]:
    """Field names valid at a location, for 'did you mean' on misspelt keys."""
    from metrics_layer.definitions import experiments as x
    from metrics_layer.definitions import materializations as mz
    from metrics_layer.definitions import models as m

    chain: dict[str, type] = {
        "sources": m.Source,
        "metrics": m.Metric,
        "retention": m.Retention,
        "funnels": m.Funnel,
        "dimensions": m.Dimension,
        "measures": m.Measure,
        "joins": m.Join,
        "validation": m.Validation,
        "steps": m.FunnelStep,
        "exclusions": m.FunnelExclusion,
        "scd": m.Scd,
        "anomaly": m.Anomaly,
        "non_additive": m.NonAdditive,
        "reconcile": m.Reconcile,
        "experiments": x.Experiment,
        "cuped": x.Cuped,
        "materializations": mz.Materialization,
        "access": m.Access,
        "policies": m.Policy,
    }
    model: type = m.Project
    for part in loc[:-1]:
        if isinstance(part, str) and part in chain and part in model.model_fields:  # type: ignore[attr-defined]
            model = chain[part]
    fields = model.model_fields.items()  # type: ignore[attr-defined]
    return [f.alias or n for n, f in fields]


def load_project(
    path: str | Path, variables: Mapping[str, Any] | None = None
) -> tuple[Project, Origins]:
    """Load every definition file under `path` and merge them; duplicates name both files."""
    variables = _variables(variables)
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
        merge_policies(project, display, lines, origins, merged)
    return Project.model_validate(merged), origins


def _display(file: Path) -> str:
    try:
        return str(file.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(file)


def _variables(variables: Any) -> dict[str, Any]:
    """vars= is a mapping of template names to values (vars={"schema": "analytics"})."""
    if variables is None:
        return {}
    if not isinstance(variables, Mapping):
        raise DefinitionError(
            f"vars must map names to values, such as vars={{'schema': 'analytics'}}; "
            f"got a {type(variables).__name__}"
        )
    bad = [k for k in variables if not isinstance(k, str) or not k.isidentifier()]
    if bad:
        raise DefinitionError(f"vars names must be identifiers (template names), got {bad[0]!r}")
    return dict(variables)
