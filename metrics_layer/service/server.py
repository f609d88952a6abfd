"""Run the HTTP API with uvicorn: loopback by default, graceful shutdown on SIGTERM/SIGINT
(in-flight requests finish, within `graceful` seconds), stalled clients dropped."""

from __future__ import annotations

import signal
from typing import Any

import uvicorn

from metrics_layer.service.guard import stall_protocol

CLIENT_TIMEOUT = 20.0


def serve(
    app: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    client_timeout: float = CLIENT_TIMEOUT,
    graceful: int = 10,
    log_level: str = "info",
) -> None:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=stall_protocol(client_timeout),
        timeout_keep_alive=5,
        timeout_graceful_shutdown=graceful,
        log_level=log_level,
        server_header=False,
        access_log=False,
    )
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again with the
    # handlers it found: let those end the process with status 0, as a requested stop.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stopped)
    uvicorn.Server(config).run()


def _stopped(signum: int, frame: Any) -> None:
    raise SystemExit(0)
