"""Source data checks (CONTRACT §4): each check type with passing and failing data.

Failing rows come back as counts and ordered samples; every failing row can be returned as an
ibis expression or written to a quarantine table.
"""

from __future__ import annotations

import pandas as pd
import pytest

import metrics_layer as ml
from tests.unit.test_checks_support import USERS, defs, make_layer, orders

ROWS = orders(
    [
        {"order_id": 1, "user_id": 1, "status": "paid", "amount": 10, "ts": "2024-01-01 10:00"},
        {"order_id": 2, "user_id": 2, "status": "open", "amount": 20, "ts": "2024-01-02 10:00"},
        {"order_id": 3, "user_id": 3, "status": "paid", "amount": 30, "ts": "2024-01-03 10:00"},
    ]
)


def run(backend, tmp_path, checks, data=ROWS, users=USERS, users_checks="", **kwargs):
    layer = make_layer(
        backend,
        tmp_path,
        defs(orders_checks=checks, users_checks=users_checks),
        {"orders": data, "users": users},
    )
    return layer.check_sources(**kwargs)


def with_rows(*changes):
    """ROWS plus extra rows (dicts) appended."""
    base = ROWS.to_dict("records")
    return orders([*base, *changes])


# ----------------------------------------------------------------------------- not_null
def test_not_null_one_rule_per_column_with_samples(backend, tmp_path):
    data = with_rows(
        {"order_id": 4, "user_id": None, "ts": "2024-01-04"},
        {"order_id": 5, "user_id": None, "ts": "2024-01-05"},
    )
    report = run(backend, tmp_path, "- not_null: [order_id, user_id]", data)
    df = report.to_pandas()
    assert df["rule"].tolist() == ["not_null(order_id)", "not_null(user_id)"]
    assert df["passed"].tolist() == [True, False]
    assert df["failures"].tolist() == [0, 2]
    sample = report.failing("orders", "not_null(user_id)")
    assert sample["order_id"].tolist() == [4, 5]  # ordered by the primary key
    assert sample.columns[0] == "user_id"  # the checked column first
    assert df["detail"].iloc[1] == "2 of 5 rows NULL: user_id=NULL"


def test_where_restricts_the_checked_rows(backend, tmp_path):
    data = with_rows({"order_id": 4, "user_id": None, "status": "guest", "ts": "2024-01-04"})
    checks = """
    - not_null: user_id
      where: "status <> 'guest'"
    """
    assert run(backend, tmp_path, checks, data).ok


# ----------------------------------------------------------------------------- unique
def test_unique_reports_every_row_sharing_a_key(backend, tmp_path):
    data = with_rows(
        {"order_id": 2, "ts": "2024-01-04"},
        {"order_id": 2, "ts": "2024-01-05"},
        {"order_id": None, "ts": "2024-01-06"},
        {"order_id": None, "ts": "2024-01-07"},
    )
    report = run(backend, tmp_path, "- unique: [order_id]", data)
    res = report.result("orders", "unique")
    assert (res.passed, res.failures) == (False, 3)  # NULL keys are not duplicates
    sample = report.failing("orders", "unique(order_id)")
    assert sample["order_id"].tolist() == [2, 2, 2]
    assert sample["rows_with_key"].tolist() == [3, 3, 3]


def test_unique_composite_key(backend, tmp_path):
    data = with_rows({"order_id": 9, "user_id": 1, "status": "paid", "ts": "2024-01-04"})
    assert not run(backend, tmp_path, "- unique: [user_id, status]", data).ok
    assert run(backend, tmp_path, "- unique: [order_id, user_id]", data).ok


# ----------------------------------------------------------------------------- accepted_values
def test_accepted_values(backend, tmp_path):
    checks = "- accepted_values: {column: status, values: [paid, open]}"
    assert run(backend, tmp_path, checks).ok
    data = with_rows(
        {"order_id": 4, "status": "lost", "ts": "2024-01-04"},
        {"order_id": 5, "status": None, "ts": "2024-01-05"},
    )  # NULL is not judged
    report = run(backend, tmp_path, checks, data)
    assert report.result("orders", "accepted_values").failures == 1
    assert report.failing("orders", "accepted_values")["status"].tolist() == ["lost"]
    # values are compared exactly (case-sensitive)
    dim = "- accepted_values: {column: status, values: [PAID, OPEN]}"
    assert not run(backend, tmp_path, dim).ok


