"""The quickstart's last words: where the web UI is and a token to sign in with.

The workspace the quickstart made is single-user admin mode on the command
line, but ``keel server`` turns auth on, so the UI needs a token. This adds a
global admin named ``quickstart`` (once; a re-run issues it a new token) and
prints the command, the URL and the token, which is shown this once and
stored only hashed, as every Keel token is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from keel.core.errors import AlreadyExists

#: The user the quickstart signs in to the UI as.
USER: Final = "quickstart"


def say_ui_signin(client: Any, settings: Any, say: Callable[[str], None]) -> str:
    """Print how to open the UI and a fresh sign-in token; returns the token."""
    try:
        secret = str(client.users.add(name=USER, admin=True).secret)
    except AlreadyExists:
        secret = str(client.tokens.create(name="quickstart-ui", user=USER).secret)
    host = settings.server_host or "127.0.0.1"
    url = f"http://{host}:{settings.server_port}/ui/"
    say(f"  keel server    # then open {url} and sign in with this token (shown once):")
    say(f"  {secret}")
    return secret
