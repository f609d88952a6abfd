"""PII that the definitions also use: masked join keys still join; masked values keep their type.

A `pii: true` key (workers.worker_id, and workers.team_id in the middle of the path
assignments -> workers -> teams) is masked after the join: every number is the one the same
caller gets with the key unmasked and the one the hand-restricted database gives, while the
key's values are pseudonyms. A masked integer is a BIGINT pseudonym computed here
independently in Python; a masked float or date is NULL of its type, in every entry point and
export.
"""

from __future__ import annotations

import datetime as dt_
import hashlib
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

import metrics_layer as ml
from tests.access.tenants import DEFS, make_db, tenant_db, write_defs

WORKER_DIMS = """      worker_id: {pii: true}
      team_id: {pii: true}
      phone: {pii: true}
      score: {pii: true}
      born: {pii: true}
      country: {}
      name: {}
"""
TEAMS = """  teams:
    table: teams
    primary_key: team_id
    dimensions: {team_name: {}}
  tasks:
"""
POLICY = """    see_ids:
      sources: [assignments, events, workers, tasks, exposures, teams]
      row_filters:
        exposures: "workers.country = :country"
        workers: "country = :country"
        assignments: "workers.country = :country"
        events: "workers.country = :country"
      hidden: [workers.name]
      unmask: [workers.worker_id, workers.team_id, workers.phone, workers.score, workers.born]
    by_region:
"""


def pii_defs() -> str:
    text = DEFS.replace("      country: {}\n      name: {}\n", WORKER_DIMS, 1)
    text = text.replace("  tasks:\n", TEAMS, 1)
    text = text.replace(
        "    measures:\n      workers: {agg: count}\n",
        "    measures:\n      workers: {agg: count}\n    joins:\n      teams: {keys: team_id}\n",
        1,
    )
    text = text.replace(
        "sources: [assignments, events, workers, tasks, exposures]",
        "sources: [assignments, events, workers, tasks, exposures, teams]",
        1,
    )
    return text.replace("    by_region:\n", POLICY, 1)


def add_pii_columns(path: Path) -> None:
    """Numeric pii columns and a team key on workers, and the teams table (deterministic)."""
    con = duckdb.connect(str(path))
    con.execute(
        "ALTER TABLE workers ADD COLUMN phone BIGINT; ALTER TABLE workers ADD COLUMN score DOUBLE;"
        "ALTER TABLE workers ADD COLUMN born DATE; ALTER TABLE workers ADD COLUMN team_id BIGINT;"
        "UPDATE workers SET phone = CASE WHEN worker_id % 5 = 0 THEN NULL "
        "ELSE 4915100000 + worker_id * 7 END, score = worker_id / 4.0, "
        "born = DATE '1990-01-01' + CAST(worker_id AS INTEGER), team_id = 100 + worker_id % 4;"
        "CREATE TABLE teams AS SELECT 100 + i AS team_id, 'team' || i AS team_name "
        "FROM range(4) t(i)"
    )
    con.close()


def pseudonym(value: int | None) -> int | None:
    """The masked form of an integer, by hand: the first 15 hex digits of md5 of its text."""
    return None if value is None else int(hashlib.md5(str(value).encode()).hexdigest()[:15], 16)


