"""What the SDK's data calls return: :class:`Added`, :class:`Status`, :class:`CheckedOut`, :class:`VersionHandle`.

``Added`` and ``Status`` name their version by its head (number and
digest) and load the full record only when asked, because an unchanged
``add`` and a clean ``status`` are answered from the head alone.
:class:`VersionHandle` reads a version's bytes, fetching them from a server
first where the client is remote.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from keel.client import Client
from keel.core.errors import InvalidInput
from keel.data.staging import staging_for
from keel.datasets.heads import VersionHead
from keel.datasets.schemas import DatasetVersion, FileChange

if TYPE_CHECKING:
    from keel.artifacts.model import TreeEntry


class NamesVersion:
    """A result that names its version by :class:`VersionHead`; ``.version`` (the full record) loads on use."""

    def __init__(self, head: VersionHead, client: Client, version: DatasetVersion | None) -> None:
        self.head = head
        self._client = client
        self._version = version

    @property
    def version(self) -> DatasetVersion:
        if self._version is None:
            h = self.head
            self._version = self._client.data.version(
                project=h.project, name=h.dataset, version=f"v{h.number}"
            )
        return self._version


class Added(NamesVersion):
    """What ``add`` did: the version (``head``, ``version``), whether it is new, the pointer written."""

    def __init__(
        self,
        head: VersionHead,
        created: bool,
        pointer: Path | None,
        *,
        client: Client,
        version: DatasetVersion | None = None,
    ) -> None:
        super().__init__(head, client, version)
        self.created = created
        self.pointer = pointer

    def __repr__(self) -> str:
        return f"<Added {self.head.address} created={self.created}>"


class Status(NamesVersion):
    """How a path on disk differs from the latest version of its dataset (``head``, ``version``)."""

    def __init__(
        self,
        path: Path,
        head: VersionHead,
        changes: list[FileChange],
        *,
        client: Client,
        version: DatasetVersion | None = None,
    ) -> None:
        super().__init__(head, client, version)
        self.path = path
        self.changes = changes

    @property
    def clean(self) -> bool:
        return not self.changes

    def __repr__(self) -> str:
        return f"<Status {self.path} vs {self.head.address}: {len(self.changes)} change(s)>"


@dataclass
class CheckedOut:
    """What ``checkout`` wrote: the version, where, how many files."""

    version: DatasetVersion
    dest: Path
    files: int


class VersionHandle:
    """A version, readable: ``to_arrow()``, ``to_pandas()``, ``path()``, ``open(name)``, ``files()``."""

    def __init__(self, version: DatasetVersion, client: Client) -> None:
        self.version = version
        self._client = client

    def __repr__(self) -> str:
        return f"<VersionHandle {self.version.address} {self.version.kind}>"

    def to_arrow(self, columns: list[str] | None = None) -> Any:
        """The table (Parquet copy) as a pyarrow Table; ``columns`` reads only those."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.version.kind != "table":
            raise InvalidInput(f"{self.version.address} is a folder of files, not a table; use .path()")
        staging = staging_for(self._client)
        staging.fetch_version(self.version)
        parts = []
        for digest in self.version.table_parts:
            with staging.store.open(digest) as handle:
                parts.append(pq.read_table(handle, columns=columns))
        return pa.concat_tables(parts)

    def to_pandas(self, columns: list[str] | None = None) -> Any:
        """The table as a pandas DataFrame (needs pandas)."""
        return self.to_arrow(columns).to_pandas()

    def sample(self) -> Any:
        """The stored uniform row sample (up to 100,000 rows) as a pyarrow Table."""
        import pyarrow.parquet as pq

        if not self.version.sample_digest:
            raise InvalidInput(f"{self.version.address} has no row sample (it is not a table)")
        staging = staging_for(self._client)
        staging.fetch_version(self.version, include="")
        with staging.store.open(self.version.sample_digest) as handle:
            return pq.read_table(handle)

    def files(self) -> list[TreeEntry]:
        """The version's files: (path, digest, size, mode) entries."""
        from keel.datasets.diff import version_entries

        staging = staging_for(self._client)
        staging.fetch(self.version.project, [self.version.digest])
        return version_entries(staging.store, self.version)

    def open(self, name: str) -> BinaryIO:
        """One file of the version by its relative path, for reading."""
        for entry in self.files():
            if entry.path == name:
                staging = staging_for(self._client)
                staging.fetch(self.version.project, [entry.digest])
                return staging.store.open(entry.digest)
        raise InvalidInput(f"{self.version.address} has no file {name!r}")

    def path(self) -> Path:
        """A local folder holding the version's files (checked out once into a cache folder)."""
        from keel.data.materialise import materialise

        staging = staging_for(self._client)
        target = staging.cache_folder / self.version.digest
        if not target.exists():
            staging.fetch_version(self.version)
            temp = target.with_name(target.name + f".tmp{os.getpid()}")
            shutil.rmtree(temp, ignore_errors=True)
            materialise(staging.store, self.version, temp, include=None, force=True, hardlink=False)
            temp.replace(target)
        return target
