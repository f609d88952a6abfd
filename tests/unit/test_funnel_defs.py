"""Funnel definitions and arguments: every mistake is an error naming file, line and field
(definitions) or saying what to write instead (query arguments)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import ibis
import pytest

import metrics_layer as ml
from metrics_layer.analysis.funnel import funnel
from metrics_layer.analysis.funnel_overlap import overlap_groups
from metrics_layer.analysis.funnel_spec import EventKind
from metrics_layer.errors import DefinitionError, QueryError, SchemaError
from tests.unit.test_funnel_support import SOURCES

TABLES = """
CREATE TABLE ev (event_id BIGINT, user_id BIGINT, event_type VARCHAR, ts TIMESTAMP, platform VARCHAR);
CREATE TABLE us (user_id BIGINT, country VARCHAR);
CREATE TABLE od (user_id BIGINT, paid_at TIMESTAMP, amount DOUBLE);
"""
OK = """  f:
    source: events
    entity: user_id
    steps:
      - {name: a, filter: "event_type = 'A'"}
      - {name: b, filter: "event_type = 'B'"}
"""


def load(tmp_path: Path, funnels: str) -> ml.Layer:
    con = ibis.duckdb.connect()
    for stmt in TABLES.strip().split(";"):
        if stmt.strip():
            con.raw_sql(stmt)
    (tmp_path / "sources.yml").write_text(
        SOURCES.replace('"{{ events }}"', "ev")
        .replace('"{{ users }}"', "us")
        .replace('"{{ orders }}"', "od")
    )
    (tmp_path / "funnels.yml").write_text("funnels:\n" + funnels)
    return ml.load(tmp_path, con=con)


def located(exc: pytest.ExceptionInfo, line: int, field: str) -> str:
    """The message after 'funnels.yml:<line>: <field>: ', checking file, line and field."""
    text = str(exc.value)
    m = re.match(r"(.*funnels\.yml):(\d+): ([\w.]+): (.*)", text)
    assert m, text
    assert (int(m.group(2)), m.group(3)) == (line, field), text
    return m.group(4)


def step_lines(*extra: str, header: str = "") -> str:
    return OK.replace("    steps:\n", header + "    steps:\n") + "".join(extra)


# ------------------------------------------------------------------------------ at load time
def test_duplicate_step_names(tmp_path):
    bad = OK.replace("{name: b,", "{name: a,")
    with pytest.raises(DefinitionError) as exc:
        load(tmp_path, bad)
    assert "step name 'a' is used twice" in located(exc, 5, "funnels.f.steps")


def test_between_names_unknown_step_with_suggestion(tmp_path):
    bad = (
        OK + "    exclusions:\n      - {name: x, filter: \"event_type = 'X'\", between: [a, bb]}\n"
    )
    with pytest.raises(DefinitionError) as exc:
        load(tmp_path, bad)
    msg = located(exc, 8, "funnels.f.exclusions")
    assert "unknown step 'bb'" in msg and "did you mean 'b'" in msg


def test_between_must_go_forward(tmp_path):
    bad = OK + "    exclusions:\n      - {name: x, filter: \"event_type = 'X'\", between: [b, a]}\n"
    with pytest.raises(DefinitionError) as exc:
        load(tmp_path, bad)
    assert "earlier step, then a later one" in located(exc, 8, "funnels.f.exclusions")


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ("7 dayz", "did you mean '7 days'"),
        ("1 quarter", "no fixed length"),
        ("0 days", "longer than 0 seconds"),
    ],
)
def test_bad_windows(tmp_path, window, message):
    with pytest.raises(DefinitionError) as exc:
        load(tmp_path, step_lines(header=f"    window: {window}\n"))
    assert message in located(exc, 5, "funnels.f.window")


def test_month_is_31_days(tmp_path):
    layer = load(tmp_path, step_lines(header="    window: 1 month\n"))
    assert funnel(layer, "f").query.window_seconds == 31 * 86400


def test_unparsable_filter_names_its_line(tmp_path):
    with pytest.raises(DefinitionError) as exc:
        load(tmp_path, OK.replace("event_type = 'B'", "event_type = = 'B'"))
    assert "cannot be parsed" in located(exc, 7, "funnels.f.steps.1.filter")


def test_one_step_is_not_a_funnel(tmp_path):
    with pytest.raises(DefinitionError) as exc:
        load(tmp_path, OK.replace("      - {name: b, filter: \"event_type = 'B'\"}\n", ""))
    assert "at least 2 steps" in located(exc, 5, "funnels.f.steps")


def test_unknown_order(tmp_path):
    with pytest.raises(DefinitionError) as exc:
        load(tmp_path, step_lines(header="    order: stict\n"))
    assert "strict" in located(exc, 5, "funnels.f.order")


def test_unknown_step_field(tmp_path):
    with pytest.raises(DefinitionError) as exc:
        load(tmp_path, OK.replace("{name: b,", "{name: b, filtr: x,"))
    assert "filtr" in str(exc.value) and "funnels.yml:7" in str(exc.value)


def test_unknown_source(tmp_path):
    with pytest.raises(DefinitionError) as exc:
        funnel(load(tmp_path, OK.replace("source: events", "source: evnts")), "f")
    assert "did you mean 'events'" in located(exc, 3, "funnels.f.source")


def test_unknown_step_source(tmp_path):
    bad = OK.replace("{name: b,", "{name: b, source: ordrs,")
    with pytest.raises(DefinitionError) as exc:
        funnel(load(tmp_path, bad), "f")
    assert "did you mean 'orders'" in located(exc, 7, "funnels.f.steps.1.source")


def test_unknown_column_in_a_step_filter(tmp_path):
    with pytest.raises(SchemaError) as exc:
        funnel(load(tmp_path, OK.replace("event_type = 'B'", "evnt_type = 'B'")), "f")
    assert "event_type" in located(exc, 7, "funnels.f.steps.1.filter")


def test_filter_must_be_a_condition(tmp_path):
    with pytest.raises(DefinitionError) as exc:
        funnel(load(tmp_path, OK.replace("event_type = 'A'", "event_type")), "f")
    assert "must be a condition" in located(exc, 6, "funnels.f.steps.0.filter")


def test_source_without_time(tmp_path):
    bad = OK.replace("source: events", "source: users").replace("event_type", "country")
    with pytest.raises(DefinitionError) as exc:
        funnel(load(tmp_path, bad), "f")
    assert "needs a time column" in located(exc, 3, "funnels.f.source")


def test_exclusions_need_an_ordered_funnel(tmp_path):
    bad = step_lines(
        "    exclusions:\n      - {name: x, filter: \"event_type = 'X'\"}\n",
        header="    order: any\n",
    )
    with pytest.raises(DefinitionError) as exc:
        funnel(load(tmp_path, bad), "f")
    assert "ordered funnel" in located(exc, 9, "funnels.f.exclusions")


def test_unknown_by_dimension(tmp_path):
    with pytest.raises(SchemaError) as exc:
        load(tmp_path, step_lines(header="    by: [users.cuntry]\n"))
    assert "users.country" in str(exc.value) and "funnels.yml:5" in str(exc.value)


# ------------------------------------------------------------------------------ query errors
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"order": "strikt"}, "did you mean 'strict'"),
        ({"strategy": "asoff"}, "did you mean 'asof'"),
        ({"grain": "wek"}, "did you mean 'week'"),
        ({"window": "3 fortnights"}, "invalid duration"),
        ({"window": -5}, "longer than 0 seconds"),
        ({"window": True}, "duration"),
        ({"window": dt.timedelta(milliseconds=1500)}, "whole number of seconds"),
        ({"by": "step"}, "clash"),
        ({"by": ["platform", "platform"]}, "twice"),
        ({"by": "platfrom"}, "did you mean 'platform'"),
        ({"start": "2024-02-01", "end": "2024-01-01"}, "must be after start"),
        ({"start": "yesterday"}, "not a date"),
    ],
)
def test_query_argument_errors(tmp_path, kwargs, message):
    layer = load(tmp_path, OK)
    with pytest.raises(QueryError, match=re.escape(message)):
        funnel(layer, "f", **kwargs)


def test_unknown_funnel_suggests(tmp_path):
    with pytest.raises(QueryError, match="did you mean 'f'"):
        load(tmp_path, OK).funnel("ff")


def test_asof_refused_where_the_backend_has_none(tmp_path):
    from metrics_layer.analysis.funnel import _strategy

    assert _strategy(None, "duckdb") == "asof"
    assert _strategy(None, "postgres") == "window"
    assert _strategy(None, "pyspark") == "window"
    with pytest.raises(QueryError, match="lacks"):
        _strategy("asof", "postgres")


def test_window_accepts_text_timedelta_and_seconds(tmp_path):
    layer = load(tmp_path, OK)
    assert funnel(layer, "f").query.window_seconds == 14 * 86400  # the default
    assert funnel(layer, "f", window="2 weeks").query.window_seconds == 14 * 86400
    assert funnel(layer, "f", window=dt.timedelta(hours=1)).query.window_seconds == 3600
    assert funnel(layer, "f", window=90).query.window_seconds == 90


# ------------------------------------------------------------------------------ overlap analysis
def _kinds(*filters: str, source: str = "events") -> list[EventKind]:
    return [EventKind(f"s{i}", source, "user_id", "ts", f, True) for i, f in enumerate(filters)]


@pytest.mark.parametrize(
    ("filters", "groups"),
    [
        (("event_type = 'a'", "event_type = 'b'"), ((1,), (2,))),
        (("event_type = 'a'", "event_type = 'a'"), ((1, 2),)),
        (("event_type IN ('a', 'b')", "event_type = 'b'", "'c' = event_type"), ((1, 2), (3,))),
        (
            ("event_type = 'a' AND platform = 'ios'", "event_type = 'a' AND platform = 'web'"),
            ((1,), (2,)),
        ),
        (("event_type = 'a' OR event_type = 'b'", "event_type = 'c'"), ((1,), (2,))),
        (("event_type = 'a'", "platform = 'web'"), ((1, 2),)),  # unrelated columns
        (("n = 1", "n = '1'"), ((1, 2),)),  # types differ: unsure
        (("n = 1", "n = 2.5", "n IN (1, 3)"), ((1, 3), (2,))),
        (("lower(x) = 'a'", "lower(x) = 'b'", "x = 'b'"), ((1, 2, 3),)),  # x vs lower(x): unsure
        (("NOT event_type = 'a'", "event_type = 'a'"), ((1, 2),)),  # not analysed: unsure
    ],
)
def test_overlap_groups(filters, groups):
    assert overlap_groups(_kinds(*filters)) == groups


def test_steps_of_different_sources_never_overlap():
    kinds = _kinds("amount > 0") + _kinds("amount > 0", source="orders")
    kinds[1] = EventKind("s1", "orders", "user_id", "paid_at", "amount > 0", False)
    assert overlap_groups(kinds) == ((1,), (2,))