@pytest.fixture(scope="module")
def pii(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("pii")
    full = make_db(root / "full.duckdb")
    add_pii_columns(full)
    defs = write_defs(root / "defs", pii_defs())
    hand = tenant_db(full, root / "de.duckdb", "DE")
    con = duckdb.connect(str(hand))
    con.execute(
        f"ATTACH '{full}' AS src (READ_ONLY); CREATE TABLE teams AS SELECT * FROM src.teams"
    )
    con.close()
    layer = ml.load(defs, con=str(full))
    return {
        "layer": layer,
        "full": full,
        "masked": layer.restrict(["own_country"], {"country": "DE"}),
        "unmasked": layer.restrict(["see_ids"], {"country": "DE"}),
        "hand": ml.load(defs, con=str(hand)),
    }


def frame(result: ml.Result, keys: list[str]) -> pd.DataFrame:
    df = result.to_pandas()
    return df.sort_values(keys, na_position="last").reset_index(drop=True)


@pytest.mark.parametrize(
    "by", [["workers.country"], ["teams.team_name"], ["workers.country", "teams.team_name"]]
)
def test_query_by_a_joined_dimension_under_a_masked_key(pii: dict, by: list[str]) -> None:
    metrics = ["total_revenue", "active", "assignments.accepted"]
    keys = [b.split(".")[-1] for b in by]
    got = frame(pii["masked"].query(metrics, by=by), keys)
    assert got["accepted"].sum() > 0 and got[keys[0]].notna().any()
    pd.testing.assert_frame_equal(got, frame(pii["unmasked"].query(metrics, by=by), keys))
    pd.testing.assert_frame_equal(got, frame(pii["hand"].query(metrics, by=by), keys))


def test_retention_funnel_and_checks_under_a_masked_key(pii: dict) -> None:
    masked, unmasked, hand = pii["masked"], pii["unmasked"], pii["hand"]
    for layer in (unmasked, hand):
        pd.testing.assert_frame_equal(
            masked.retention("engagement", by="teams.team_name").to_pandas(),
            layer.retention("engagement", by="teams.team_name").to_pandas(),
        )
        pd.testing.assert_frame_equal(
            masked.funnel("onboarding", by="teams.team_name").to_pandas(),
            layer.funnel("onboarding", by="teams.team_name").to_pandas(),
        )
    assert (
        masked.query(["workers.workers"]).to_pandas()["workers"][0]
        == hand.query(["workers.workers"]).to_pandas()["workers"][0]
    )


def test_masked_key_values_are_pseudonyms(pii: dict) -> None:
    raw = pii["layer"].con.con.cursor()
    rows = raw.execute(
        "SELECT w.worker_id, w.team_id, sum(a.revenue) FROM assignments a "
        "JOIN workers w USING (worker_id) WHERE w.country = 'DE' GROUP BY 1, 2"
    ).fetchall()
    ids = [
        r[0] for r in raw.execute("SELECT worker_id FROM workers WHERE country = 'DE'").fetchall()
    ]
    raw.close()
    masked = pii["masked"]
    values = masked.dimension_values("workers.worker_id", limit=1000).to_pyarrow()
    assert values.schema.field("worker_id").type == pa.int64()
    assert sorted(values.column(0).to_pylist()) == sorted(pseudonym(i) for i in ids)
    got = masked.query(["total_revenue"], by=["workers.worker_id", "workers.team_id"]).to_pandas()
    want = {(pseudonym(w), pseudonym(t)): s for w, t, s in rows}
    assert {(w, t): pytest.approx(s) for w, t, s in got.itertuples(index=False)} == want
    with pytest.raises(ml.QueryError, match="masked"):
        masked.query(["total_revenue"], where="workers.worker_id = 3")


NUMERIC = ["workers.phone", "workers.score", "workers.born"]


def _types(result: ml.Result, columns: list[str]) -> tuple[list[pa.DataType], list[str]]:
    """Arrow types, and pandas dtype kinds (a column with NULLs is pandas' nullable Float64 or
    Int64, of the same kind as float64 or int64: engine/exports.py)."""
    table = result.to_pyarrow()
    frame_ = result.to_pandas()
    return [table.schema.field(c).type for c in columns], [frame_[c].dtype.kind for c in columns]


def test_masked_numbers_keep_their_type_in_every_entry_point(pii: dict) -> None:
    masked, unmasked = pii["masked"], pii["unmasked"]
    names = [d.split(".")[1] for d in NUMERIC]
    entry_points = [
        lambda layer, d: layer.query(["assignments.accepted"], by=[d]),
        lambda layer, d: layer.dimension_values(d, limit=1000),
        lambda layer, d: layer.retention("engagement", by=d),
        lambda layer, d: layer.funnel("onboarding", by=d),
    ]
    for run in entry_points:
        for dim, name in zip(NUMERIC, names, strict=True):
            got, want = run(masked, dim), run(unmasked, dim)
            assert _types(got, [name]) == _types(want, [name]), (dim, got.explain())
            shown = got.to_pyarrow().column(name).to_pylist()
            full = want.to_pyarrow().column(name).to_pylist()
            if name == "phone":  # a pseudonym per value: the same number of groups
                assert {pseudonym(v) for v in full} == set(shown)
            else:  # withheld: NULL of the type, one group
                assert set(shown) == {None} and len(set(full)) > 1


def test_masked_values_in_the_table_and_sql(pii: dict) -> None:
    masked = pii["masked"]
    t = masked.table("workers")
    assert t.schema()["phone"].is_integer() and t.schema()["score"].is_floating()
    assert t.schema()["born"].is_date()
    sql = masked.sql(["assignments.accepted"], by=["workers.phone", "teams.team_name"])
    assert "md5" in sql.lower()
    # the measure reading the masked key counts pseudonyms: the same distinct count
    assert masked.query(["workers.workers"]).to_pandas()["workers"][0] > 0


def test_masked_forms_are_the_same_on_every_backend(backend) -> None:
    """The pseudonyms computed by the backend equal the ones computed by hand in Python."""
    from metrics_layer.access.mask import mask_value

    ints = [0, 1, -5, 123456789012, None, 2**62, -(2**63)]
    texts = ["a", None, "DE", "Ünïcode", "", "x", "y"]
    name = backend.unique_name("masks")
    t = backend.load(
        {
            name: pa.table(
                {
                    "i": pa.array(ints, pa.int64()),
                    "s": pa.array(texts, pa.string()),
                    "f": pa.array([1.5] * len(ints), pa.float64()),
                    "d": pa.array([None, *[dt_.date(2024, 1, 2)] * 6], pa.date32()),
                }
            )
        },
        schemas={name: {"i": "int64", "s": "string", "f": "float64", "d": "date"}},
    )[name]
    try:
        out = backend.to_arrow(
            t.select(i=mask_value(t.i), s=mask_value(t.s), f=mask_value(t.f), d=mask_value(t.d))
        )
    finally:
        backend.drop(name)
    assert [f.type for f in out.schema] == [pa.int64(), pa.string(), pa.float64(), pa.date32()]
    assert out.column("i").to_pylist() == [pseudonym(v) for v in ints]
    assert out.column("s").to_pylist() == [
        None if v is None else hashlib.md5(v.encode()).hexdigest() for v in texts
    ]
    assert out.column("f").null_count == out.column("d").null_count == len(ints)
