"""Signing in with an API token, and out again.

The sign-in form posts the token once; the server checks it with the same
authenticator the REST API uses (so failed attempts count against the
address's rate limit) and answers with the session cookie. The form carries a
double-submit CSRF value (a random cookie echoed in a hidden field), so
another site cannot sign a browser in to an account of its choosing.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from keel.core.errors import TooManyRequests
from keel.ui import session
from keel.ui.web import UI, read_form, safe_next


def routes(ui: UI) -> list[Any]:
    """The sign-in and sign-out routes."""

    def form(
        request: Request, status: int = 200, error: str | None = None, next_url: str = "/ui/"
    ) -> Response:
        value = session.signin_csrf(request)
        response = ui.render(
            request, "signin.html", status=status, error=error, next_url=next_url, signin_csrf=value
        )
        session.set_signin_csrf(response, request, value)
        return response

    async def show(request: Request) -> Response:
        if not ui.signin:
            return RedirectResponse("/ui/", status_code=303)
        return form(request, next_url=safe_next(request.query_params.get("next")))

    async def submit(request: Request) -> Response:
        fields = await read_form(request)
        if fields is None:
            return form(request, 413, "the form is larger than 64 KiB")
        next_url = safe_next(fields.get("next"))
        if not ui.signin:
            return RedirectResponse(next_url, status_code=303)
        if not session.same(fields.get(session.CSRF_FIELD), request.cookies.get(session.SIGNIN_COOKIE)):
            return form(request, 403, "the sign-in form expired; try again", next_url)
        token = (fields.get("token") or "").strip()
        if not token:
            return form(request, 400, "paste an API token (keel token create prints one)", next_url)
        try:
            caller = await anyio.to_thread.run_sync(ui.verify, request, token)
        except TooManyRequests as exc:
            return form(request, 429, exc.message, next_url)
        if caller is None:
            return form(request, 401, "that token is not valid: unknown, expired or revoked", next_url)
        response = RedirectResponse(next_url, status_code=303)
        session.start_session(response, request, token)
        return response

    def signout(request: Request, caller: Any) -> Response:
        response = RedirectResponse("/ui/signin", status_code=303)
        session.end_session(response)
        return response

    return [
        Route("/ui/signin", show, methods=["GET"]),
        Route("/ui/signin", submit, methods=["POST"]),
        Route("/ui/signout", ui.page(signout), methods=["POST"]),
    ]
