"""Limits on what one client can make the server hold: body size and stalled connections.

`BodyLimit` (ASGI middleware) reads a request body up to `max_body` bytes before the app sees
it and answers 413 past that, whether the size is declared (Content-Length) or streamed
(chunked). `StallTimeoutH11` (the uvicorn HTTP protocol) closes a connection whose client stops
sending for `client_timeout` seconds while the server waits for it (request line, headers or
body); a server busy computing an answer is never cut off by it.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

Scope = dict[str, Any]


async def send_error(send: Any, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Buffers the request body (at most `max_body` bytes) and replays it to the app."""

    def __init__(self, app: Any, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_big = f"request body over the limit of {self.max_body:,} bytes"
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await send_error(send, 400, "invalid Content-Length")
                    return
                if declared > self.max_body:
                    await send_error(send, 413, too_big)
                    return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await send_error(send, 413, too_big)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # type: ignore[no-any-return]

        await self.app(scope, replay, send)


class StallTimeoutH11(H11Protocol):
    """uvicorn's h11 protocol, closing connections whose client stalls mid-request."""

    client_timeout: float = 20.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._stall: asyncio.TimerHandle | None = None
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._stall is not None:
            self._stall.cancel()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._stall is not None:
            self._stall.cancel()
        self._stall = self.loop.call_later(self.client_timeout, self._expire)

    def _expire(self) -> None:
        """Close when we are waiting for the client: nothing answered yet, and the request
        (its line, headers or body) not complete."""
        waiting = self.conn.their_state in (h11.IDLE, h11.SEND_BODY) and self.conn.our_state in (
            h11.IDLE,
            h11.SEND_RESPONSE,
        )
        if waiting and not self.transport.is_closing():
            self.transport.close()
        elif not self.transport.is_closing():
            self._arm()


def stall_protocol(seconds: float) -> type[StallTimeoutH11]:
    """The protocol class with its timeout set (uvicorn takes a class, not an instance)."""
    return type("StallTimeoutH11", (StallTimeoutH11,), {"client_timeout": float(seconds)})