# ----------------------------------------------------------------------------- range
def test_numeric_range(backend, tmp_path):
    assert run(backend, tmp_path, "- range: {column: amount, min: 0, max: 30}").ok
    report = run(backend, tmp_path, "- range: {column: amount, min: 15}")
    assert report.failing("orders", "range")["amount"].tolist() == [10]
    assert "outside [15, +∞]" in report.result("orders", "range").detail


def test_timestamp_range_with_as_of_and_now(backend, tmp_path):
    future = with_rows({"order_id": 4, "ts": "2099-01-01"})
    assert not run(backend, tmp_path, "- range: {column: ts, max: now}", future).ok
    assert run(backend, tmp_path, "- range: {column: ts, max: now}").ok
    checks = "- range: {column: ts, min: 2024-01-01, max: as_of}"
    report = run(backend, tmp_path, checks, as_of="2024-01-02 12:00")
    assert report.failing("orders", "range")["order_id"].tolist() == [3]


def test_range_bound_of_the_wrong_type_is_an_error(backend, tmp_path):
    with pytest.raises(ml.MetricsLayerError, match=r"checks\.0.*not a date or timestamp"):
        run(backend, tmp_path, "- range: {column: ts, min: 5}")


# ----------------------------------------------------------------------------- relationships
def test_relationships_finds_orphans_by_join_role(backend, tmp_path):
    data = with_rows(
        {"order_id": 4, "user_id": 7, "ts": "2024-01-04"},
        {"order_id": 5, "user_id": 7, "ts": "2024-01-05"},
        {"order_id": 6, "user_id": None, "ts": "2024-01-06"},
    )  # NULL key: no orphan
    report = run(backend, tmp_path, "- relationships: users", data)
    res = report.result("orders", "relationships(users)")
    assert (res.passed, res.failures) == (False, 2)
    assert report.failing("orders", "relationships")["order_id"].tolist() == [4, 5]
    assert "user_id=7" in res.detail
    assert run(backend, tmp_path, "- relationships: [users]").ok


def test_relationships_unknown_role_suggests(backend, tmp_path):
    with pytest.raises(ml.MetricsLayerError, match="did you mean 'users'"):
        run(backend, tmp_path, "- relationships: user")


# ----------------------------------------------------------------------------- freshness
def test_freshness_against_as_of(backend, tmp_path):
    checks = "- freshness: {max_age: 2 days}"
    assert run(backend, tmp_path, checks, as_of="2024-01-05").ok
    report = run(backend, tmp_path, checks, as_of="2024-01-06")
    res = report.result("orders", "freshness")
    assert (res.passed, res.failures) == (False, 1)
    assert "latest ts 2024-01-03 10:00:00 is 2d 14h old" in res.detail
    bad = report.failing("orders", "freshness")
    assert bad["max_age"].tolist() == ["2 days"]


def test_freshness_of_an_empty_table_fails(backend, tmp_path):
    empty = ROWS.iloc[0:0]
    report = run(
        backend, tmp_path, "- freshness: {max_age: 1 day, column: ts}", empty, as_of="2024-01-01"
    )
    assert not report.ok
    assert "no rows" in report.result("orders", "freshness(ts)").detail


# ----------------------------------------------------------------------------- columns
def test_columns_and_types(backend, tmp_path):
    checks = "- columns: {order_id: int, amount: float, status: string, ts: timestamp}"
    assert run(backend, tmp_path, checks).ok
    report = run(
        backend,
        tmp_path,
        "- columns: {order_id: string, discount: null, ts: date, amount: float64}",
    )
    bad = report.failing("orders", "columns")
    assert bad["column"].tolist() == ["order_id", "discount", "ts"]
    assert bad["actual"].tolist()[1] == "missing"
    assert report.result("orders", "columns").failures == 3


def test_columns_unknown_type_is_an_error(backend, tmp_path):
    with pytest.raises(ml.MetricsLayerError, match="unknown type 'intt'"):
        run(backend, tmp_path, "- columns: {order_id: intt}")


