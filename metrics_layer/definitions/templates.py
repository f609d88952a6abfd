"""Jinja rendering of definition files: vars are values, never structure; work is bounded.

Three things happen around a plain sandboxed render:

* Every `{{ ... }}` output is replaced by a placeholder while rendering, then inserted as ONE
  YAML scalar according to where it lands: escaped inside a double- or single-quoted string,
  re-indented inside a block scalar (`|`, `>`), kept as written when it is a plain word
  (`table: {{ schema }}.events`), written as a quoted string when it is a whole value that
  YAML would misread (`#`, `: `, quotes, a newline), and refused where it would change the
  structure in the middle of a line. Outputs of macros (and `caller()`) are template text,
  not values: they stay as the template wrote them, so macros that generate definitions work.
* Each line of template text carries its line number through the render, so errors name the
  line of the file as written even when loops and macros add or remove lines.
* Render time, output size and the strings and numbers a template builds are bounded
  (metrics_layer.limits), so a loop or `'a' * 10**10` fails in seconds with a clear error.
"""

from __future__ import annotations

import ctypes
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.runtime import Macro
from jinja2.sandbox import SandboxedEnvironment

from metrics_layer import limits
from metrics_layer.errors import DefinitionError, Location

_VALUE_OPEN, _VALUE_CLOSE, _LINE_OPEN, _LINE_CLOSE = "\ue000", "\ue001", "\ue002", "\ue003"
_PRIVATE = re.compile("[\ue000-\ue003]")
_LINE_MARK = re.compile(f"{_LINE_OPEN}(\\d+){_LINE_CLOSE}")
_PLACEHOLDER = re.compile(f"{_VALUE_OPEN}(\\d+){_VALUE_CLOSE}")


class TemplateText(str):
    """Text a macro produced: part of the template, inserted as written."""


class RenderTimeout(BaseException):
    """Raised asynchronously in the rendering thread; a BaseException so no `except
    Exception` inside Jinja or a filter can swallow it."""


class _Environment(SandboxedEnvironment):
    """The sandbox, with macro results marked as template text and sizes bounded."""

    intercepted_binops = frozenset(("*", "**", "+", "%"))

    def __init__(self) -> None:
        super().__init__(
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,
            finalize=self._finalize,
        )
        self.values: list[Any] = []
        self.value_bytes = 0
        self.filters = {k: _keep_text(k, f) for k, f in self.filters.items()}
        self.globals["range"] = _bounded_range

    def _finalize(self, value: Any) -> Any:
        if isinstance(value, TemplateText):
            return value
        if isinstance(value, jinja2.Undefined):
            str(value)  # StrictUndefined raises here, inside the template's frame
        # values are kept aside until the text is rendered: they count towards its size
        self.value_bytes += len(value) if isinstance(value, str | bytes) else 32
        if self.value_bytes > limits.MAX_RENDERED_BYTES:
            raise _TooBig(f"rendered text of more than {limits.MAX_RENDERED_BYTES:,} characters")
        self.values.append(value)
        return f"{_VALUE_OPEN}{len(self.values) - 1}{_VALUE_CLOSE}"

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        result = SandboxedEnvironment.call(__self, __context, __obj, *args, **kwargs)
        if isinstance(__obj, Macro) and isinstance(result, str):
            return TemplateText(result)
        return result

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        ints = isinstance(left, int) and isinstance(right, int)
        if operator == "**" and ints and left.bit_length() * right > 1_000_000:  # bits
            raise _too_big(f"a power of {left.bit_length() * right:,} bits")
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                sized = isinstance(seq, str | list | tuple) and isinstance(n, int)
                if sized and len(seq) * n > limits.MAX_TEMPLATE_ITEMS:
                    raise _too_big(f"a text or list of {len(seq) * n:,} items")
        if operator in ("+", "%") and isinstance(left, str | list | tuple):
            size = len(left) + (len(right) if isinstance(right, str | list | tuple) else 0)
            if size > limits.MAX_TEMPLATE_ITEMS:
                raise _too_big(f"a text or list of {size:,} items")
        if operator == "%" and isinstance(left, str) and re.search(r"%\d{7,}", left):
            raise _too_big(f"a format width in {left[:30]!r}")
        return super().call_binop(context, operator, left, right)


class _TooBig(Exception):
    pass


def _too_big(what: str) -> _TooBig:
    return _TooBig(what)


def _keep_text(name: str, f: Callable[..., Any]) -> Callable[..., Any]:
    """indent/trim of a macro's text is still template text; other filters make values."""
    sized = name in ("center", "indent", "wordwrap", "truncate", "batch", "slice")

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if sized:
            for n in (*args[1:], *kwargs.values()):
                if isinstance(n, int) and not isinstance(n, bool) and n > 100_000:
                    raise _too_big(f"{name}({n:,})")
        result = f(*args, **kwargs)
        text = next((a for a in args if isinstance(a, str)), None)
        if name in ("indent", "trim") and isinstance(text, TemplateText):
            return TemplateText(result)
        return result

    wrapped.__dict__.update(getattr(f, "__dict__", {}))  # pass_context / pass_environment marks
    return wrapped


