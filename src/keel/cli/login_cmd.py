"""``keel login``: check a token against a server and keep it in a user-only credentials file.

The file (``credentials_file``, default ``~/.config/keel/credentials.toml``)
maps each server URL to its token, so one person can use several servers. It
is created with mode 0600 inside a 0700 folder and rewritten atomically;
an existing file with looser permissions is tightened. The CLI uses it when
``KEEL_SERVER_URL`` names a server and ``KEEL_TOKEN`` is not set.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer

from keel.cli import output
from keel.cli.state import STATE


def credentials_path(settings: Any) -> Path:
    """Where ``keel login`` keeps tokens."""
    configured = settings.values.get("credentials_file")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".config" / "keel" / "credentials.toml"


def _norm(url: str) -> str:
    return url.strip().rstrip("/")


def read_credentials(path: Path) -> dict[str, str]:
    """Server URL -> token, from the credentials file (empty if there is none)."""
    from keel.core.errors import ConfigError

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", hint="delete it and run `keel login`") from exc
    servers = data.get("servers", {})
    return {
        _norm(str(v.get("url", ""))): str(v["token"])
        for v in servers.values()
        if isinstance(v, dict) and "token" in v
    }


def token_for(settings: Any, url: str) -> str | None:
    """The token ``keel login`` stored for ``url``, if any."""
    return read_credentials(credentials_path(settings)).get(_norm(url))


def write_credentials(path: Path, url: str, token: str) -> None:
    """Store ``token`` for ``url`` in a file only this user can read (0600, folder 0700)."""
    import tomli_w

    current = read_credentials(path)
    current[_norm(url)] = token
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    body = tomli_w.dumps(
        {"servers": {f"s{i}": {"url": u, "token": t} for i, (u, t) in enumerate(sorted(current.items()))}}
    )
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, body.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


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
    output.done(f"signed in to {_norm(url)} as {me.name}; token stored in {path} (mode 0600)")
    output.console().print(
        f"use it with: export KEEL_SERVER_URL={_norm(url)}  (or `keel config set server_url {_norm(url)}`)",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("login")(login)
