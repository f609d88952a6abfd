"""Source tables are catalog tables, never files: a `table:` that names a file, a glob or a
URL is refused at load with file, line and field; dotted names are schema-qualified tables;
connections the layer opens cannot read files at all."""

from __future__ import annotations

from pathlib import Path

import duckdb
import ibis
import pytest

import metrics_layer as ml
from metrics_layer.connection import connect
from tests.safety.helpers import WORKERS_DEFS, make_db, write_defs

FILE_TABLES = [
    "exports/secret.csv",
    "secret.csv",
    "'secret.csv'",
    "exports/*.parquet",
    "data.json",
    "dump.csv.gz",
    "/etc/passwd",
    "s3://bucket/key.parquet",
    "read_csv('x.csv')",
    "events; DROP TABLE events",
    "a.b.c.d",
    "",
]


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    (tmp_path / "exports").mkdir()
    path = tmp_path / "exports" / "secret.csv"
    path.write_text("worker_id,started_at,kind,hours\n1,2024-01-01,day,99\n")
    return path


@pytest.mark.parametrize("table", FILE_TABLES)
def test_a_file_as_table_is_refused_at_load(tmp_path: Path, table: str) -> None:
    defs = write_defs(tmp_path / "defs", WORKERS_DEFS.format(table=f'"{table}"'))
    with pytest.raises(ml.DefinitionError) as info:
        ml.load(defs)
    err = info.value
    assert err.line == 4 and err.field == "sources.shifts.table", str(err)
    assert "\n" not in str(err)


def test_a_file_is_not_read_even_when_the_check_is_skipped(
    tmp_path: Path, secret_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth: the layer's own DuckDB has no external access at all."""
    monkeypatch.chdir(secret_file.parent.parent)
    for con in (connect(None), connect(str(make_db(tmp_path / "w.duckdb")))):
        with pytest.raises(Exception) as info:
            con.table("exports/secret.csv").execute()
        assert "99" not in str(info.value)
        with pytest.raises(Exception):  # noqa: B017 - any refusal will do, no rows
            con.raw_sql(f"SELECT * FROM read_csv('{secret_file}')").fetchall()


@pytest.mark.parametrize(
    ("table", "database", "field"),
    [
        ("events", "../x", "database"),
        ("events", "a/b", "database"),
        ("events", "a.b.c", "database"),
        ("events", "'/tmp/x.duckdb'", "database"),
        ("s.events", "other", "table"),
    ],
)
def test_the_database_part_cannot_smuggle_a_path(
    tmp_path: Path, table: str, database: str, field: str
) -> None:
    text = WORKERS_DEFS.format(table=table).replace(
        "    time: started_at\n", f'    database: "{database}"\n    time: started_at\n', 1
    )
    with pytest.raises(ml.DefinitionError) as info:
        ml.load(write_defs(tmp_path / "defs", text))
    assert info.value.field == f"sources.shifts.{field}", str(info.value)


def test_dotted_table_names_a_schema(tmp_path: Path) -> None:
    db = make_db(tmp_path / "w.duckdb")
    raw = duckdb.connect(str(db))
    raw.execute("CREATE SCHEMA analytics")
    raw.execute("CREATE TABLE analytics.shifts AS SELECT * FROM shifts WHERE worker_id = 44")
    raw.close()
    defs = tmp_path / "defs"
    defs.mkdir()
    (defs / "d.yml").write_text(WORKERS_DEFS.format(table="{{ schema }}.shifts"))
    layer = ml.load(defs, con=str(db), vars={"schema": "analytics"})
    assert layer.query("hours").to_pandas()["hours"].tolist() == [6.5]
    assert layer.query("hours", by=["kind"]).to_pandas().set_index("kind")["hours"].to_dict() == {
        "day": 6.5
    }
    # catalog.schema.table reaches the same table
    (defs / "d.yml").write_text(WORKERS_DEFS.format(table="w.analytics.shifts"))
    assert ml.load(defs, con=str(db)).query("shifts").to_pandas()["shifts"].tolist() == [2]


def test_a_passed_in_connection_can_be_locked_down(tmp_path: Path, secret_file: Path) -> None:
    """What docs/backends.md tells users to do with connections they open themselves."""
    con = ibis.duckdb.connect(str(make_db(tmp_path / "w.duckdb")), read_only=True)
    con.raw_sql("SET enable_external_access = false")
    with pytest.raises(Exception):  # noqa: B017
        con.raw_sql(f"SELECT * FROM '{secret_file}'").fetchall()
    layer = ml.load(write_defs(tmp_path / "defs", WORKERS_DEFS.format(table="shifts")), con=con)
    assert layer.query("shifts").to_pandas()["shifts"].tolist() == [4]
