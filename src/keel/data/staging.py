"""Where the SDK's bytes live: the workspace's own store, or a staging store in front of a server.

Against a local workspace the SDK hashes straight into the workspace's
artifact store, and there is nothing to move. Against a server, bytes are
built and hashed here, in a *staging* store under the user's cache folder
(the ``staging_dir`` setting, ``KEEL_STAGING_DIR``), uploaded (only the
missing ones) through the artifact service, and reads download into it.

The pair is chosen once per client (:func:`staging_for`, by
:attr:`Client.is_remote`); every other module calls the same four methods
and never asks which side it is on.
"""

from __future__ import annotations

import fnmatch
import weakref
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Final

from keel.client import Client
from keel.client.backends import InProcessBackend
from keel.datasets.schemas import DatasetVersion

if TYPE_CHECKING:
    from keel.artifacts.store import ArtifactStore

#: How many digests one ``exists`` call to a server asks about.
EXISTS_BATCH: Final = 5000


def version_digests(version: DatasetVersion) -> list[str]:
    """Every object a version keeps alive: its content (file or tree), Parquet parts, row sample."""
    found = [version.digest, *version.table_parts]
    if version.sample_digest:
        found.append(version.sample_digest)
    return found


class Staging(ABC):
    """The artifact store this side reads and writes, and how objects cross to the metadata's side."""

    def __init__(self, store: ArtifactStore) -> None:
        self.store = store

    @abstractmethod
    def upload(self, project: str, digests: list[str]) -> int:
        """Make ``digests`` readable where the version is recorded; returns how many objects moved."""

    @abstractmethod
    def fetch(self, project: str, digests: list[str]) -> None:
        """Make ``digests`` readable in :attr:`store`."""

    @property
    @abstractmethod
    def cache_folder(self) -> Path:
        """Where :meth:`VersionHandle.path` keeps checked-out versions."""

    def fetch_version(self, version: DatasetVersion, include: str | None = None) -> None:
        """Make a version's objects readable here: its files matching ``include``, Parquet parts, sample."""
        self.fetch(version.project, version_digests(version))
        if version.layout == "tree":
            wanted = [
                e.digest
                for e in self.store.read_tree(version.digest)
                if include is None or fnmatch.fnmatchcase(e.path, include)
            ]
            self.fetch(version.project, wanted)


class LocalStaging(Staging):
    """A workspace: the SDK and the services share one artifact store, so nothing moves."""

    def __init__(self, store: ArtifactStore, home: Path | None) -> None:
        super().__init__(store)
        self._home = home

    def upload(self, project: str, digests: list[str]) -> int:
        return 0

    def fetch(self, project: str, digests: list[str]) -> None:
        return None

    @property
    def cache_folder(self) -> Path:
        if self._home is not None:
            return self._home / "cache" / "data"
        return Path(self.store.url).parent / "data"


class RemoteStaging(Staging):
    """A server: objects go up through ``client.artifacts.upload`` and come down by ``download``."""

    def __init__(self, store: ArtifactStore, client: Client, root: Path) -> None:
        super().__init__(store)
        self._client = client
        self._root = root

    def upload(self, project: str, digests: list[str]) -> int:
        """Upload the objects the server lacks, files before the trees that name them."""
        from keel.core.operations import ByteStream

        ordered = list(dict.fromkeys(digests))
        present: set[str] = set()
        for start in range(0, len(ordered), EXISTS_BATCH):
            batch = ordered[start : start + EXISTS_BATCH]
            present |= set(self._client.artifacts.exists(project=project, digests=batch))
        trees = [d for d in ordered if d not in present and self.store.is_tree(d)]
        files = [d for d in ordered if d not in present and d not in trees]
        for digest in files + trees:
            body = ByteStream(self.store.iter_bytes(digest), size=self.store.size(digest))
            self._client.artifacts.upload(project=project, data=body)
        return len(files) + len(trees)

    def fetch(self, project: str, digests: list[str]) -> None:
        """Download the objects the staging store lacks."""
        if not digests:
            return
        have = self.store.exists(digests)
        for digest in dict.fromkeys(digests):
            if digest not in have:
                chunks = self._client.artifacts.download(project=project, digest=digest)
                self.store.put_object(digest, iter(chunks))
        self.store.sync()

    @property
    def cache_folder(self) -> Path:
        return self._root / "data"


_CHOSEN: weakref.WeakKeyDictionary[Client, Staging] = weakref.WeakKeyDictionary()


def staging_for(client: Client) -> Staging:
    """The client's staging side, chosen once (by :attr:`Client.is_remote`) and kept with the client."""
    chosen = _CHOSEN.get(client)
    if chosen is None:
        chosen = _CHOSEN[client] = _choose(client)
    return chosen


def _choose(client: Client) -> Staging:
    settings = client.settings
    if not client.is_remote:
        backend = client.backend
        assert isinstance(backend, InProcessBackend)  # a client is remote or local; nothing else exists
        return LocalStaging(backend.ctx.artifacts, settings.home_path if settings else None)
    from keel.artifacts.location import open_artifacts
    from keel.core.settings import load_settings

    root = Path((settings or load_settings()).staging_dir or Path.home() / ".cache" / "keel" / "staging")
    store = open_artifacts(str(root / "objects"), cache_dir=root / "cache")
    return RemoteStaging(store, client, root)
