"""The MetricFlow test project's seed data as DuckDB tables named as its dbt models
(`<name>_seed.csv` -> table `<name>`, as the project's models `select * from` their seed),
with the column types its dbt_project.yml gives the seeds (other columns auto-detected)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import yaml

SHOP = Path(__file__).resolve().parents[1] / "fixtures" / "metricflow" / "shop"
# the three tables the export parity test builds its own definitions on
TABLES = ("transactions", "customers", "countries")


def seed_types() -> dict[str, dict[str, str]]:
    """table -> {column: type} for every seed of the project."""
    config = yaml.safe_load((SHOP / "dbt_project.yml").read_text())
    seeds = (config.get("seeds") or {}).get(config["name"], {})
    common = seeds.get("+column_types") or {}
    out: dict[str, dict[str, str]] = {}
    for csv in sorted((SHOP / "seeds").glob("*_seed.csv")):
        columns = csv.read_text().splitlines()[0].split(",")
        own = (seeds.get(csv.stem) or {}).get("+column_types") or {}
        types = {**common, **own}
        out[csv.stem.removesuffix("_seed")] = {c: types[c].upper() for c in columns if c in types}
    return out


TYPES = {t: types for t, types in seed_types().items() if t in TABLES}


def shop_db(path: Path) -> Path:
    """A DuckDB file with one table per seed of the project."""
    con = duckdb.connect(str(path))
    try:
        for table, types in seed_types().items():
            csv = SHOP / "seeds" / f"{table}_seed.csv"
            con.execute(
                f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM "
                f"read_csv(?, header = true, types = {types!r})",
                [str(csv)],
            )
    finally:
        con.close()
    return path
