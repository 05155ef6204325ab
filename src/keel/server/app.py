"""The Keel server application: every service's operations as REST routes, plus health."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from keel.context import Context, Service
from keel.core.errors import InvalidInput, KeelError, NotFound
from keel.core.operations import Caller, Operation, local_admin, operations_of
from keel.core.version import __version__
from keel.server.errors import error_response, validation_message
from keel.server.routes import Authenticate, add_operation_route
from keel.services import SERVICES


def _no_auth(request: Request, op: Operation) -> Caller:
    """Auth off (loopback only): every caller is the local admin."""
    caller = local_admin()
    host = request.client.host if request.client else None
    return Caller(name=caller.name, is_admin=True, can_create_projects=True, address=host)


def create_app(
    ctx: Context,
    *,
    services: Iterable[type[Service]] = SERVICES,
    authenticate: Authenticate = _no_auth,
) -> FastAPI:
    """Build the REST app for ``ctx``: one route per operation of each service."""
    app = FastAPI(
        title="Keel",
        version=__version__,
        description="Keel's REST API. Every route is derived from an operation of a Keel service.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.ctx = ctx
    for service_cls in services:
        service = service_cls(ctx)
        for op in operations_of(service_cls).values():
            add_operation_route(app, service, op, authorizer=ctx.authorizer, authenticate=authenticate)

    @app.get("/api/v1/health", tags=["health"], summary="Liveness of the server.")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    @app.get("/api/v1/version", tags=["health"], summary="The Keel version serving.")
    def version() -> dict[str, str]:
        return {"version": __version__}

    def style_of(request: Request) -> Any:
        route = request.scope.get("route")
        return getattr(route, "keel_errors", "keel")

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(validation_message(list(exc.errors())), style_of(request))

    @app.exception_handler(KeelError)
    async def on_keel_error(request: Request, exc: KeelError) -> JSONResponse:
        # Raised while FastAPI parses a request (a KPI expression, say), before the endpoint runs.
        return error_response(exc, style_of(request))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error_response(
                NotFound(f"no route {request.method} {request.url.path}"), style_of(request)
            )
        response = error_response(InvalidInput(str(exc.detail)), style_of(request))
        response.status_code = exc.status_code
        return response

    return app
