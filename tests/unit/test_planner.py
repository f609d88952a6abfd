"""Planner and request validation: what is asked is checked, planned per source and explained."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import ibis
import pytest

import metrics_layer as ml
from metrics_layer.errors import QueryError
from metrics_layer.planner.plan import Col, Derived, Ratio, output_names
from metrics_layer.planner.request import Request

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kpi"

SHOP_SQL = [
    """CREATE TABLE events (event_id BIGINT, user_id BIGINT, ts TIMESTAMP, event_type VARCHAR,
       platform VARCHAR, revenue DECIMAL(15,2), clicks BIGINT, views BIGINT)""",
    """INSERT INTO events VALUES
       (1, 1, TIMESTAMP '2024-01-10 10:00', 'visit', 'Web', 0, 1, 10),
       (2, 1, TIMESTAMP '2024-01-11 10:00', 'purchase', 'iOS', 9.99, 0, 2),
       (3, 2, TIMESTAMP '2024-01-11 12:00', 'visit', 'web', 0, 2, 4),
       (4, 2, TIMESTAMP '2024-01-12 12:00', 'visit', 'web', 0, 3, 4)""",
    "CREATE TABLE users (user_id BIGINT, country VARCHAR, plan VARCHAR, age BIGINT, signup_at TIMESTAMP)",
    """INSERT INTO users VALUES (1, 'US', 'pro', 30, TIMESTAMP '2024-01-01'),
       (2, 'DE', 'free', 40, TIMESTAMP '2024-01-02')""",
]


@pytest.fixture(scope="module")
def shop() -> ml.Layer:
    con = ibis.duckdb.connect()
    for sql in SHOP_SQL:
        con.raw_sql(sql)
    return ml.load(FIXTURES / "shop", con=con, vars={"t": {"events": "events", "users": "users"}})


@pytest.fixture(scope="module")
def fanout(tmp_path_factory: pytest.TempPathFactory) -> ml.Layer:
    """users → events is one_to_many: any field of events seen from users would multiply rows."""
    folder = tmp_path_factory.mktemp("fanout")
    (folder / "defs.yml").write_text(
        textwrap.dedent("""
        version: 1
        sources:
          users:
            table: users
            time: signup_at
            dimensions: {country: {}}
            measures:
              signups: {agg: count}
              visitors: {agg: count, filter: "events.event_type = 'visit'"}
            joins:
              events: {keys: user_id, relationship: one_to_many}
          events:
            table: events
            time: ts
            dimensions: {event_type: {}}
            measures:
              events: {agg: count}
              no_time: {agg: count}
          static:
            table: users
            dimensions: {country: {}}
            measures:
              rows: {agg: count}
        """)
    )
    con = ibis.duckdb.connect()
    for sql in SHOP_SQL:
        con.raw_sql(sql)
    return ml.load(folder, con=con)


# --------------------------------------------------------------------------- request validation


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metrics": []}, "at least one metric"),
        ({"metrics": ["events", "events"]}, "listed twice"),
        ({"metrics": "events", "by": ["users.country", "users.country"]}, "listed twice"),
        ({"metrics": "events", "grain": "mnth"}, "unknown grain 'mnth'.*'month'"),
        ({"metrics": "events", "start": "2024-02-01", "end": "2024-01-01"}, "must be after start"),
        ({"metrics": "events", "start": "2024-02-01", "end": "2024-02-01"}, "must be after start"),
        ({"metrics": "events", "start": "last tuesday"}, "not a date"),
        ({"metrics": "events", "limit": -1}, "non-negative"),
        ({"metrics": "events", "limit": True}, "non-negative"),
        ({"metrics": "events", "where": 42}, "where must be"),
        ({"metrics": ["events", 3]}, "must be names"),
    ],
)
def test_request_shape_errors(kwargs: dict, message: str) -> None:
    metrics = kwargs.pop("metrics")
    with pytest.raises(QueryError, match=message):
        Request.build(metrics, **kwargs)


def test_bounds_accept_dates_datetimes_and_strings() -> None:
    r = Request.build("m", start=dt.date(2024, 1, 1), end="2024-01-02 06:30")
    assert r.start == dt.datetime(2024, 1, 1) and r.end == dt.datetime(2024, 1, 2, 6, 30)
    aware = dt.datetime(2024, 1, 1, 5, tzinfo=dt.timezone(dt.timedelta(hours=5)))
    assert Request.build("m", start=aware).start == dt.datetime(2024, 1, 1, 0, 0)


def test_string_bound_with_offset_is_like_an_aware_datetime() -> None:
    r = Request.build("m", start="2024-01-01T05:00:00+05:00", end="2024-01-02")
    assert r.start == dt.datetime(2024, 1, 1, 0, 0)


def test_aware_bound_is_read_in_the_layer_timezone() -> None:
    """An instant given with an offset is compared with local (layer-timezone) times."""
    r = Request.build("m", start="2024-01-01T05:00:00+00:00", timezone="America/New_York")
    assert r.start == dt.datetime(2024, 1, 1, 0, 0)


# --------------------------------------------------------------------------- grains and reachability


def test_grain_forbidden_by_a_metric_says_why(shop: ml.Layer) -> None:
    with pytest.raises(QueryError) as info:
        shop.query("monthly_actives", grain="day")
    text = str(info.value)
    assert "monthly_actives" in text and "month, quarter" in text and "day" in text
    with pytest.raises(QueryError, match="no grain"):
        shop.query("monthly_actives")
    assert shop.query("monthly_actives", grain="quarter").to_pandas()[
        "monthly_actives"
    ].tolist() == [2]


def test_grain_restriction_holds_inside_derived_metrics(shop: ml.Layer) -> None:
    with pytest.raises(QueryError, match="monthly_actives.*month, quarter"):
        shop.query("monthly_actives_x2", grain="day")
    got = shop.query("monthly_actives_x2", grain="month").to_pandas()
    assert got["monthly_actives_x2"].tolist() == [4]


def test_grain_needs_a_time_column(fanout: ml.Layer) -> None:
    with pytest.raises(QueryError, match="no time column"):
        fanout.query("static.rows", grain="month")
    with pytest.raises(QueryError, match="no time column"):
        fanout.query("static.rows", start="2024-01-01")
    assert fanout.query("static.rows").to_pandas()["rows"].tolist() == [2]


def test_dimension_through_one_to_many_is_refused(fanout: ml.Layer) -> None:
    with pytest.raises(QueryError) as info:
        fanout.query("signups", by="events.event_type")
    text = str(info.value)
    assert "one_to_many" in text and "users" in text


def test_where_through_one_to_many_is_refused(fanout: ml.Layer) -> None:
    """A where on a one_to_many field would repeat each user once per matching event."""
    with pytest.raises(QueryError, match="one_to_many"):
        fanout.query("signups", where="events.event_type = 'visit'")
    with pytest.raises(QueryError, match="one_to_many"):
        fanout.query("signups", where=ibis._.event_type == "visit")


def test_measure_filter_through_one_to_many_is_refused(fanout: ml.Layer) -> None:
    with pytest.raises(QueryError, match="one_to_many"):
        fanout.query("visitors")


def test_dimension_missing_from_one_of_the_sources(fanout: ml.Layer) -> None:
    with pytest.raises(QueryError, match="unknown dimension"):
        fanout.query(["events", "static.rows"], by="event_type")


# --------------------------------------------------------------------------- plan shape


def test_one_scan_per_source_and_shared_nodes(shop: ml.Layer) -> None:
    plan = shop.plan(
        ["purchase_conversion", "events", "revenue_per_user", "users.signups", "active_users"]
    )
    sources = [sq.source for sq in plan.scans]
    assert sorted(sources) == ["events", "users"]
    events_q = next(sq for sq in plan.scans if sq.source == "events")
    # active_users is used by the ratio, the derived metric and on its own: computed once
    measures = sorted(n.measure for n in events_q.nodes)
    assert measures == ["active_users", "events", "purchasers", "revenue"]
    conv = plan.formulas["purchase_conversion"]
    assert isinstance(conv, Ratio) and isinstance(conv.numerator, Col)
    assert isinstance(plan.formulas["revenue_per_user"], Derived)


def test_metric_filter_makes_its_own_node(shop: ml.Layer) -> None:
    plan = shop.plan(["pro_share"])
    (sq,) = plan.scans
    filters = sorted(n.filters for n in sq.nodes)
    assert filters == [(), ("users.plan = 'pro'",)]


def test_output_names() -> None:
    assert output_names(("users.country",)) == [("country", "users.country")]
    assert output_names(("supp_nation.name", "cust_nation.name", "segment")) == [
        ("supp_nation__name", "supp_nation.name"),
        ("cust_nation__name", "cust_nation.name"),
        ("segment", "segment"),
    ]


def test_metric_and_dimension_sharing_a_name_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "d.yml").write_text(
        textwrap.dedent("""
        version: 1
        sources:
          users:
            dimensions: {country: {}}
            measures: {country: {agg: count_distinct, expr: country}}
        """)
    )
    layer = ml.load(tmp_path)
    with pytest.raises(QueryError, match="share"):
        layer.plan("users.country", by="users.country")


def test_dimension_named_like_the_grain_is_a_query_error(tmp_path: Path) -> None:
    (tmp_path / "d.yml").write_text(
        textwrap.dedent("""
        version: 1
        sources:
          t:
            time: ts
            dimensions: {month: {}}
            measures: {n: {agg: count}}
        """)
    )
    con = ibis.duckdb.connect()
    con.raw_sql("CREATE TABLE t AS SELECT TIMESTAMP '2024-01-01' AS ts, 'x' AS month")
    layer = ml.load(tmp_path, con=con)
    with pytest.raises(QueryError, match="month"):
        layer.query("n", by="month", grain="month")


def test_unknown_order_by_column(shop: ml.Layer) -> None:
    with pytest.raises(QueryError, match=r"order_by column 'evnts'.*'events'"):
        shop.query("events", by="users.country", order_by="-evnts")


# --------------------------------------------------------------------------- explain


def test_explain_mentions_sources_aggregations_and_merge(shop: ml.Layer) -> None:
    res = shop.query(
        ["purchase_conversion", "users.signups"],
        by="users.country",
        grain="month",
        where="users.plan = 'pro'",
        start="2024-01-01",
        end="2024-07-01",
    )
    text = res.explain()
    for piece in (
        "scan source 'events'",
        "scan source 'users'",
        "count_distinct(user_id)",
        "event_type = 'purchase'",
        "month",
        "users.country",
        "users.plan = 'pro'",
        "2024-01-01",
        "2024-07-01",
        "merge",
        "ratio",
        "NULL",
    ):
        assert piece in text, piece
    *plan_lines, cache_line = res.explain().splitlines()
    assert (
        "\n".join(plan_lines)
        == shop.plan(
            ["purchase_conversion", "users.signups"],
            by="users.country",
            grain="month",
            where="users.plan = 'pro'",
            start="2024-01-01",
            end="2024-07-01",
        )
        .explain()
        .rstrip()
    )
    assert cache_line.startswith("compiled query: cache ")


def test_explain_of_totals_has_a_single_scan(shop: ml.Layer) -> None:
    text = shop.query(["events", "revenue"]).explain()
    assert "(totals)" in text and "merge" not in text
    assert text.count("scan source") == 1


def test_explain_lists_the_joins_of_each_scan() -> None:
    tables = {n: n for n in ("lineitem", "orders", "customer", "supplier", "nation", "region")}
    layer = ml.load(FIXTURES / "tpch", vars={"t": tables})
    text = layer.plan(
        ["revenue", "order_count"], by="cust_nation.name", where="cust_nation.name <> 'FRANCE'"
    ).explain()
    lineitem, orders = text.split("2. scan source 'orders'")
    for join in (
        "LEFT JOIN orders on lineitem.l_orderkey = orders.o_orderkey, many_to_one",
        "LEFT JOIN cust_nation (nation) on customer.c_nationkey = cust_nation.n_nationkey",
    ):
        assert join in lineitem, join
    assert "LEFT JOIN customer on orders.o_custkey = customer.c_custkey" in orders
    assert "supp_nation" not in text
    text = layer.plan(["revenue"], where="supp_nation.name = 'FRANCE'").explain()
    assert (
        "LEFT JOIN supp_nation (nation) on supplier.s_nationkey = supp_nation.n_nationkey" in text
    )
    # a where naming a dimension one of the sources cannot reach fails when planned
    with pytest.raises(QueryError, match="unknown dimension 'supp_nation.name'.*'orders'"):
        layer.plan(["revenue", "order_count"], where="supp_nation.name = 'FRANCE'")
    # a measure filter's joins are listed too; a scan without joins lists none
    shop = ml.load(FIXTURES / "shop", vars={"t": {"events": "e", "users": "u"}})
    assert "LEFT JOIN users on events.user_id = users.user_id" in shop.plan("pro_events").explain()
    assert "JOIN" not in shop.plan("events").explain()
