"""Registry: names resolved across files and joins, with suggestions and located errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import metrics_layer as ml
from metrics_layer.errors import DefinitionError, QueryError
from metrics_layer.registry import MeasureRef

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kpi"
TPCH_VARS = {
    "t": {n: n for n in ("lineitem", "orders", "customer", "supplier", "nation", "region")}
}
SHOP_VARS = {"t": {"events": "events", "users": "users"}}


@pytest.fixture(scope="module")
def tpch() -> ml.Layer:
    return ml.load(FIXTURES / "tpch", vars=TPCH_VARS)


@pytest.fixture(scope="module")
def shop() -> ml.Layer:
    return ml.load(FIXTURES / "shop", vars=SHOP_VARS)


def load_text(tmp_path: Path, text: str) -> ml.Layer:
    (tmp_path / "defs.yml").write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return ml.load(tmp_path)


def definition_error(tmp_path: Path, text: str) -> DefinitionError:
    with pytest.raises(DefinitionError) as info:
        load_text(tmp_path, text)
    return info.value


BASE = """
version: 1
sources:
  events:
    time: ts
    measures:
      events: {agg: count}
      revenue: {agg: sum, expr: revenue}
    joins:
      users: {keys: user_id}
  users:
    dimensions: {country: {}}
    measures:
      signups: {agg: count}
"""


# --------------------------------------------------------------------------- unknown names


def test_unknown_measure_in_a_metric_suggests_and_is_located(tmp_path: Path) -> None:
    err = definition_error(tmp_path, BASE + "metrics:\n  rev: {measure: events.revenu}\n")
    assert "events.revenu" in str(err) and "'events.revenue'" in str(err)
    assert err.location.line == 15 and err.location.field == "metrics.rev.measure"


def test_unknown_ratio_part_names_the_field(tmp_path: Path) -> None:
    err = definition_error(
        tmp_path,
        BASE
        + """
metrics:
  conv:
    type: ratio
    numerator: events.events
    denominator: users.signup
""",
    )
    assert err.location.field == "metrics.conv.denominator"
    assert err.location.line == 19
    assert "users.signup" in str(err) and "'users.signups'" in str(err)


def test_unknown_numerator_is_reported_at_numerator(tmp_path: Path) -> None:
    err = definition_error(
        tmp_path,
        BASE
        + """
metrics:
  conv: {type: ratio, numerator: event, denominator: users.signups}
""",
    )
    assert err.location.field == "metrics.conv.numerator"
    assert "'events'" in str(err)


def test_unknown_name_in_derived_metric(tmp_path: Path) -> None:
    err = definition_error(
        tmp_path,
        BASE
        + """
metrics:
  rev: {measure: events.revenue}
  per_signup: {type: derived, expr: "rev / signupz"}
""",
    )
    assert "signupz" in str(err) and "'signups'" in str(err)
    assert err.location.field == "metrics.per_signup.expr"


def test_ratio_parts_may_be_metrics_or_measures(tmp_path: Path) -> None:
    layer = load_text(
        tmp_path,
        BASE
        + """
metrics:
  rev: {measure: events.revenue}
  rev_per_signup: {type: ratio, numerator: rev, denominator: signups}
""",
    )
    assert layer.registry.metric_dependencies("rev_per_signup") == ["rev", "signups"]


def test_unknown_join_source_suggests(tmp_path: Path) -> None:
    err = definition_error(
        tmp_path, BASE.replace("users: {keys: user_id}", "user: {keys: user_id}")
    )
    assert "'user'" in str(err) and "'users'" in str(err)
    assert err.location.field is not None and err.location.field.startswith(
        "sources.events.joins.user"
    )
    assert err.location.line == 9


def test_unknown_source_and_metric_in_queries_suggest(shop: ml.Layer) -> None:
    with pytest.raises(QueryError, match=r"unknown source 'event'.*'events'"):
        shop.dimensions("event")
    with pytest.raises(QueryError, match=r"unknown metric 'active_user'.*'active_users'"):
        shop.query("active_user")
    with pytest.raises(QueryError, match=r"'events.revenue'"):
        shop.query("events.revenu")


def test_unknown_dimension_suggests(shop: ml.Layer) -> None:
    with pytest.raises(QueryError, match=r"unknown dimension 'users.contry'.*'users.country'"):
        shop.query("events", by="users.contry")


def test_ambiguous_bare_measure_lists_qualified_names(tmp_path: Path) -> None:
    err = definition_error(
        tmp_path,
        BASE.replace("signups: {agg: count}", "events: {agg: count}")
        + "metrics:\n  n: {measure: events}\n",
    )
    assert "events.events" in str(err) and "users.events" in str(err)
    assert err.location.field == "metrics.n.measure"


def test_measures_are_metrics_by_qualified_or_unique_bare_name(shop: ml.Layer) -> None:
    reg = shop.registry
    ref = reg.metric("events.revenue")
    assert isinstance(ref, MeasureRef) and ref.qualified == "events.revenue"
    bare = reg.metric("signups")
    assert isinstance(bare, MeasureRef) and bare.source == "users"
    assert "events.revenue" in reg.queryable_names()


def test_invalid_dimension_expression_is_located(tmp_path: Path) -> None:
    err = definition_error(
        tmp_path,
        BASE.replace("dimensions: {country: {}}", "dimensions: {country: {expr: 'select 1'}}"),
    )
    assert err.location.field == "sources.users.dimensions.country.expr"
    assert err.location.line == 11


# --------------------------------------------------------------------------- cycles


def test_derived_cycle_names_the_cycle(tmp_path: Path) -> None:
    err = definition_error(
        tmp_path,
        BASE
        + """
