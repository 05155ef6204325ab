"""Named remotes: ``[remotes.<name>]`` tables in the workspace's ``config.toml``.

A remote is a URL (a folder, ``s3://bucket/prefix``, any fsspec URL) plus the
options its backend needs (for s3: ``endpoint_url``, ``region``, ``profile``,
``anon``). Credentials never go in the file: they come from the environment
(``AWS_ACCESS_KEY_ID``...) or a named profile, so a config.toml can be shared
or committed. ``keel.core.settings`` passes the ``remotes`` table through
untouched as ``settings.config_tables["remotes"]``; this module reads and
edits it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import tomli_w
from pydantic import BaseModel

from keel.artifacts.location import is_local_url, open_artifacts
from keel.artifacts.remote_fs import redact, storage_options
from keel.artifacts.store import ArtifactStore
from keel.core.errors import AlreadyExists, ConfigError, InvalidInput, NotFound
from keel.core.settings import CONFIG_FILE

_NAME: Final = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,62}$")
_SECRET_WORDS: Final = ("secret", "password", "token", "key_id", "access_key", "credential")


class Remote(BaseModel):
    """A named remote: where it is and the backend options it needs (never credentials)."""

    name: str
    url: str
    options: dict[str, Any] = {}


def check_name(name: str) -> str:
    """A remote name: a letter, then letters, digits, '.', '_', '-' (at most 63)."""
    if not _NAME.match(name):
        raise InvalidInput(
            f"remote name {name!r} is not valid",
            hint="start with a letter; then letters, digits, '.', '_', '-' (e.g. origin)",
        )
    return name


def check_options(url: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Refuse credentials and options the backend would not understand."""
    for key in options:
        if key == "url":
            raise InvalidInput("'url' is the remote's URL, not an option")
        if any(word in key.lower() for word in _SECRET_WORDS) or key.lower() in ("key", "secret"):
            raise InvalidInput(
                f"option {key!r} looks like a credential; credentials are not stored in config.toml",
                hint="set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the environment, or use --profile",
            )
    if is_local_url(url):
        if options:
            raise InvalidInput(f"a folder remote takes no options, got {', '.join(sorted(options))}")
        return {}
    storage_options(urlsplit(url).scheme, dict(options))  # raises ConfigError for unknown s3 options
    return dict(options)


def remotes_from(tables: Mapping[str, Any]) -> dict[str, Remote]:
    """The remotes in the ``remotes`` config table, by name; ConfigError naming a malformed one."""
    raw = tables.get("remotes") or {}
    if not isinstance(raw, dict):
        raise ConfigError("[remotes] in config.toml must be a table of [remotes.<name>] tables")
    found: dict[str, Remote] = {}
    for name, table in raw.items():
        if not isinstance(table, dict) or not isinstance(table.get("url"), str) or not table["url"]:
            raise ConfigError(f"[remotes.{name}] in config.toml needs a url = '...'")
        options = {k: v for k, v in table.items() if k != "url"}
        found[name] = Remote(name=name, url=table["url"], options=options)
    return found


def get_remote(tables: Mapping[str, Any], name: str) -> Remote:
    """The remote called ``name``; NotFound (with the known names) otherwise."""
    remotes = remotes_from(tables)
    if name not in remotes:
        known = ", ".join(sorted(remotes)) or "none yet"
        raise NotFound(f"no remote named {name!r} (known: {known})", hint="add one with `keel remote add`")
    return remotes[name]


def _read(home: Path) -> dict[str, Any]:
    path = home / CONFIG_FILE
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def _write(home: Path, data: dict[str, Any]) -> None:
    path = home / CONFIG_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(tomli_w.dumps(data), encoding="utf-8")
    tmp.replace(path)


def add_remote(
    home: Path, name: str, url: str, options: Mapping[str, Any] | None = None, *, replace: bool = False
) -> Remote:
    """Save a remote in ``home``'s config.toml (AlreadyExists unless ``replace``)."""
    check_name(name)
    if not url:
        raise InvalidInput("a remote needs a URL")
    if is_local_url(url):
        url = str(Path(url.removeprefix("file://")).expanduser().resolve())
    opts = check_options(url, options or {})
    data = _read(home)
    remotes = data.setdefault("remotes", {})
    if name in remotes and not replace:
        raise AlreadyExists(
            f"a remote named {name!r} exists already", hint="remove it first, or pass --force"
        )
    remotes[name] = {"url": url, **opts}
    _write(home, data)
    return Remote(name=name, url=url, options=opts)


def remove_remote(home: Path, name: str) -> None:
    """Forget a remote (its objects are untouched)."""
    data = _read(home)
    remotes = data.get("remotes") or {}
    if name not in remotes:
        raise NotFound(f"no remote named {name!r}", hint="see `keel remote ls`")
    del remotes[name]
    if not remotes:
        data.pop("remotes", None)
    _write(home, data)


def open_remote(remote: Remote, *, cache_dir: Path | None = None) -> ArtifactStore:
    """The store behind a remote."""
    return open_artifacts(remote.url, cache_dir=cache_dir, options=dict(remote.options), name=remote.name)


def describe(remote: Remote) -> dict[str, Any]:
    """A remote as ``keel remote ls`` prints it (URL without any credentials)."""
    return {"name": remote.name, "url": redact(remote.url), **remote.options}
