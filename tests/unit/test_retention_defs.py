"""Retention definitions are validated like every other definition: file, line and field.

Problems the model can see alone (syntax of filters, period, misspelt keys) fail at load
time; problems needing the whole project or the schema (unknown source, unknown entity
column, unknown `by` dimension) fail at load once the registry calls
`check_all_retention`, and at the latest when the retention is queried.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import ibis
import pandas as pd
import pytest

import metrics_layer as ml
from metrics_layer.analysis.retention_defs import check_all_retention
from metrics_layer.errors import DefinitionError, QueryError, SchemaError

SOURCES = """
version: 1
sources:
  events:
    table: events
    time: ts
    dimensions: {event_type: {}}
    joins:
      users: {keys: user_id}
  users:
    table: users
    primary_key: user_id
    dimensions: {country: {}}
  untimed:
    table: events
"""


def _con() -> ibis.BaseBackend:
    con = ibis.duckdb.connect()
    con.create_table(
        "events",
        pd.DataFrame(
            {
                "user_id": pd.Series([1, 2], dtype="Int64"),
                "event_type": ["signup", "session"],
                "ts": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            }
        ),
    )
    con.create_table("users", pd.DataFrame({"user_id": [1, 2], "country": ["DE", "FR"]}))
    return con


def _write(tmp_path: Path, retention: str) -> Path:
    folder = tmp_path / "defs"
    folder.mkdir(parents=True)
    (folder / "sources.yml").write_text(SOURCES)
    (folder / "retention.yml").write_text(
        "version: 1\nretention:\n"
        + textwrap.indent(textwrap.dedent(retention).strip() + "\n", "  ")
    )
    return folder


def _fails(
    tmp_path: Path, retention: str, con: bool = True, error: type[Exception] = DefinitionError
) -> Exception:
    """The error of loading the definitions and querying retention `r` (whichever comes first)."""
    folder = _write(tmp_path, retention)
    with pytest.raises(error) as info:
        layer = ml.load(folder, con=_con() if con else None)
        check_all_retention(layer.registry)
        layer.retention("r")
    return info.value


GOOD = """
r:
  source: events
  entity: user_id
  cohort: "event_type = 'signup'"
  activity: "event_type = 'session'"
"""


def test_a_good_definition_loads_and_checks(tmp_path):
    layer = ml.load(_write(tmp_path, GOOD + "  by: [users.country]\n  owner: growth\n"), con=_con())
    check_all_retention(layer.registry)
    assert layer.retention("r").to_pandas()["cohort_size"].tolist() == [1]


def test_unknown_source_with_suggestion(tmp_path):
    err = _fails(tmp_path, GOOD.replace("source: events", "source: evnts"))
    assert "retention.yml:4" in str(err) and "retention.r.source" in str(err)
    assert "unknown source 'evnts'" in str(err) and "did you mean 'events'" in str(err)


def test_filter_that_does_not_parse_fails_at_load(tmp_path):
    folder = _write(tmp_path, GOOD.replace("event_type = 'signup'", "event_type = = 'signup'"))
    with pytest.raises(DefinitionError) as info:
        ml.load(folder)
    assert "retention.yml:6" in str(info.value) and "retention.r.cohort" in str(info.value)


def test_filter_with_a_subquery_is_rejected(tmp_path):
    folder = _write(
        tmp_path, GOOD.replace("event_type = 'session'", "user_id IN (SELECT user_id FROM users)")
    )
    with pytest.raises(DefinitionError) as info:
        ml.load(folder)
    assert "retention.r.activity" in str(info.value)


def test_unknown_entity_column_with_a_connection(tmp_path):
    err = _fails(tmp_path, GOOD.replace("entity: user_id", "entity: usr_id"), error=SchemaError)
    assert "retention.yml:5" in str(err) and "retention.r.entity" in str(err)
    assert "'usr_id'" in str(err) and "did you mean 'user_id'" in str(err)


def test_unknown_column_in_a_filter_with_a_connection(tmp_path):
    err = _fails(
        tmp_path, GOOD.replace("event_type = 'session'", "evt_type = 'session'"), error=SchemaError
    )
    assert "retention.r.activity" in str(err) and "did you mean 'event_type'" in str(err)


def test_unknown_by_dimension(tmp_path):
    err = _fails(tmp_path, GOOD + "  by: [users.contry]\n")
    assert "retention.r.by" in str(err) and "users.country" in str(err)


def test_invalid_period_and_misspelt_key_fail_at_load(tmp_path):
    folder = _write(tmp_path, GOOD + "  period: year\n")
    with pytest.raises(DefinitionError, match=r"retention\.r\.period.*'day', 'week', 'month'"):
        ml.load(folder)
    folder2 = _write(tmp_path / "b", GOOD + "  cohort_typ: recurring\n")
    with pytest.raises(
        DefinitionError, match=r"unknown field 'cohort_typ'.*did you mean 'cohort_type'"
    ):
        ml.load(folder2)


def test_source_without_time_needs_a_time_field(tmp_path):
    err = _fails(tmp_path, GOOD.replace("source: events", "source: untimed"))
    assert "needs a time column" in str(err) and "retention.r" in str(err)
    folder = _write(
        tmp_path / "b", GOOD.replace("source: events", "source: untimed") + "  time: ts\n"
    )
    assert len(ml.load(folder, con=_con()).retention("r").to_pandas()) == 1


# ------------------------------------------------------------------------------- query errors
@pytest.fixture()
def layer(tmp_path):
    return ml.load(_write(tmp_path, GOOD), con=_con())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "rollin"}, "unknown retention mode 'rollin' (did you mean 'rolling'?)"),
        ({"cohort_type": "first"}, "unknown cohort_type 'first'"),
        ({"periods": 0}, "periods must be a positive integer"),
        ({"periods": 2.5}, "periods must be a positive integer"),
        ({"start": "2024-02-01", "end": "2024-01-01"}, "must be after start"),
        ({"start": "yesterday"}, "start='yesterday' is not a date"),
        ({"as_of": "soon"}, "as_of='soon' is not a date"),
        ({"by": ["contry"]}, "did you mean 'country'"),
        ({"by": ["country", "country"]}, "listed twice"),
    ],
)
def test_query_errors(layer, kwargs, message):
    with pytest.raises(QueryError) as info:
        layer.retention("r", **kwargs)
    assert message in str(info.value)


def test_unknown_retention_name_suggests(layer):
    with pytest.raises(QueryError, match=r"unknown retention 'rr' \(did you mean 'r'\?\)"):
        layer.retention("rr")


def test_a_filter_that_is_not_a_condition(tmp_path):
    err = _fails(
        tmp_path, GOOD.replace("\"event_type = 'session'\"", "event_type"), error=QueryError
    )
    assert "activity filter must be a condition" in str(err)
