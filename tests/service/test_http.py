"""The HTTP API over real loopback HTTP: endpoints, formats, tokens, limits and errors."""

from __future__ import annotations

import io
import json
import socket
import time

import httpx
import pandas as pd
import pyarrow as pa
import pytest

import metrics_layer as ml

ANA = {"Authorization": "Bearer ana-token"}
BOB = {"Authorization": "Bearer bob-token"}
ADMIN = {"Authorization": "Bearer admin-token"}
VIEWER = {"Authorization": "Bearer viewer-token"}


def table(answer: dict) -> pd.DataFrame:
    return pd.DataFrame(answer["rows"], columns=answer["columns"])


def one_line_error(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert "\n" not in r.text and "Traceback" not in r.text
    body = r.json()
    assert set(body) == {"error"}
    return str(body["error"])


def test_health_and_openapi_need_no_token(server: str) -> None:
    assert httpx.get(server + "/health").json() == {"status": "ok"}
    spec = httpx.get(server + "/openapi.json").json()
    assert {"/query", "/sql", "/metrics", "/dimensions/{source}/{dimension}/values"} <= set(
        spec["paths"]
    )
    assert "QueryBody" in spec["components"]["schemas"]


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "ana-token"}]
)
def test_401_without_a_valid_token(server: str, headers: dict) -> None:
    for method, path in [("get", "/metrics"), ("post", "/query"), ("get", "/dimensions/workers")]:
        r = httpx.request(method, server + path, headers=headers, json={"metrics": ["active"]})
        one_line_error(r, 401)


def test_query_is_restricted_per_token(server: str, layer: ml.Layer) -> None:
    body = {"metrics": ["assignments.revenue", "active"], "by": ["workers.country"]}
    for headers, country in [(ANA, "DE"), (BOB, "FR")]:
        got = table(httpx.post(server + "/query", json=body, headers=headers).json())
        want = layer.restrict("own_country", {"country": country}).query(**body).to_pandas()
        assert got["country"].tolist() == [country]
        assert got["revenue"][0] == pytest.approx(want["revenue"][0])
        assert got["active"][0] == want["active"][0]
    widen = {**body, "where": "workers.country = 'FR' OR 1 = 1"}
    got = table(httpx.post(server + "/query", json=widen, headers=ANA).json())
    assert got["country"].tolist() == ["DE"]
    admin = table(httpx.post(server + "/query", json=body, headers=ADMIN).json())
    assert set(admin["country"].dropna()) == {"DE", "FR", "US"}


def test_formats_json_csv_arrow_agree(server: str, layer: ml.Layer) -> None:
    body = {"metrics": ["assignments.revenue"], "by": ["status"], "order_by": ["status"]}
    want = layer.restrict("own_country", {"country": "DE"}).query(**body).to_pandas()
    j = httpx.post(server + "/query", json=body, headers=ANA)
    assert j.headers["x-truncated"] == "false"
    c = httpx.post(server + "/query", json=body, headers={**ANA, "Accept": "text/csv"})
    assert c.headers["content-type"].startswith("text/csv")
    a = httpx.post(
        server + "/query",
        json=body,
        headers={**ANA, "Accept": "application/vnd.apache.arrow.stream"},
    )
    assert a.headers["content-type"] == "application/vnd.apache.arrow.stream"
    arrow = pa.ipc.open_stream(a.content).read_all()
    assert arrow.schema.metadata[b"truncated"] == b"false"
    for got in [table(j.json()), pd.read_csv(io.StringIO(c.text)), arrow.to_pandas()]:
        assert got["status"].tolist() == want["status"].tolist()
        assert got["revenue"].tolist() == pytest.approx(want["revenue"].tolist())


def test_rows_are_capped_with_a_flag(server: str) -> None:
    body = {"metrics": ["assignments.accepted"], "by": ["workers.email"], "grain": "day"}
    r = httpx.post(server + "/query", json=body, headers=ADMIN)
    answer = r.json()
    assert answer["truncated"] is True and len(answer["rows"]) == 40
    r = httpx.post(server + "/query", json={**body, "limit": 3}, headers=ADMIN)
    assert r.json()["truncated"] is False and len(r.json()["rows"]) == 3


def test_sql_endpoint(server: str, layer: ml.Layer) -> None:
    body = {"metrics": ["assignments.revenue"], "dialect": "postgres"}
    sql = httpx.post(server + "/sql", json=body, headers=ANA).json()["sql"]
    want = layer.restrict("own_country", {"country": "DE"}).sql(
        ["assignments.revenue"], dialect="postgres"
    )
    assert sql == want and "'DE'" in sql


