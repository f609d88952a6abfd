"""The freshness rule of `layer.check()`: watermark age against max_lag, boundary included."""

from __future__ import annotations

import copy
import datetime as dt
import random
from pathlib import Path
from typing import Any

import yaml
from conftest import DEFS, make_events, open_layer, write_db


def _layer(tmp_path: Path) -> Any:
    db = tmp_path / "shop.duckdb"
    write_db(db, make_events(random.Random(5), 300, 30))
    defs = copy.deepcopy(DEFS)
    defs["materializations"]["daily"]["max_lag"] = "2 days"
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "shop.yml").write_text(yaml.safe_dump(defs, sort_keys=False))
    return open_layer({"db": db, "defs": tmp_path / "defs"})


def _rule(layer: Any, as_of: str) -> Any:
    found = [r for r in layer.check(as_of=as_of).results if r.kind == "materialization"]
    assert len(found) == 1
    return found[0]


def test_freshness_against_max_lag(tmp_path: Path) -> None:
    layer = _layer(tmp_path)
    never = _rule(layer, "2024-02-01")
    assert not never.passed and "never ran" in never.detail
    mark = layer.materialize("daily").watermark
    two_days = mark + dt.timedelta(days=2)
    at_limit = _rule(layer, two_days.isoformat(sep=" "))  # exactly max_lag old: still fresh
    assert at_limit.passed and "within max_lag 2 days" in at_limit.detail
    late = _rule(layer, (two_days + dt.timedelta(seconds=1)).isoformat(sep=" "))
    assert not late.passed and late.blocking and "over max_lag" in late.detail


def test_named_checks_leave_materializations_out(tmp_path: Path) -> None:
    layer = _layer(tmp_path)
    assert layer.check(sources=[]).results == []
