"""The server's front door: authentication, early authorization, body limits, security headers.

One pure ASGI middleware runs before FastAPI parses anything, so:

- every route except the public ones (health, version, the OpenAPI spec and
  its docs page) refuses a caller without a valid token with 401, whatever
  the body holds -- an unauthorized caller learns nothing about the inputs;
- the operation's permission is checked as soon as its project is known
  (path, query or JSON body field): 404 for a project the caller may not
  see, 403 for a lesser role. ``invoke`` checks again after validation; the
  early check only makes the refusal come first;
- bodies are bounded: ``server_max_request_mb`` for JSON, ``server_max_upload_mb``
  for streamed uploads (counted as they arrive) -> 413; JSON nested deeper than
  :data:`keel.server.depth.MAX_BODY_DEPTH` -> 422 naming the field;
- failed sign-ins are rate limited per client address -> 429 with Retry-After;
  once limited, the address's requests are refused before any token is
  verified, until the window passes (see :class:`TokenAuthenticator` for the
  one exception: a token this server verified recently);
- every statement a request runs is limited to ``db_statement_timeout_s``;
- the token and role lookups run on a worker thread, never on the event loop
  (a wait for a pooled connection there would stall every request, including
  the uploads whose worker threads hold connections and wait for their body);
- every response carries security headers; CORS headers only if configured.

The client address is the socket peer, or, for a peer listed in
``server_trusted_proxies``, the address that proxy put in X-Forwarded-For
(uvicorn's ProxyHeadersMiddleware, mounted by ``create_app``).
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, Final
from urllib.parse import parse_qs

import anyio.to_thread
from starlette.requests import Request
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keel.auth.authorizer import RoleAuthorizer
from keel.auth.ratelimit import FailureLimiter
from keel.auth.tokens import hash_token
from keel.core.errors import (
    InvalidInput,
    KeelError,
    PayloadTooLarge,
    TooManyRequests,
    Unauthenticated,
)
from keel.core.operations import Action, Authorizer, Caller, Operation
from keel.server.depth import MAX_BODY_DEPTH, too_deep
from keel.server.errors import error_response, unexpected_response
from keel.server.routes import AUTHORIZED_KEY, CALLER_KEY, Authenticate, database_error
from keel.store.limits import statement_timeout

#: Routes anyone may call: liveness, version, and the API's own description.
PUBLIC_PATHS: Final = frozenset(
    {"/api/v1/health", "/api/v1/version", "/openapi.json", "/docs", "/docs/oauth2-redirect"}
)
SECURITY_HEADERS: Final = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)
API_HEADERS: Final = (
    (b"cache-control", b"no-store"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
)
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def anonymous(address: str | None) -> Caller:
    """A caller that presented no credentials."""
    return Caller(name="anonymous", address=address)


#: How long a token this server verified stays known good for a limited address (see below).
KNOWN_GOOD_S: Final = 3600.0
_KNOWN_GOOD_LIMIT: Final = 10_000


class TokenAuthenticator:
    """Bearer tokens -> Caller, with failed attempts rate limited per client address.

    A limited address is refused (429) before its token is verified, with one
    exception: a token this server verified within the last hour passes the gate
    (and is then verified as usual, so a revoked one still fails). Telling it
    needs only a lookup of its hash among tokens that were just used, which a
    guesser cannot hit, and it keeps a signed-in user who shares an address
    with a guesser (one office, one NAT) from being locked out with it.
    """

    def __init__(self, authorizer: RoleAuthorizer, limiter: FailureLimiter) -> None:
        self.authorizer = authorizer
        self.limiter = limiter
        self._good: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def _known_good(self, digest: str) -> bool:
        with self._lock:
            seen = self._good.get(digest)
            return seen is not None and time.monotonic() - seen < KNOWN_GOOD_S

    def _remember(self, digest: str) -> None:
        with self._lock:
            self._good[digest] = time.monotonic()
            self._good.move_to_end(digest)
            while len(self._good) > _KNOWN_GOOD_LIMIT:
                self._good.popitem(last=False)

    def _forget(self, digest: str) -> None:
        with self._lock:
            self._good.pop(digest, None)

    def __call__(self, request: Request, op: Operation | None) -> Caller:
        """The caller; 401 for a bad token (counted against the address), 429 while limited."""
        address = client_address(request)
        header = request.headers.get("authorization")
        if header is None:
            self.limiter.check(address)
            return anonymous(address)
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        bearer = scheme.lower() == "bearer" and bool(token)
        digest = hash_token(token) if bearer else ""
        if not (bearer and self._known_good(digest)):
            self.limiter.check(address)
        try:
            if not bearer:
                raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
            caller = self.authorizer.verify_token(token)
        except Unauthenticated:
            self._forget(digest)  # revoked, expired or its user disabled: no longer known good
            self.limiter.failed(address)
            raise
        self._remember(digest)
        return replace(caller, address=address)


def _match(routes: Iterable[BaseRoute], scope: Scope) -> tuple[BaseRoute | None, dict[str, Any]]:
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            return route, dict(child.get("path_params", {}))
    return None, {}


def _project_value(
    op: Operation, path_params: dict[str, Any], scope: Scope, body: bytes | None
) -> tuple[bool, str | None]:
    """The raw project name the request names, and whether it could be told before validation."""
    field = op.project.field
    if field is None:
        return True, None
    if field in path_params:
        return True, str(path_params[field])
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if field in query:
        return True, query[field][0]
    if body:
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return False, None
        if isinstance(data, dict) and field in data:
            value = data[field]
            return (True, value) if isinstance(value, str) else (False, None)
    required = op.input_model.model_fields[field].is_required()
    return (not required), None


class SecurityMiddleware:
    """See the module docstring: the checks every request passes before FastAPI sees it."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Callable[[], Iterable[BaseRoute]],
        authenticate: Authenticate,
        authorizer: Authorizer,
        max_body_bytes: int,
        max_upload_bytes: int,
        statement_timeout_s: float | None = None,
    ) -> None:
        self.app = app
        self.routes = routes
        self.authenticate = authenticate
        self.authorizer = authorizer
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes
        self.statement_timeout_s = statement_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            # No route speaks websockets yet; refuse rather than let one bypass these checks.
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with statement_timeout(self.statement_timeout_s):  # worker threads inherit it
            await self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        extra = API_HEADERS if not path.startswith("/docs") else ()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((k, v) for k, v in (*SECURITY_HEADERS, *extra) if k not in present)
                message["headers"] = headers
            await send(message)

        route, path_params = _match(self.routes(), scope)
        op: Operation | None = getattr(route, "keel_op", None)
        style = op.errors if op is not None else "keel"
        limit = self.max_upload_bytes if op is not None and op.stream_param else self.max_body_bytes
        try:
            declared = _content_length(scope)
            if declared is not None and declared > limit:
                raise _too_large(limit)
            public = route is None or (op is None and getattr(route, "path", "") in PUBLIC_PATHS)
            public = public or (op is not None and op.action is Action.PUBLIC)
            body: bytes | None = None
            if route is not None and not public:
                caller = await anyio.to_thread.run_sync(self.authenticate, Request(scope), op)
                if caller.user_id is None and not caller.is_admin:
                    raise Unauthenticated(
                        "this needs a signed-in caller",
                        hint="send Authorization: Bearer <token> (KEEL_TOKEN, or `keel login`)",
                    )
                scope[CALLER_KEY] = caller
                if op is None:
                    self.authorizer.authorize(caller, Action.AUTHENTICATED, None)
                else:
                    if op.stream_param is None and scope.get("method") in _BODY_METHODS:
                        body = await _read_body(receive, limit)
                        await _check_depth(body)
                    known, project = _project_value(op, path_params, scope, body)
                    if known:
                        await anyio.to_thread.run_sync(self.authorizer.authorize, caller, op.action, project)
                        scope[AUTHORIZED_KEY] = (caller, op.action, project)
        except KeelError as exc:
            await _refuse(exc, style, scope, receive, send_with_headers)
            return
        except Exception as exc:  # the database behind the token or role lookup, or a bug
            outage = database_error(exc)
            if outage is not None:
                await _refuse(outage, style, scope, receive, send_with_headers)
            else:
                await unexpected_response(exc, style)(scope, receive, send_with_headers)
            return
        if body is not None:
            await self.app(scope, _replay(body, receive), send_with_headers)
        else:
            await self.app(scope, _counting(receive, limit), send_with_headers)


