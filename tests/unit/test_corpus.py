"""The corpus of malformed definitions: every mistake is a located, readable DefinitionError.

Each `tests/corpus/bad/<case>.yml` (or folder `tests/corpus/bad/<case>/`, whose failing file
carries the header) starts with comment lines saying what loading it must raise:

    # expect: DefinitionError          exact class (SchemaError is a DefinitionError subclass)
    # line: 12                          1-based line of the mistake, counting these headers
    # field: sources.events.measures.revenue.agg   dotted field path (omitted for YAML syntax)
    # message: invalid value 'summ'     fragment of the message (repeatable)
    # suggest: sum                      the message says "did you mean 'sum'?"
    # con: duckdb                       load with a DuckDB connection holding SHOP_TABLES
    # vars: {"name": "value"}           JSON passed as vars=
    # file: b.yml                       basename of the file the error names (folder cases)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from dataclasses import field as _field
from pathlib import Path
from typing import Any

import ibis
import pytest

import metrics_layer as ml
from metrics_layer.errors import DefinitionError, MetricsLayerError, SchemaError

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
BAD = CORPUS / "bad"
GOOD = CORPUS / "good"

SHOP_TABLES = {
    "events": "event_id INTEGER, ts TIMESTAMP, user_id INTEGER, event_type VARCHAR, "
    "platform VARCHAR, revenue DOUBLE",
    "users": "user_id INTEGER, signup_at TIMESTAMP, country VARCHAR, plan VARCHAR",
}
SHOP_ROWS = {
    "events": "(1, TIMESTAMP '2024-01-01 10:00:00', 1, 'signup', 'Web', NULL), "
    "(2, TIMESTAMP '2024-01-02 11:00:00', 1, 'purchase', 'Web', 30.5), "
    "(3, TIMESTAMP '2024-02-01 09:00:00', 2, 'signup', 'iOS', NULL)",
    "users": "(1, TIMESTAMP '2024-01-01 09:00:00', 'DE', 'pro'), "
    "(2, TIMESTAMP '2024-02-01 08:00:00', 'FR', 'free')",
}
FOREIGN = (
    "Traceback",
    "https://",
    "pydantic",
    "Value error",
    "<class",
    "ValidationError",
    "For further information",
)


def shop_connection() -> Any:
    """In-memory DuckDB with the tables the corpus refers to."""
    con = ibis.duckdb.connect()
    for name, columns in SHOP_TABLES.items():
        con.raw_sql(f"CREATE TABLE {name} ({columns})").fetchall()
        con.raw_sql(f"INSERT INTO {name} VALUES {SHOP_ROWS[name]}").fetchall()
    return con


@dataclass
class Case:
    name: str
    path: Path  # the file, or the folder of a multi-file case
    header_file: Path
    expect: str = ""
    line: int = 0
    field: str | None = None
    messages: list[str] = _field(default_factory=list)
    suggest: str | None = None
    con: bool = False
    vars: dict[str, Any] = _field(default_factory=dict)
    file: str | None = None


def _read_header(case: Case) -> Case:
    for raw in case.header_file.read_text(encoding="utf-8").splitlines():
        m = re.match(r"#\s*(\w+):\s?(.*)$", raw)
        if not m:
            break
        key, value = m.group(1), m.group(2).strip()
        if key == "expect":
            case.expect = value
        elif key == "line":
            case.line = int(value)
        elif key == "field":
            case.field = value
        elif key == "message":
            case.messages.append(value)
        elif key == "suggest":
            case.suggest = value
        elif key == "con":
            case.con = value == "duckdb"
        elif key == "vars":
            case.vars = json.loads(value)
        elif key == "file":
            case.file = value
        else:
            raise AssertionError(f"{case.header_file}: unknown header key {key!r}")
    assert case.expect and case.line, f"{case.header_file}: header needs expect and line"
    case.file = case.file or case.header_file.name
    return case


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(BAD.iterdir()):
        if path.is_dir():
            headed = [f for f in sorted(path.rglob("*.y*ml")) if "# expect:" in f.read_text()]
            assert len(headed) == 1, f"{path}: exactly one file carries the header"
            cases.append(_read_header(Case(path.name, path, headed[0])))
        elif path.suffix in (".yml", ".yaml"):
            cases.append(_read_header(Case(path.stem, path, path)))
    return cases


CASES = load_cases()


@pytest.fixture(scope="module")
def shop_con() -> Any:
    """One connection shared by every schema case: a failed load must not damage it."""
    return shop_connection()


def test_corpus_is_large_and_covers_schema_errors() -> None:
    assert len(CASES) >= 45
    assert sum(c.con for c in CASES) >= 8
    assert sum(c.suggest is not None for c in CASES) >= 20
    assert any(c.path.is_dir() for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_definition(case: Case, shop_con: Any) -> None:
    con = shop_con if case.con else None
    with pytest.raises(MetricsLayerError) as info:
        ml.load(case.path, con=con, vars=case.vars)
    exc = info.value
    text = str(exc)

    # (a) the exact error type, never a pydantic/yaml/jinja/ibis exception
    assert type(exc).__name__ == case.expect, text
    assert isinstance(exc, DefinitionError)
    assert exc.__cause__ is None or isinstance(exc.__cause__, MetricsLayerError), repr(
        exc.__cause__
    )

    # one readable line, nothing from the libraries underneath
    assert "\n" not in text, text
    for foreign in FOREIGN:
        assert foreign not in text, f"{foreign!r} in {text!r}"

    # (b) the file and the field path; the located format is `file:line: field.path: message`
    assert exc.location.file is not None and Path(exc.location.file).name == case.file, text
    assert exc.location.field == case.field, text
    # (c) the line
    assert exc.location.line == case.line, text
    prefix = f"{exc.location.file}:{case.line}: " + (f"{case.field}: " if case.field else "")
    assert text.startswith(prefix), f"{text!r} does not start with {prefix!r}"
    assert text == prefix + exc.reason

    for fragment in case.messages:
        assert fragment in exc.reason, f"{fragment!r} not in {exc.reason!r}"
    # (d) a suggestion for a misspelt name
    if case.suggest is not None:
        hint = re.search(r"did you mean ([^?]*)\?", exc.reason)
        assert hint is not None, exc.reason
        assert repr(case.suggest) in hint.group(1), exc.reason


@pytest.mark.parametrize("case", [c for c in CASES if c.con], ids=[c.name for c in CASES if c.con])
def test_schema_cases_are_valid_without_a_connection(case: Case) -> None:
    """A schema case fails only because of the schema: without a connection it loads."""
    ml.load(case.path, vars=case.vars)


def test_good_corpus_loads_and_checks_against_duckdb() -> None:
    con = shop_connection()
    layer = ml.load(GOOD, con=con)
    assert set(layer.registry.sources) == {"events", "users"}
    assert set(layer.metrics()) >= {"active_users", "purchase_conversion", "gross_revenue"}
    assert layer.registry.project.metrics["gross_revenue"].measure == "events.revenue"
    templated = ml.load(GOOD, con=con, vars={"revenue_measure": "p90_revenue"})
    assert templated.registry.project.metrics["gross_revenue"].measure == "events.p90_revenue"


def test_schema_error_is_a_definition_error() -> None:
    assert issubclass(SchemaError, DefinitionError)
    assert issubclass(DefinitionError, MetricsLayerError)


def test_schema_errors_on_each_backend(backend: Any, tmp_path: Path) -> None:
    """The schema check (columns, table listing for suggestions) works on every backend."""
    import pandas as pd

    events = backend.unique_name("events")
    backend.load(
        {
            events: pd.DataFrame(
                {
                    "event_id": [1, 2],
                    "user_id": [1, 2],
                    "revenue": [1.5, 2.0],
                    "ts": pd.to_datetime(["2024-01-01", "2024-01-02"]),
                }
            )
        }
    )
    try:
        good = (
            f"version: 1\nsources:\n  events:\n    table: {events}\n    time: ts\n"
            "    measures:\n      revenue: {agg: sum, expr: revenue}\n"
        )
        defs = tmp_path / "shop.yml"
        defs.write_text(good.replace("expr: revenue", "expr: revenu"))
        with pytest.raises(
            SchemaError,
            match=r"shop\.yml:7: sources\.events\.measures\.revenue\.expr: "
            r"unknown column or dimension 'revenu'.*did you mean 'revenue'",
        ):
            ml.load(defs, con=backend.con)
        defs.write_text(good.replace(f"table: {events}", f"table: {events}x"))
        with pytest.raises(
            SchemaError, match=rf"shop\.yml:4: sources\.events\.table: .*did you mean '{events}'"
        ):
            ml.load(defs, con=backend.con)
        defs.write_text(good)  # the failed loads left the connection usable
        assert "events.revenue" in ml.load(defs, con=backend.con).registry.queryable_names()
    finally:
        backend.drop(events)
