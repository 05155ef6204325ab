"""Sign-in sessions and CSRF tokens for the web UI, without server-side session state.

The session cookie carries the API token the user signed in with (HttpOnly, so
page scripts never see it; Secure when the request came over https; SameSite=Lax).
Every request verifies it again through the server's own authenticator, so a
token that expires, is revoked or whose user is disabled ends the session at
the next click -- there is no second session store that could disagree with
the token table, and several server workers share nothing.

The CSRF token is derived from the session token with a keyed BLAKE2b, so it
is unguessable without the HttpOnly cookie, the same in every worker, and
needs no storage. Before sign-in (the sign-in form itself) a random value is
set in a short-lived cookie and echoed by the form (double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

#: The session cookie: the signed-in user's API token.
SESSION_COOKIE: Final = "keel_session"
#: The pre-sign-in CSRF cookie (double submit for the sign-in form).
SIGNIN_COOKIE: Final = "keel_signin"
#: The form field and the header (htmx sends it on every request) carrying the CSRF token.
CSRF_FIELD: Final = "csrf"
CSRF_HEADER: Final = "x-csrf-token"
#: How long the browser keeps the session cookie; the token's own expiry still applies first.
SESSION_MAX_AGE_S: Final = 12 * 3600
#: What an API token may look like in a cookie (anything else is not tried as a token).
_TOKEN_SHAPE: Final = re.compile(r"[A-Za-z0-9_\-.~]{8,256}")
#: Keys the no-auth mode's CSRF tokens (one loopback process; nothing to share).
_PROCESS_KEY: Final = secrets.token_bytes(32)


def csrf_token(session_token: str | None) -> str:
    """The CSRF token of a session (``None``: the no-auth mode's per-process token)."""
    if session_token is None:
        return hmac.new(_PROCESS_KEY, b"keel-ui-no-auth", hashlib.sha256).hexdigest()
    return hashlib.blake2b(session_token.encode(), key=b"keel-ui-csrf", digest_size=32).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    """Constant-time equality of two optional strings (``None`` never matches)."""
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode(), b.encode())


def session_token(request: Request) -> str | None:
    """The token in the session cookie, if it has a token's shape."""
    token = request.cookies.get(SESSION_COOKIE)
    if token is None or not _TOKEN_SHAPE.fullmatch(token):
        return None
    return token


def is_https(request: Request) -> bool:
    """Whether the browser reached us over https (a trusted proxy's X-Forwarded-Proto counts)."""
    return request.url.scheme == "https"


def start_session(response: Response, request: Request, token: str) -> None:
    """Set the session cookie (and drop the sign-in one)."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_MAX_AGE_S,
        path="/",
        secure=is_https(request),
        httponly=True,
        samesite="lax",
    )
    response.delete_cookie(SIGNIN_COOKIE, path="/ui/signin")


def end_session(response: Response) -> None:
    """Forget the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")


def signin_csrf(request: Request) -> str:
    """The sign-in form's CSRF value: the browser's existing one, or a new random one."""
    value = request.cookies.get(SIGNIN_COOKIE)
    if value is None or not re.fullmatch(r"[0-9a-f]{64}", value):
        value = secrets.token_hex(32)
    return value


def set_signin_csrf(response: Response, request: Request, value: str) -> None:
    """Set the sign-in form's CSRF cookie, readable only by the sign-in route."""
    response.set_cookie(
        SIGNIN_COOKIE,
        value,
        max_age=3600,
        path="/ui/signin",
        secure=is_https(request),
        httponly=True,
        samesite="strict",
    )
