"""Policies: errors are never a wider view; hidden names appear nowhere; pii is masked;
several policies grant their union; restricting a restricted layer only narrows."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import metrics_layer as ml
from tests.access.tenants import DEFS, write_defs


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


@pytest.mark.parametrize(
    ("policies", "attributes", "message"),
    [
        ([], {"country": "DE"}, "at least one policy"),
        (["own_contry"], {"country": "DE"}, "did you mean 'own_country'"),
        (["own_country"], {}, "attribute 'country'"),
        (["own_country"], {"countr": "DE"}, "did you mean 'countr'"),
        (["own_country"], {"country": ["DE", "FR"]}, "must be text"),
        (["own_country"], {"country": None}, "must be text"),
    ],
)
def test_bad_restrict_is_an_error(layer: ml.Layer, policies, attributes, message) -> None:
    with pytest.raises(ml.QueryError, match=message.replace("(", r"\(")):
        layer.restrict(policies, attributes)


def test_hidden_names_appear_nowhere(layer: ml.Layer, tmp_path: Path) -> None:
    r = layer.restrict(["own_country"], {"country": "DE"})
    assert "name" not in r.dimensions("workers")
    assert "by_name" not in r.metrics()  # its measure filters on the hidden dimension
    assert "named_revenue" not in r.registry.sources["assignments"].measures
    for ask in [{"by": ["workers.name"]}, {"where": "workers.name = 'name1'"}, {"by": ["name"]}]:
        with pytest.raises(ml.QueryError) as err:
            r.query(["assignments.accepted"], **ask)
        assert "name1" not in str(err.value)
        hint = (
            str(err.value).partition("did you mean")[2] + str(err.value).partition("declared:")[2]
        )
        assert "'name'" not in hint and "workers.name" not in hint  # not suggested
    with pytest.raises(ml.QueryError):
        r.dimension_values("workers.name")
    for sql in [
        r.sql(["workers.workers"], by=["workers.country"]),
        r.sql(["assignments.revenue"], by=["workers.email"]),
    ]:
        assert '"name"' not in sql
    out = r.docs(tmp_path / "catalog", formats=["md"])
    text = "".join(p.read_text() for p in out.parent.rglob("*.md"))
    assert "by_name" not in text and "named_revenue" not in text
    assert "workers.name" not in text
    assert "by_name" in layer.metrics()


def test_invisible_sources_are_unknown(layer: ml.Layer) -> None:
    r = layer.restrict(["tasks_all"], {})
    assert list(r.registry.sources) == ["tasks"]
    with pytest.raises(ml.QueryError, match="unknown metric"):
        r.query(["assignments.revenue"])
    with pytest.raises(ml.QueryError, match="unknown retention|retention"):
        r.retention("engagement")
    with pytest.raises(ml.QueryError):
        r.funnel("onboarding")
    with pytest.raises(ml.QueryError, match="unknown source"):
        r.dimension_values("workers.country")
    assert r.query(["tasks.tasks_posted"]).to_pandas()["tasks_posted"][0] == 20


def test_pii_is_masked_and_not_filterable(layer: ml.Layer, world: dict) -> None:
    r = layer.restrict(["own_country"], {"country": "DE"})
    con = layer.con.con.cursor()
    raw = con.execute("SELECT email FROM workers WHERE country = 'DE'").fetchall()
    got = set(r.dimension_values("workers.email", limit=1000).to_pandas()["email"])
    assert got == {md5(e) for (e,) in raw}
    lowered = set(
        r.dimension_values("workers.email_domain", limit=1000).to_pandas()["email_domain"]
    )
    assert lowered == got  # an expr over the masked column is masked too
    for where in ["workers.email = 'x'", "email_domain LIKE '%mail1%'"]:
        with pytest.raises(ml.QueryError, match="masked"):
            r.query(["assignments.accepted"], where=where)
    with pytest.raises(ml.QueryError, match="masked"):
        r.dimension_values("workers.email", search="mail")
    full = set(layer.dimension_values("workers.email", limit=1000).to_pandas()["email"])
    assert {e for (e,) in raw} <= full  # the unrestricted layer shows the values


def test_unmask_and_union(layer: ml.Layer) -> None:
    r = layer.restrict(["see_email"], {"country": "FR"})
    emails = r.dimension_values("workers.email", limit=1000).to_pandas()["email"]
    assert emails.str.contains("@").all()
    both = layer.restrict(["own_country", "see_email"], {"country": "FR"})
    assert "name" in both.dimensions("workers")  # hidden only by one of the two
    assert both.dimension_values("workers.email").to_pandas()["email"].str.contains("@").all()
    assert both.dimension_values("workers.country").to_pandas()["country"].tolist() == ["FR"]


def test_union_of_row_filters(layer: ml.Layer) -> None:
    n = layer.restrict(["by_region"], {"region": "n"}).query(["tasks.tasks_posted"])
    s = layer.restrict(["by_region"], {"region": "s"}).query(["tasks.tasks_posted"])
    both = layer.restrict(["by_region", "tasks_all"], {"region": "n"}).query(["tasks.tasks_posted"])
    n, s, both = (x.to_pandas()["tasks_posted"][0] for x in (n, s, both))
    assert 0 < n < 20 and n + s == 20 and both == 20


def test_restrict_again_only_narrows(layer: ml.Layer) -> None:
    r = layer.restrict(["own_country"], {"country": "DE"})
    again = r.restrict(["see_email"], {"country": "DE"})
    assert list(again.registry.sources) == ["workers"]
    assert "name" not in again.dimensions("workers")
    values = again.dimension_values("workers.email").to_pandas()["email"]
    assert not values.str.contains("@").any()  # the parent masks it: still masked
    other = r.restrict(["see_email"], {"country": "FR"})
    assert other.query(["workers.workers"]).to_pandas()["workers"][0] == 0
    tasks = r.restrict(["by_region"], {"region": "s"})
    assert tasks.dimension_values("tasks.region").to_pandas()["region"].tolist() == ["s"]


BAD_POLICIES = [
    ("sources: [assignmnts]", "unknown source 'assignmnts'", "access.policies.p.sources.0"),
    (
        'sources: [tasks]\n      row_filters: {workers: "country = :c"}',
        "does not list",
        "access.policies.p.row_filters.workers",
    ),
    (
        'sources: [tasks]\n      row_filters: {tasks: "region = (SELECT 1)"}',
        "row filter",
        "access.policies.p.row_filters.tasks",
    ),
    (
        'sources: [tasks]\n      row_filters: {tasks: "regio = :r"}',
        "regio",
        "access.policies.p.row_filters.tasks",
    ),
    (
        "sources: [workers]\n      hidden: [workers.nmae]",
        "did you mean 'name'",
        "access.policies.p.hidden.0",
    ),
    (
        "sources: [workers]\n      unmask: [workers.country]",
        "not a pii dimension",
        "access.policies.p.unmask.0",
    ),
    ("sources: [workers]\n      row_filter: {}", "row_filter", "access.policies.p"),
    ("sources: []", "at least 1", "access.policies.p.sources"),
]


@pytest.mark.parametrize(("body", "message", "field"), BAD_POLICIES)
def test_bad_policy_names_file_line_field(
    tmp_path: Path, world: dict, body: str, message: str, field: str
) -> None:
    text = DEFS.replace("access:\n  policies:\n", f"access:\n  policies:\n    p:\n      {body}\n")
    defs = write_defs(tmp_path / "defs", text)
    with pytest.raises(ml.DefinitionError) as err:
        ml.load(defs, con=str(world["full"]))
    assert message in str(err.value)
    assert err.value.file and err.value.file.endswith("defs.yml")
    line = text.splitlines().index("    p:") + 1
    assert err.value.line is not None and line <= err.value.line <= line + 2
    assert err.value.field is not None and err.value.field.startswith(field)


def test_policy_defined_twice_names_both_files(tmp_path: Path) -> None:
    defs = write_defs(tmp_path / "defs")
    (defs / "more.yml").write_text(
        "version: 1\naccess:\n  policies:\n    tasks_all: {sources: [tasks]}\n"
    )
    with pytest.raises(ml.DefinitionError, match="defined twice") as err:
        ml.load(defs)
    assert "defs.yml" in str(err.value) and "more.yml" in str(err.value)


def test_policies_merge_across_files(tmp_path: Path, world: dict) -> None:
    defs = write_defs(tmp_path / "defs")
    (defs / "more.yml").write_text(
        "version: 1\naccess:\n  policies:\n    regions_n: {sources: [tasks], "
        "row_filters: {tasks: \"region = 'n'\"}}\n"
    )
    layer = ml.load(defs, con=str(world["full"]))
    assert set(layer.registry.project.access.policies) >= {"own_country", "regions_n"}
    assert layer.restrict("regions_n").dimension_values("tasks.region").to_pandas()[
        "region"
    ].tolist() == ["n"]


def test_lineage_and_deferred_where(layer: ml.Layer) -> None:
    import ibis

    r = layer.restrict(["own_country"], {"country": "DE"})
    text = str(r.lineage("revenue_per_assignment"))
    assert "assignments" in text and "workers.name" not in text and "named_revenue" not in text
    with pytest.raises(ml.QueryError):
        r.lineage("by_name")
    with pytest.raises(ml.QueryError, match="SQL expression text"):
        r.query(["assignments.accepted"], where=ibis._.status == "open")
    with pytest.raises(ml.QueryError, match="quarantine"):
        r.check_sources(quarantine=True)
    with pytest.raises(ml.QueryError, match="by keyword"):
        r.query(["assignments.accepted"], ["status"])


def test_layer_settings_carry_over(world: dict) -> None:
    layer = ml.load(
        world["defs"], con=str(world["full"]), week_start="sunday", timezone="Europe/Berlin"
    )
    r = layer.restrict(["own_country"], {"country": "DE"})
    assert (r.week_start, r.timezone) == (layer.week_start, layer.timezone)
    got = r.query(["assignments.accepted"], grain="week").to_pandas()
    assert all(pd_ts.dayofweek == 6 for pd_ts in got["week"])  # Sunday
    assert "own_country" not in str(r.definitions())
