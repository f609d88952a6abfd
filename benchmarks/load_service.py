"""Load test of `metrics-layer serve`: concurrent clients, mixed requests, every answer checked.

    python -m benchmarks.load_service --clients 16 --requests 500 --events 20000
    python -m benchmarks.load_service --postgres postgres://user@127.0.0.1:5432/scratch

Starts the server on a free loopback port over the demo data (a DuckDB file, or with
`--postgres URL` the same tables copied into that PostgreSQL database, replacing tables of the
same names) with several access policies, computes the expected answer of every distinct
(token, request) single-threaded (one request at a time), then lets `--clients` threads (each
with its own keep-alive connection and one of the tokens: one per country under
`own_country`, `growth`, a union of two policies, a category manager, unrestricted) send
`--requests` requests each, drawn from the mix. A wrong answer is any status or body differing
from the single-threaded one. Prints p50/p99 latency, requests per second, the load average
and the count of wrong answers (the exit status is 1 when it is not 0).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.harness import ROOT, ensure_data, say

ACCESS = """
version: 1
access:
  policies:
    own_country:
      sources: [assignments, events, workers, tasks, worker_history, calendar, payments]
      row_filters:
        workers: "country = :country"
        assignments: "workers.country = :country"
        events: "workers.country = :country"
      hidden: [workers.rating]
    growth:
      sources: [events, workers]
    category:
      sources: [assignments, tasks, workers, calendar]
      row_filters:
        tasks: "category = :category"
        assignments: "tasks.category = :category"
"""


def requests_mix(countries: list[str]) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(method, path, body) of the mixed workload: catalog, values, KPIs, SQL, retention, funnel."""
    mix: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/metrics", None),
        ("GET", "/dimensions/assignments", None),
        ("GET", "/dimensions/workers/country/values", None),
        ("GET", "/dimensions/workers/skill/values?search=e", None),
        ("POST", "/query", {"metrics": ["revenue"], "by": ["workers.country"]}),
        ("POST", "/query", {"metrics": ["revenue", "task_fill_rate"], "grain": "month"}),
        (
            "POST",
            "/query",
            {"metrics": ["app_active_workers"], "grain": "week", "start": "2024-03-01"},
        ),
        ("POST", "/query", {"metrics": ["revenue"], "by": ["tasks.category"], "where": "1 = 1"}),
        ("POST", "/sql", {"metrics": ["revenue"], "by": ["workers.skill"], "dialect": "postgres"}),
        ("POST", "/retention/worker_retention", {"periods": 4}),
        ("POST", "/retention/worker_retention_by_country", {"periods": 3}),
        ("POST", "/funnel/onboarding", {}),
        ("GET", "/dimensions/tasks/category/values", None),
        ("POST", "/query", {"metrics": ["revenue"], "by": ["tasks.category"], "grain": "month"}),
    ]
    mix += [
        ("POST", "/query", {"metrics": ["revenue"], "where": f"workers.country = '{c}' OR 1 = 1"})
        for c in countries[:3]
    ]
    return mix


def copy_to_postgres(db: Path, url: str) -> None:
    """Copy every table of the demo DuckDB file into the PostgreSQL database at `url`."""
    import duckdb

    from tests.backends import Backend, connect_postgres  # the tests' loader (COPY, ANALYZE)

    src = duckdb.connect(str(db), read_only=True)
    pg = Backend("postgres", connect_postgres(url))
    try:
        names = [r[0] for r in src.execute("SHOW TABLES").fetchall()]
        for name in names:
            pg.load({name: src.execute(f'SELECT * FROM "{name}"').to_arrow_table()})
        say(f"copied {len(names)} tables into PostgreSQL")
    finally:
        src.close()
        pg.con.disconnect()