def _bounded_range(*args: int) -> Iterator[int]:
    r = range(*args)
    if len(r) > 100_000:  # the sandbox's own bound, kept
        raise _too_big(f"range of {len(r):,} items")
    return iter(r)


def render_template(text: str, file: str, variables: Mapping[str, Any]) -> tuple[str, list[int]]:
    """Render `text`; return the YAML text and, per rendered line, its line in the file.

    Jinja's own errors (syntax, undefined names, the sandbox) propagate for the loader to word.
    """
    if _PRIVATE.search(text):
        line = text[: _PRIVATE.search(text).start()].count("\n") + 1  # type: ignore[union-attr]
        raise DefinitionError(
            "the file holds reserved characters U+E000-U+E003", Location(file, line)
        )
    _check_var_text(variables)
    env = _Environment()
    tree = env.parse(text)
    _mark_lines(tree)
    template = env.from_string(tree)
    chunks = _with_deadline(lambda: _generate(template, variables), file)
    return _insert_values("".join(chunks), env.values, file)


def _check_var_text(variables: Mapping[str, Any]) -> None:
    def walk(v: Any) -> None:
        if isinstance(v, str) and _PRIVATE.search(v):
            raise DefinitionError("a var holds reserved characters U+E000-U+E003")
        if isinstance(v, Mapping):
            for x in v.values():
                walk(x)
        elif isinstance(v, list | tuple):
            for x in v:
                walk(x)

    walk(dict(variables))


def _mark_lines(tree: nodes.Template) -> None:
    """End every line of template text with its line number in the file."""
    for data in tree.find_all(nodes.TemplateData):
        line = data.lineno
        out = []
        for part in data.data.split("\n")[:-1]:
            out.append(f"{part}{_LINE_OPEN}{line}{_LINE_CLOSE}\n")
            line += 1
        out.append(data.data.split("\n")[-1])
        data.data = "".join(out)


def _generate(template: jinja2.Template, variables: Mapping[str, Any]) -> list[str]:
    chunks: list[str] = []
    size = 0
    for chunk in template.generate(**dict(variables)):
        size += len(chunk)
        if size > limits.MAX_RENDERED_BYTES:
            raise _TooBig(f"rendered text of more than {limits.MAX_RENDERED_BYTES:,} characters")
        chunks.append(chunk)
    return chunks


def _with_deadline(work: Callable[[], list[str]], file: str) -> list[str]:
    """Run `work`, interrupting it after MAX_RENDER_SECONDS (an asynchronous exception)."""
    lock, state = threading.Lock(), {"done": False}
    thread_id = threading.get_ident()

    def interrupt() -> None:
        with lock:
            if not state["done"]:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(thread_id), ctypes.py_object(RenderTimeout)
                )

    timer = threading.Timer(limits.MAX_RENDER_SECONDS, interrupt)
    timer.daemon = True
    try:
        try:
            timer.start()
            return work()
        finally:
            with lock:
                state["done"] = True
            timer.cancel()
    except RenderTimeout:
        raise limits.definition_limit(
            "MAX_RENDER_SECONDS",
            f"template error: rendering takes more than {limits.MAX_RENDER_SECONDS:g} s "
            "(a loop too long?)",
            Location(file),
        ) from None
    except _TooBig as exc:
        name = (
            "MAX_RENDERED_BYTES" if str(exc).startswith("rendered text") else "MAX_TEMPLATE_ITEMS"
        )
        raise limits.definition_limit(
            name, f"template error: the template builds {exc}", Location(file)
        ) from None


# ---------------------------------------------------------------- inserting values


def _insert_values(rendered: str, values: list[Any], file: str) -> tuple[str, list[int]]:
    lines = rendered.split("\n")
    line_of: list[int] = []
    for raw in lines:
        m = _LINE_MARK.search(raw)
        line_of.append(int(m.group(1)) if m else -1)
    # a line without a mark (the last one, text from a block value) belongs to the next mark
    nxt = line_of[-1] if line_of and line_of[-1] > 0 else (max(line_of, default=0) + 1)
    for i in range(len(line_of) - 1, -1, -1):
        if line_of[i] < 0:
            line_of[i] = nxt
        nxt = line_of[i]
    if not values:
        return _LINE_MARK.sub("", rendered), line_of
    scanner = _Scanner(values, file, line_of)
    out: list[str] = []
    new_line_of: list[int] = []
    for i, raw in enumerate(lines):
        done = scanner.line(_LINE_MARK.sub("", raw), i)
        out.append(done)
        new_line_of += [line_of[i]] * (done.count("\n") + 1)  # a value re-indented in a block
    return "\n".join(out), new_line_of


