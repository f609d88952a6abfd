"""The MetricFlow test project's seed data as DuckDB tables named as its dbt models."""

from __future__ import annotations

from pathlib import Path

import duckdb

SHOP = Path(__file__).resolve().parents[1] / "fixtures" / "metricflow" / "shop"
# the column types dbt_project.yml gives the seeds
TYPES = {
    "transactions": {
        "id_transaction": "VARCHAR",
        "id_order": "VARCHAR",
        "id_customer": "VARCHAR",
        "transaction_amount_usd": "DECIMAL(10,2)",
        "transaction_type_name": "VARCHAR",
        "ds": "DATE",
    },
    "customers": {"id_customer": "VARCHAR", "country": "VARCHAR", "ds": "DATE"},
    "countries": {"country": "VARCHAR", "region": "VARCHAR"},
}


def shop_db(path: Path) -> Path:
    """A DuckDB file with the tables transactions, customers and countries."""
    con = duckdb.connect(str(path))
    try:
        for table, types in TYPES.items():
            csv = SHOP / "seeds" / f"{table}_seed.csv"
            con.execute(
                f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM "
                f"read_csv(?, header = true, columns = {types!r})",
                [str(csv)],
            )
    finally:
        con.close()
    return path
