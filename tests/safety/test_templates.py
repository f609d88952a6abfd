"""Jinja vars are values, never structure; blocks and macros still generate definitions; errors
name the line of the file as written; rendering is bounded in time and size."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import metrics_layer as ml
import metrics_layer.layer  # noqa: F401 - imported before timing
from metrics_layer.definitions.loader import parse_file

BASE = """\
version: 1
sources:
  workers:
    table: {table}
    description: {description}
    measures:
      n: {{agg: count, filter: {filter}}}
"""


def _parse(tmp_path: Path, text: str, variables: dict) -> dict:
    f = tmp_path / "d.yml"
    f.write_text(text)
    data, _ = parse_file(f, variables, "d.yml")
    return data


INJECTIONS = [
    "workers\n    database: main",
    "workers # the rest is gone",
    "workers\n  other:\n    table: secret",
    'w" , database: "main',
    "w' , database: 'main",
    "w}, database: main, x: {y",
    "a: b",
    "- item",
    "&anchor x",
    "*alias",
    "!!python/object x",
    "|\n  x",
    "",
    " padded ",
    "x\r\ny: 1",
]
POSITIONS = {
    "plain": ("{{ v }}", "text", "'amount > 0'"),
    "double": ('"{{ v }}"', "text", "'amount > 0'"),
    "single": ("'{{ v }}'", "text", "'amount > 0'"),
    "flow": ("t", "text", "{{ v }}"),
    "flow_quoted": ("t", "text", '"{{ v }}"'),
    "block": ("t", "|\n      {{ v }}\n      end", "'amount > 0'"),
}


@pytest.mark.parametrize("value", INJECTIONS, ids=[repr(v) for v in INJECTIONS])
@pytest.mark.parametrize("position", list(POSITIONS))
def test_a_var_is_one_scalar_or_an_error(tmp_path: Path, value: str, position: str) -> None:
    table, description, filter_ = POSITIONS[position]
    text = BASE.format(table=table, description=description, filter=filter_)
    try:
        data = _parse(tmp_path, text, {"v": value})
    except ml.DefinitionError as exc:
        assert exc.line in (4, 5, 7, 8), str(exc)  # the line of the insertion, as written
        assert "\n" not in str(exc)
        return
    source = data["sources"]["workers"]
    assert set(data["sources"]) == {"workers"} and set(data) == {"version", "sources"}
    assert set(source) == {"table", "description", "measures"}
    assert set(source["measures"]["n"]) == {"agg", "filter"}
    where = {"plain": "table", "double": "table", "single": "table"}.get(position)
    got = (
        source["table"]
        if where
        else source["measures"]["n"]["filter"]
        if position.startswith("flow")
        else source["description"]
    )
    if position == "block":
        assert (
            got.splitlines()[0] == value.replace("\r", "").splitlines()[0]
            if value.strip()
            else True
        )
        assert got.rstrip("\n").endswith("end")
    else:
        assert got == value  # exactly the var, as one value


def test_the_documented_schema_prefix_works(tmp_path: Path) -> None:
    data = _parse(
        tmp_path,
        BASE.format(table="{{ schema }}.events", description="x", filter="f"),
        {"schema": "analytics"},
    )
    assert data["sources"]["workers"]["table"] == "analytics.events"


MACROS = """\
{%- macro counts(names) %}
{%- for n in names %}
      {{ n }}: {agg: count, filter: "kind = '{{ n }}'"}
{%- endfor %}
{%- endmacro %}
version: 1
sources:
  shifts:
    table: {{ table }}
    measures:
{{- counts(kinds) }}
{%- for k in kinds %}
      {{ k }}_hours: {agg: sum, expr: hours, filter: "kind = '{{ k }}'"}
{%- endfor %}
{% call(x) wrap() %}x{% endcall %}
"""


def test_blocks_and_macros_still_generate_definitions(tmp_path: Path) -> None:
    text = MACROS.replace(
        "{% call(x) wrap() %}x{% endcall %}\n",
        "{% macro wrap() %}metrics: {{ caller(1) }}{% endmacro %}"
        "{% call(x) wrap() %}{shifts: {measure: shifts.day}}{% endcall %}\n",
    )
    data = _parse(tmp_path, text, {"table": "shifts", "kinds": ["day", "night"]})
    measures = data["sources"]["shifts"]["measures"]
    assert measures == {
        "day": {"agg": "count", "filter": "kind = 'day'"},
        "night": {"agg": "count", "filter": "kind = 'night'"},
        "day_hours": {"agg": "sum", "expr": "hours", "filter": "kind = 'day'"},
        "night_hours": {"agg": "sum", "expr": "hours", "filter": "kind = 'night'"},
    }
    assert data["metrics"] == {"shifts": {"measure": "shifts.day"}}
    # a var inside the macro is still one value
    with pytest.raises(ml.DefinitionError):
        _parse(tmp_path, text, {"table": "shifts", "kinds": ["day: {agg: sum}\n      x"]})


LONG = """\
version: 1
{#- a comment
    spanning
    lines #}
sources:
  shifts:
    table: shifts
    measures:
{%- for k in kinds %}
      m_{{ k }}: {agg: count}
{%- endfor %}
      bad: {agg: summ, expr: hours}
"""


def test_errors_name_the_line_as_written(tmp_path: Path) -> None:
    """The rendered text has 3 lines fewer (the comment) and 50 more (the loop)."""
    f = tmp_path / "d.yml"
    f.write_text(LONG)
    with pytest.raises(ml.DefinitionError) as info:
        ml.load(tmp_path, vars={"kinds": [str(i) for i in range(50)]})
    assert info.value.line == 12 and info.value.field == "sources.shifts.measures.bad.agg"
    f.write_text(LONG.replace("bad: {agg: summ, expr: hours}", "bad: {agg: sum, expr: hours"))
    with pytest.raises(ml.DefinitionError) as info:
        ml.load(tmp_path, vars={"kinds": [str(i) for i in range(50)]})
    assert info.value.line == 12, str(info.value)


HEAVY = [
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{{ 'a' * 10**10 }}",
    "{% set s = 'a' * 900000 %}{{ s ~ s ~ s ~ s }}{{ s + s + s }}",
    "{% for i in range(100000) %}{{ 'x' * 900000 }}{% endfor %}",
    "{{ 10 ** 100000000 }}",
    "{{ ((10 ** 64) ** 64) ** 64 ** 2 }}",
    "{{ '%099999999d' % 1 }}",
    "{{ 'a' | center(10**9) }}",
    "{% for i in range(10**9) %}{% endfor %}",
]


@pytest.mark.parametrize("body", HEAVY)
def test_rendering_is_bounded(tmp_path: Path, body: str) -> None:
    (tmp_path / "d.yml").write_text("version: 1\n# " + body + "\n")
    started = time.monotonic()
    with pytest.raises(ml.DefinitionError) as info:
        ml.load(tmp_path)
    assert time.monotonic() - started < 10
    message = str(info.value)
    assert "\n" not in message and message.split("template error:")[-1].strip(), message
    assert "limits." in message or "range" in message or "too" in message, message
