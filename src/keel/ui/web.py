"""The web UI as an ASGI app beside the REST API: sign-in, sessions, CSRF, error pages, static assets.

``keel server`` mounts it with :class:`UIMiddleware`, which hands ``/`` and
everything under ``/ui/`` to this app and every other path to the REST API
untouched. The UI authenticates its own way (a session cookie, see
:mod:`keel.ui.session`) and then calls the same operations the REST routes
call (:mod:`keel.ui.calls`), as the signed-in caller.

Every page handler is wrapped by :meth:`UI.page`: no caller (no cookie, an
expired or revoked token) -> redirect to the sign-in page before anything is
read; a state-changing request without the session's CSRF token -> 403; a
KeelError -> an error page with its status (a project the caller may not
see is the 404 page, as over REST); anything else -> a 500 page that names
no internals.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs, quote, urlsplit

import anyio.to_thread
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keel.context import Context
from keel.core.errors import KeelError, TooManyRequests, Unauthenticated
from keel.core.operations import Caller, Operation
from keel.ui import session
from keel.ui.calls import Operations

log = logging.getLogger(__name__)
HERE: Final = Path(__file__).parent
Authenticate = Callable[[Request, Operation | None], Caller]
Handler = Callable[[Request, Caller], Response]

#: Headers on every UI response: scripts only from this server (no inline script), no framing.
UI_HEADERS: Final = (
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        b"img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
_STATE_CHANGING: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def fmt_number(value: Any) -> str:
    """A metric or param value as a table shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return f"{value:.6g}"
    return str(value)


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def safe_next(target: str | None) -> str:
    """A post-sign-in destination on this site only (no scheme, no host, under /ui/)."""
    if not target:
        return "/ui/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/ui/") or "\\" in target:
        return "/ui/"
    return target


MAX_FORM_BYTES: Final = 65_536


