"""``open_artifacts``: pick the backend by the URL's scheme, as MLflow picks a tracking store.

A plain path is the local folder (reflinks, syncfs), without any lookup. A
URL's scheme names a plugin of the ``keel.artifact_backends`` entry-point
group (:mod:`keel.artifacts.plugins`), the built-ins included: ``file://``
is the local folder, ``s3://`` (which needs s3fs: MissingExtra with the hint
"install keel[s3]" when it is absent), ``gs://``, ``memory://``... go to
fsspec, and so does any other protocol fsspec knows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from keel.artifacts.backend import ObjectBackend
from keel.artifacts.local import open_local
from keel.artifacts.plugins import factory_for
from keel.artifacts.statcache import StatCache
from keel.artifacts.store import ArtifactStore
from keel.core.errors import ConfigError

STAT_CACHE_FILE = "stat-cache.sqlite"


def is_local_url(url: str) -> bool:
    """Whether ``url`` names a local folder (a plain path or ``file://``)."""
    scheme = urlsplit(url).scheme
    return scheme in ("", "file") or (len(scheme) == 1 and url[1:3] in (":\\", ":/"))


def open_artifacts(
    url: str,
    *,
    cache_dir: Path | None = None,
    options: dict[str, Any] | None = None,
    name: str | None = None,
) -> ArtifactStore:
    """The store at ``url`` (a folder or an fsspec URL); the stat cache lives in ``cache_dir``.

    ``options`` are the remote's settings (endpoint_url, region, profile...);
    ``name`` is how errors refer to it (a remote's name).
    """
    if not url:
        raise ConfigError("no artifact store URL given", hint="set artifacts_url or KEEL_ARTIFACTS_URL")
    cache = StatCache(Path(cache_dir) / STAT_CACHE_FILE if cache_dir is not None else None)
    scheme = urlsplit(url).scheme
    if scheme == "" or (len(scheme) == 1 and url[1:3] in (":\\", ":/")):  # a path (C:/ on Windows)
        return ArtifactStore(open_local(url, options or {}), stat_cache=cache)
    backend = factory_for(scheme)(url, dict(options or {}), name)
    if not isinstance(backend, ObjectBackend):
        raise ConfigError(
            f"the artifact backend for {scheme}:// URLs returned {type(backend).__name__}, not an ObjectBackend"
        )
    return ArtifactStore(backend, stat_cache=cache)