def test_catalog_endpoints(server: str) -> None:
    metrics = httpx.get(server + "/metrics", headers=ANA).json()["metrics"]
    names = {m["name"] for m in metrics}
    assert "active" in names and "by_name" not in names  # by_name reads a hidden dimension
    active = next(m for m in metrics if m["name"] == "active")
    assert "workers.country" in active["dimensions"] and "workers.name" not in active["dimensions"]
    one = httpx.get(server + "/metrics/active", headers=ANA).json()
    assert one["sources"] == ["events"]
    dims = httpx.get(server + "/dimensions/workers", headers=ANA).json()["dimensions"]
    assert {d["name"] for d in dims} == {"country", "email", "email_domain"}
    assert next(d for d in dims if d["name"] == "email")["pii"] is True
    values = httpx.get(server + "/dimensions/workers/country/values", headers=BOB).json()
    assert values["rows"] == [["FR"]]
    values = httpx.get(
        server + "/dimensions/workers/country/values", params={"search": "e"}, headers=ADMIN
    ).json()
    assert values["rows"] == [["DE"]]


def test_unknown_and_invisible_names_get_the_same_answer(server: str) -> None:
    # by_name exists but is hidden from ana; no_such does not exist: same status, same wording
    a = one_line_error(httpx.get(server + "/metrics/by_name", headers=ANA), 404)
    b = one_line_error(httpx.get(server + "/metrics/no_such", headers=ANA), 404)
    assert a.replace("by_name", "X") == b.replace("no_such", "X")
    one_line_error(httpx.get(server + "/dimensions/payments", headers=ANA), 404)
    hidden = one_line_error(httpx.get(server + "/dimensions/workers/name/values", headers=ANA), 404)
    missing = one_line_error(
        httpx.get(server + "/dimensions/workers/nope/values", headers=ANA), 404
    )
    assert hidden.replace("'name'", "X") == missing.replace("'nope'", "X")
    assert httpx.get(server + "/dimensions/workers/name/values", headers=ADMIN).status_code == 200
    one_line_error(httpx.post(server + "/retention/nope", headers=ANA), 404)
    one_line_error(httpx.post(server + "/funnel/nope", headers=ANA), 404)
    body_error = one_line_error(
        httpx.post(server + "/query", json={"metrics": ["by_name"]}, headers=ANA), 400
    )
    assert "by_name" in body_error
    viewer = one_line_error(httpx.get(server + "/dimensions/workers", headers=VIEWER), 403)
    assert "list_dimensions" in viewer


def test_bad_bodies(server: str) -> None:
    e = one_line_error(
        httpx.post(server + "/query", json={"metrics": ["active"], "gran": "day"}, headers=ANA), 422
    )
    assert "gran" in e
    one_line_error(
        httpx.post(
            server + "/query",
            content=b"{not json",
            headers={**ANA, "content-type": "application/json"},
        ),
        422,
    )
    one_line_error(httpx.post(server + "/query", json={"by": ["status"]}, headers=ANA), 422)
    e = one_line_error(
        httpx.post(
            server + "/query", json={"metrics": ["active"], "grain": "fortnight"}, headers=ANA
        ),
        400,
    )
    one_line_error(
        httpx.post(
            server + "/query", json={"metrics": ["active"], "where": "1; DROP TABLE x"}, headers=ANA
        ),
        400,
    )
    masked = one_line_error(
        httpx.post(
            server + "/query",
            json={"metrics": ["active"], "where": "workers.email = 'a'"},
            headers=ANA,
        ),
        400,
    )
    assert "masked" in masked


def test_body_over_the_limit_is_413(server: str) -> None:
    big = {"metrics": ["active"], "where": "event_type IN (" + ",".join(["'x'"] * 2000) + ")"}
    one_line_error(httpx.post(server + "/query", json=big, headers=ANA), 413)

    def chunks():
        yield b'{"metrics": ["active"], "where": "'
        for _ in range(100):
            yield b"a" * 100
        yield b'"}'

    r = httpx.post(
        server + "/query", content=chunks(), headers={**ANA, "content-type": "application/json"}
    )
    one_line_error(r, 413)


def test_retention_and_funnel(server: str, layer: ml.Layer) -> None:
    r = layer.restrict("own_country", {"country": "DE"})
    got = table(
        httpx.post(server + "/retention/engagement", json={"periods": 3}, headers=ANA).json()
    )
    want = r.retention("engagement", periods=3).to_pandas()
    assert got["active"].tolist() == want["active"].tolist()
    assert got["cohort_size"].tolist() == want["cohort_size"].tolist()
    got = table(httpx.post(server + "/funnel/onboarding", headers=ANA).json())
    want = r.funnel("onboarding").to_pandas()
    assert got["entities"].tolist() == want["entities"].tolist()


