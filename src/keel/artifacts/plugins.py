"""Object backends are plugins: a URL's scheme names an entry point of the ``keel.artifact_backends`` group.

Keel's own backends register exactly as a third party's would, in
``pyproject.toml``::

    [project.entry-points."keel.artifact_backends"]
    file = "keel.artifacts.local:open_local"
    s3 = "keel.artifacts.remote_fs:open_fsspec"

An entry point's name is the URL scheme it serves; its object is a factory
``(url, options, name) -> ObjectBackend`` (``options`` are the remote's
settings from ``config.toml``, ``name`` the remote's name for messages). It
is imported only when a URL with its scheme is opened, so a backend's
libraries cost nothing until used; one that cannot be imported raises
MissingExtra with the pip extra to install. A scheme no entry point claims
goes to fsspec when fsspec knows the protocol (fsspec keeps its own
registry), and is refused otherwise with the list of schemes that work.

A plain path never looks anything up: it is the local folder, the default.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from functools import cache
from typing import Any, Final

from keel.artifacts.backend import ObjectBackend
from keel.core.errors import ConfigError, MissingExtra

GROUP: Final = "keel.artifact_backends"
#: The pip extra that brings each built-in scheme's library, for the "install keel[...]" hint.
EXTRAS: Final = {"s3": "s3", "s3a": "s3"}

Factory = Callable[[str, dict[str, Any], "str | None"], ObjectBackend]


@cache
def registered() -> dict[str, importlib.metadata.EntryPoint]:
    """Every installed backend by scheme (one scan of the installed packages per process)."""
    found: dict[str, importlib.metadata.EntryPoint] = {}
    for point in importlib.metadata.entry_points(group=GROUP):
        found.setdefault(point.name.lower(), point)
    return found


def _install_hint(scheme: str, point: importlib.metadata.EntryPoint) -> str:
    extra = EXTRAS.get(scheme)
    if extra:
        return f"install keel[{extra}] (pip install 'keel[{extra}]')"
    package = point.dist.name if point.dist is not None else point.value.split(":", 1)[0]
    return f"install what {package} needs for {scheme}:// URLs"


def factory_for(scheme: str) -> Factory:
    """The backend factory for URLs of ``scheme``.

    Raises MissingExtra if its plugin cannot be imported, ConfigError if no
    plugin (and no fsspec protocol) serves the scheme.
    """
    scheme = scheme.lower()
    point = registered().get(scheme)
    if point is None:
        if _fsspec_knows(scheme):
            from keel.artifacts.remote_fs import open_fsspec

            return open_fsspec
        known = ", ".join(f"{s}://" for s in sorted(registered())) or "none"
        raise ConfigError(
            f"no artifact backend serves {scheme}:// URLs (registered: {known})",
            hint=f"install a package that registers a {GROUP!r} entry point named {scheme!r}, "
            "or use a folder path",
        )
    try:
        loaded = point.load()
    except ImportError as exc:
        raise MissingExtra(
            f"the artifact backend for {scheme}:// URLs ({point.value}) cannot be imported: {exc}",
            hint=_install_hint(scheme, point),
        ) from None
    if not callable(loaded):
        raise ConfigError(f"the artifact backend for {scheme}:// URLs ({point.value}) is not callable")
    factory: Factory = loaded
    return factory


def _fsspec_knows(scheme: str) -> bool:
    try:
        from fsspec.registry import known_implementations, registry
    except ImportError:
        return False
    return scheme in known_implementations or scheme in registry
