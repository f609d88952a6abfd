"""Parity with MetricFlow itself on an exported project: MetricFlow answers with the dbt files
`ml.export_metricflow` wrote, and every cell equals what the original definitions answer.

The definitions are written here in metrics_layer's own terms over the tables of the
MetricFlow test project (tests/fixtures/metricflow/shop): a count without expr, a measure with
its own filter, filters through one and two joins, on a time dimension, at a grain and on a
raw column, ratios of measures, derived metrics, offset metrics (a window and
offset_to_grain), cumulative metrics, per-metric fill and conversion metrics (visits ->
buys of a customer: rates, counts, filled, a constant property, filters). The test copies the shop's seeds
into the exported project under the table names, builds it with dbt and runs MetricFlow
(run_metricflow.py, in the venv ML_METRICFLOW_PYTHON names) on it; it skips when that venv
is not there. Query conventions are mapped as in test_metricflow_parity.py.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

import metrics_layer as ml
from tests.interchange.shop_data import SHOP, TYPES, seed_types, shop_db
from tests.interchange.test_metricflow_parity import _key, _widen, norm, same

RUNNER = SHOP.parent / "run_metricflow.py"
ROOT = Path(__file__).resolve().parents[2]
PYTHON = os.environ.get("ML_METRICFLOW_PYTHON", "")

pytestmark = pytest.mark.skipif(
    not (PYTHON and Path(PYTHON).is_file()),
    reason="MetricFlow is not installed: set ML_METRICFLOW_PYTHON to the python of a venv with "
    '"dbt-metricflow[dbt-duckdb]" "dbt-core>=1.11,<1.12" (.ci/run creates one)',
)

DEFINITIONS: dict[str, Any] = {
    "sources": {
        "transactions": {
            "table": "transactions",
            "time": "ds",
            "primary_key": "id_transaction",
            "dimensions": {
                "ds": {"type": "date"},
                "is_large": {"expr": "transaction_amount_usd >= 30"},
                "transaction_type": {"expr": "transaction_type_name"},
            },
            "measures": {
                "orders": {"agg": "count"},
                "amount": {"agg": "sum", "expr": "transaction_amount_usd"},
                "purchase_amount": {
                    "agg": "sum",
                    "expr": "transaction_amount_usd",
                    "filter": "transaction_type_name = 'purchase'",
                },
                "buyers": {"agg": "count_distinct", "expr": "id_customer"},
                "avg_amount": {"agg": "avg", "expr": "transaction_amount_usd"},
                # as a double: MetricFlow's median of a DECIMAL(10,2) on DuckDB keeps two
                # decimals (32.77 for the median 32.775 of 32.77 and 32.78)
                "median_amount": {
                    "agg": "median",
                    "expr": "CAST(transaction_amount_usd AS DOUBLE)",
                },
                "top_amount": {"agg": "max", "expr": "transaction_amount_usd"},
            },
            "joins": {"customer": {"source": "customers", "keys": "id_customer"}},
        },
        "customers": {
            "table": "customers",
            "time": "ds",
            "primary_key": "id_customer",
            "dimensions": {"customer_country": {"expr": "country"}},
            "measures": {"signups": {"agg": "count"}},
            "joins": {"country": {"source": "countries", "keys": "country"}},
        },
        "countries": {"table": "countries", "primary_key": "country", "dimensions": {"region": {}}},
        # visits and buys of the same customers, with no join: the conversion entity is a
        # plain column of both (exported as a foreign entity of both semantic models)
        "visits": {
            "table": "visits",
            "time": "ds",
            "primary_key": "id_visit",
            "dimensions": {"ds": {"type": "date"}, "product": {}, "referrer": {}},
            "measures": {
                "visit_count": {"agg": "count"},
                "visitors": {"agg": "count_distinct", "expr": "id_customer"},
                "ad_visits": {"agg": "count", "filter": "referrer = 'ad'"},
            },
        },
        "buys": {
            "table": "buys",
            "time": "ds",
            "primary_key": "id_buy",
            "dimensions": {"ds": {"type": "date"}, "product": {}},
            "measures": {
                "buy_count": {"agg": "count"},
                "buyers": {"agg": "count_distinct", "expr": "id_customer"},
            },
        },
        # daily snapshots of account balances: semi-additive over time
        "balances": {
            "table": "balances",
            "time": "ds",
            "dimensions": {"ds": {"type": "date"}},
            "measures": {
                "balance_last": {
                    "agg": "sum",
                    "expr": "balance",
                    "non_additive": {"window": "last", "groupings": ["account_id"]},
                },
                "balance_first": {
                    "agg": "sum",
                    "expr": "balance",
                    "non_additive": {"window": "first", "groupings": ["account_id"]},
                },
                "balance_on_last_day": {
                    "agg": "sum",
                    "expr": "balance",
                    "non_additive": {"window": "last"},
                },
            },
        },
    },
    "metrics": {
        "orders": {"measure": "transactions.orders"},
        "balance_last": {"measure": "balances.balance_last"},
        "balance_first": {"measure": "balances.balance_first"},
        "balance_on_last_day": {"measure": "balances.balance_on_last_day"},
        "amount": {"measure": "transactions.amount"},
        "purchase_amount": {"measure": "transactions.purchase_amount"},
        "buyers": {"measure": "transactions.buyers"},
        "avg_amount": {"measure": "transactions.avg_amount"},
        "median_amount": {"measure": "transactions.median_amount"},
        "top_amount": {"measure": "transactions.top_amount"},
        "signups": {"measure": "customers.signups"},
        "us_amount": {
            "measure": "transactions.amount",
            "filter": "customer.customer_country = 'US'",
        },
        "na_orders": {"measure": "transactions.orders", "filter": "region = 'NA'"},
        "large_orders": {"measure": "transactions.orders", "filter": "is_large"},
        "late_orders": {"measure": "transactions.orders", "filter": "ds >= '2022-04-01'"},
        "may_orders": {"measure": "transactions.orders", "filter": "ds__month = '2022-05-01'"},
        "ordered_orders": {"measure": "transactions.orders", "filter": "id_order IS NOT NULL"},
        "purchase_share": {
            "type": "ratio",
            "numerator": "transactions.purchase_amount",
            "denominator": "transactions.amount",
        },
        "amount_per_buyer": {"type": "derived", "expr": "amount / buyers"},
        "orders_prev_month": {"type": "offset", "metric": "orders", "offset": "1 month"},
        "orders_mom": {"type": "derived", "expr": "orders - orders_prev_month"},
        "orders_month_start": {"type": "offset", "metric": "orders", "offset_to_grain": "month"},
        "orders_7d": {"type": "cumulative", "measure": "transactions.orders", "window": "7 days"},
        "amount_mtd": {
            "type": "cumulative",
            "measure": "transactions.amount",
            "grain_to_date": "month",
            "period_agg": "first",
        },
        "orders_filled": {
            "measure": "transactions.orders",
            "fill_nulls_with": 0,
            "join_to_timespine": True,
        },
        "visit_to_buy_7d": {
            "type": "conversion",
            "conversion": {
                "base": "visits.visit_count",
                "conversion": "buys.buy_count",
                "entity": "id_customer",
                "window": "7 days",
                "time_grain": "day",
            },
        },
        "buys_within_week": {
            "type": "conversion",
            "conversion": {
                "base": "visits.visit_count",
                "conversion": "buys.buy_count",
                "entity": "id_customer",
                "window": "1 week",
                "calculation": "conversions",
            },
            "fill_nulls_with": 0,
        },
        "same_product_rate": {
            "type": "conversion",
            "conversion": {
                "base": "visits.visit_count",
                "conversion": "buys.buy_count",
                "entity": "id_customer",
                "window": "14 days",
                "constant_properties": ["product"],
            },
        },
        "ad_buyers": {
            "type": "conversion",
            "conversion": {
                "base": "visits.ad_visits",
                "conversion": "buys.buyers",
                "entity": "id_customer",
                "window": "30 days",
                "calculation": "conversions",
            },
            "filter": "product = 'A'",
        },
        "visitor_to_buyer": {
            "type": "conversion",
            "conversion": {
                "base": "visits.visitors",
                "conversion": "buys.buyers",
                "entity": "id_customer",
            },
        },
    },
}
CONVERSIONS = [
    "visit_to_buy_7d",
    "buys_within_week",
    "same_product_rate",
    "ad_buyers",
    "visitor_to_buyer",
]
# MetricFlow group-by name -> ours
DIMS = {
    "customer__customer_country": "customer_country",
    "customer__country__region": "region",
    "transactions__is_large": "is_large",
    "transactions__transaction_type": "transaction_type",
    "account_id": "account_id",
    "visits__product": "product",
    "visits__referrer": "referrer",
}
# (account, day, balance): accounts start and stop at different days, with gaps
BALANCES = [
    (f"a{a}", dt.date(2022, 1, 1) + dt.timedelta(days=d), float((a * 37 + d * 11) % 90 + a))
    for a in range(1, 5)
    for d in range(0, 110, a + 2)
    if not (a == 3 and d > 45) and not (a == 4 and d < 60)
]
BOUNDED = {"start": "2022-01-01", "end": "2022-06-30"}
QUERIES: list[tuple[str, list[str], list[str], dict[str, Any]]] = [
    ("totals", ["orders", "amount", "purchase_amount", "buyers", "avg_amount"], [], {}),
    (
        "balances_month",
        ["balance_last", "balance_first", "balance_on_last_day"],
        ["metric_time__month"],
        {},
    ),
    ("balances_week", ["balance_last", "balance_first"], ["metric_time__week"], {}),
    ("balances_account", ["balance_last", "balance_on_last_day"], ["account_id"], {}),
    (
        "filters_month",
        [
            "orders",
            "us_amount",
            "na_orders",
            "large_orders",
            "late_orders",
            "may_orders",
            "ordered_orders",
        ],
        ["metric_time__month"],
        {},
    ),
    (
        "week_country",
        ["orders", "buyers", "median_amount"],
        ["metric_time__week", "customer__customer_country"],
        {},
    ),
    (
        "quarter_region",
        ["amount", "top_amount"],
        ["metric_time__quarter", "customer__country__region"],
        {},
    ),
    ("ratio_derived", ["purchase_share", "amount_per_buyer"], ["metric_time__month"], {}),
    ("ratio_country", ["purchase_share"], ["customer__customer_country"], {}),
    (
        "offset_month",
        ["orders_prev_month", "orders_mom"],
        ["metric_time__month"],
        {"ours_end": "2022-08-01"},
    ),
    (
        "offset_bounded",
        ["orders_prev_month"],
        ["metric_time__month"],
        {"start": "2022-03-01", "end": "2022-05-31"},
    ),
    (
        "month_start_day",
        ["orders_month_start"],
        ["metric_time__day"],
        {"start": "2022-03-10", "end": "2022-04-03"},
    ),
    (
        "window_day",
        ["orders_7d"],
        ["metric_time__day"],
        {"start": "2022-03-01", "end": "2022-03-31"},
    ),
    ("mtd_month", ["amount_mtd", "amount"], ["metric_time__month"], BOUNDED),
    (
        "filled_day",
        ["orders_filled", "orders"],
        ["metric_time__day"],
        {"start": "2022-03-01", "end": "2022-03-20"},
    ),
    ("signups_country", ["signups"], ["metric_time__month", "customer__customer_country"], {}),
    (
        "large_type",
        ["orders", "amount"],
        ["transactions__is_large", "transactions__transaction_type"],
        {},
    ),
    (
        "where_us",
        ["orders", "purchase_share"],
        ["metric_time__month"],
        {
            "where": ["{{ Dimension('customer__customer_country') }} = 'US'"],
            "ours_where": "customer_country = 'US'",
        },
    ),
    # conversion metrics: a buy counts for the latest earlier visit of the customer within
    # the window (strict at its end), reported at that visit's time and dimensions
    ("conversion_totals", CONVERSIONS, [], {}),
    ("conversion_month", CONVERSIONS, ["metric_time__month"], {}),
    (
        "conversion_day",
        ["visit_to_buy_7d", "buys_within_week", "ad_buyers"],
        ["metric_time__day"],
        {"start": "2022-04-25", "end": "2022-05-14"},
    ),
    (
        "conversion_product",
        ["same_product_rate", "visit_to_buy_7d", "visitor_to_buyer"],
        ["visits__product"],
        {},
    ),
    (
        "conversion_referrer_week",
        ["buys_within_week", "ad_buyers"],
        ["metric_time__week", "visits__referrer"],
        {},
    ),
]


def _project(root: Path) -> None:
    """Make the exported folder a dbt project that builds: seeds under the table names."""
    (root / "seeds").mkdir()
    types = {**TYPES, **{t: seed_types()[t] for t in ("visits", "buys")}}
    for table in types:
        shutil.copy(SHOP / "seeds" / f"{table}_seed.csv", root / "seeds" / f"{table}.csv")
    lines = ["account_id,ds,balance"] + [f"{a},{d.isoformat()},{b}" for a, d, b in BALANCES]
    (root / "seeds" / "balances.csv").write_text("\n".join(lines) + "\n")
    config = yaml.safe_load((root / "dbt_project.yml").read_text())
    config["seed-paths"] = ["seeds"]
    config["seeds"] = {
        config["name"]: {
            **{
                table: {"+column_types": {c: t.lower() for c, t in columns.items()}}
                for table, columns in types.items()
            },
            "balances": {
                "+column_types": {"account_id": "varchar", "ds": "date", "balance": "double"}
            },
        }
    }
    (root / "dbt_project.yml").write_text(yaml.safe_dump(config))
    profile = {
        config["profile"]: {
            "target": "dev",
            "outputs": {"dev": {"type": "duckdb", "path": "{{ env_var('MF_SHOP_DB') }}"}},
        }
    }
    (root / "profiles.yml").write_text(yaml.safe_dump(profile))


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], ml.Layer, Any]:
    base = tmp_path_factory.mktemp("export_parity")
    db = shop_db(base / "ours.duckdb")
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE balances (account_id VARCHAR, ds DATE, balance DOUBLE)")
    con.executemany("INSERT INTO balances VALUES (?, ?, ?)", BALANCES)
    con.close()
    layer = ml.load(DEFINITIONS, con=str(db))
    root = base / "dbt"
    exported = ml.export_metricflow(layer, root, spine=("2021-12-01", "2022-09-01"))
    _project(root)
    payload = [
        {
            "id": qid,
            "metrics": [exported.names[m] for m in metrics],
            "group_by": group_by,
            "where": extra.get("where"),
            "start": extra.get("start"),
            "end": extra.get("end"),
        }
        for qid, metrics, group_by, extra in QUERIES
    ]
    env = {**os.environ, "MF_SHOP_DB": str(base / "mf.duckdb"), "DBT_PROFILES_DIR": str(root)}
    done = subprocess.run(
        [PYTHON, str(RUNNER), str(root)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout), layer, exported


def test_every_metric_exported(answers: Any) -> None:
    _, _, exported = answers
    assert set(exported.names) == set(DEFINITIONS["metrics"])
    assert len(QUERIES) >= 10
    asked = {m for _, metrics, _, _ in QUERIES for m in metrics}
    assert asked == set(DEFINITIONS["metrics"])


def _filtered_counts(exported: Any) -> set[str]:
    return {p.item for p in exported.problems if p.message.startswith("a filtered count")}


def test_filtered_counts_are_reported(answers: Any) -> None:
    _, _, exported = answers
    assert _filtered_counts(exported) == {
        f"metric {m}"
        for m in (
            "na_orders",
            "large_orders",
            "late_orders",
            "may_orders",
            "ordered_orders",
            "ad_buyers",
        )
    }


def _ours(
    layer: ml.Layer,
    metrics: list[str],
    group_by: list[str],
    extra: dict[str, Any],
    dims: dict[str, str],
):
    grain = None
    by: list[str] = []
    for g in group_by:
        if g.startswith("metric_time"):
            grain = g.partition("__")[2] or "day"
        else:
            by.append(dims[g])
    start, end = extra.get("start"), extra.get("end")
    if end is not None:  # MetricFlow's end is inclusive
        end = (dt.date.fromisoformat(end) + dt.timedelta(days=1)).isoformat()
    if grain is not None and start is not None:
        start, end = _widen(start, end, grain)
    end = extra.get("ours_end", end)
    df = layer.query(
        metrics, by=by, grain=grain, where=extra.get("ours_where"), start=start, end=end
    ).to_pandas()
    return [list(row) for row in df.itertuples(index=False)]


@pytest.mark.parametrize(
    ("qid", "metrics", "group_by", "extra"), QUERIES, ids=[q[0] for q in QUERIES]
)
def test_same_numbers_as_metricflow(
    answers: Any, qid: str, metrics: list[str], group_by: list[str], extra: dict[str, Any]
) -> None:
    _check(*answers, qid, metrics, group_by, extra, DIMS)


def _check(
    results: dict[str, Any],
    layer: ml.Layer,
    exported: Any,
    qid: str,
    metrics: list[str],
    group_by: list[str],
    extra: dict[str, Any],
    dims: dict[str, str],
) -> None:
    theirs = results[qid]
    assert "error" not in theirs, theirs.get("error")
    wanted = [*group_by, *(exported.names[m] for m in metrics)]
    assert sorted(theirs["columns"]) == sorted(wanted)
    at = [theirs["columns"].index(c) for c in wanted]
    n = len(group_by)
    mf_rows = sorted(([norm(r[i]) for i in at] for r in theirs["rows"]), key=lambda r: _key(r, n))
    assert mf_rows, "MetricFlow answered no rows"
    our_rows = [[norm(v) for v in r] for r in _ours(layer, metrics, group_by, extra, dims)]
    # a filtered metric's group without rows is a row of NULLs here and no row in MetricFlow
    groups = {_key(r, n) for r in mf_rows}
    our_rows = [r for r in our_rows if _key(r, n) in groups or any(v is not None for v in r[n:])]
    our_rows.sort(key=lambda r: _key(r, n))
    assert [r[:n] for r in our_rows] == [r[:n] for r in mf_rows], "different groups"
    # the report's filtered counts: 0 here where MetricFlow has no value (and nothing else)
    zero_ok = [f"metric {m}" in _filtered_counts(exported) for m in metrics]
    bad = [
        (mine[:n], row[n:], mine[n:])
        for mine, row in zip(our_rows, mf_rows, strict=True)
        if not all(
            same(x, y) or (ok and x == 0 and y is None)
            for x, y, ok in zip(mine[n:], row[n:], zero_ok, strict=True)
        )
    ]
    assert not bad, f"{len(bad)} rows differ (group, MetricFlow, ours): {bad[:5]}"


# ---------------------------------------------------------------------- metric_defs/ on demo data
DEMO_DIMS = {
    "workers__country": "workers.country",
    "workers__skill": "workers.skill",
    "workers__tier": "workers.tier",
    "tasks__category": "category",
    "events_key__platform": "platform",
}
DEMO_BOUNDED = {"start": "2024-03-01", "end": "2025-03-31"}
DEMO_QUERIES: list[tuple[str, list[str], list[str], dict[str, Any]]] = [
    (
        "totals",
        ["active_workers", "app_active_workers", "revenue", "hours", "tasks_posted", "paid_amount"],
        [],
        {},
    ),
    (
        "month",
        [
            "revenue",
            "hours",
            "active_workers",
            "completion_rate",
            "revenue_per_active_worker",
            "hourly_rate",
        ],
        ["metric_time__month"],
        {},
    ),
    ("offsets", ["revenue_prev_month", "revenue_mom"], ["metric_time__month"], DEMO_BOUNDED),
    (
        "cumulative_day",
        ["active_workers_28d", "revenue_mtd"],
        ["metric_time__day"],
        {"start": "2024-09-01", "end": "2024-10-15"},
    ),
    ("country_week", ["app_active_workers"], ["metric_time__week", "workers__country"], {}),
    ("category_month", ["tasks_posted"], ["metric_time__month", "tasks__category"], {}),
    ("skill_month", ["revenue", "hours"], ["metric_time__month", "workers__skill"], {}),
    ("tier", ["completion_rate", "active_workers"], ["workers__tier"], {}),
    ("paid_quarter", ["paid_amount"], ["metric_time__quarter"], {}),
    ("referrals", ["referrals_sent", "referrers"], ["metric_time__month"], {}),
    (
        "where_platform",
        ["app_active_workers"],
        ["metric_time__month"],
        {
            "where": ["{{ Dimension('events_key__platform') }} = 'ios'"],
            "ours_where": "platform = 'ios'",
        },
    ),
]


@pytest.fixture(scope="module")
def demo_answers(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], ml.Layer, Any]:
    from metrics_layer.demo.generate import generate

    base = tmp_path_factory.mktemp("export_parity_demo")
    demo = base / "demo.duckdb"
    generate(demo, events=5_000)
    layer = ml.load(ROOT / "metric_defs", con=str(demo))
    root = base / "dbt"
    exported = ml.export_metricflow(layer, root, spine=("2023-12-01", "2026-02-01"))
    tables = sorted({m["model"][5:-2] for m in exported.definitions["semantic_models"]})
    mf_db = base / "mf.duckdb"
    con = duckdb.connect(str(mf_db))
    try:  # the demo tables as the sources dbt's models read (models/<table>.sql)
        con.execute("ATTACH ? AS demo (READ_ONLY)", [str(demo)])
        for table in tables:
            con.execute(f"CREATE TABLE {table}_src AS SELECT * FROM demo.{table}")
            (root / "models" / f"{table}.sql").write_text(f"select * from {table}_src\n")
    finally:
        con.close()
    config = yaml.safe_load((root / "dbt_project.yml").read_text())
    profile = {
        config["profile"]: {
            "target": "dev",
            "outputs": {"dev": {"type": "duckdb", "path": str(mf_db)}},
        }
    }
    (root / "profiles.yml").write_text(yaml.safe_dump(profile))
    payload = [
        {
            "id": qid,
            "metrics": [exported.names[m] for m in metrics],
            "group_by": group_by,
            "where": extra.get("where"),
            "start": extra.get("start"),
            "end": extra.get("end"),
        }
        for qid, metrics, group_by, extra in DEMO_QUERIES
    ]
    done = subprocess.run(
        [PYTHON, str(RUNNER), str(root)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        env={**os.environ, "DBT_PROFILES_DIR": str(root)},
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout), layer, exported


def test_demo_queries_cover_the_exported_metrics(demo_answers: Any) -> None:
    _, _, exported = demo_answers
    asked = {m for _, metrics, _, _ in DEMO_QUERIES for m in metrics}
    assert asked == set(exported.names)


@pytest.mark.parametrize(
    ("qid", "metrics", "group_by", "extra"), DEMO_QUERIES, ids=[q[0] for q in DEMO_QUERIES]
)
def test_metric_defs_same_numbers_as_metricflow(
    demo_answers: Any, qid: str, metrics: list[str], group_by: list[str], extra: dict[str, Any]
) -> None:
    _check(*demo_answers, qid, metrics, group_by, extra, DEMO_DIMS)
