"""Is this URL a Keel server? Asked only after an answer that no Keel server gives.

A web server that is not Keel (a typo'd port, a proxy's login page, another
service) answers a Keel route with a bare 404, an HTML page or a redirect.
Without a check the SDK would raise "server answered 404" and the CLI exit 3;
both should say the URL is wrong and how to fix it. The check costs one
request, and only when a call has already failed in a way Keel never fails:
``/api/v1/health`` answers every Keel server's ``{"status": "ok", "version": ...}``
without a token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keel.core.errors import ConfigError

if TYPE_CHECKING:
    import httpx

#: Where every Keel server says who it is.
HEALTH_PATH = "/api/v1/health"
HINT = "set KEEL_SERVER_URL (or connect(url)) to the address `keel server` listens on, e.g. http://host:5000"


def not_a_keel_server(url: str, http: httpx.Client | None = None, timeout: float = 3.0) -> ConfigError | None:
    """ConfigError naming ``url`` (and what its health route answered) unless it is a Keel server.

    ``http`` is the caller's client (its transport, for tests with an in-process
    app); without one a plain request is made.
    """
    import httpx

    health = f"{url.rstrip('/')}{HEALTH_PATH}"
    response: httpx.Response | None = None
    body = None
    try:
        if http is not None:
            response = http.get(HEALTH_PATH, timeout=timeout, follow_redirects=False)
        else:
            response = httpx.get(health, timeout=timeout, follow_redirects=False)
        body = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        pass  # no answer, or not JSON: not Keel either way
    if isinstance(body, dict) and body.get("status") == "ok" and "version" in body:
        return None
    if response is not None and response.status_code >= 500:
        return None  # a server error says nothing about whose server it is: keep the call's own error
    if response is None:
        answer = "did not answer"
    elif response.status_code == 200:
        answer = "answered 200 but not as Keel does"
    else:
        answer = f"answered {response.status_code}"
    return ConfigError(f"{url} is not a Keel server (GET {health} {answer})", hint=HINT)
