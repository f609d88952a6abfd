"""Bad definitions and requests fail within 10 s and 1 GiB: every case runs in one fresh
process, each timed on its own, and the process's peak resident memory (from wait4, so
imports and engine memory count too) stays under 1 GiB across all of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.safety.helpers import WORKERS_DEFS, make_db, write_defs
from tests.safety.test_templates import HEAVY
from tests.safety.test_yaml_bombs import _bomb

ROOT = Path(__file__).resolve().parents[2]
GIB = 2**30

CHILD = textwrap.dedent(
    """
    import json, sys, time
    import metrics_layer as ml
    import metrics_layer.layer
    out = []
    for defs, db, request in json.loads(sys.argv[1]):
        started = time.monotonic()
        try:
            layer = ml.load(defs, con=db)
            if request:
                eval(request, {"layer": layer}).to_pandas()
            out.append([defs, request, None, "accepted"])
        except ml.MetricsLayerError as exc:
            out.append([defs, request, time.monotonic() - started, str(exc)])
    print(json.dumps(out))
    """
)

REQUESTS = [
    "layer.query('hours', grain='hour', fill='zero', start='0001-01-01', end='9999-01-01')",
    "layer.query('hours', where='shifts.worker_id IN (' + ','.join(map(str, range(20000))) + ')')",
    "layer.query('hours', by=['shifts.kind'], limit=2**63)",
    "layer.funnel('f', window=10**18)",
]
FUNNEL = """\
funnels:
  f:
    source: shifts
    entity: worker_id
    steps: [{name: a, filter: "kind = 'day'"}, {name: b, filter: "kind = 'night'"}]
"""


def test_bad_input_is_refused_within_10_s_and_1_gib(tmp_path: Path) -> None:
    cases: list[tuple[str, str | None, str]] = []
    for i, body in enumerate(HEAVY):
        folder = tmp_path / f"template{i}"
        folder.mkdir()
        (folder / "d.yml").write_text("version: 1\n# " + body + "\n")
        cases.append((str(folder), None, ""))
    for levels in (9, 12):
        folder = tmp_path / f"bomb{levels}"
        folder.mkdir()
        (folder / "bomb.yml").write_text(_bomb(levels))
        cases.append((str(folder), None, ""))
    db = make_db(tmp_path / "w.duckdb")
    defs = write_defs(tmp_path / "defs", WORKERS_DEFS.format(table="shifts") + FUNNEL)
    cases += [(str(defs), str(db), r) for r in REQUESTS]

    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(cases)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None and proc.stderr is not None
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, stderr[-2000:]
    results = json.loads(stdout)
    assert len(results) == len(cases)
    for defs_path, request, seconds, message in results:
        assert seconds is not None, f"accepted: {defs_path} {request}"
        assert seconds < 10, (defs_path, request, seconds)
        assert "\n" not in message and message, message
    assert usage.ru_maxrss * 1024 < GIB, usage.ru_maxrss
