"""The compiled-query cache: same shape with other values is a hit with the right answers,
another shape is a miss, the cache is bounded, and explain() says which it was."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

import metrics_layer as ml
from metrics_layer.compile.kpi import compile_plan
from metrics_layer.engine import Engine
from metrics_layer.planner.request import Request
from tests.backends import Backend
from tests.engine.data import KPIS, frames, load_layer


def uncached(layer: ml.Layer, metrics: Any, **kwargs: Any) -> pa.Table:
    """The request compiled with its values written in and run by ibis: no engine at all."""
    request = Request.build(metrics, timezone=layer.timezone, **kwargs)
    return compile_plan(layer.context(), layer.planner.plan(request)).to_pyarrow()


def rows(table: pa.Table) -> list[dict[str, Any]]:
    return table.to_pylist()


def test_same_shape_other_values_is_a_hit_with_its_own_answer(layer: ml.Layer) -> None:
    asks = [
        dict(where="platform = 'web'", start="2024-01-01", end="2024-03-01"),
        dict(where="platform = 'ios'", start="2024-01-20", end="2024-02-10"),
        dict(where="platform = 'android'", start="2024-02-01", end="2024-04-01"),
        dict(where="platform = 'nothing'", start="2024-01-01", end="2024-03-01"),
    ]
    answers = []
    for i, ask in enumerate(asks):
        res = layer.query(KPIS, by="users.country", grain="month", **ask)
        assert res.cache_hit is (i > 0), ask
        got = rows(res.to_pyarrow())
        assert got == rows(uncached(layer, KPIS, by=("users.country",), grain="month", **ask))
        answers.append(got)
    assert len({repr(a) for a in answers}) == len(asks)  # the values changed the answers
    assert answers[3] == []


@pytest.mark.backends("duckdb", "postgres")
def test_bound_values_equal_values_compiled_in(backend: Backend) -> None:
    """On every backend: each answer of a cached shape equals its request compiled with the
    values written in (by ibis, without the engine)."""
    layer = load_layer(backend, "bind")[0]
    asks: list[tuple[Any, dict[str, Any]]] = [
        (KPIS, dict(by=("users.country",), grain="month", where=f"platform = '{p}'", start=s))
        for p in ("web", "ios")
        for s in ("2024-01-01", "2024-02-10")
    ]
    asks += [
        ("events", dict(by=("platform",), where=f"users.signup_at < '{d}' AND event_type <> 'x%'"))
        for d in ("2024-01-20", "2024-02-20 06:00:00")
    ]
    asks += [("events", dict(where=f"event_id % 3 = {r}")) for r in (0, 1)]  # % in the SQL text
    for metrics, kwargs in asks:
        res = layer.query(metrics, **kwargs)
        assert rows(res.to_pyarrow()) == rows(uncached(layer, metrics, **kwargs)), kwargs
    assert layer.query(KPIS, **asks[1][1]).cache_hit


def test_a_hit_binds_the_literals_by_position(layer: ml.Layer) -> None:
    """Two literals swap places: the same shape, and each value goes to its own slot."""
    a = "platform = 'web' AND event_type <> 'visit'"
    b = "platform = 'visit' AND event_type <> 'web'"
    c = "platform = 'ios' AND event_type <> 'cart'"
    first = layer.query("events", by="platform", where=a)
    assert not first.cache_hit
    for where in (b, c, a):
        res = layer.query("events", by="platform", where=where)
        assert res.cache_hit
        assert rows(res.to_pyarrow()) == rows(
            uncached(layer, "events", by=("platform",), where=where)
        )
    assert rows(layer.query("events", by="platform", where=b).to_pyarrow()) == []


def test_bounds_match_a_pandas_reference(layer: ml.Layer) -> None:
    ev = frames()["events"]
    for start, end in (("2024-01-05", "2024-02-17 12:00"), ("2024-02-01", "2024-02-02")):
        res = layer.query(["events", "revenue"], start=start, end=end)
        inside = ev[(ev.ts >= start) & (ev.ts < end)]
        got = res.to_pyarrow().to_pylist()[0]
        assert got["events"] == len(inside)
        assert got["revenue"] == (
            inside.revenue.dropna().sum() if inside.revenue.notna().any() else None
        )


BASE: dict[str, Any] = dict(by=("platform", "users.plan"), where="platform = 'web'")


@pytest.mark.parametrize(
    "change",
    [
        dict(by=("users.plan", "platform")),  # by order: another column order
        dict(by=("platform",)),
        dict(grain="week"),
        dict(where="platform <> 'web'"),
        dict(where="platform = 'web' OR platform = 'ios'"),
        dict(where="event_type = 'web'"),
        dict(where="platform = 'web' AND event_type = 'cart'"),
        dict(order_by=("-events",)),
        dict(limit=3),
        dict(start="2024-01-01"),
        dict(where="platform = '2024-02-01'"),  # a date-like literal: another kind of slot
    ],
)
def test_another_shape_is_a_miss(layer: ml.Layer, change: dict[str, Any]) -> None:
    layer.query("events", **BASE).to_pyarrow()
    other = dict(BASE, **change)
    res = layer.query("events", **other)
    assert not res.cache_hit
    want = uncached(layer, "events", **other)
    got = res.to_pyarrow()
    assert got.column_names == want.column_names
    assert got.to_pylist() == want.to_pylist()
    assert layer.query("events", **other).cache_hit


def test_where_literals_become_parameters_not_sql_text(layer: ml.Layer) -> None:
    res = layer.query("events", where="platform = 'we''b' AND event_type IN ('visit', 'cart')")
    compiled = res._prepared.compiled
    text = compiled.param_sql("duckdb").text
    for value in ("we'b", "we''b", "visit", "cart"):
        assert value not in text
    assert "$p" in text
    shown = res.sql()
    assert "'we''b'" in shown and "'visit'" in shown and "\ue000" not in shown


def test_sql_shows_the_real_values_and_runs(layer: ml.Layer, duck: Backend) -> None:
    layer.query("events", by="platform", where="platform = 'web'", start="2024-01-01").sql()
    res = layer.query("events", by="platform", where="platform = 'ios'", start="2024-02-01")
    assert res.cache_hit
    sql = res.sql()
    assert "'ios'" in sql and "2024" in sql and "0001" not in sql
    direct = duck.con.con.cursor().sql(sql).to_arrow_table()
    assert direct.to_pylist() == res.to_pyarrow().to_pylist()
    assert res.sql() is sql  # rendered once per dialect


def test_date_like_literal_is_typed_by_its_column(layer: ml.Layer) -> None:
    for day in ("2024-01-15", "2024-02-03", "2024-01-15 12:30:00"):
        where = f"users.signup_at >= '{day}'"
        res = layer.query("events", by="users.country", where=where)
        assert rows(res.to_pyarrow()) == rows(
            uncached(layer, "events", by=("users.country",), where=where)
        )
    with pytest.raises(ml.MetricsLayerError, match="not a valid"):
        layer.query("events", where="users.signup_at >= '2024-13-45'").to_pyarrow()


def test_values_derived_from_bounds_are_compiled_in(layer: ml.Layer) -> None:
    """A zero-filled range is built from start/end: such a shape caches its real values."""
    for start in ("2024-01-01", "2024-01-10", "2024-01-01"):
        kw = dict(grain="week", fill="zero", start=start, end="2024-02-20")
        res = layer.query("events", **kw)
        assert rows(res.to_pyarrow()) == rows(uncached(layer, "events", **kw))
        assert "values compiled in" in res.explain()
    assert res.cache_hit  # the same values again


@pytest.mark.parametrize(
    ("metrics", "grain"), [(["revenue_7d"], "week"), (["revenue", "revenue_prev_month"], "month")]
)
def test_cumulative_and_offset_inputs_reach_before_start(
    layer: ml.Layer, metrics: list[str], grain: str
) -> None:
    """Their inputs are read from before `start`: each start gets its own right answer."""
    for start in ("2024-02-01", "2024-02-12", "2024-03-01"):
        kw = dict(grain=grain, start=start, end="2024-03-20")
        res = layer.query(metrics, **kw)
        assert rows(res.to_pyarrow()) == rows(uncached(layer, metrics, **kw)), start


def test_recurring_retention_truncates_start_so_compiles_it_in(layer: ml.Layer) -> None:
    from metrics_layer.analysis.retention import build_query
    from metrics_layer.analysis.retention_compile import compile_retention

    for start in ("2024-01-03", "2024-01-17"):
        res = layer.retention("visit_retention", periods=3, start=start, cohort_type="recurring")
        q = build_query(
            layer, "visit_retention", periods=3, by=None, mode="exact",
            cohort_type="recurring", start=start, end=None, as_of=None,
        )  # fmt: skip
        assert rows(res.to_pyarrow()) == rows(compile_retention(layer.context(), q).to_pyarrow())
        assert "values compiled in" in res.explain()


def test_explain_says_hit_or_miss(layer: ml.Layer) -> None:
    first = layer.query("revenue", grain="month", start="2024-01-01")
    second = layer.query("revenue", grain="month", start="2024-02-01")
    assert first.explain().splitlines()[-1].startswith("compiled query: cache miss")
    assert second.explain().splitlines()[-1].startswith("compiled query: cache hit")
    assert "2024-02-01" in second.explain() and "0001" not in second.explain()


def test_retention_and_funnel_hit_with_other_starts(layer: ml.Layer) -> None:
    for kind, make in (
        ("retention", lambda s: layer.retention("visit_retention", periods=3, start=s)),
        ("funnel", lambda s: layer.funnel("buy", start=s)),
    ):
        answers = []
        for i, start in enumerate(("2024-01-01", "2024-02-01", "2024-01-15")):
            res = make(start)
            assert res.cache_hit is (i > 0), kind
            answers.append(rows(res.to_pyarrow()))
            assert answers[-1] == rows(res.expr.to_pyarrow())  # the bound expression agrees
        assert len({repr(a) for a in answers}) == 3, kind


def test_bounded_by_entries(duck: Backend) -> None:
    layer = load_layer(duck, "bound")[0]
    layer.engine = Engine(layer.con, layer.backend, max_entries=3)
    shapes = [["events"], ["revenue"], ["active_users"], ["purchasers"], ["avg_revenue"]]
    for metrics in shapes:
        layer.query(metrics)
    assert len(layer.engine.cache) == 3
    assert layer.query("avg_revenue").cache_hit
    assert not layer.query("events").cache_hit  # the least recently used went first


def test_bounded_by_bytes(duck: Backend) -> None:
    layer = load_layer(duck, "bytes")[0]
    one = layer.query(KPIS, by="users.country")._prepared.compiled.nbytes
    two = layer.query(KPIS, by="platform")._prepared.compiled.nbytes
    limit = max(one, two) + min(one, two) // 2  # room for either query, not for both
    layer.engine = Engine(layer.con, layer.backend, max_bytes=limit)
    layer.query(KPIS, by="users.country")
    layer.query(KPIS, by="platform")
    assert len(layer.engine.cache) == 1 and layer.engine.cache.nbytes <= limit
    assert layer.query(KPIS, by="platform").cache_hit


def test_results_run_again_and_see_new_rows(duck: Backend) -> None:
    layer, names = load_layer(duck, "fresh")
    res = layer.query("events")
    kept = res.cached()
    before = res.to_pyarrow().column("events")[0].as_py()
    duck.con.raw_sql(
        f"INSERT INTO {names['events']} VALUES (100001, 1, TIMESTAMP '2024-01-02', 'visit', 'web', NULL)"
    )
    assert res.to_pyarrow().column("events")[0].as_py() == before + 1
    assert kept.to_pyarrow().column("events")[0].as_py() == before
    assert layer.query("events").to_pandas()["events"].iloc[0] == before + 1