async def read_form(request: Request) -> dict[str, str] | None:
    """A URL-encoded form body as its first value per field; None when over 64 KiB."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None
        chunks.append(chunk)
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        return {}
    fields = parse_qs(b"".join(chunks).decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in fields.items()}


class UI:
    """The UI's shared state: operations, templates, how callers are authenticated."""

    def __init__(self, ctx: Context, authenticate: Authenticate, *, signin: bool) -> None:
        self.ctx = ctx
        self.ops = Operations(ctx)
        self.authenticate = authenticate
        self.signin = signin
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.filters["num"] = fmt_number
        self.templates.filters["duration"] = fmt_duration
        self.templates.filters["urlq"] = lambda v: quote(str(v), safe="")

    def caller(self, request: Request) -> Caller | None:
        """The signed-in caller, or None (no cookie, or a token the authenticator refuses).

        Raises TooManyRequests while the client's address is rate limited.
        """
        if not self.signin:
            return self.authenticate(request, None)
        token = session.session_token(request)
        if token is None:
            return None
        return self.verify(request, token)

    def verify(self, request: Request, token: str) -> Caller | None:
        """The caller ``token`` stands for, through the server's authenticator (rate limited as REST is)."""
        scope = dict(request.scope)
        scope["headers"] = [
            *(h for h in request.scope.get("headers", []) if h[0] != b"authorization"),
            (b"authorization", f"Bearer {token}".encode("latin-1")),
        ]
        try:
            caller = self.authenticate(Request(scope), None)
        except Unauthenticated:
            return None
        if caller.user_id is None and not caller.is_admin:
            return None
        return caller

    def render(self, request: Request, template: str, /, status: int = 200, **values: Any) -> HTMLResponse:
        """Render ``template`` with ``values``, the CSRF token and the sign-in mode."""
        token = session.session_token(request) if self.signin else None
        values.setdefault("caller", None)
        html = self.templates.get_template(template).render(
            request=request,
            csrf=session.csrf_token(token),
            signin=self.signin,
            **values,
        )
        return HTMLResponse(html, status_code=status)

    def error_page(
        self, request: Request, status: int, title: str, message: str, caller: Caller | None = None
    ) -> Response:
        if getattr(request.state, "json_errors", False):
            return JSONResponse({"error": {"message": message}}, status_code=status)
        return self.render(request, "error.html", status=status, title=title, message=message, caller=caller)

    def page(
        self, handler: Handler, *, json_errors: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a page: sign-in required, CSRF on state changes, KeelError -> error page.

        A state-changing request's form (URL-encoded, at most 64 KiB) is read
        here, on the event loop, into ``request.state.form``; the handler runs on
        a worker thread, since operations block on the database.
        """

        async def endpoint(request: Request) -> Response:
            request.state.form = {}
            request.state.json_errors = json_errors
            if request.method in _STATE_CHANGING:
                form = await read_form(request)
                if form is None:
                    return self.error_page(request, 413, "Too large", "the form is larger than 64 KiB")
                request.state.form = form
            return await anyio.to_thread.run_sync(self._serve, handler, request)

        return endpoint

    def _serve(self, handler: Handler, request: Request) -> Response:
        try:
            caller = self.caller(request)
        except TooManyRequests as exc:
            return self.error_page(request, 429, "Too many attempts", exc.message)
        except KeelError as exc:
            return self.error_page(request, exc.status, exc.headline, exc.message)
        if caller is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            response: Response = RedirectResponse(f"/ui/signin?next={quote(target)}", status_code=303)
            if request.headers.get("hx-request"):
                response = Response(status_code=204, headers={"HX-Redirect": "/ui/signin"})
            elif request.state.json_errors:
                response = JSONResponse({"error": {"message": "sign in again"}}, status_code=401)
            session.end_session(response)
            return response
        if request.method in _STATE_CHANGING and not self._csrf_ok(request):
            return self.error_page(
                request, 403, "Forbidden", "the form's CSRF token is missing or wrong; reload the page"
            )
        try:
            return handler(request, caller)
        except KeelError as exc:
            title = "Not found" if exc.status == 404 else exc.headline
            return self.error_page(request, exc.status, title, exc.message, caller=caller)
        except Exception:
            log.exception("UI page %s failed", request.url.path)
            return self.error_page(request, 500, "Internal error", "the server failed to render this page")

    def _csrf_ok(self, request: Request) -> bool:
        expected = session.csrf_token(session.session_token(request) if self.signin else None)
        sent = request.headers.get(session.CSRF_HEADER) or request.state.form.get(session.CSRF_FIELD)
        return session.same(sent, expected)


def build_app(ctx: Context, authenticate: Authenticate, *, signin: bool) -> Starlette:
    """The UI's Starlette app (routes under /ui/, / redirecting there)."""
    from keel.ui import pages_models, pages_runs, signin_pages

    ui = UI(ctx, authenticate, signin=signin)
    routes: list[Any] = [
        Route("/", lambda request: RedirectResponse("/ui/", status_code=307)),
        Mount("/ui/static", StaticFiles(directory=HERE / "static"), name="static"),
        *signin_pages.routes(ui),
        *pages_runs.routes(ui),
        *pages_models.routes(ui),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return ui.error_page(request, 404, "Not found", f"no page at {request.url.path}")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return ui.error_page(request, 405, "Not allowed", f"{request.method} is not allowed here")

    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed})


class UIMiddleware:
    """Sends ``/`` and ``/ui/...`` to the UI app, everything else to the REST API, untouched."""

    def __init__(self, app: ASGIApp, *, ctx: Context, authenticate: Authenticate, signin: bool) -> None:
        self.app = app
        self.ui = build_app(ctx, authenticate, signin=signin)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == "/" or path == "/ui" or path.startswith("/ui/")):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((k, v) for k, v in UI_HEADERS if k not in present)
                if not path.startswith("/ui/static/") and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        if path == "/ui":
            await RedirectResponse("/ui/", status_code=307)(scope, receive, with_headers)
            return
        await self.ui(scope, receive, with_headers)