async def _check_depth(body: bytes) -> None:
    """422 naming the field of a JSON body nested deeper than any operation accepts."""
    if len(body) > 65_536:  # a large body is scanned off the event loop
        where = await anyio.to_thread.run_sync(too_deep, body)
    else:
        where = too_deep(body)
    if where is not None:
        raise InvalidInput(
            f"invalid request: {where}: nests deeper than {MAX_BODY_DEPTH} levels",
            hint="flatten the value; free-form JSON (a run's environment, say) may nest "
            f"{MAX_BODY_DEPTH - 4} levels",
        )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                raise InvalidInput("Content-Length is not a number") from None
    return None


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"request body is larger than this server accepts ({limit // (1024 * 1024)} MiB)",
        hint="raise server_max_request_mb / server_max_upload_mb on the server if this is expected",
    )


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _counting(receive: Receive, limit: int) -> Receive:
    size = 0

    async def counting() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise _too_large(limit)
        return message

    return counting


async def _refuse(exc: KeelError, style: Any, scope: Scope, receive: Receive, send: Send) -> None:
    response = error_response(exc, style)
    if isinstance(exc, Unauthenticated):
        response.headers["WWW-Authenticate"] = 'Bearer realm="keel"'
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(exc.details.get("retry_after", 60))
    await response(scope, receive, send)
