"""The HTTP API (FastAPI): contract §10's endpoints over one layer, per-caller restricted.

Every request but `/health` and `/openapi.json` needs a bearer token from tokens.yml. The
caller's layer is `layer.restrict(policies, attributes)` (built once per distinct caller view
and reused); a name the caller cannot see is unknown to it: 404 in a path, 400 in a body, with
the same message either way. Errors are one JSON line `{"error": ...}`; an unexpected failure
is 500 without details (the traceback goes to the server log only).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from metrics_layer.errors import MetricsLayerError
from metrics_layer.layer import Layer
from metrics_layer.service import operations as ops
from metrics_layer.service.answers import Answer, encode, execute, media_type
from metrics_layer.service.audit import AuditLog
from metrics_layer.service.bodies import (
    ExperimentBody,
    FunnelBody,
    QueryBody,
    RetentionBody,
    SqlBody,
)
from metrics_layer.service.cache import ResultCache
from metrics_layer.service.guard import BodyLimit
from metrics_layer.service.tokens import Caller, Tokens

log = logging.getLogger("metrics_layer.service")
MAX_ROWS = 100_000
MAX_BODY = 1024 * 1024


class Failure(Exception):
    """An answer other than 200: status and one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message.splitlines()[0] if message else "error"


class Service:
    """The state behind the API: the layer, tokens, per-caller layers, limits, audit, cache."""

    def __init__(
        self,
        layer: Layer,
        tokens: Tokens,
        *,
        max_rows: int = MAX_ROWS,
        audit: AuditLog | None = None,
        cache_ttl: float = 0.0,
    ) -> None:
        self.layer = layer
        self.tokens = tokens
        self.max_rows = max_rows
        self.audit = audit
        self.cache = ResultCache(cache_ttl) if cache_ttl > 0 else None
        self._layers: dict[tuple[Any, ...], Layer] = {}
        self._layers_lock = threading.Lock()
        for caller in tokens.callers():  # a token whose policies cannot apply fails at start
            if not caller.unrestricted:
                self.layer_for(caller)

    def layer_for(self, caller: Caller) -> Layer:
        if caller.unrestricted:
            return self.layer
        with self._layers_lock:
            found = self._layers.get(caller.key)
            if found is None:
                found = self.layer.restrict(list(caller.policies), dict(caller.attributes))
                self._layers[caller.key] = found
            return found

    def caller(self, credentials: HTTPAuthorizationCredentials | None) -> Caller:
        token = credentials.credentials if credentials else None
        caller = self.tokens.find(token)
        if caller is None:
            raise Failure(401, "a valid bearer token is required")
        return caller


def _status_of(exc: BaseException) -> int:
    if isinstance(exc, Failure):
        return exc.status
    if isinstance(exc, ops.NotFound):
        return 404
    if isinstance(exc, MetricsLayerError):
        return 400
    return 500


