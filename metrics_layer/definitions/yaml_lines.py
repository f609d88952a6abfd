"""YAML parsing that remembers the line of every key, so errors can point into the file."""

from __future__ import annotations

from typing import Any

import yaml

try:  # libyaml is ~10x faster; loading 1,000 metrics must stay well under half a second
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - pure-Python fallback
    from yaml import SafeLoader as _Loader

Path_ = tuple[str | int, ...]


class YamlSyntaxError(ValueError):
    """A YAML problem with the 1-based line and, when known, the dotted key path."""

    def __init__(self, message: str, line: int | None, field: str | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.field = field


def load_with_lines(text: str) -> tuple[Any, dict[Path_, int]]:
    """Parse one YAML document; return the data and a map from key path to 1-based line."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, text) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"invalid YAML: {exc}", None) from None
    if node is None:
        return None, {}
    lines: dict[Path_, int] = {}
    data = _convert(node, (), lines, _Budget())
    return data, lines


class _Budget:
    """Aliases share nodes, so a few hundred bytes can expand into billions of values (the
    'billion laughs'): count alias uses and expanded values while converting."""

    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.aliases = 0
        self.nodes = 0

    def spend(self, node: yaml.Node) -> None:
        from metrics_layer import limits

        self.nodes += 1
        if isinstance(node, yaml.CollectionNode):
            if id(node) in self.seen:
                self.aliases += 1
            self.seen.add(id(node))
        line = node.start_mark.line + 1
        if self.aliases > limits.MAX_YAML_ALIASES:
            raise YamlSyntaxError(
                f"invalid YAML: more than {limits.MAX_YAML_ALIASES:,} alias uses (*name) "
                f"{limits.how_to_raise('MAX_YAML_ALIASES')}",
                line,
            )
        if self.nodes > limits.MAX_YAML_NODES:
            raise YamlSyntaxError(
                f"invalid YAML: more than {limits.MAX_YAML_NODES:,} values once aliases are "
                f"expanded {limits.how_to_raise('MAX_YAML_NODES')}",
                line,
            )


def _convert(node: yaml.Node, path: Path_, lines: dict[Path_, int], budget: _Budget) -> Any:
    budget.spend(node)
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlSyntaxError(
                    "YAML merge keys (<<) are not supported; write the fields out "
                    "(or use a Jinja macro)",
                    key_node.start_mark.line + 1,
                    _dotted((*path, "<<")),
                )
            key = _scalar(key_node, path)
            line = key_node.start_mark.line + 1
            if isinstance(key, bool):
                hint = "; a join takes `keys:`, not `on:`" if key_node.value.lower() == "on" else ""
                raise YamlSyntaxError(
                    f"key {key_node.value!r} is read as the boolean {key} (YAML 1.1 turns bare "
                    f"on/off/yes/no into booleans): quote it{hint}",
                    line,
                    _dotted((*path, key_node.value)),
                )
            if not isinstance(key, str):
                kind = (
                    "nothing (null)"
                    if key is None
                    else f"a {_KINDS.get(type(key), type(key).__name__)}"
                )
                raise YamlSyntaxError(
                    f"key {key_node.value!r} must be a name, but YAML reads it as {kind}; quote it",
                    line,
                    _dotted(path) or None,
                )
            if key in out:
                raise YamlSyntaxError(
                    f"duplicate key {key!r} (first on line {lines[(*path, key)]})",
                    line,
                    _dotted((*path, key)),
                )
            sub = (*path, key)
            lines[sub] = line
            out[key] = _convert(value_node, sub, lines, budget)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), lines, budget) for i, item in enumerate(node.value)]
    return _scalar(node, path)


def _syntax_error(exc: yaml.MarkedYAMLError, text: str) -> YamlSyntaxError:
    """PyYAML's problem in plain words, on the line a reader should look at."""
    problem = str(exc.problem or exc).strip()
    mark, context = exc.problem_mark or exc.context_mark, exc.context_mark
    context_text = (exc.context or "").strip()
    unclosed = (
        mark is None
        or "end of stream" in problem
        or "simple key" in context_text
        or ("flow" in context_text and context is not None and context.line < mark.line)
    )
    if context is not None and context_text and unclosed:
        mark = context  # an unclosed quote/bracket: point where it was opened, not further on
    line = mark.line + 1 if mark is not None else None
    if "another document" in problem:
        return YamlSyntaxError(
            "invalid YAML: a definition file holds one document, but a second "
            "one (---) starts here",
            line,
        )
    message = f"invalid YAML: {problem}"
    if context is not None and context_text:
        opened = context.line + 1
        for phrase, what in _CONTEXTS.items():
            if phrase in context_text:
                message += f" ({what.format(line=opened)})"
                break
        else:
            if opened != line:
                message += f" ({context_text}, from line {opened})"
    source_lines = text.splitlines()
    bad = source_lines[line - 1] if line and line <= len(source_lines) else ""
    if "\t" in bad:
        message += "; tabs cannot indent YAML, use spaces"
    elif any(hint in problem for hint in _INDENT_PROBLEMS):
        message += "; check the indentation"
    return YamlSyntaxError(message, line)


_CONTEXTS = {
    "quoted scalar": "the quoted text that starts on line {line} is never closed",
    "flow sequence": "in the [ ] list that starts on line {line}",
    "flow mapping": "in the {{ }} mapping that starts on line {line}",
    "simple key": "a key without ':' on line {line}?",
}
_INDENT_PROBLEMS = ("mapping values are not allowed", "expected key", "expected <block end>")


def _dotted(path: Path_) -> str:
    return ".".join(map(str, path))


def _scalar(node: yaml.Node, path: Path_ = ()) -> Any:
    """A scalar resolved exactly as safe_load would (text, ints, floats, booleans, null, dates)."""
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.ScalarNode):
        raise YamlSyntaxError("mapping keys must be plain names", line, _dotted(path) or None)
    if node.tag == _STR:
        return node.value
    build = _constructor.yaml_constructors.get(node.tag)
    if build is None or node.tag not in _SCALAR_TAGS:
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        raise YamlSyntaxError(
            f"YAML tag {tag!r} is not supported; remove it", line, _dotted(path) or None
        )
    # Called directly, not through construct_object, whose cache would keep every node alive.
    try:
        return build(_constructor, node)
    except Exception:  # noqa: BLE001 - e.g. a date such as 2024-13-45
        kind = {"timestamp": "date/time"}.get(
            node.tag.rsplit(":", 1)[-1], node.tag.rsplit(":", 1)[-1]
        )
        raise YamlSyntaxError(
            f"{node.value!r} is not a valid {kind}; quote it to keep it as text",
            line,
            _dotted(path) or None,
        ) from None


_KINDS = {int: "number", float: "number"}
_STR = "tag:yaml.org,2002:str"
_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float", "timestamp")
)
_constructor = yaml.constructor.SafeConstructor()


def line_of(lines: dict[Path_, int], path: Path_) -> int | None:
    """Line of the deepest known prefix of `path` (pydantic locations may go below YAML keys)."""
    for n in range(len(path), -1, -1):
        line = lines.get(tuple(path[:n]))
        if line is not None:
            return line
    return None