class _Scanner:
    """Follows YAML's quoting line by line, just enough to know where each value lands."""

    def __init__(self, values: list[Any], file: str, line_of: list[int]) -> None:
        self.values, self.file, self.line_of = values, file, line_of
        self.quote: str | None = None
        self.flow = 0
        self.block_indent: int | None = None

    def line(self, text: str, index: int) -> str:
        indent = len(text) - len(text.lstrip(" "))
        if self.block_indent is not None:
            if not text.strip() or indent > self.block_indent:
                return _PLACEHOLDER.sub(lambda m: self._block(m, text[:indent]), text)
            self.block_indent = None
        out: list[str] = []
        i, comment = 0, False
        while i < len(text):
            ch = text[i]
            if ch == _VALUE_OPEN:
                m = _PLACEHOLDER.match(text, i)
                assert m is not None
                out.append(
                    self._value(int(m.group(1)), comment, "".join(out), text[m.end() :], index)
                )
                i = m.end()
                continue
            out.append(ch)
            if comment:
                pass
            elif self.quote == '"':
                if ch == "\\" and i + 1 < len(text):
                    out.append(text[i + 1])
                    i += 1
                elif ch == '"':
                    self.quote = None
            elif self.quote == "'":
                if ch == "'" and text[i + 1 : i + 2] == "'":
                    out.append("'")
                    i += 1
                elif ch == "'":
                    self.quote = None
            elif ch in "\"'" and _scalar_starts("".join(out[:-1])):
                self.quote = ch
            elif ch == "#" and (i == 0 or text[i - 1] in " \t"):
                comment = True
            elif ch in "[{":
                self.flow += 1
            elif ch in "]}":
                self.flow = max(0, self.flow - 1)
            i += 1
        done = "".join(out)
        code = done.split(" #")[0] if not self.quote else ""
        if self.quote is None and self.flow == 0 and re.search(r"(^|\s)[|>][1-9+-]{0,2}\s*$", code):
            self.block_indent = indent
        return done

    def _block(self, m: re.Match[str], indent: str) -> str:
        return _text(self.values[int(m.group(1))]).replace("\n", "\n" + indent)

    def _value(self, n: int, comment: bool, before: str, after: str, index: int) -> str:
        value = self.values[n]
        if not isinstance(value, str):
            value = _text(value)
            if re.fullmatch(r"-?[\w.+]*", value):  # numbers, booleans, None
                return value
        if comment:
            return value.replace("\n", " ").replace("\r", " ")
        if self.quote == '"':
            return json.dumps(value, ensure_ascii=False)[1:-1]
        if self.quote == "'":
            if "\n" in value or "\r" in value:
                self._refuse(value, index, "a line break inside '...'; use \"...\" quotes")
            return value.replace("'", "''")
        if _plain_safe(value, self.flow > 0):
            return value
        after_text = _PLACEHOLDER.sub("x", after)
        if _whole_value(before, after_text, self.flow > 0):
            return json.dumps(value, ensure_ascii=False)
        self._refuse(
            value,
            index,
            "characters that YAML reads as structure here; put the "
            'insertion in quotes ("...{{ var }}...")',
        )
        return value  # pragma: no cover - _refuse raises

    def _refuse(self, value: str, index: int, why: str) -> None:
        shown = value if len(value) <= 40 else value[:37] + "..."
        raise DefinitionError(
            f"template error: the value {shown!r} inserted here has {why}",
            Location(self.file, self.line_of[index]),
        )


def _text(value: Any) -> str:
    return str(value)


def _scalar_starts(before: str) -> bool:
    """A quote opens a quoted scalar only where a value or key begins (`it's` is plain)."""
    stripped = before.rstrip(" \t")
    if stripped == "" or stripped[-1] in "[{,":
        return True
    return stripped[-1] in ":-?" and stripped != before


_PLAIN_START = re.compile(r"[^\s?:,\[\]{}#&*!|>'\"%@`-]|-[^\s]|[?:][^\s]")


def _plain_safe(value: str, flow: bool) -> bool:
    """Text YAML reads back as exactly this plain scalar, wherever it is inserted in a line."""
    if not value or value != value.strip() or not _PLAIN_START.match(value):
        return False
    if re.search(r"[\n\r\t#'\"\x00-\x1f]|: |:$", value):
        return False
    return not (flow and re.search(r"[,\[\]{}]", value))


def _whole_value(before: str, after: str, flow: bool) -> bool:
    """The insertion is a complete value: after `key: `, `- ` or a flow separator, and
    followed only by the end of the line (or a comment, or a flow separator)."""
    starts = re.search(r"(^|:\s+|-\s+|[\[{,]\s*)$", before) is not None and before.strip() != ""
    ends = re.fullmatch(r"\s*(#.*)?" if not flow else r"\s*([,}\]].*)?", after) is not None
    return starts and ends
