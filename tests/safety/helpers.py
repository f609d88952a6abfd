"""Small builders shared by the hostile-input tests: definition folders and DuckDB files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb

WORKERS_DEFS = """\
version: 1
sources:
  shifts:
    table: {table}
    time: started_at
    measures:
      shifts: {{agg: count}}
      hours: {{agg: sum, expr: hours}}
    dimensions:
      kind: {{}}
    joins:
      workers: {{keys: worker_id, relationship: many_to_one}}
  workers:
    table: workers
    primary_key: worker_id
    dimensions:
      tier: {{}}
metrics:
  shifts: {{measure: shifts.shifts}}
  hours: {{measure: shifts.hours}}
"""


def write_defs(folder: Path, text: str, name: str = "defs.yml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def make_db(path: Path) -> Path:
    """A DuckDB file with shifts (4 rows) and workers (2 rows, one undeclared `name` column)."""
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE shifts AS SELECT * FROM (VALUES "
        "(1, 10, TIMESTAMP '2024-01-01 08:00', 'day', 8.0), "
        "(2, 10, TIMESTAMP '2024-01-02 08:00', 'night', 6.0), "
        "(3, 44, TIMESTAMP '2024-01-03 08:00', 'day', 4.0), "
        "(4, 44, TIMESTAMP '2024-01-04 08:00', 'day', 2.5)) "
        "t(shift_id, worker_id, started_at, kind, hours)"
    )
    con.execute(
        "CREATE TABLE workers AS SELECT * FROM (VALUES (10, 'gold', 'Ann'), (44, 'silver', 'Bo')) "
        "t(worker_id, tier, name)"
    )
    con.close()
    return path
