"""Property: a filter survives export and import with its meaning.

Random filters (comparisons on the source's own dimensions, on a joined one, on the time
column and at a grain, IS NULL, AND / OR / NOT) are put on a count metric; the definitions are
exported to MetricFlow and imported back. Both layers' counts, in total and per month, must
equal a plain-Python evaluation of the filter over the rows with SQL's three-valued logic.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metrics_layer as ml

ORDERS = [  # order_id, user_id, amount, status, ts
    (1, 1, 5.0, "paid", dt.date(2024, 1, 3)),
    (2, 1, 20.0, "open", dt.date(2024, 1, 31)),
    (3, 2, None, "paid", dt.date(2024, 2, 1)),
    (4, None, 12.5, None, dt.date(2024, 2, 14)),
    (5, 3, 30.0, "void", dt.date(2024, 2, 29)),
    (6, 2, 7.0, "paid", dt.date(2024, 3, 1)),
    (7, 9, 11.0, "open", dt.date(2024, 3, 31)),
]
USERS = {1: "DE", 2: "FR", 3: None}  # user 9 is unknown: no user row


def _defs(filter_text: str) -> dict[str, Any]:
    return {
        "sources": {
            "orders": {
                "table": "orders",
                "time": "ts",
                "primary_key": "order_id",
                "dimensions": {
                    "status": {},
                    "big": {"expr": "amount > 10"},
                    "ts": {"type": "date"},
                },
                "measures": {"rows_n": {"agg": "count"}},
                "joins": {"user": {"source": "users", "keys": "user_id"}},
            },
            "users": {"table": "users", "primary_key": "user_id", "dimensions": {"country": {}}},
        },
        "metrics": {"picked": {"measure": "orders.rows_n", "filter": filter_text}},
    }


# atoms: (SQL text, evaluation on a row -> True / False / None)
def _cmp(value: Any, op: str, other: Any) -> bool | None:
    if value is None:
        return None
    return {"=": value == other, ">": value > other, "<=": value <= other}[op]


ATOMS = [
    ("status = 'paid'", lambda r: _cmp(r["status"], "=", "paid")),
    ("status = 'open'", lambda r: _cmp(r["status"], "=", "open")),
    ("user.country = 'DE'", lambda r: _cmp(r["country"], "=", "DE")),
    ("user.country IS NULL", lambda r: r["country"] is None),
    ("amount > 10", lambda r: _cmp(r["amount"], ">", 10)),
    ("big", lambda r: _cmp(r["amount"], ">", 10)),
    ("ts <= '2024-02-14'", lambda r: _cmp(r["ts"], "<=", dt.date(2024, 2, 14))),
    ("ts__month = '2024-02-01'", lambda r: r["ts"].month == 2),
    ("status IS NULL", lambda r: r["status"] is None),
]


def _and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def _not(a: bool | None) -> bool | None:
    return None if a is None else not a


filters = st.recursive(
    st.sampled_from(ATOMS),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(
            lambda p: (f"({p[0][0]}) AND ({p[1][0]})", lambda r, p=p: _and(p[0][1](r), p[1][1](r)))
        ),
        st.tuples(inner, inner).map(
            lambda p: (f"({p[0][0]}) OR ({p[1][0]})", lambda r, p=p: _or(p[0][1](r), p[1][1](r)))
        ),
        inner.map(lambda a: (f"NOT ({a[0]})", lambda r, a=a: _not(a[1](r)))),
    ),
    max_leaves=4,
)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export_filters") / "shop.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE orders (order_id INTEGER, user_id INTEGER, amount DOUBLE, status VARCHAR, ts DATE)"
    )
    con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", ORDERS)
    con.execute("CREATE TABLE users (user_id INTEGER, country VARCHAR)")
    con.executemany("INSERT INTO users VALUES (?, ?)", list(USERS.items()))
    con.close()
    return path


def _rows() -> list[dict[str, Any]]:
    keys = ("order_id", "user_id", "amount", "status", "ts")
    return [{**dict(zip(keys, o, strict=True)), "country": USERS.get(o[1])} for o in ORDERS]


def _counts(layer: ml.Layer, metric: str) -> tuple[int, dict[str, int]]:
    total = layer.query([metric]).to_pandas()[metric].iloc[0]
    monthly = layer.query([metric], grain="month").to_pandas()
    by_month = {str(m)[:7]: int(v) for m, v in zip(monthly["month"], monthly[metric], strict=True)}
    return int(total), by_month


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(picked=filters)
def test_filter_meaning_survives_the_round_trip(db: Path, picked: Any) -> None:
    text, evaluate = picked
    rows = _rows()
    want_months = {f"2024-{m:02d}": 0 for m in (1, 2, 3)}
    for r in rows:
        if evaluate(r) is True:
            want_months[r["ts"].isoformat()[:7]] += 1
    want = (sum(want_months.values()), want_months)
    x = ml.load(_defs(text), con=str(db))
    with tempfile.TemporaryDirectory() as out:
        exported = ml.export_metricflow(x, Path(out) / "dbt")
        assert not [p for p in exported.problems if "not exported" in p.message], exported.report()
        y = ml.load(ml.import_metricflow(Path(out) / "dbt").definitions, con=str(db))
    assert _counts(x, "picked") == want, text
    assert _counts(y, exported.names["picked"]) == want, (text, exported.definitions["metrics"])
