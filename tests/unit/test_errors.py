"""The error hierarchy and the loader's guarantees around it.

- a DefinitionError reads `file:line: field.path: message`, on one line;
- nothing but a MetricsLayerError ever leaves `ml.load` (checked by fuzzing a good file);
- a failed load leaves nothing behind: the next load, even on the same connection, works;
- loading 1,000 metrics stays fast.
"""

from __future__ import annotations

import pickle
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metrics_layer as ml
from metrics_layer.errors import (
    DefinitionError,
    ExpressionError,
    Location,
    MetricsLayerError,
    QueryError,
    SchemaError,
    suggest,
    unknown,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_corpus import BAD, GOOD, shop_connection  # noqa: E402

GOOD_SHOP = (GOOD / "shop.yml").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------- the error types
def test_location_formats() -> None:
    assert str(Location("defs/a.yml", 3, "metrics.x.expr")) == "defs/a.yml:3: metrics.x.expr"
    assert str(Location("defs/a.yml", None, "metrics.x")) == "defs/a.yml: metrics.x"
    assert str(Location("defs/a.yml", 7)) == "defs/a.yml:7"
    assert str(Location(None, 7, "version")) == "line 7: version"
    assert str(Location()) == ""


def test_definition_error_format_and_attributes() -> None:
    exc = DefinitionError(
        "unknown field 'tabel'", Location("defs/shop.yml", 12, "sources.events.tabel")
    )
    assert str(exc) == "defs/shop.yml:12: sources.events.tabel: unknown field 'tabel'"
    assert (exc.file, exc.line, exc.field, exc.reason) == (
        "defs/shop.yml",
        12,
        "sources.events.tabel",
        "unknown field 'tabel'",
    )
    assert str(DefinitionError("no location")) == "no location"


def test_messages_are_one_line_without_python_reprs() -> None:
    exc = DefinitionError(
        "cannot be parsed:\n  missing for <class 'sqlglot.expressions.Div'>\n", Location("a.yml", 1)
    )
    assert str(exc) == "a.yml:1: cannot be parsed: missing for Div"


def test_errors_survive_pickling_with_their_location() -> None:
    exc = SchemaError("column 'x' not found", Location("a.yml", 4, "sources.s.time"))
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is SchemaError
    assert (str(back), back.location) == (str(exc), exc.location)


def test_hierarchy_and_public_names() -> None:
    assert issubclass(SchemaError, DefinitionError)
    for cls in (
        DefinitionError,
        QueryError,
        ExpressionError,
        ml.ConnectionError,
        ml.ExecutionError,
    ):
        assert issubclass(cls, MetricsLayerError)
    assert ml.DefinitionError is DefinitionError and ml.SchemaError is SchemaError


def test_suggest_and_unknown() -> None:
    assert suggest("summ", ["sum", "count", "avg"]) == " (did you mean 'sum'?)"
    assert suggest("Revenue", ["revenue_total", "revenue"]).startswith(" (did you mean 'revenue'")
    assert suggest("xyz", ["sum", "count"]) == ""
    assert (
        unknown("source", "usrs", ["users", "events"])
        == "unknown source 'usrs' (did you mean 'users'?)"
    )


# ---------------------------------------------------------------------------- paths and files
def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="does not exist"):
        ml.load(tmp_path / "nope")
    with pytest.raises(DefinitionError, match=r"no \*\.yml or \*\.yaml files"):
        ml.load(tmp_path)


def test_unreadable_file_is_a_definition_error(tmp_path: Path) -> None:
    (tmp_path / "latin1.yml").write_bytes("metrics:\n  caf\xe9: {}\n".encode("latin-1"))
    with pytest.raises(DefinitionError, match=r"latin1\.yml:2: cannot read file: not UTF-8"):
        ml.load(tmp_path)


def test_jinja_sandbox_blocks_unsafe_templates(tmp_path: Path) -> None:
    (tmp_path / "evil.yml").write_text(
        "version: 1\n# {{ ''.__class__.__mro__[1].__subclasses__() }}\n"
    )
    with pytest.raises(DefinitionError, match=r"evil\.yml.*template error"):
        ml.load(tmp_path)


def test_empty_file_is_allowed(tmp_path: Path) -> None:
    (tmp_path / "empty.yml").write_text("# nothing yet\n")
    (tmp_path / "shop.yml").write_text(GOOD_SHOP)
    assert "revenue" in ml.load(tmp_path).metrics()


# ---------------------------------------------------------------------------- no partial state
def _write_bad_folder(root: Path) -> Path:
    root.mkdir()
    (root / "a_shop.yml").write_text(GOOD_SHOP)
    (root / "b_typo.yml").write_text("version: 1\nmetrics:\n  oops: {measure: events.revenu}\n")
    return root


def test_failed_load_leaves_no_state(tmp_path: Path) -> None:
    bad = _write_bad_folder(tmp_path / "bad")
    with pytest.raises(DefinitionError) as first:
        ml.load(bad)
    with pytest.raises(DefinitionError) as second:
        ml.load(bad)
    assert str(first.value) == str(second.value)  # nothing remembered between loads
    assert "b_typo.yml:3: metrics.oops.measure" in str(first.value)
    layer = ml.load(GOOD)
    assert "oops" not in layer.metrics()
    assert "purchase_conversion" in layer.metrics()


