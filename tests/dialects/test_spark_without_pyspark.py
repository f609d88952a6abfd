"""Spark SQL renders without pyspark installed, and the same as with it.

ibis's Spark SQL compiler reads `ibis.options.pyspark`, an option group declared only by
ibis's PySpark backend, which imports pyspark. `render_sql` declares the same group itself
when it is missing. A subprocess in which `import pyspark` raises ImportError renders the
demo query, both through `sql()` and through ibis's compiler directly (so the sqlglot
fallback of `render_sql` cannot stand in for it); its text must equal this process's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import metrics_layer as ml

ROOT = Path(__file__).resolve().parents[2]

# `sys.modules[name] = None` makes `import name` raise ImportError, as if not installed.
_NO_PYSPARK = """
import sys
sys.modules["pyspark"] = None
try:
    import pyspark  # noqa: F401
except ImportError:
    pass
else:
    raise SystemExit("pyspark still importable")
import ibis
import metrics_layer as ml
assert ibis.options.pyspark is None, "option group declared before rendering"
from metrics_layer.dialects import compile_sql, family, portable
res = ml.load("metric_defs").query("revenue", grain="month")
sql = res.sql(dialect={dialect!r})
# ibis's own Spark compiler, without render_sql's sqlglot fallback (which could hide a failure)
built = family(res._backend) or res._backend
direct = compile_sql(portable(res.expr, built, "pyspark"), "pyspark", True)
assert "ibis.backends.pyspark" not in sys.modules
assert direct == sql, "ibis's compiler and the rendered text differ"
sys.stdout.write(sql)
"""


def _render_without_pyspark(dialect: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", _NO_PYSPARK.format(dialect=dialect)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_spark_sql_without_pyspark_matches_normal_rendering(monkeypatch):
    monkeypatch.chdir(ROOT)
    expected = ml.load("metric_defs").query("revenue", grain="month").sql(dialect="spark")
    assert "`" in expected and "DATE_TRUNC" in expected.upper()
    got = _render_without_pyspark("spark")
    assert got == expected
