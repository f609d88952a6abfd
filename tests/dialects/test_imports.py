"""The package imports in one direction only:

    base (errors, grain, dialects, expressions, connection) -> definitions -> registry
        -> planner -> compile (and result) -> analysis / checks / lineage -> layer / cli

Every `import` of every module (also those inside functions, which hide cycles from Python
but not from readers; `if TYPE_CHECKING:` blocks excepted) must point to the same or a lower
rank. A module's rank is that of the longest listed prefix of its name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "metrics_layer"

RANKS: dict[str, int] = {
    "metrics_layer.errors": 0,
    "metrics_layer.grain": 0,
    "metrics_layer.retail": 0,  # the pure rules of retail calendars: imports only grain
    "metrics_layer.bounds": 0,
    "metrics_layer.limits": 0,  # the bounds on work: imports only errors
    "metrics_layer.dialects": 0,
    "metrics_layer.expressions": 0,
    "metrics_layer.connection": 0,
    "metrics_layer.definitions": 1,
    "metrics_layer.checks.models": 1,  # the pydantic models of `checks:` are definitions
    "metrics_layer.calendar": 1,
    "metrics_layer.registry": 2,
    "metrics_layer.planner": 3,
    # period arithmetic on literals (offset checks, shifted bounds) that the planner uses too;
    # it imports only definitions and errors. Moving it beside grain.py is the cleaner home.
    "metrics_layer.compile.periods": 3,
    "metrics_layer.compile": 4,
    "metrics_layer.result": 4,
    "metrics_layer.engine": 4,  # compiled-query cache, executors, exports (below result)
    "metrics_layer.analysis": 5,
    "metrics_layer.checks": 5,
    "metrics_layer.lineage": 5,
    "metrics_layer.materialize": 5,  # uses a Layer it is given, never imports layer
    "metrics_layer.layer": 6,
    "metrics_layer.access": 6,  # restricted layers build on the Layer
    "metrics_layer.service": 6,
    "metrics_layer.catalog": 6,
    "metrics_layer.cli": 6,
    "metrics_layer.demo": 6,
    "metrics_layer": 6,
}
# an edge waiting for its module's rewrite to land: (importer, imported); kept honest below
PENDING: set[tuple[str, str]] = {
    ("metrics_layer.planner.request", "metrics_layer.compile.timegrain")
}
NAMES = ("base", "definitions", "registry", "planner", "compile", "analysis", "layer/cli")


def rank(module: str) -> int:
    best = max((p for p in RANKS if module == p or module.startswith(p + ".")), key=len)
    return RANKS[best]


def module_name(path: Path, root: Path = PACKAGE.parent) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) of every metrics_layer import outside TYPE_CHECKING blocks."""
    tree = ast.parse(path.read_text(), filename=str(path))
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(n) for n in ast.walk(node))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "metrics_layer":  # from metrics_layer import x: the submodule
                found += [(node.lineno, f"metrics_layer.{a.name}") for a in node.names]
            elif node.module.startswith("metrics_layer."):
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [
                (node.lineno, a.name) for a in node.names if a.name.startswith("metrics_layer")
            ]
    return found


def back_edges(files: list[Path], root: Path = PACKAGE.parent) -> list[str]:
    out = []
    for path in files:
        mod = module_name(path, root)
        for line, target in imports(path):
            if rank(target) > rank(mod) and (mod, target) not in PENDING:
                out.append(
                    f"{path.relative_to(root)}:{line}: {mod} ({NAMES[rank(mod)]}) "
                    f"imports {target} ({NAMES[rank(target)]})"
                )
    return out


def test_no_module_imports_a_higher_layer() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 50
    assert back_edges(files) == []


def test_pending_edges_still_exist() -> None:
    """A pending edge that is gone must leave PENDING, so the list only shrinks."""
    for mod, target in PENDING:
        path = PACKAGE.parent / (mod.replace(".", "/") + ".py")
        assert target in [t for _, t in imports(path)], f"{mod} no longer imports {target}"


def test_a_back_edge_is_caught(tmp_path: Path) -> None:
    """The check itself can fail: a definitions module importing the compiler is reported."""
    fake = tmp_path / "metrics_layer" / "definitions" / "probe.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("def f():\n    from metrics_layer.compile.kpi import Context\n")
    found = back_edges([fake], root=tmp_path)
    assert len(found) == 1 and "definitions" in found[0] and "compile.kpi" in found[0]


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("metrics_layer.checks.models", 1),
        ("metrics_layer.checks.series", 5),
        ("metrics_layer.grain", 0),
        ("metrics_layer.layer", 6),
        ("metrics_layer.compile.timegrain", 4),
    ],
)
def test_rank_uses_the_longest_prefix(module: str, expected: int) -> None:
    assert rank(module) == expected
