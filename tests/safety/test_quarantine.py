"""`check --quarantine` replaces only tables the layer wrote, writes each source's table into
that source's `database:`, and a run writes all of its tables or none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

import metrics_layer as ml
from metrics_layer.checks import quarantine
from metrics_layer.connection import connect
from tests.safety.helpers import write_defs

DEFS = """\
version: 1
sources:
  shifts:
    table: shifts
    checks:
      - range: {column: hours, min: 0}
  old_shifts:
    table: shifts
    database: archive
    checks:
      - range: {column: hours, min: 0}
"""


def _db(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA archive")
    con.execute(
        "CREATE TABLE shifts AS SELECT * FROM (VALUES (1, 8.0), (2, -1.0), (3, -2.0)) t(id, hours)"
    )
    con.execute(
        "CREATE TABLE archive.shifts AS SELECT * FROM (VALUES (7, -5.0), (8, 1.0)) t(id, hours)"
    )
    con.close()
    return path


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    return write_defs(tmp_path / "defs", DEFS), _db(tmp_path / "q.duckdb")


def _layer(setup: tuple[Path, Path]) -> ml.Layer:
    defs, db = setup
    return ml.load(defs, con=connect(f"duckdb:///{db}", read_only=False))


def _ids(con: Any, table: str, database: str | None = None) -> list[int]:
    t = con.table(table, database=database) if database else con.table(table)
    return sorted(t.execute()["id"].tolist())


def _tables(con: Any) -> set[str]:
    rows = con.raw_sql("SELECT schema_name || '.' || table_name FROM duckdb_tables()").fetchall()
    return {r[0] for r in rows}


def test_each_source_writes_into_its_own_database(setup: tuple[Path, Path]) -> None:
    layer = _layer(setup)
    report = layer.check_sources(quarantine=True)
    assert report.meta["quarantine"] == {
        "shifts": "shifts__quarantine",
        "old_shifts": "archive.shifts__quarantine",
    }
    assert _ids(layer.con, "shifts__quarantine") == [2, 3]
    assert _ids(layer.con, "shifts__quarantine", "archive") == [7]
    assert {"main._metrics_layer_tables", "archive._metrics_layer_tables"} <= _tables(layer.con)
    layer.check_sources(quarantine=True)  # its own tables: replaced, never appended
    assert _ids(layer.con, "shifts__quarantine") == [2, 3]
    assert not any("staging" in t for t in _tables(layer.con))


def test_a_users_table_of_that_name_is_never_replaced(setup: tuple[Path, Path]) -> None:
    defs, db = setup
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE archive.shifts__quarantine AS SELECT 'mine' AS note")
    con.close()
    layer = _layer(setup)
    with pytest.raises(ml.MetricsLayerError) as info:
        layer.check_sources(quarantine=True)
    message = str(info.value)
    assert "'archive.shifts__quarantine' exists and was not written by metrics-layer" in message
    assert "\n" not in message
    assert layer.con.table("shifts__quarantine", database="archive").execute()["note"].tolist() == [
        "mine"
    ]
    assert "main.shifts__quarantine" not in _tables(layer.con)  # nothing written at all


def test_two_sources_of_one_table_are_refused(tmp_path: Path) -> None:
    defs = write_defs(tmp_path / "defs", DEFS.replace("    database: archive\n", ""))
    layer = _layer((defs, _db(tmp_path / "q.duckdb")))
    with pytest.raises(ml.MetricsLayerError, match="would both write the quarantine table"):
        layer.check_sources(quarantine=True)
    assert "main.shifts__quarantine" not in _tables(layer.con)


def test_a_failed_write_changes_no_table(
    setup: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    layer = _layer(setup)
    layer.check_sources(quarantine=True)
    layer.con.raw_sql("INSERT INTO shifts VALUES (4, -9.0)")
    layer.con.raw_sql("INSERT INTO archive.shifts VALUES (9, -9.0)")
    real = type(layer.con).create_table
    calls = {"n": 0}

    def second_fails(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        if name.endswith("__ml_staging"):
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError("disk full")
        return real(self, name, *args, **kwargs)

    monkeypatch.setattr(type(layer.con), "create_table", second_fails)
    with pytest.raises(ml.MetricsLayerError) as info:
        layer.check_sources(quarantine=True)
    assert "none was changed" in str(info.value) and "disk full" in str(info.value)
    monkeypatch.undo()
    assert _ids(layer.con, "shifts__quarantine") == [2, 3]
    assert _ids(layer.con, "shifts__quarantine", "archive") == [7]
    assert not any("staging" in t for t in _tables(layer.con))
    layer.check_sources(quarantine=True)
    assert _ids(layer.con, "shifts__quarantine") == [2, 3, 4]
    assert _ids(layer.con, "shifts__quarantine", "archive") == [7, 9]


def test_a_failed_swap_is_rolled_back(
    setup: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    layer = _layer(setup)
    layer.check_sources(quarantine=True)
    layer.con.raw_sql("INSERT INTO shifts VALUES (4, -9.0)")
    layer.con.raw_sql("INSERT INTO archive.shifts VALUES (9, -9.0)")
    real = type(layer.con).raw_sql
    renames = {"n": 0}

    def second_rename_fails(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(query, str) and query.startswith("ALTER TABLE"):
            renames["n"] += 1
            if renames["n"] == 2:
                raise duckdb.IOException("lost the file")
        return real(self, query, *args, **kwargs)

    monkeypatch.setattr(type(layer.con), "raw_sql", second_rename_fails)
    with pytest.raises(ml.MetricsLayerError, match="none was changed"):
        layer.check_sources(quarantine=True)
    monkeypatch.undo()
    assert _ids(layer.con, "shifts__quarantine") == [2, 3]
    assert _ids(layer.con, "shifts__quarantine", "archive") == [7]


def test_the_owner_table_lists_what_the_layer_wrote(setup: tuple[Path, Path]) -> None:
    layer = _layer(setup)
    layer.check_sources(quarantine=True)
    owned = layer.con.table(quarantine.OWNERS).execute()["table_name"].tolist()
    assert set(owned) == {"shifts__quarantine", "shifts__quarantine__ml_staging"}
    layer.check_sources(quarantine=True)
    assert len(layer.con.table(quarantine.OWNERS).execute()) == 2  # listed once


# --- on every backend ------------------------------------------------------------------------
BACKEND_DEFS = """\
version: 1
sources:
  main_rows:
    table: {main}
    checks:
      - range: {{column: hours, min: 0}}
  other_rows:
    table: {other}
    database: {schema}
    checks:
      - range: {{column: hours, min: 0}}
