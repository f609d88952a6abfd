"""Expression fields of retention and funnel definitions go through one check at load
(definitions/base.py `checked_expression`): empty text and broken syntax fail with the file,
line and field, the same way for both."""

from __future__ import annotations

from pathlib import Path

import pytest

import metrics_layer as ml
from metrics_layer.definitions.base import checked_expression
from metrics_layer.errors import DefinitionError

SOURCES = """version: 1
sources:
  events:
    table: events
    time: ts
"""

RETENTION = """version: 1
retention:
  r:
    source: events
    entity: user_id
    cohort: "{cohort}"
    activity: "event_type = 'visit'"
"""

FUNNEL = """version: 1
funnels:
  f:
    source: events
    entity: user_id
    steps:
      - {{name: a, filter: "event_type = 'a'"}}
      - {{name: b, filter: "{step}"}}
"""


def _load(tmp_path: Path, name: str, text: str) -> DefinitionError:
    (tmp_path / "sources.yml").write_text(SOURCES)
    (tmp_path / name).write_text(text)
    with pytest.raises(DefinitionError) as info:
        ml.load(tmp_path)
    return info.value


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_text_is_refused_by_both(tmp_path: Path, text: str) -> None:
    (tmp_path / "r").mkdir()
    (tmp_path / "f").mkdir()
    ret = _load(tmp_path / "r", "retention.yml", RETENTION.format(cohort=text))
    fun = _load(tmp_path / "f", "funnels.yml", FUNNEL.format(step=text))
    assert "retention cohort must not be empty" in str(ret)
    assert "retention.yml:6" in str(ret)
    assert "funnel step filter must not be empty" in str(fun)
    assert "funnels.yml:8" in str(fun)
    assert "\n" not in str(ret).strip() and "\n" not in str(fun).strip()


def test_broken_syntax_is_refused_by_both(tmp_path: Path) -> None:
    (tmp_path / "r").mkdir()
    (tmp_path / "f").mkdir()
    ret = _load(tmp_path / "r", "retention.yml", RETENTION.format(cohort="event_type = "))
    fun = _load(tmp_path / "f", "funnels.yml", FUNNEL.format(step="event_type = "))
    assert "retention.r.cohort" in str(ret)
    assert "funnels.f.steps" in str(fun)


def test_the_helper_itself() -> None:
    assert checked_expression(None, "x") is None
    assert checked_expression("a + 1", "x") == "a + 1"
    with pytest.raises(ValueError, match="^x must not be empty$"):
        checked_expression(" \t", "x")
    with pytest.raises(ValueError):
        checked_expression("a +", "x")
