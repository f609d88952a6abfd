"""`within` / `hold` through the CLI, the demo definitions and the compiled-query cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import metrics_layer as ml
from metrics_layer.errors import DefinitionError, QueryError
from tests.cli_helpers import ROOT, invoke


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    from metrics_layer.demo.generate import generate

    path = tmp_path_factory.mktemp("cli") / "demo.duckdb"
    generate(path, events=5_000)
    return path


def test_cli_within_and_hold_equal_the_python_api(demo_db):
    out = invoke(
        "funnel", "metric_defs", "onboarding", "--connection", str(demo_db),
        "--within", "profile_completed=1 day", "--within", "application=3 days",
        "--hold", "platform", "--format", "json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    got = [(r["step"], r["entities"]) for r in json.loads(out.stdout)]
    layer = ml.load(ROOT / "metric_defs", con=str(demo_db))
    kw = {"within": {"profile_completed": "1 day", "application": "3 days"}, "hold": "platform"}
    want = layer.funnel("onboarding", **kw).to_pandas()
    assert got == [(int(r.step), int(r.entities)) for r in want.itertuples()]
    plain = layer.funnel("onboarding").to_pandas()
    assert list(want["entities"]) != list(plain["entities"])  # the options changed the answer


def test_cli_bad_within_is_one_line(demo_db):
    out = invoke(
        "funnel", "metric_defs", "onboarding", "--connection", str(demo_db),
        "--within", "profile_complted=1 day",
    )  # fmt: skip
    assert out.returncode != 0
    assert "profile_completed" in out.stderr and "Traceback" not in out.stderr
    out = invoke("funnel", "metric_defs", "onboarding", "-c", str(demo_db), "--within", "x")
    assert out.returncode != 0 and "STEP=DURATION" in out.stderr


def test_demo_quick_start_funnel_is_paced(demo_db):
    layer = ml.load(ROOT / "metric_defs", con=str(demo_db))
    paced = layer.funnel("quick_start").to_pandas()
    loose = layer.funnel("quick_start", within={"profile_completed": None, "application": None},
                         hold=[]).to_pandas()  # fmt: skip
    assert list(paced["entities"])[0] == list(loose["entities"])[0]
    assert all(p <= q for p, q in zip(paced["entities"], loose["entities"], strict=True))
    assert list(paced["step_conversion"])[0] == 1.0


def test_other_within_or_hold_is_a_cache_miss_same_is_a_hit(demo_db):
    layer = ml.load(ROOT / "metric_defs", con=str(demo_db))

    def f(**kw):
        return layer.funnel("onboarding", start=kw.pop("start", "2024-02-01"), **kw)

    assert not f(within={"application": "3 days"}).cache_hit
    assert f(within={"application": "3 days"}, start="2024-03-01").cache_hit
    assert not f(within={"application": "4 days"}).cache_hit
    assert not f(within={"application": "3 days"}, hold="platform").cache_hit
    assert f(within={"application": "3 days"}, hold=["platform"]).cache_hit
    assert not f().cache_hit


def test_unknown_hold_suggests_and_bad_within_errors(demo_db):
    layer = ml.load(ROOT / "metric_defs", con=str(demo_db))
    with pytest.raises(QueryError, match="platform"):
        layer.funnel("onboarding", hold="platfrom")
    with pytest.raises(QueryError, match="first step"):
        layer.funnel("onboarding", within={"signup": "1 day"})
    with pytest.raises(QueryError, match="within"):
        layer.funnel("onboarding", within={"application": "0 days"})
    with pytest.raises(QueryError, match="within must map"):
        layer.funnel("onboarding", within="1 day")


def _defs(tmp_path: Path, funnel: str) -> Path:
    text = (ROOT / "metric_defs" / "marketplace.yml").read_text()
    folder = tmp_path / "defs"
    folder.mkdir()
    (folder / "marketplace.yml").write_text(text)
    (folder / "funnels.yml").write_text("version: 1\nfunnels:\n" + funnel)
    return folder


STEPS = """    steps:
      - {name: signup, filter: "event_type = 'signup'"%s}
      - {name: application, filter: "event_type = 'application'"%s}
"""


@pytest.mark.parametrize(
    ("extra", "first", "second", "field", "line"),
    [
        ("", ", within: 1 day", "", "funnels.f.steps.0.within", 7),
        ("", "", ", within: 0 days", "funnels.f.steps.1.within", 8),
        ("", "", ", within: 2 dayz", "funnels.f.steps.1.within", 8),
        ("    hold: [platfrom]\n", "", "", "funnels.f.hold", 6),
    ],
)
def test_definition_errors_name_file_line_and_field(
    demo_db, tmp_path, extra, first, second, field, line
):
    head = "  f:\n    source: events\n    entity: worker_id\n" + extra
    folder = _defs(tmp_path, head + STEPS % (first, second))
    with pytest.raises(DefinitionError) as err:
        ml.load(folder, con=str(demo_db))
    msg = str(err.value)
    assert f"funnels.yml:{line}" in msg and field in msg, msg
    if "platfrom" in msg:
        assert "platform" in msg.replace("platfrom", "")