def make_tokens(countries: list[str], categories: list[str]) -> dict[str, dict[str, Any]]:
    """Tokens of several kinds of caller: unrestricted, per country, growth, union, category."""
    tokens: dict[str, dict[str, Any]] = {"admin": {"user": "admin", "unrestricted": True}}
    tokens |= {
        f"t-{c}": {"user": c, "policies": ["own_country"], "attributes": {"country": c}}
        for c in countries
    }
    tokens["growth"] = {"user": "growth", "policies": ["growth"]}
    tokens["union"] = {
        "user": "union",
        "policies": ["own_country", "category"],
        "attributes": {"country": countries[0], "category": categories[0]},
    }
    tokens |= {
        f"cat-{c}": {"user": f"cat-{c}", "policies": ["category"], "attributes": {"category": c}}
        for c in categories[:2]
    }
    return tokens


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--requests", type=int, default=500, help="per client")
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--postgres", metavar="URL", help="serve from this PostgreSQL database")
    args = ap.parse_args(argv)

    from tests.service.harness import running, write_tokens  # the tests' server harness

    db = ensure_data(args.events, args.seed)
    if args.postgres:
        copy_to_postgres(db, args.postgres)
    connection = args.postgres or str(db)
    work = Path(tempfile.mkdtemp(prefix="ml-load-"))
    try:
        defs = work / "defs"
        shutil.copytree(ROOT / "metric_defs", defs)
        (defs / "access.yml").write_text(ACCESS)
        import metrics_layer as ml

        layer = ml.load(defs, con=str(db))

        countries, categories = (
            [v for v in layer.dimension_values(d).to_pyarrow().column(0).to_pylist() if v]
            for d in ("workers.country", "tasks.category")
        )
        del layer  # the server opens the file
        tokens = make_tokens(countries, categories)
        write_tokens(work / "tokens.yml", tokens)
        mix = requests_mix(countries)
        names = list(tokens)
        server_args = [str(defs), "-c", connection, "--tokens", str(work / "tokens.yml")]
        with running(server_args, cwd=work) as url:
            say(f"server at {url}; {len(mix)} kinds of request, {len(names)} tokens")

            def send(client: httpx.Client, token: str, req: tuple) -> tuple[int, str]:
                method, path, body = req
                r = client.request(
                    method, url + path, json=body, headers={"Authorization": f"Bearer {token}"}
                )
                return r.status_code, hashlib.sha256(r.content).hexdigest()

            expected: dict[tuple[str, int], tuple[int, str]] = {}
            with httpx.Client(timeout=120) as client:
                for token in names:
                    for i, req in enumerate(mix):
                        expected[(token, i)] = send(client, token, req)
            # a request a caller may not make (growth asking for revenue) is a 400/404, which
            # must come back the same under load; a server error is never an expected answer
            failed = {k: v for k, v in expected.items() if v[0] >= 500}
            if failed:
                say(f"single-threaded answers that are server errors: {failed}")
                return 1
            refused = sum(1 for v in expected.values() if v[0] != 200)
            say(
                f"{len(expected)} single-threaded answers recorded ({refused} refusals); "
                "starting the load"
            )

            latencies: list[float] = []
            wrong: list[Any] = []
            lock = threading.Lock()

            def client_run(n: int) -> None:
                rnd = random.Random(n)
                token = names[n % len(names)]
                mine, bad = [], []
                with httpx.Client(timeout=120) as client:
                    for _ in range(args.requests):
                        i = rnd.randrange(len(mix))
                        t0 = time.perf_counter()
                        got = send(client, token, mix[i])
                        mine.append(time.perf_counter() - t0)
                        if got != expected[(token, i)]:
                            bad.append((token, mix[i][1], got[0]))
                with lock:
                    latencies.extend(mine)
                    wrong.extend(bad)

            threads = [threading.Thread(target=client_run, args=(n,)) for n in range(args.clients)]
            load_before = os.getloadavg()
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
            load_after = os.getloadavg()
        lat = sorted(latencies)
        p50 = statistics.median(lat) * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        report = {
            "backend": "postgres" if args.postgres else "duckdb",
            "clients": args.clients,
            "requests": len(lat),
            "events": args.events,
            "tokens": len(names),
            "kinds": len(mix),
            "wrong_answers": len(wrong),
            "p50_ms": round(p50, 1),
            "p99_ms": round(p99, 1),
            "requests_per_s": round(len(lat) / wall, 1),
            "seconds": round(wall, 1),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
        }
        print(json.dumps(report))
        if wrong:
            say(f"wrong answers (first 5): {wrong[:5]}")
        return 1 if wrong else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
