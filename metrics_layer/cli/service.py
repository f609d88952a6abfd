"""`metrics-layer serve` (HTTP API) and `metrics-layer mcp` (MCP tools over stdio).

Both need the `service` extra: pip install 'metrics-layer[service]'.
"""

from __future__ import annotations

from pathlib import Path

import typer

from metrics_layer.cli.common import ConnOpt, PathArg, VarOpt, _fail, _layer, app, run


def _needs_extra() -> None:
    try:
        import fastapi  # noqa: F401
        import mcp  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        _fail(
            f"{exc.name} is missing: install the service extra (pip install 'metrics-layer[service]')"
        )


def _attributes(items: list[str] | None) -> dict[str, str]:
    out = {}
    for item in items or []:
        if "=" not in item:
            _fail(f"--attribute takes NAME=VALUE, got {item!r}")
        k, _, v = item.partition("=")
        out[k.strip()] = v
    return out


@app.command()
def serve(
    path: Path = PathArg,
    connection: str | None = ConnOpt,
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (loopback by default)"
    ),
    port: int = typer.Option(8000, "--port"),
    tokens: Path = typer.Option(
        ..., "--tokens", help="tokens.yml: SHA-256 of each token -> caller"
    ),
    audit: Path | None = typer.Option(
        None, "--audit", help="Append one JSON line per request here"
    ),
    max_body: int = typer.Option(1024 * 1024, "--max-body", help="Largest request body (bytes)"),
    max_rows: int = typer.Option(100_000, "--max-rows", help="Rows per answer (more: truncated)"),
    client_timeout: float = typer.Option(
        20.0, "--client-timeout", help="Drop a client that stops sending (s)"
    ),
    cache_ttl: float = typer.Option(
        0.0, "--cache-ttl", help="Cache answers this many seconds (0: off)"
    ),
    var: list[str] | None = VarOpt,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json) until SIGINT/SIGTERM."""
    _needs_extra()
    from metrics_layer.service.app import Service, create_app
    from metrics_layer.service.audit import AuditLog
    from metrics_layer.service.server import serve as run_server
    from metrics_layer.service.tokens import Tokens

    def build() -> object:
        layer = _layer(path, connection, var)
        service = Service(
            layer,
            Tokens.load(tokens),
            max_rows=max_rows,
            audit=AuditLog(audit) if audit else None,
            cache_ttl=cache_ttl,
        )
        return create_app(service, max_body=max_body)

    asgi = run(build)
    typer.echo(f"serving {path} on http://{host}:{port} (OpenAPI at /openapi.json)", err=True)
    run_server(asgi, host=host, port=port, client_timeout=client_timeout)


@app.command()
def mcp(
    path: Path = PathArg,
    connection: str | None = ConnOpt,
    policy: list[str] | None = typer.Option(None, "--policy", help="Access policy (repeatable)"),
    attribute: list[str] | None = typer.Option(None, "--attribute", help="NAME=VALUE (repeatable)"),
    audit: Path | None = typer.Option(
        None, "--audit", help="Append one JSON line per tool call here"
    ),
    max_rows: int = typer.Option(
        1_000, "--max-rows", help="Rows per tool answer (more: truncated)"
    ),
    var: list[str] | None = VarOpt,
) -> None:
    """Serve the MCP tools over stdio (unrestricted unless --policy is given)."""
    _needs_extra()
    from metrics_layer.service.audit import AuditLog
    from metrics_layer.service.mcp_server import build_server

    def build() -> object:
        layer = _layer(path, connection, var)
        if policy:
            layer = layer.restrict(policy, _attributes(attribute))
        elif attribute:
            _fail("--attribute needs --policy")
        return build_server(layer, max_rows=max_rows, audit=AuditLog(audit) if audit else None)

    server = run(build)
    server.run("stdio")