def test_failed_schema_check_leaves_the_connection_usable(tmp_path: Path) -> None:
    con = shop_connection()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "shop.yml").write_text(GOOD_SHOP.replace("table: users", "table: user"))
    with pytest.raises(
        SchemaError,
        match=r"shop\.yml:\d+: sources\.users\.table: table 'user'.*did you mean 'users'",
    ):
        ml.load(bad, con=con)
    layer = ml.load(GOOD, con=con)
    assert con.table("events").count().execute() == 3
    assert set(layer.registry.columns("users") or {}) == {"user_id", "signup_at", "country", "plan"}


def test_every_bad_case_then_a_good_load_on_one_connection() -> None:
    con = shop_connection()
    for path in sorted(BAD.glob("schema_*.yml")):
        with pytest.raises(SchemaError):
            ml.load(path, con=con)
    assert ml.load(GOOD, con=con).metrics()
    assert con.table("users").count().execute() == 2


# ---------------------------------------------------------------------------- fuzzing
_NOISE = [
    ":",
    "-",
    " ",
    "  ",
    "\t",
    "\n",
    "'",
    '"',
    "{",
    "}",
    "[",
    "]",
    ",",
    "#",
    "&a",
    "*a",
    "!",
    "|",
    ">",
    "%",
    "{{",
    "}}",
    "{%",
    "%}",
    "on",
    "null",
    "~",
    "0",
    "1.5",
    "x",
    "..",
    "<<: ",
    "---\n",
    "\\",
    "()",
    "(select 1)",
    ";",
    "--",
    "sum(",
    "p: 2",
    "yes",
    "!x ",
    "!!binary ",
    "2024-13-45",
    "? ",
    "\ufeff",
    "é",
]


@st.composite
def mutated_shop(draw: Any) -> str:
    """The good shop file with a few random insertions, deletions and line swaps."""
    text = GOOD_SHOP
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "swap", "dup"]))
        if action == "insert":
            text = text[:pos] + draw(st.sampled_from(_NOISE)) + text[pos:]
        elif action == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 12)) :]
        else:
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            if action == "swap":
                lines[i], lines[j] = lines[j], lines[i]
            else:
                lines.insert(j, lines[i])
            text = "\n".join(lines)
    return text


_FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


_SHOP_CON: list[Any] = []


def _shared_con() -> Any:
    if not _SHOP_CON:
        _SHOP_CON.append(shop_connection())
    return _SHOP_CON[0]


@_FUZZ
@given(text=mutated_shop())
def test_fuzzed_definitions_raise_only_located_definition_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.yml"
    path.write_text(text, encoding="utf-8")
    try:
        ml.load(path, con=_shared_con(), check_schema=False)  # a shared con: no connect per example
    except DefinitionError as exc:
        assert "\n" not in str(exc)
        assert exc.location.file is not None and exc.location.file.endswith("fuzz.yml"), str(exc)
        assert str(exc).startswith(exc.location.file)


@settings(_FUZZ, max_examples=150)
@given(text=mutated_shop())
def test_fuzzed_definitions_with_a_connection(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.yml"
    path.write_text(text, encoding="utf-8")
    try:
        ml.load(path, con=_shared_con())
    except DefinitionError as exc:
        assert exc.location.file is not None and exc.location.file.endswith("fuzz.yml"), str(exc)


# ---------------------------------------------------------------------------- speed
def _generate(root: Path, n_metrics: int = 1000, files: int = 10) -> None:
    measures = "\n".join(f'      m{i}: {{agg: sum, expr: "revenue * {i}"}}' for i in range(50))
    (root / "sources.yml").write_text(
        "version: 1\nsources:\n  events:\n    table: events\n    time: ts\n"
        '    dimensions: {event_type: {}, platform: {expr: "lower(platform)"}}\n'
        f"    measures:\n      n: {{agg: count}}\n{measures}\n"
    )
    per_file = n_metrics // files
    for f in range(files):
        lines = ["version: 1", "metrics:"]
        for k in range(f * per_file, (f + 1) * per_file):
            kind = k % 4
            if kind == 0:
                lines.append(f"  metric_{k}: {{measure: events.m{k % 50}, description: generated}}")
            elif kind == 1:
                lines.append(
                    f"  metric_{k}: {{type: ratio, numerator: events.m{k % 50}, denominator: events.n}}"
                )
            elif kind == 2:
                lines.append(
                    f'  metric_{k}: {{type: derived, expr: "metric_{k - 2} / metric_{k - 1}"}}'
                )
            else:
                lines += [
                    f"  metric_{k}:",
                    f"    measure: events.m{k % 50}",
                    f"    filter: \"event_type = 'e{k}'\"",
                    "    validation: {min: 0}",
                ]
        (root / f"metrics_{f:02d}.yml").write_text("\n".join(lines) + "\n")


def test_loading_1000_metrics_is_fast(tmp_path: Path) -> None:
    _generate(tmp_path)
    started = time.perf_counter()
    layer = ml.load(tmp_path)
    elapsed = time.perf_counter() - started
    assert len(layer.metrics()) == 1000
    assert len(layer.registry.sources["events"].measures) == 51
    assert elapsed < 5.0, (
        f"loading 1,000 metrics took {elapsed:.2f} s"
    )  # generous: catches regressions


def test_loading_1000_metrics_with_a_connection(tmp_path: Path) -> None:
    _generate(tmp_path)
    layer = ml.load(tmp_path, con=shop_connection())
    assert len(layer.metrics()) == 1000
