"""Start `metrics-layer serve` as a real subprocess on a free loopback port, for HTTP tests."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[2]
TOKENS = {
    "ana-token": {"user": "ana", "policies": ["own_country"], "attributes": {"country": "DE"}},
    "bob-token": {"user": "bob", "policies": ["own_country"], "attributes": {"country": "FR"}},
    "admin-token": {"user": "admin", "unrestricted": True},
    "viewer-token": {
        "user": "viewer",
        "policies": ["tasks_all"],
        "operations": ["list_metrics", "describe_metric"],
    },
}


def write_tokens(path: Path, tokens: dict = TOKENS) -> Path:
    data = {hashlib.sha256(t.encode()).hexdigest(): v for t, v in tokens.items()}
    path.write_text(yaml.safe_dump(data))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(args: list[str], *, cwd: Path) -> Iterator[str]:
    """`metrics-layer serve ARGS --port P`; yields the base URL; SIGTERM at the end."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = open(cwd / f"server-{port}.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "metrics_layer.cli", "serve", *args, "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError((cwd / f"server-{port}.log").read_text())
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.2)
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
