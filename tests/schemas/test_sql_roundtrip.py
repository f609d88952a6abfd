"""SQL compiled without a connection runs unchanged on the real database, with the same answer.

The demo definitions are compiled three ways with no connection: types inferred from use,
some declared (`columns:`) and the rest inferred, and from a `schema-snapshot.json` written by
the CLI. Each SQL text is run as-is on the backend holding the demo data (DuckDB, PostgreSQL)
and compared with what the connected layer computes, over KPIs, ratios, derived metrics,
joins, SCD, cumulative and offset metrics, shares, zero-filled periods, medians of decimal
columns, retention and funnels. The demo tables hold decimals (hours, revenue), NULL keys and
re-assigned tasks, so a guess that changed a type's meaning would change a number here.

A generated calendar (`calendar:` source) is an in-memory table whose SQL names it, with or
without a connection, so queries by calendar dimensions are not part of this round trip.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

import metrics_layer as ml
from metrics_layer.cli import app
from metrics_layer.demo.generate import all_table_names, generate
from tests.backends import Backend, arrow_to_frame, assert_frames_equal, normalize_frame

ROOT = Path(__file__).resolve().parents[2]
DEMO_TABLES = tuple(all_table_names())
WINDOW = {"start": "2024-02-01", "end": "2024-05-01"}

QUERIES: dict[str, dict[str, Any]] = {
    "totals": {"metrics": ["revenue", "hours", "completion_rate", "active_workers"]},
    "kpis_by_month": {"metrics": ["revenue", "hours", "active_workers"], "grain": "month"},
    "ratio_two_sources": {"metrics": ["task_fill_rate"], "grain": "month"},
    "derived_by_joined": {
        "metrics": ["hourly_rate", "revenue_per_active_worker"],
        "by": ["workers.country"],
    },
    "scd_point_in_time": {"metrics": ["revenue", "hours"], "by": ["worker_history.tier"]},
    "scd_as_of_current": {
        "metrics": ["revenue"],
        "by": ["worker_history.tier"],
        "as_of": "current",
    },
    "cumulative": {"metrics": ["active_workers_28d", "revenue_mtd"], "grain": "week", **WINDOW},
    "offsets": {"metrics": ["revenue", "revenue_prev_month", "revenue_mom"], "grain": "month"},
    "share_by_category": {"metrics": ["revenue_share"], "grain": "month", "by": ["tasks.category"]},
    "median_of_decimal": {"metrics": ["assignments.median_hours"], "grain": "month"},
    "where_joined": {
        "metrics": ["revenue", "hours"],
        "grain": "quarter",
        "where": "workers.country IN ('US', 'DE') AND tasks.category <> 'design'",
    },
    "where_two_sources": {
        "metrics": ["task_fill_rate", "tasks_posted"],
        "by": ["tasks.region"],
        "where": "tasks.category <> 'design'",
    },
    "time_of_a_join": {"metrics": ["payouts_by_completion", "paid_amount"], "grain": "month"},
    "events_by_platform": {
        "metrics": ["app_active_workers", "events.sessions", "events.signups"],
        "by": ["platform"],
        "grain": "week",
    },
    "zero_filled": {
        "metrics": ["revenue", "tasks_posted"],
        "grain": "day",
        "fill": "zero",
        **WINDOW,
    },
    "avg_rating": {"metrics": ["workers.avg_rating"], "by": ["workers.skill_level"]},
}
ANALYSES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "retention": ("retention", "worker_retention", {}),
    "retention_by_country": ("retention", "worker_retention_by_country", {}),
    "retention_weekly": ("retention", "signup_engagement", {"periods": 6}),
    "funnel_window": ("funnel", "onboarding", {"strategy": "window"}),
    "funnel_by_platform": ("funnel", "onboarding", {"strategy": "window", "by": "platform"}),
    "funnel_default": ("funnel", "onboarding", {}),
}
CASES = {**{k: ("query", "", v) for k, v in QUERIES.items()}, **ANALYSES}
MODES = ("inferred", "declared", "snapshot")
DECLARED = {  # a few declared types; the rest stays inferred
    "assignments": {"hours": "decimal(8,2)", "revenue": "decimal(12,2)", "task_id": "int64"},
    "payments": {"amount": "decimal(12,2)"},
}


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate(path, events=4_000)
    return path


@pytest.fixture(scope="module")
def world(backend: Backend, demo_file: Path, tmp_path_factory) -> dict[str, Any]:
    """The demo tables on the backend (fresh names), the connected layer and the three
    connection-less layers of the same definitions."""
    names = {t: backend.unique_name(t) for t in DEMO_TABLES}
    src = duckdb.connect(str(demo_file), read_only=True)
    frames, schemas = {}, {}
    for t in DEMO_TABLES:
        frames[names[t]] = src.sql(f"SELECT * FROM {t}").to_arrow_table()
        schemas[names[t]] = {
            r[0]: _ibis_type(r[1]) for r in src.execute(f"DESCRIBE {t}").fetchall()
        }
    src.close()
    backend.load(frames, schemas=schemas)
    root = tmp_path_factory.mktemp("defs")
    folders = {mode: _defs(root / mode, names, declared=mode == "declared") for mode in MODES}
    _write_snapshot(folders["snapshot"], backend)
    connected = ml.load(folders["inferred"], con=backend.con)
    offline = {mode: ml.load(folders[mode]) for mode in MODES}
    return {"connected": connected, "offline": offline, "backend": backend}


def _ibis_type(duck: str) -> str:
    duck = duck.upper()
    if duck.startswith("DECIMAL"):
        return duck.lower()
    return {"BIGINT": "int64", "VARCHAR": "string", "DOUBLE": "float64", "TIMESTAMP": "timestamp"}[
        duck
    ]


def _defs(folder: Path, names: dict[str, str], declared: bool) -> Path:
    shutil.copytree(ROOT / "metric_defs", folder)
    for path in sorted(folder.glob("*.yml")):  # every file naming a demo table
        text = path.read_text()
        for table, unique in names.items():
            text = re.sub(rf"(\n\s+table:\s*){table}\s*\n", rf"\g<1>{unique}\n", text)
        if declared:
            for source, columns in DECLARED.items():
                block = ", ".join(f"{c}: '{t}'" for c, t in columns.items())
                text = re.sub(
                    rf"(\n  {source}:\n)(\s+)table:",
                    rf"\g<1>\g<2>columns: {{{block}}}\n\g<2>table:",
                    text,
                )
        path.write_text(text)
    return folder


def _write_snapshot(folder: Path, backend: Backend) -> None:
    """Through the CLI command in-process, on the test's own connection."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("metrics_layer.cli.schema._connection", lambda value: backend.con)
        res = CliRunner().invoke(app, ["schema-snapshot", str(folder), "-c", backend.name])
    assert res.exit_code == 0, res.output
    assert (folder / "schema-snapshot.json").is_file()