metrics:
  a: {type: derived, expr: "b + 1"}
  b: {type: derived, expr: "c * 2"}
  c: {type: derived, expr: "a - events"}
""",
    )
    text = str(err)
    assert "cycle" in text
    assert "a → b → c → a" in text
    assert err.location.field is not None and err.location.field.startswith("metrics.a")


def test_self_reference_is_a_cycle(tmp_path: Path) -> None:
    err = definition_error(
        tmp_path,
        BASE
        + """
metrics:
  growth: {type: derived, expr: "growth + events"}
""",
    )
    assert "growth → growth" in str(err)


def test_cycle_through_a_ratio(tmp_path: Path) -> None:
    err = definition_error(
        tmp_path,
        BASE
        + """
metrics:
  r: {type: ratio, numerator: d, denominator: events}
  d: {type: derived, expr: "r * 2"}
""",
    )
    assert "cycle" in str(err) and "r → d → r" in str(err)


def test_diamond_is_not_a_cycle(tmp_path: Path) -> None:
    layer = load_text(
        tmp_path,
        BASE
        + """
metrics:
  rev: {measure: events.revenue}
  a: {type: derived, expr: "rev * 2"}
  b: {type: derived, expr: "rev + 1"}
  c: {type: derived, expr: "a + b"}
""",
    )
    assert layer.registry.metric_dependencies("c") == ["a", "b"]


# --------------------------------------------------------------------------- joins and paths


def test_role_playing_joins_reach_the_same_source_twice(tpch: ml.Layer) -> None:
    reg = tpch.registry
    cust = reg.resolve_field("lineitem", "cust_nation.name")
    supp = reg.resolve_field("lineitem", "supp_nation.name")
    assert cust.source == supp.source == "nation"
    assert cust.roles == ("orders", "customer", "cust_nation")
    assert supp.roles == ("supplier", "supp_nation")
    assert cust != supp
    assert cust.path[-1].pairs == (("c_nationkey", "n_nationkey"),)
    assert supp.path[-1].pairs == (("s_nationkey", "n_nationkey"),)


def test_multi_hop_paths_of_four_joins(tpch: ml.Layer) -> None:
    reg = tpch.registry
    ref = reg.resolve_field("lineitem", "cust_nation.region.name")
    assert ref.source == "region" and len(ref.path) == 4
    assert ref.full_name == "lineitem.orders.customer.cust_nation.region.name"
    assert [s.right for s in ref.path] == ["orders", "customer", "nation", "region"]
    # every longer suffix and the full path name the same field
    for name in (
        "customer.cust_nation.region.name",
        "orders.customer.cust_nation.region.name",
        "lineitem.orders.customer.cust_nation.region.name",
    ):
        assert reg.resolve_field("lineitem", name) == ref
    assert "cust_nation (nation)" in ref.describe_path()


def test_ambiguous_suffix_lists_every_candidate(tpch: ml.Layer) -> None:
    with pytest.raises(QueryError) as info:
        tpch.registry.resolve_field("lineitem", "region.name")
    text = str(info.value)
    assert "ambiguous" in text
    assert "lineitem.orders.customer.cust_nation.region.name" in text
    assert "lineitem.supplier.supp_nation.region.name" in text
    with pytest.raises(QueryError) as info:
        tpch.registry.resolve_field("lineitem", "name")
    assert str(info.value).count("lineitem.") == 4


def test_ambiguity_depends_on_the_base_source(tpch: ml.Layer) -> None:
    # from orders there is only one nation (the customer's), so `name` is still ambiguous
    # (nation and region), but `region.name` is not
    ref = tpch.registry.resolve_field("orders", "region.name")
    assert ref.full_name == "orders.customer.cust_nation.region.name"
    # a source's own dimension is one candidate among the suffix matches; its path names it
    with pytest.raises(QueryError, match="nation.region.name"):
        tpch.registry.resolve_field("nation", "name")
    assert tpch.registry.resolve_field("nation", "nation.name").path == ()


def test_unreachable_dimension_is_unknown(tpch: ml.Layer) -> None:
    with pytest.raises(QueryError, match="unknown dimension"):
        tpch.registry.resolve_field("orders", "supp_nation.name")


def test_one_to_many_paths_are_flagged(tmp_path: Path) -> None:
    layer = load_text(
        tmp_path,
        BASE.replace(
            "      signups: {agg: count}",
            "      signups: {agg: count}\n    joins:\n      events: {keys: user_id, relationship: one_to_many}",
        ),
    )
    paths = layer.registry.join_paths("users")
    fan = [p for p, target in paths if target == "events"]
    assert fan and fan[0][0].fans_out


def test_join_cycles_do_not_loop(tmp_path: Path) -> None:
    layer = load_text(
        tmp_path,
        """
        version: 1
        sources:
          a: {dimensions: {x: {}}, joins: {b: {keys: k}}}
          b: {dimensions: {y: {}}, joins: {a: {keys: k}, c: {keys: j}}}
          c: {dimensions: {z: {}}, joins: {a: {keys: k}}}
        """,
    )
    reg = layer.registry
    assert reg.resolve_field("a", "z").roles == ("b", "c")
    assert {t for _, t in reg.join_paths("a")} == {"a", "b", "c"}