"""


def test_quarantine_on_each_backend(backend: Any, tmp_path: Path) -> None:
    import pandas as pd

    con = backend.con
    schema = backend.unique_name("qs")
    con.create_database(schema)
    main, other = backend.unique_name("shifts"), backend.unique_name("shifts")
    con.create_table(main, pd.DataFrame({"id": [1, 2], "hours": [8.0, -1.0]}))
    con.create_table(other, pd.DataFrame({"id": [7, 8], "hours": [-5.0, 1.0]}), database=schema)
    defs = write_defs(tmp_path / "defs", BACKEND_DEFS.format(main=main, other=other, schema=schema))
    layer = ml.load(defs, con=con)
    report = layer.check_sources(quarantine=True)
    assert report.meta["quarantine"]["other_rows"] == f"{schema}.{other}__quarantine"
    assert _ids(con, f"{main}__quarantine") == [2]
    assert _ids(con, f"{other}__quarantine", schema) == [7]
    layer.check_sources(quarantine=True)  # replaced, not appended
    assert _ids(con, f"{other}__quarantine", schema) == [7]

    con.drop_table(f"{main}__quarantine")
    con.create_table(f"{main}__quarantine", pd.DataFrame({"id": [99]}))  # the user's own now
    con.insert(other, pd.DataFrame({"id": [9], "hours": [-9.0]}), database=schema)
    assert f"{main}__quarantine" in _owned_names(con)  # listed, but made again by the user
    with pytest.raises(ml.MetricsLayerError, match="was not written by metrics-layer"):
        layer.check_sources(quarantine=True)
    assert _ids(con, f"{main}__quarantine") == [99]
    assert _ids(con, f"{other}__quarantine", schema) == [7]  # all or nothing: not rewritten


def _owned_names(con: Any) -> set[str]:
    return set(con.table(quarantine.OWNERS).execute()["table_name"])
