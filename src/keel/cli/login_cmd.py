"""``keel login``: check a token against a server and keep it in a user-only credentials file.

The file (``credentials_file``, default ``~/.config/keel/credentials.toml``)
maps each server URL to its token, so one person can use several servers. It
is created with mode 0600 inside a 0700 folder and rewritten atomically;
an existing file with looser permissions is tightened. The CLI uses it when
``KEEL_SERVER_URL`` names a server and ``KEEL_TOKEN`` is not set.
"""

from __future__ import annotations

from typing import Annotated

import typer

from keel.cli import output
from keel.cli.credentials import credentials_path, normalise_url, write_credentials
from keel.cli.state import STATE


def login(
    url: Annotated[str, typer.Argument(help="The Keel server, e.g. http://host:5000.")],
    token: Annotated[
        str | None,
        typer.Option("--token", help="The API token; default: $KEEL_TOKEN, else asked for (hidden)."),
    ] = None,
) -> None:
    """Check a token against a Keel server and store it in a user-only file (0600).

    Afterwards commands use it whenever KEEL_SERVER_URL (or the server_url
    setting) names that server.

    Example: keel login http://host:5000
    """
    from keel.client import connect
    from keel.core.errors import InvalidInput
    from keel.core.settings import load_settings

    if not url.startswith(("http://", "https://")):
        raise InvalidInput(f"server URL {url!r} must start with http:// or https://")
    base = load_settings(STATE.overrides)
    secret = token or base.values.get("token") or typer.prompt("API token", hide_input=True)
    settings = load_settings({**STATE.overrides, "server_url": url, "token": secret})
    me = connect(settings=settings).users.whoami()
    path = credentials_path(settings)
    write_credentials(path, url, secret)
    output.done(f"signed in to {normalise_url(url)} as {me.name}; token stored in {path} (mode 0600)")
    output.console().print(
        f"use it with: export KEEL_SERVER_URL={normalise_url(url)}  (or `keel config set server_url {normalise_url(url)}`)",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("login")(login)