# ----------------------------------------------------------------------------- volume
def _daily_counts(counts):
    rows, oid = [], 1
    for day, n in enumerate(counts):
        for k in range(n):
            rows.append(
                {
                    "order_id": oid,
                    "ts": pd.Timestamp("2024-01-01") + pd.Timedelta(days=day, minutes=k),
                }
            )
            oid += 1
    return orders(rows)


def test_volume_spike_and_missing_day(backend, tmp_path):
    base = [10, 11, 9, 10, 12, 10, 11, 9, 10]
    checks = "- volume: {grain: day, window: 7, threshold: 4}"
    assert run(backend, tmp_path, checks, _daily_counts([*base, 10, 11])).ok
    report = run(backend, tmp_path, checks, _daily_counts([*base, 40, 0, 10]))
    bad = report.failing("orders", "volume")
    assert list(bad.columns) == ["day", "rows", "expected", "score"]
    assert [d.date().isoformat() for d in bad["day"]] == ["2024-01-10", "2024-01-11"]
    assert bad["rows"].tolist() == [40, 0]  # a day without rows counts 0 rows


def test_volume_where_and_direction(backend, tmp_path):
    data = _daily_counts([10] * 9 + [2])
    checks = """
    - volume: {grain: day, window: 7, threshold: 3, direction: up}
    """
    assert run(backend, tmp_path, checks, data).ok
    data.loc[data.index[-1], "status"] = "open"
    checks = """
    - volume: {grain: day, window: 7, threshold: 3, min_periods: 3}
      where: "status = 'open'"
    """
    assert run(backend, tmp_path, checks, data).ok  # one open order, no history: not judged


# ----------------------------------------------------------------------------- quarantine
def test_failing_rows_and_quarantine_table(backend, tmp_path):
    data = with_rows(
        {"order_id": 4, "user_id": 7, "amount": -1, "ts": "2024-01-04"},
        {"order_id": 5, "user_id": None, "ts": "2024-01-05"},
    )
    checks = """
    - not_null: [user_id]
    - range: {column: amount, min: 0}
    - relationships: users
    """
    layer = make_layer(
        backend, tmp_path, defs(orders_checks=checks), {"orders": data, "users": USERS}
    )
    report = layer.check_sources(quarantine=True)
    rows = report.failing_rows("orders").execute().sort_values("order_id")
    assert rows["order_id"].tolist() == [4, 5]
    assert rows["_failed_checks"].tolist() == [
        "range(amount); relationships(users)",
        "not_null(user_id)",
    ]
    table = report.meta["quarantine"]["orders"]
    assert table.endswith("__quarantine")
    stored = backend.con.table(table).execute().sort_values("order_id")
    assert stored["order_id"].tolist() == [4, 5]
    layer.check_sources(quarantine=True)  # overwrites, never appends
    assert backend.con.table(table).count().execute() == 2


# ----------------------------------------------------------------------------- errors
def test_unknown_column_is_an_error_with_the_check_location(backend, tmp_path):
    with pytest.raises(ml.MetricsLayerError) as err:
        run(backend, tmp_path, "- not_null: [order_id]\n- not_null: [user]")
    text = str(err.value)
    assert "sources.orders.checks.1" in text and "did you mean 'user_id'" in text


@pytest.mark.parametrize(
    ("check", "message"),
    [
        ("- not_nul: [a]", "unknown check 'not_nul' (did you mean 'not_null'?)"),
        ("- range: {column: a}", "needs min, max or both"),
        ("- range: {column: a, mn: 1}", "unknown field 'range.mn' (did you mean 'min'?)"),
        ("- unique: []", "at least 1"),
        ("- freshness: {max_age: 2 dayz}", "invalid duration"),
        ("- unique: [a]\n  colum: b", "unknown key 'colum'"),
        ("- {unique: [a], not_null: [a]}", "one check per list item"),
        ("- volume: {grain: fortnight}", "volume check: volume.grain"),
    ],
)
def test_check_declarations_are_validated_at_load(tmp_path, check, message):
    (tmp_path / "defs.yml").write_text(defs(orders_checks=check))
    with pytest.raises(ml.DefinitionError) as err:
        ml.load(tmp_path, vars={"orders": "o", "users": "u"})
    assert message in str(err.value)
    assert "defs.yml:" in str(err.value) and "sources.orders.checks.0" in str(err.value)
