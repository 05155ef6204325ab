"""``open_artifacts``: pick the backend by the URL's scheme, as MLflow picks a tracking store.

A path or ``file://`` URL is a local folder (reflinks, syncfs). Anything else
goes to fsspec: ``s3://`` needs s3fs (MissingExtra with the hint "install
keel[s3]" when it is absent), ``memory://`` and the rest need whatever fsspec
needs for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from keel.artifacts.local import LocalBackend
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
    if is_local_url(url):
        path = url[len("file://") :] if url.startswith("file://") else url
        if options:
            raise ConfigError(f"options {sorted(options)} do not apply to the local folder {path}")
        return ArtifactStore(LocalBackend(Path(path)), stat_cache=cache)
    from keel.artifacts.remote_fs import FsspecBackend

    return ArtifactStore(FsspecBackend(url, options or {}, name=name), stat_cache=cache)
