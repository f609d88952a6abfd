"""Parity with MetricFlow itself: the imported test project gives MetricFlow's numbers.

MetricFlow runs in its own virtualenv (it pins dbt and other packages this project does not
use); ML_METRICFLOW_PYTHON names that venv's python (`.ci/run` creates it:
`pip install "dbt-metricflow[dbt-duckdb]" "dbt-core>=1.11,<1.12"`). The test builds the dbt
project in tests/fixtures/metricflow/shop into a fresh DuckDB file, answers every query with
MetricFlow (run_metricflow.py) and with the definitions `ml.import_metricflow` wrote, and
compares every cell. Query conventions are mapped as docs/coming-from-metricflow.md says:
`metric_time__<grain>` is `grain=`, MetricFlow's inclusive end is our exclusive `end` one day
later.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import metrics_layer as ml

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "metricflow"
PYTHON = os.environ.get("ML_METRICFLOW_PYTHON", "")

pytestmark = pytest.mark.skipif(
    not (PYTHON and Path(PYTHON).is_file()),
    reason="MetricFlow is not installed: set ML_METRICFLOW_PYTHON to the python of a venv with "
    '"dbt-metricflow[dbt-duckdb]" "dbt-core>=1.11,<1.12" (.ci/run creates one)',
)

# MetricFlow group-by name -> ours (a dimension path that resolves from every queried source)
DIMS = {
    "customer__customer_country": "customer_country",
    "customer__country__region": "region",
    "transaction__is_large": "is_large",
    "transaction__transaction_type": "transaction_type",
    "customer__ds__month": "customer.ds__month",
    "customer": "transactions.id_customer",
    "visit__referrer": "referrer",
    "visit__product": "visits.product",
}
BOUNDED = {"start": "2022-01-01", "end": "2022-06-30"}  # MetricFlow's end is inclusive

# (id, metrics, group_by, extra): extra holds MetricFlow's where/start/end and our where.
QUERIES: list[tuple[str, list[str], list[str], dict[str, Any]]] = [
    ("totals", ["transactions", "transaction_amount", "transacting_customers"], [], {}),
    ("day", ["transactions", "transaction_amount"], ["metric_time__day"], {}),
    ("week", ["transactions", "transacting_customers"], ["metric_time__week"], {}),
    (
        "month_measures",
        [
            "transactions",
            "transaction_rows",
            "quick_buy_transactions",
            "cancellations",
            "alterations",
        ],
        ["metric_time__month"],
        {},
    ),
    ("quarter_revenue", ["revenue_usd", "quick_buy_amount_usd"], ["metric_time__quarter"], {}),
    ("year_customers", ["transacting_customers", "average_amount"], ["metric_time__year"], {}),
    (
        "month_country",
        ["transactions", "cancellation_rate"],
        ["metric_time__month", "customer__customer_country"],
        {},
    ),
    (
        "month_region",
        ["transaction_amount"],
        ["metric_time__month", "customer__country__region"],
        {},
    ),
    ("is_large", ["transactions", "average_amount"], ["transaction__is_large"], {}),
    (
        "type_month",
        ["max_amount", "min_amount"],
        ["metric_time__month", "transaction__transaction_type"],
        {},
    ),
    ("new_customers_month", ["new_customers"], ["metric_time__month"], {}),
    ("new_customers_country", ["new_customers"], ["customer__customer_country"], {}),
    ("two_sources_month", ["new_customers", "transactions"], ["metric_time__month"], {}),
    ("two_sources_country", ["new_customers", "transactions"], ["customer__customer_country"], {}),
    ("mx", ["cancellations_mx", "cancellations"], ["metric_time__month"], {}),
    ("na", ["transaction_usd_na"], ["metric_time__month"], {}),
    ("large_week", ["large_transactions"], ["metric_time__week"], {}),
    ("known_customer", ["known_customer_transactions"], ["metric_time__month"], {}),
    ("since_feb", ["transactions_since_february"], ["metric_time__month"], {}),
    ("quick_share_month", ["quick_buy_share"], ["metric_time__month"], {}),
    ("quick_share_country", ["quick_buy_share"], ["customer__customer_country"], {}),
    (
        "cancel_region",
        ["cancellation_rate", "transacting_customers"],
        ["customer__country__region"],
        {},
    ),
    # MetricFlow's range is its time spine: the offset shows July, a month after the data ends;
    # ours is the data's range unless `end` says otherwise (docs/coming-from-metricflow.md)
    (
        "prev_month",
        ["transactions_prev_month", "transactions"],
        ["metric_time__month"],
        {"ours_end": "2022-08-01"},
    ),
    # bounds apply to the output periods, after the offset: March's previous month is February
    (
        "prev_bounded",
        ["transactions_prev_month"],
        ["metric_time__month"],
        {"start": "2022-03-01", "end": "2022-05-31"},
    ),
    # a day a month back is clamped to the month's end: March 28..31 all read February 28
    (
        "prev_day",
        ["transactions_prev_month"],
        ["metric_time__day"],
        {"start": "2022-03-01", "end": "2022-03-31"},
    ),
    # week over week across the empty week of March 7 (no week is dropped)
    (
        "wow",
        ["transactions_wow", "transactions"],
        ["metric_time__week"],
        {"ours_end": "2022-07-11"},
    ),
    (
        "wow_bounded",
        ["transactions_wow"],
        ["metric_time__week"],
        {"start": "2022-03-01", "end": "2022-04-30"},
    ),
    (
        "window_tail",
        ["transactions_7d"],
        ["metric_time__day"],
        {"start": "2022-06-25", "ours_end": "2022-07-07"},
    ),
    ("cumulative_day", ["cumulative_transactions"], ["metric_time__day"], BOUNDED),
    ("window_day", ["transactions_7d"], ["metric_time__day"], BOUNDED),
    ("distinct_window_day", ["customers_7d"], ["metric_time__day"], BOUNDED),
    ("mtd_day", ["amount_mtd"], ["metric_time__day"], BOUNDED),
    # per-metric fill: the gap week of March has rows (0) for the metric that joins the spine
    (
        "filled_day",
        ["transactions_filled", "transactions"],
        ["metric_time__day"],
        {"start": "2022-03-01", "end": "2022-03-20"},
    ),
    (
        "zero_beside",
        ["new_customers_zero", "transactions"],
        ["metric_time__day"],
        {"start": "2022-03-01", "end": "2022-03-31"},
    ),
    ("filled_week", ["transactions_filled", "new_customers_zero"], ["metric_time__week"], BOUNDED),
    # cumulative metrics at coarser grains: period_agg (MetricFlow's default is first)
    (
        "cumulative_month",
        ["cumulative_transactions", "transactions"],
        ["metric_time__month"],
        BOUNDED,
    ),
    ("window_week", ["transactions_7d"], ["metric_time__week"], BOUNDED),
    ("distinct_window_month", ["customers_7d"], ["metric_time__month"], BOUNDED),
    ("mtd_month", ["amount_mtd", "transaction_amount"], ["metric_time__month"], BOUNDED),
    (
        "window_month_country",
        ["transactions_7d"],
        ["metric_time__month", "customer__customer_country"],
        BOUNDED,
    ),
    (
        "where_country",
        ["transactions", "transaction_amount"],
        ["metric_time__month"],
        {
            "where": ["{{ Dimension('customer__customer_country') }} = 'US'"],
            "ours_where": "customer_country = 'US'",
        },
    ),
    (
        "where_large",
        ["transactions"],
        ["metric_time__week", "customer__customer_country"],
        {"where": ["{{ Dimension('transaction__is_large') }}"], "ours_where": "is_large"},
    ),
    (
        "bounded_month",
        ["transactions", "revenue_usd"],
        ["metric_time__month"],
        {"start": "2022-02-01", "end": "2022-04-30"},
    ),
    (
        "bounded_day",
        ["transactions"],
        ["metric_time__day"],
        {"start": "2022-03-01", "end": "2022-03-31"},
    ),
    ("joined_time", ["transactions"], ["customer__ds__month"], {}),
    ("entity", ["transactions", "transaction_amount"], ["customer"], {}),
    (
        "region_avg",
        ["average_amount", "max_amount"],
        ["metric_time__month", "customer__country__region"],
        {},
    ),
    # offset_to_grain: the first day's value of the month (week, quarter) holding the period;
    # at the to_grain itself, the period's own value (MetricFlow's meaning)
    (
        "month_start_day",
        ["transactions_month_start", "transactions", "transactions_since_month_start"],
        ["metric_time__day"],
        {},
    ),
    (
        "month_start_day_bounded",
        ["transactions_month_start"],
        ["metric_time__day"],
        {"start": "2022-03-10", "end": "2022-04-03"},
    ),
    ("month_start_week", ["transactions_month_start"], ["metric_time__week"], {}),
    ("month_start_month", ["transactions_month_start", "transactions"], ["metric_time__month"], {}),
    ("month_start_quarter", ["transactions_month_start"], ["metric_time__quarter"], {}),
    (
        "week_start_distinct_day",
        ["customers_week_start"],
        ["metric_time__day"],
        {"start": "2022-03-01", "end": "2022-03-20"},
    ),
    # a month starting mid-week reads the Monday before it (January's Monday is in 2021)
    (
        "week_start_month",
        ["customers_week_start"],
        ["metric_time__month"],
        {"ours_end": "2022-08-01"},
    ),
    ("quarter_start_month", ["amount_quarter_start"], ["metric_time__month"], {}),
    (
        "month_start_week_large",
        ["transactions_month_start"],
        ["metric_time__week", "transaction__is_large"],
        {},  # with bounds MetricFlow 0.213 fails on this query (a binder error in its SQL)
    ),
    (
        "quarter_start_month_country",
        ["amount_quarter_start"],
        ["metric_time__month", "customer__customer_country"],
        {},
    ),
    (
        "country_region",
        ["transactions"],
        ["customer__country__region", "customer__customer_country"],
        {},
    ),
    # conversion metrics (visits -> buys): a buy counts for the latest earlier visit of the
    # customer within the window (strict at its end), reported at that visit's time
    (
        "conversion_month",
        [
            "visits",
            "visit_to_buy_7d",
            "visit_to_buy",
            "visit_buys_7d",
            "visit_to_buy_same_product",
            "ad_visit_to_buy",
            "visitor_to_buyer_30d",
            "visit_buys_2w",
            "visit_buys_filled",
        ],
        ["metric_time__month"],
        {},
    ),
    (
        "conversion_day",
        ["visits", "visit_buys_7d", "visit_to_buy_7d", "visit_buys_filled"],
        ["metric_time__day"],
        {"start": "2022-01-01", "end": "2022-01-12"},
    ),
    # the bounds narrow the visits a buy may count for: c010's buy of May 3 counts for
    # April 28 when the visit of May 2 is out of range
    (
        "conversion_bounded",
        ["visit_buys_7d"],
        ["metric_time__day"],
        {"start": "2022-04-25", "end": "2022-04-30"},
    ),
    (
        "conversion_bounded_totals",
        ["visit_buys_7d", "visit_to_buy"],
        [],
        {"start": "2022-04-25", "end": "2022-04-30"},
    ),
    ("conversion_totals", ["visit_buys_7d", "visit_to_buy", "visitor_to_buyer_30d"], [], {}),
    (
        "conversion_referrer",
        ["visit_buys_7d", "visits", "ad_visit_to_buy"],
        ["visit__referrer"],
        {},
    ),
    (
        "conversion_country",
        ["visit_buys_7d", "visit_to_buy", "visits"],
        ["customer__customer_country"],
        {},
    ),
    (
        "conversion_where",
        ["visit_buys_7d", "visit_to_buy_same_product"],
        ["metric_time__day"],
        {
            "where": ["{{ Dimension('visit__referrer') }} = 'ad'"],
            "ours_where": "referrer = 'ad'",
            "start": "2022-05-01",
            "end": "2022-05-31",
        },
    ),
    (
        "conversion_filter_day",
        ["ad_visit_to_buy"],
        ["metric_time__day"],
        {"start": "2022-05-09", "end": "2022-05-14"},
    ),
    (
        "conversion_week",
        ["visit_buys_7d", "visit_buys_2w", "visit_to_buy_same_product"],
        ["metric_time__week"],
        {},
    ),
    ("conversion_product", ["visit_to_buy_same_product", "visits"], ["visit__product"], {}),
    (
        "conversion_month_country",
        ["visit_to_buy_7d", "visitor_to_buyer_30d"],
        ["metric_time__month", "customer__customer_country"],
        {},
    ),
    ("conversion_beside_others", ["visit_to_buy_7d", "buys", "visits"], ["metric_time__month"], {}),
]


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], ml.Layer]:
    root = tmp_path_factory.mktemp("mf") / "shop"
    shutil.copytree(
        FIXTURE / "shop", root, ignore=shutil.ignore_patterns("target", "*.duckdb", "logs")
    )
    db = root / "shop.duckdb"
    payload = [
        {
            "id": qid,
            "metrics": metrics,
            "group_by": group_by,
            "where": extra.get("where"),
            "start": extra.get("start"),
            "end": extra.get("end"),
        }
        for qid, metrics, group_by, extra in QUERIES
    ]
    env = {**os.environ, "MF_SHOP_DB": str(db), "DBT_PROFILES_DIR": str(root)}
    done = subprocess.run(
        [PYTHON, str(FIXTURE / "run_metricflow.py"), str(root)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)
    out = tmp_path_factory.mktemp("defs")
    imported = ml.import_metricflow(root, out)
    assert imported.files
    layer = ml.load(out, con=str(db))
    return results, layer


def test_enough_queries() -> None:
    assert len(QUERIES) >= 30
    assert len({q[0] for q in QUERIES}) == len(QUERIES)


def _ours(
    layer: ml.Layer, metrics: list[str], group_by: list[str], extra: dict[str, Any]
) -> list[list[Any]]:
    grain = None
    by: list[str] = []
    for g in group_by:
        if g.startswith("metric_time"):
            grain = g.partition("__")[2] or "day"
        else:
            by.append(DIMS[g])
    start = extra.get("start")
    end = extra.get("end")
    if end is not None:  # MetricFlow's end is inclusive: ours is exclusive, a day later
        end = (dt.date.fromisoformat(end) + dt.timedelta(days=1)).isoformat()
    if grain is not None and start is not None:  # MetricFlow widens bounds to whole periods
        start, end = _widen(start, end, grain)
    end = extra.get("ours_end", end)
    df = layer.query(
        metrics, by=by, grain=grain, where=extra.get("ours_where"), start=start, end=end
    ).to_pandas()
    return [list(row) for row in df.itertuples(index=False)]


def _widen(start: str, end: str | None, grain: str) -> tuple[str, str | None]:
    s = dt.date.fromisoformat(start)
    if grain == "week":
        s -= dt.timedelta(days=s.weekday())
    elif grain in ("month", "quarter", "year"):
        month = {"month": s.month, "quarter": 3 * ((s.month - 1) // 3) + 1, "year": 1}[grain]
        s = dt.date(s.year, month, 1)
    if end is None:
        return s.isoformat(), None
    e = dt.date.fromisoformat(end) - dt.timedelta(days=1)  # the last day asked
    if grain == "week":
        e += dt.timedelta(days=6 - e.weekday())
    elif grain in ("month", "quarter", "year"):
        last = {"month": e.month, "quarter": 3 * ((e.month - 1) // 3) + 3, "year": 12}[grain]
        nxt = dt.date(e.year + (last == 12), last % 12 + 1, 1)
        e = nxt - dt.timedelta(days=1)
    return s.isoformat(), (e + dt.timedelta(days=1)).isoformat()


def norm(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:10] if len(text) <= 10 or text[10:].strip("T0:.") == "" else text
    if (
        isinstance(value, str)
        and len(value) == 19
        and value[10] == "T"
        and value.endswith("00:00:00")
    ):
        return value[:10]
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal | int | float):
        return float(value)
    if hasattr(value, "item"):  # numpy scalars
        return norm(value.item())
    return value


def _key(row: list[Any], n: int) -> tuple[Any, ...]:
    return tuple((v is None, str(v)) for v in row[:n])


def same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


@pytest.mark.parametrize(
    ("qid", "metrics", "group_by", "extra"), QUERIES, ids=[q[0] for q in QUERIES]
)
def test_same_numbers_as_metricflow(
    answers: Any, qid: str, metrics: list[str], group_by: list[str], extra: dict[str, Any]
) -> None:
    results, layer = answers
    theirs = results[qid]
    assert "error" not in theirs, theirs.get("error")
    wanted = [*group_by, *metrics]
    assert sorted(theirs["columns"]) == sorted(wanted)
    at = [theirs["columns"].index(c) for c in wanted]  # MetricFlow may reorder group-bys
    n = len(group_by)
    mf_rows = sorted(([norm(r[i]) for i in at] for r in theirs["rows"]), key=lambda r: _key(r, n))
    our_rows = [[norm(v) for v in r] for r in _ours(layer, metrics, group_by, extra)]
    # a filtered metric's group without rows is a row of NULLs here and no row in MetricFlow
    groups = {_key(r, n) for r in mf_rows}
    our_rows = [r for r in our_rows if _key(r, n) in groups or any(v is not None for v in r[n:])]
    our_rows.sort(key=lambda r: _key(r, n))
    assert [r[:n] for r in our_rows] == [r[:n] for r in mf_rows], "different groups"
    bad = [
        (mine[:n], theirs_row[n:], mine[n:])
        for mine, theirs_row in zip(our_rows, mf_rows, strict=True)
        if not all(same(x, y) for x, y in zip(mine[n:], theirs_row[n:], strict=True))
    ]
    assert not bad, f"{len(bad)} rows differ (group, MetricFlow, ours): {bad[:5]}"