def test_stalled_client_is_dropped(server: str) -> None:
    for partial in [
        b"POST /query HTTP/1.1\r\nHost: x\r\n",
        b"POST /query HTTP/1.1\r\nHost: x\r\n"
        b'Authorization: Bearer ana-token\r\nContent-Length: 100\r\n\r\n{"me',
    ]:
        sock = socket.create_connection(("127.0.0.1", int(server.rsplit(":", 1)[1])))
        sock.sendall(partial)
        sock.settimeout(10)
        t0 = time.monotonic()
        data = sock.recv(1000)  # b"" when the server closes the connection
        assert time.monotonic() - t0 < 5
        assert b"200 OK" not in data
        sock.close()
    assert httpx.get(server + "/health").status_code == 200


def test_audit_lines(server: str, world: dict) -> None:
    httpx.post(server + "/query", json={"metrics": ["active"]}, headers=BOB)
    httpx.get(server + "/metrics", headers={"Authorization": "Bearer wrong"})
    lines = [json.loads(x) for x in (world["root"] / "audit.jsonl").read_text().splitlines()]
    assert all(
        set(x) == {"time", "user", "operation", "request", "sql_hash", "rows", "ms", "status"}
        for x in lines
    )
    ok = [
        x
        for x in lines
        if x["user"] == "bob"
        and x["operation"] == "query"
        and x["request"] == {"metrics": ["active"]}
    ]
    assert ok and ok[-1]["status"] == 200 and ok[-1]["rows"] == 1 and len(ok[-1]["sql_hash"]) == 64
    assert ok[-1]["time"].endswith("Z")
    assert any(x["status"] == 401 and x["user"] is None for x in lines)


def test_sigterm_lets_a_request_finish_and_exits_0(world: dict) -> None:
    import signal
    import subprocess
    import sys
    import threading

    from tests.service.harness import ROOT, free_port

    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "metrics_layer.cli",
            "serve",
            str(world["defs"]),
            "-c",
            str(world["full"]),
            "--tokens",
            str(world["tokens"]),
            "--port",
            str(port),
        ],
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        answers: list[int] = []
        signalled = threading.Event()
        headers_sent = threading.Event()

        def body():  # the request is in flight (headers read, body pending) when SIGTERM comes
            yield b'{"periods":'
            headers_sent.set()
            signalled.wait(10)
            time.sleep(0.3)
            yield b" null}"

        def ask() -> None:
            r = httpx.post(
                url + "/retention/engagement",
                content=body(),
                headers={**ADMIN, "content-type": "application/json"},
                timeout=30,
            )
            answers.append(r.status_code)

        t = threading.Thread(target=ask)
        t.start()
        assert headers_sent.wait(10)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        signalled.set()
        t.join(timeout=30)
        assert proc.wait(timeout=20) == 0
        assert answers == [200]
    finally:
        if proc.poll() is None:
            proc.kill()


def test_concurrent_requests_get_the_single_threaded_answers(server: str) -> None:
    """Backend calls are not serialised: 8 clients x 25 mixed requests (KPIs, SQL, retention,
    funnel, dimension values, under several tokens) each get the one-at-a-time answer."""
    import random
    import threading

    asks = [
        (ANA, "/query", {"metrics": ["assignments.revenue"], "by": ["workers.country"]}),
        (BOB, "/query", {"metrics": ["active"], "by": ["workers.country"]}),
        (ADMIN, "/query", {"metrics": ["assignments.revenue", "active"]}),
        (ANA, "/query", {"metrics": ["total_revenue"], "where": "workers.country = 'FR' OR 1 = 1"}),
        (ADMIN, "/dimensions/workers/country/values", None),
        (ANA, "/dimensions/workers/country/values", None),
        (BOB, "/dimensions/workers/email/values", None),
        (ANA, "/sql", {"metrics": ["total_revenue"], "by": ["tasks.region"]}),
        (BOB, "/retention/engagement", {}),
        (ADMIN, "/retention/engagement", {}),
        (ANA, "/funnel/onboarding", {}),
        (BOB, "/funnel/onboarding", {}),
    ]

    def send(client: httpx.Client, i: int) -> tuple[int, bytes]:
        headers, path, body = asks[i]
        if body is None:
            r = client.get(server + path, headers=headers, timeout=60)
        else:
            r = client.post(server + path, json=body, headers=headers, timeout=60)
        return r.status_code, r.content

    with httpx.Client() as client:
        want = [send(client, i) for i in range(len(asks))]
    assert all(status == 200 for status, _ in want)
    assert len({body for _, body in want}) == len(asks)  # each ask has an answer of its own
    wrong: list[tuple[int, int]] = []

    def client_run(n: int) -> None:
        rnd = random.Random(n)
        with httpx.Client() as client:
            for _ in range(25):
                i = rnd.randrange(len(asks))
                got = send(client, i)
                if got != want[i]:
                    wrong.append((i, got[0]))

    threads = [threading.Thread(target=client_run, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []
