"""The JSON Schema of definition files: every real definition passes, and every malformed one
whose mistake is a matter of shape, name, type or enumeration fails."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from metrics_layer.cli import app
from metrics_layer.definitions.loader import parse_file
from metrics_layer.definitions.models import Project
from metrics_layer.errors import MetricsLayerError
from metrics_layer.interchange.json_schema import definitions_schema

ROOT = Path(__file__).resolve().parents[2]
GOOD = sorted((ROOT / "metric_defs").rglob("*.yml")) + sorted(
    (ROOT / "tests" / "corpus" / "good").rglob("*.yml")
)


def _readable(paths: list[Path]) -> list[tuple[Path, Any]]:
    """Bad files that are YAML at all (Jinja and YAML syntax errors are not the schema's)."""
    out = []
    for path in paths:
        try:
            out.append((path, parse_file(path, {}, str(path))[0]))
        except MetricsLayerError:
            continue
    return out


BAD = _readable(sorted((ROOT / "tests" / "corpus" / "bad").rglob("*.y*ml")))
# pydantic errors that are about shape, names, types or enumerations: the schema must see them
STRUCTURAL = {
    "extra_forbidden",
    "missing",
    "literal_error",
    "string_pattern_mismatch",
    "too_short",
    "greater_than",
    "less_than",
    "dict_type",
    "list_type",
    "string_type",
    "model_type",
    "float_parsing",
}
VARS = {"revenue_measure": "revenue"}


def as_json(value: Any) -> Any:
    """YAML data as an editor's language server sees it (dates are strings in JSON)."""
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = definitions_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_is_described() -> None:
    schema = definitions_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    assert "description" in schema["properties"]["metrics"]
    metric = schema["$defs"]["Metric"]["properties"]
    assert "rolling" in metric["window"]["description"].lower()
    assert schema["$defs"]["Funnel"]["description"]


@pytest.mark.parametrize("path", GOOD, ids=[p.name for p in GOOD])
def test_good_files_pass(path: Path, validator: Any) -> None:
    data, _ = parse_file(path, VARS, str(path))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(as_json(data))]
    assert errors == []


def _pydantic_errors(data: Any) -> set[str]:
    try:
        Project.model_validate(data)
    except ValidationError as exc:
        return {e["type"] for e in exc.errors()}
    return set()


@pytest.mark.parametrize(("path", "data"), BAD, ids=[p.stem for p, _ in BAD])
def test_bad_files(path: Path, data: Any, validator: Any) -> None:
    kinds = _pydantic_errors(data)
    rejected = any(True for _ in validator.iter_errors(as_json(data)))
    if kinds & STRUCTURAL:
        assert rejected, f"schema accepts a file pydantic rejects with {kinds}"
    elif not kinds:
        # wrong only in cross-references, expressions or the database: the schema cannot tell
        assert not rejected, "schema rejects a file whose shape is valid"


@pytest.mark.parametrize(
    "name", ["percentile_without_p", "sum_without_expr", "p_on_sum", "unknown_field_metric"]
)
def test_rules_beyond_types(name: str, validator: Any) -> None:
    path = ROOT / "tests" / "corpus" / "bad" / f"{name}.yml"
    data, _ = parse_file(path, {}, str(path))
    assert any(True for _ in validator.iter_errors(as_json(data)))


def test_enough_bad_files_are_told(validator: Any) -> None:
    told = sum(any(True for _ in validator.iter_errors(as_json(d))) for _, d in BAD)
    assert len(BAD) >= 80 and told >= 35


def test_bare_dimension_and_single_name_lists(validator: Any) -> None:
    data = {
        "sources": {
            "e": {
                "dimensions": {"country": None},
                "checks": [{"unique": "id"}, {"columns": ["id", "ts"]}],
            }
        },
        "metrics": {"m": {"measure": "e.n", "validation": {"by": "country"}}},
    }
    assert list(validator.iter_errors(data)) == []
    Project.model_validate(data)  # the loader agrees
    data["sources"]["e"]["dimensions"]["bad name"] = {}
    assert list(validator.iter_errors(data))


def test_cli_prints_the_schema(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["schema"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == definitions_schema()
    out = tmp_path / "schema.json"
    assert CliRunner().invoke(app, ["schema", "--out", str(out)]).exit_code == 0
    assert json.loads(out.read_text()) == definitions_schema()
    assert CliRunner().invoke(app, ["schema", "--out", str(out)]).exit_code == 0  # ours: replaced
    other = tmp_path / "notes.json"
    other.write_text("{}")
    res = CliRunner().invoke(app, ["schema", "--out", str(other)])
    assert res.exit_code == 2 and "--force" in res.output
    assert other.read_text() == "{}"