def _result(layer: ml.Layer, kind: str, name: str, args: dict[str, Any]) -> Any:
    if kind == "query":
        args = dict(args)
        return layer.query(args.pop("metrics"), **args)
    return getattr(layer, kind)(name, **args)


def run_text(backend: Backend, text: str) -> pd.DataFrame:
    """Run SQL text exactly as printed, through the driver (not ibis)."""
    if backend.name == "duckdb":
        return arrow_to_frame(backend.con.con.sql(text).to_arrow_table())
    cur = backend.con.raw_sql(text)
    try:
        rows = cur.fetchall()
        cols = [d[0] for d in cur.description]
    finally:
        cur.close()
    return normalize_frame(pd.DataFrame.from_records(rows, columns=cols))


@pytest.mark.backends("duckdb", "postgres")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", list(CASES))
def test_sql_without_a_connection_gives_the_connected_answer(world, case, mode):
    kind, name, args = CASES[case]
    backend: Backend = world["backend"]
    layer = world["offline"][mode]
    # a layer without a connection compiles for DuckDB: its default funnel strategy is ASOF,
    # which PostgreSQL runs as LATERAL joins; the connected layer there uses window functions
    offline = _result(layer, kind, name, args)
    origins = {t.op().__class__.__name__ for t in _tables(offline.expr)}
    assert origins <= {"UnboundTable", "InMemoryTable"}, origins  # nothing was asked of a database
    text = offline.sql(dialect=backend.name)
    got = run_text(backend, text)
    expected = backend.fetch(_result(world["connected"], kind, name, args).expr)
    assert len(expected) > 0 or case == "none"
    assert_frames_equal(got, expected, sort_by=True, rtol=1e-9)


def _tables(expr: Any) -> list[Any]:
    import ibis.expr.operations as ops

    return [node.to_expr() for node in expr.op().find(ops.PhysicalTable)]