def create_app(service: Service, *, max_body: int = MAX_BODY) -> Any:
    """The ASGI application (FastAPI inside the body-size guard)."""
    api = FastAPI(
        title="metrics_layer",
        description="Metrics, dimensions and analyses of one set of definitions.",
        version="1",
    )
    bearer = HTTPBearer(auto_error=False, description="A token listed (as SHA-256) in tokens.yml")
    Auth = Depends(bearer)

    def answer(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None,
        operation: str,
        payload: dict[str, Any],
        build: Callable[[Layer], Any],
    ) -> Response:
        """Authenticate, run, encode, audit: one path for every endpoint."""
        t0 = time.perf_counter()
        user = None
        rows = None
        sql = None
        status = 200
        try:
            caller = service.caller(credentials)
            user = caller.user
            if operation not in caller.operations:
                raise Failure(403, f"this token may not call {operation}")
            try:
                layer = service.layer_for(caller)
            except MetricsLayerError as exc:
                raise Failure(
                    403, f"the token's access policies cannot be applied: {exc}"
                ) from None
            kind = media_type(request.headers.get("accept"))
            key = (operation, json.dumps(payload, sort_keys=True, default=str), caller.key)
            hit = service.cache.get(key) if service.cache else None
            if hit is not None:
                out, sql, cache_state = hit, None, "hit"
            else:
                # the engine is thread-safe (a DuckDB cursor / PostgreSQL connection per call)
                out = build(layer)
                if isinstance(out, ops.Result):
                    sql = ops.safe_sql(out) if service.audit is not None else None
                    out = execute(out, service.max_rows)
                if service.cache:
                    service.cache.put(key, out)
                cache_state = "miss" if service.cache else "off"
            if isinstance(out, Answer):
                rows = out.rows
                body, headers = encode(out, kind)
                headers["X-Cache"] = cache_state
                return Response(body, media_type=kind, headers=headers)
            if isinstance(out, dict) and "sql" in out:
                sql = out["sql"]
            return JSONResponse(out, headers={"X-Cache": cache_state})
        except Exception as exc:  # noqa: BLE001 - every failure becomes one JSON line
            status = _status_of(exc)
            if status == 500:
                log.exception("internal error in %s", operation)
                message = "internal error (see the server log)"
            else:
                message = str(getattr(exc, "message", None) or exc).splitlines()[0]
            auth = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            return JSONResponse({"error": message}, status_code=status, headers=auth)
        finally:
            if service.audit is not None:
                service.audit.write(
                    user=user,
                    operation=operation,
                    request=payload,
                    sql=sql,
                    rows=rows,
                    ms=(time.perf_counter() - t0) * 1000,
                    status=status,
                )

    @api.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/metrics", tags=["catalog"])
    def metrics(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Auth
    ) -> Response:
        return answer(
            request, credentials, "list_metrics", {}, lambda lay: {"metrics": ops.list_metrics(lay)}
        )

    @api.get("/metrics/{name}", tags=["catalog"])
    def metric(
        name: str, request: Request, credentials: HTTPAuthorizationCredentials | None = Auth
    ) -> Response:
        return answer(
            request,
            credentials,
            "describe_metric",
            {"name": name},
            lambda lay: ops.describe_metric(lay, name),
        )

    @api.get("/dimensions/{source}", tags=["catalog"])
    def dimensions(
        source: str, request: Request, credentials: HTTPAuthorizationCredentials | None = Auth
    ) -> Response:
        return answer(
            request,
            credentials,
            "list_dimensions",
            {"source": source},
            lambda lay: ops.list_dimensions(lay, source),
        )

    @api.get("/dimensions/{source}/{dimension}/values", tags=["catalog"])
    def values(
        source: str,
        dimension: str,
        request: Request,
        search: str | None = None,
        limit: int = 100,
        credentials: HTTPAuthorizationCredentials | None = Auth,
    ) -> Response:
        args = {"dimension": f"{source}.{dimension}", "search": search, "limit": limit}
        return answer(
            request,
            credentials,
            "dimension_values",
            args,
            lambda lay: ops.run(lay, "dimension_values", args),
        )

    @api.post("/query", tags=["analyses"])
    def query(
        body: QueryBody, request: Request, credentials: HTTPAuthorizationCredentials | None = Auth
    ) -> Response:
        args = body.kwargs()
        return answer(request, credentials, "query", args, lambda lay: ops.run(lay, "query", args))

    @api.post("/sql", tags=["analyses"])
    def sql(
        body: SqlBody, request: Request, credentials: HTTPAuthorizationCredentials | None = Auth
    ) -> Response:
        args = body.kwargs()
        return answer(
            request, credentials, "sql", args, lambda lay: {"sql": ops.sql_text(lay, args)}
        )

    def analysis(operation: str) -> Callable[..., Response]:
        def run(name: str, body: Any, request: Request, credentials: Any) -> Response:
            args = {"name": name, **body.kwargs()}
            return answer(
                request, credentials, operation, args, lambda lay: ops.run(lay, operation, args)
            )

        return run

    run_retention, run_funnel, run_experiment = (
        analysis("retention"),
        analysis("funnel"),
        analysis("experiment"),
    )

    @api.post("/retention/{name}", tags=["analyses"])
    def retention(
        name: str,
        request: Request,
        body: RetentionBody | None = None,
        credentials: HTTPAuthorizationCredentials | None = Auth,
    ) -> Response:
        return run_retention(name, body or RetentionBody.model_validate({}), request, credentials)

    @api.post("/funnel/{name}", tags=["analyses"])
    def funnel(
        name: str,
        request: Request,
        body: FunnelBody | None = None,
        credentials: HTTPAuthorizationCredentials | None = Auth,
    ) -> Response:
        return run_funnel(name, body or FunnelBody.model_validate({}), request, credentials)

    @api.post("/experiment/{name}", tags=["analyses"])
    def experiment(
        name: str,
        request: Request,
        body: ExperimentBody | None = None,
        credentials: HTTPAuthorizationCredentials | None = Auth,
    ) -> Response:
        return run_experiment(name, body or ExperimentBody.model_validate({}), request, credentials)

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        message = f"invalid request: {where + ': ' if where else ''}{first.get('msg', 'malformed')}"
        return JSONResponse({"error": message}, status_code=422)

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)

    @api.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error")
        return JSONResponse({"error": "internal error (see the server log)"}, status_code=500)

    wrapped = BodyLimit(api, max_body)
    wrapped.api = api  # type: ignore[attr-defined]  # the FastAPI app, for tests and OpenAPI
    return wrapped
