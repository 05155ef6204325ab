"""The credentials file ``keel login`` writes and every command reads: server URL -> API token.

The file (``credentials_file``, default ``~/.config/keel/credentials.toml``)
maps each server URL to its token, so one person can use several servers. It
is created with mode 0600 inside a 0700 folder and rewritten atomically.
It lives apart from ``login_cmd`` so that ``keel.cli.state`` (which every
command imports) can read it without importing a command module that
itself imports ``state``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any


def credentials_path(settings: Any) -> Path:
    """Where ``keel login`` keeps tokens."""
    configured = settings.values.get("credentials_file")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".config" / "keel" / "credentials.toml"


def normalise_url(url: str) -> str:
    """A server URL as the file keys it: no surrounding spaces, no trailing slash."""
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
        normalise_url(str(v.get("url", ""))): str(v["token"])
        for v in servers.values()
        if isinstance(v, dict) and "token" in v
    }


def token_for(settings: Any, url: str) -> str | None:
    """The token ``keel login`` stored for ``url``, if any."""
    return read_credentials(credentials_path(settings)).get(normalise_url(url))


def write_credentials(path: Path, url: str, token: str) -> None:
    """Store ``token`` for ``url`` in a file only this user can read (0600, folder 0700)."""
    import tomli_w

    current = read_credentials(path)
    current[normalise_url(url)] = token
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
