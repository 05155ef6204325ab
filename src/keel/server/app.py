"""The Keel server application: every service's operations as REST routes, plus health."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from keel.access.wiring import enable_auth
from keel.auth.authorizer import RoleAuthorizer
from keel.auth.ratelimit import FailureLimiter
from keel.context import Context, Service
from keel.core.errors import ConfigError, InvalidInput, KeelError, NotFound
from keel.core.operations import Caller, Operation, local_admin, operations_of
from keel.core.version import __version__
from keel.server.errors import error_response, validation_message
from keel.server.routes import BEARER, Authenticate, add_operation_route
from keel.server.security import SecurityMiddleware, TokenAuthenticator
from keel.services import all_services

MIB = 1024 * 1024
#: Entry-point group of ASGI middleware put in front of the REST API: Keel's web UI registers there
#: (keel.ui sits above this layer, so the server finds it as a third party's would be found).
MOUNTS_GROUP = "keel.server_mounts"


def server_mounts() -> list[Any]:
    """The middleware classes registered in :data:`MOUNTS_GROUP`, by entry-point name."""
    from importlib.metadata import entry_points

    return [ep.load() for ep in sorted(entry_points(group=MOUNTS_GROUP), key=lambda ep: ep.name)]


def _no_auth(request: Request, op: Operation | None) -> Caller:
    """Auth off (loopback only): every caller is the local admin."""
    caller = local_admin()
    host = request.client.host if request.client else None
    return Caller(name=caller.name, is_admin=True, can_create_projects=True, address=host)


def exact_integer_bounds(node: Any) -> Any:
    """Integer bounds as the integers the server enforces, dict keys as closed as it keeps them
    (in place; returns ``node``).

    FastAPI's OpenAPI model holds ``minimum``/``maximum`` as floats, so the
    64-bit bound ``2**63 - 1`` came out as ``9.223372036854776e+18`` (2**63):
    the spec promised one value the server refuses. Keel bounds every integer
    to 64 bits (``keel.core.edge``), so a rounded bound is clamped back into
    that range.
    """
    from keel.core.edge import INT64_MAX, INT64_MIN

    if isinstance(node, dict):
        if node.get("type") == "integer":
            for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                value = node.get(key)
                if isinstance(value, float) and value.is_integer():
                    node[key] = min(max(int(value), INT64_MIN), INT64_MAX)
        if "patternProperties" in node and "additionalProperties" not in node:
            # pydantic states a dict's key rule as patternProperties, which by itself lets every
            # other key through; the server refuses them
            node["additionalProperties"] = False
        for item in node.values():
            exact_integer_bounds(item)
    elif isinstance(node, list):
        for item in node:
            exact_integer_bounds(item)
    return node


def create_app(
    ctx: Context,
    *,
    services: Iterable[type[Service]] | None = None,
    authenticate: Authenticate | None = None,
    auth: bool = True,
) -> FastAPI:
    """Build the REST app for ``ctx``: one route per operation of each service.

    Auth is on unless the caller asks otherwise: ``ctx`` gets the role-based
    authorizer and callers are authenticated by bearer token, as ``keel server``
    runs. Only an explicit ``auth=False`` (``keel server --no-auth``, refused off
    loopback, and tests) makes every caller the local admin, so forgetting the
    argument can never open a server to anyone who reaches it.
    """
    if auth:
        authorizer = ctx.authorizer if isinstance(ctx.authorizer, RoleAuthorizer) else enable_auth(ctx)
        if authenticate is None:
            limiter = FailureLimiter(int(ctx.settings.values.get("auth_failures_per_minute") or 0), 60.0)
            authenticate = TokenAuthenticator(authorizer, limiter)
    if authenticate is None:
        authenticate = _no_auth
    app = FastAPI(
        title="Keel",
        version=__version__,
        description="Keel's REST API. Every route is derived from an operation of a Keel service.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.ctx = ctx
    for service_cls in all_services() if services is None else services:  # None: every capability
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
        headers = dict(exc.headers or {})
        message = str(exc.detail)
        if exc.status_code == 405:  # Allow names every method of the path (the router names one route's)
            allowed = _methods_of(app, request) or headers.get("Allow", "")
            headers["Allow"] = allowed
            message = f"{request.method} is not allowed on {request.url.path}; allowed: {allowed}"
        response = error_response(InvalidInput(message), style_of(request))
        response.status_code = exc.status_code
        response.headers.update(headers)
        return response

    describe = app.openapi

    def openapi() -> dict[str, Any]:
        spec = describe()
        schemes = spec.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes[BEARER] = {"type": "http", "scheme": "bearer", "description": "A Keel API token."}
        exact_integer_bounds(spec)
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
    values = ctx.settings.values
    app.add_middleware(
        SecurityMiddleware,
        routes=lambda: app.router.routes,
        authenticate=authenticate,
        authorizer=ctx.authorizer,
        max_body_bytes=int(values.get("server_max_request_mb") or 16) * MIB,
        max_upload_bytes=int(values.get("server_max_upload_mb") or 10_240) * MIB,
        statement_timeout_s=statement_limit(values.get("db_statement_timeout_s")),
    )
    for mount in server_mounts():  # the web UI at / and /ui/: its own sign-in, CSRF and headers
        app.add_middleware(mount, ctx=ctx, authenticate=authenticate, signin=auth)
    origins = [o.strip() for o in (values.get("server_cors_origins") or "").split(",") if o.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    proxies = trusted_proxies(values.get("server_trusted_proxies"))
    if proxies:  # added last, so it runs first: the limiter and the log see the real client
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
    return app


def _methods_of(app: FastAPI, request: Request) -> str:
    """Every method some route answers at the request's path, as an Allow header lists them."""
    from starlette.routing import Match

    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match is not Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


def statement_limit(value: float | None) -> float | None:
    """The ``db_statement_timeout_s`` setting in seconds (None: off); ConfigError if negative."""
    seconds = float(value or 0)
    if seconds < 0:
        raise ConfigError(
            f"db_statement_timeout_s must be >= 0 seconds (0 turns it off), got {value}",
            hint="e.g. KEEL_DB_STATEMENT_TIMEOUT_S=20",
        )
    return seconds or None


def trusted_proxies(value: str | None) -> list[str]:
    """The ``server_trusted_proxies`` setting as a list of IPs / CIDRs; ConfigError naming a bad entry.

    Only addresses are accepted (no ``*``, no host names): trusting X-Forwarded-For
    from anyone would let every caller choose the address it is rate limited by.
    """
    entries = [e.strip() for e in (value or "").split(",") if e.strip()]
    for entry in entries:
        try:
            ipaddress.ip_network(entry)
        except ValueError:
            raise ConfigError(
                f"server_trusted_proxies: {entry!r} is not an IP address or network",
                hint="list your reverse proxies' addresses, e.g. 10.0.0.5,10.1.0.0/16",
            ) from None
    return entries
