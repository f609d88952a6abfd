"""Loader: Jinja vars, strict undefined variables, YAML/pydantic errors located by file and line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import metrics_layer as ml
from metrics_layer.definitions import load_project
from metrics_layer.errors import DefinitionError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kpi"
SHOP_VARS = {"t": {"events": "ev_tbl", "users": "us_tbl"}}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def load_error(folder: Path, variables: dict | None = None) -> DefinitionError:
    with pytest.raises(DefinitionError) as info:
        load_project(folder, variables)
    return info.value


# --------------------------------------------------------------------------- Jinja


def test_jinja_vars_are_rendered_into_the_definitions() -> None:
    project, origins = load_project(FIXTURES / "shop", SHOP_VARS)
    assert project.sources["events"].table == "ev_tbl"
    assert project.sources["users"].table == "us_tbl"
    # both files of the folder were merged
    assert "purchase_conversion" in project.metrics and "events" in project.sources
    assert origins.files[("metrics", "ctr")].endswith("metrics.yml")
    assert origins.files[("sources", "events")].endswith("sources.yml")


def test_jinja_loops_and_filters_render(tmp_path: Path) -> None:
    write(
        tmp_path,
        "m.yml",
        """
        version: 1
        sources:
          events:
            table: "{{ schema | upper }}_EVENTS"
            measures:
            {% for kind in kinds %}
              {{ kind }}_events: {agg: count, filter: "event_type = '{{ kind }}'"}
            {% endfor %}
        """,
    )
    project, _ = load_project(tmp_path, {"schema": "raw", "kinds": ["visit", "signup"]})
    src = project.sources["events"]
    assert src.table == "RAW_EVENTS"
    assert sorted(src.measures) == ["signup_events", "visit_events"]
    assert src.measures["signup_events"].filter == "event_type = 'signup'"


def test_undefined_variable_is_an_error_with_file_and_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "defs.yml",
        """
        version: 1
        sources:
          events:
            table: "{{ events_table }}"
        """,
    )
    err = load_error(tmp_path, {"events_tabel": "x"})
    assert err.location.file is not None and err.location.file.endswith("defs.yml")
    assert err.location.line == 4
    assert "events_table" in str(err) and "undefined" in str(err)
    assert "defs.yml:4" in str(err)


def test_undefined_variable_in_a_block_names_its_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "defs.yml",
        """
        version: 1
        sources:
          events:
            table: events
        {% if include_users %}
          users: {table: users}
        {% endif %}
        """,
    )
    err = load_error(tmp_path)
    assert err.location.line == 5
    assert "include_users" in str(err)


def test_undefined_attribute_of_a_variable_is_an_error(tmp_path: Path) -> None:
    write(
        tmp_path,
        "defs.yml",
        """
        version: 1
        sources:
          events:
            table: "{{ t.evnts }}"
        """,
    )
    err = load_error(tmp_path, {"t": {"events": "x"}})
    assert err.location.line == 4
    assert "evnts" in str(err)


def test_template_syntax_error_is_located(tmp_path: Path) -> None:
    write(
        tmp_path,
        "defs.yml",
        """
        version: 1
        sources: {}
        {% if %}
        {% endif %}
        """,
    )
    err = load_error(tmp_path)
    assert err.location.line == 3
    assert "defs.yml" in str(err)


def test_sandbox_rejects_unsafe_attribute_access(tmp_path: Path) -> None:
    write(
        tmp_path,
        "defs.yml",
        """
        version: 1
        sources:
          events:
            table: "{{ ''.__class__.__mro__[1].__subclasses__() }}"
        """,
    )
    err = load_error(tmp_path)
    assert "defs.yml" in str(err)


# --------------------------------------------------------------------------- YAML and models


def test_yaml_syntax_error_has_the_line(tmp_path: Path) -> None:
    write(tmp_path, "ok.yml", "version: 1\n")
    write(
        tmp_path,
        "broken.yml",
        """
        version: 1
        sources:
          events:
            table: [events
            time: ts
        """,
    )
    err = load_error(tmp_path)
    assert err.location.file is not None and err.location.file.endswith("broken.yml")
    assert err.location.line in (4, 5)
    assert "YAML" in str(err)


def test_duplicate_yaml_key_is_an_error_with_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "defs.yml",
        """
        version: 1
        sources:
          events:
            table: a
            table: b
        """,
    )
    err = load_error(tmp_path)
    assert err.location.line == 5
    assert "table" in str(err)


def test_invalid_value_names_field_line_and_suggests(tmp_path: Path) -> None:
    write(
        tmp_path,
        "defs.yml",
        """
        version: 1
        sources:
          events:
            table: events
            measures:
              n: {agg: cnt}
        """,
    )
    err = load_error(tmp_path)
    assert err.location.line == 6
    assert err.location.field == "sources.events.measures.n.agg"
    assert "'count'" in str(err) and "cnt" in str(err)


def test_unknown_field_suggests_the_right_one(tmp_path: Path) -> None:
    write(
        tmp_path,
        "defs.yml",
        """
        version: 1
        sources:
          events:
            tabel: events
        """,
    )
    err = load_error(tmp_path)
    assert err.location.line == 4
    assert "tabel" in str(err) and "'table'" in str(err)


def test_model_rule_error_is_located(tmp_path: Path) -> None:
    write(
        tmp_path,
        "defs.yml",
        """
        version: 1
        sources:
          events:
            measures:
              revenue: {agg: sum}
              p: {agg: percentile, expr: x}
        """,
    )
    err = load_error(tmp_path)
    assert err.location.line == 5
    assert "expr" in str(err)


def test_on_key_gets_an_explanation_not_a_type_error(tmp_path: Path) -> None:
    write(
        tmp_path,
        "defs.yml",
        """
        version: 1
        sources:
          events:
            joins:
              users:
                on: user_id
          users: {}
        """,
    )
    err = load_error(tmp_path)
    assert err.location.line == 6
    text = str(err)
    assert "keys" in text and "on" in text and "boolean" in text.lower()


def test_quoted_on_key_is_just_an_unknown_field(tmp_path: Path) -> None:
    write(
        tmp_path,
        "defs.yml",
        """
        version: 1
        sources:
          events:
            joins:
              users: {"on": user_id}
          users: {}
        """,
    )
    err = load_error(tmp_path)
    assert "on" in str(err)
    assert err.location.line == 5


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    write(tmp_path, "defs.yml", "- a\n- b\n")
    err = load_error(tmp_path)
    assert "defs.yml" in str(err)


# --------------------------------------------------------------------------- files and merging


def test_duplicate_name_across_two_files_names_both(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a_sources.yml",
        """
        version: 1
        sources:
          events:
            measures: {n: {agg: count}}
        metrics:
          event_count: {measure: events.n}
        """,
    )
    write(
        tmp_path,
        "b_more.yml",
        """
        version: 1
        metrics:
          other: {measure: events.n}

          event_count: {measure: events.n}
        """,
    )
    err = load_error(tmp_path)
    text = str(err)
    assert "a_sources.yml" in text and "b_more.yml" in text
    assert "event_count" in text
    assert err.location.line == 5  # where the second definition is
    assert "line 5" in text or ":5" in text  # the first one's line (a_sources.yml:5)


def test_duplicate_source_across_files_in_subfolders(tmp_path: Path) -> None:
    write(tmp_path, "x/one.yml", "version: 1\nsources:\n  events: {}\n")
    write(tmp_path, "y/two.yaml", "version: 1\nsources:\n  events: {}\n")
    text = str(load_error(tmp_path))
    assert "one.yml" in text and "two.yaml" in text


def test_same_name_in_different_sections_is_allowed(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yml",
        """
        version: 1
        sources:
          events:
            measures: {events: {agg: count}}
        metrics:
          events: {measure: events.events}
        """,
    )
    project, _ = load_project(tmp_path)
    assert "events" in project.metrics and "events" in project.sources


def test_files_are_merged_and_empty_files_ignored(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", "version: 1\nsources:\n  events:\n    measures: {n: {agg: count}}\n")
    write(tmp_path, "b.yml", "version: 1\nmetrics:\n  n_metric: {measure: events.n}\n")
    write(tmp_path, "empty.yml", "")
    write(tmp_path, "notes.txt", "not: [yaml")
    project, _ = load_project(tmp_path)
    assert list(project.sources) == ["events"] and list(project.metrics) == ["n_metric"]


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="does not exist"):
        load_project(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DefinitionError, match="no .*yml"):
        load_project(tmp_path / "empty")


def test_single_file_path_is_accepted() -> None:
    tables = dict.fromkeys(["lineitem", "orders", "customer", "supplier", "nation", "region"], "x")
    project, _ = load_project(FIXTURES / "tpch" / "tpch.yml", {"t": tables})
    assert set(project.sources) == {
        "lineitem",
        "orders",
        "customer",
        "supplier",
        "nation",
        "region",
    }


def test_ml_load_passes_vars_and_errors_are_metrics_layer_errors(tmp_path: Path) -> None:
    layer = ml.load(FIXTURES / "shop", vars=SHOP_VARS)
    assert layer.registry.table_name("events") == "ev_tbl"
    with pytest.raises(ml.MetricsLayerError):
        ml.load(FIXTURES / "shop")  # `t` is undefined


def test_registry_errors_point_into_the_right_file(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", "version: 1\nsources:\n  events:\n    measures: {n: {agg: count}}\n")
    write(
        tmp_path,
        "b.yml",
        """
        version: 1
        metrics:
          good: {measure: events.n}
          bad:
            type: ratio
            numerator: events.n
            denominator: events.nn
        """,
    )
    with pytest.raises(DefinitionError) as info:
        ml.load(tmp_path)
    err = info.value
    assert err.location.file is not None and err.location.file.endswith("b.yml")
    assert err.location.line == 7
    assert "events.nn" in str(err) and "events.n" in str(err)
