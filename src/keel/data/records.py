"""A remote's numbered versions: ``versions/<project>/<dataset>/<number>`` names the record object of each.

``keel data push`` stores each version's record (its metadata, see
:mod:`keel.datasets.record`) as an object beside the bytes and writes one
small entry per version number naming it, so a clone finds ``churn@v3``
by its number and gets the same version its origin has. An entry is written
once per number: a push whose ``@v3`` has other content than the remote's
is refused (two clones each made a v3), and nothing is written.
Content-addressed objects never conflict, so addresses by digest always work.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from keel.core.errors import Conflict, InvalidInput, NotFound
from keel.datasets.record import decode_record, encode_record
from keel.datasets.schemas import DatasetVersion

if TYPE_CHECKING:
    from keel.artifacts.remotes import Remote
    from keel.artifacts.store import ArtifactStore

#: The folder of entries, beside the remote's objects (which live in two-hex-digit shards).
INDEX: Final = "versions"
_DIGEST: Final = re.compile(r"^[0-9a-f]{64}$")


class RemoteVersions:
    """The numbered version entries and records of one remote."""

    def __init__(self, remote: Remote, store: ArtifactStore) -> None:
        import fsspec

        from keel.artifacts.remote_fs import storage_options

        self.remote = remote
        self.store = store
        scheme = urlsplit(remote.url).scheme
        options = storage_options(scheme, dict(remote.options)) if len(scheme) > 1 else {}
        self._fs, root = fsspec.core.url_to_fs(remote.url, **options)
        self._root = str(root).rstrip("/")

    def _entry(self, project: str, dataset: str, number: int) -> str:
        return f"{self._root}/{INDEX}/{project}/{dataset}/{number}"

    def record_digest(self, project: str, dataset: str, number: int) -> str | None:
        """The digest of the record the remote holds as ``project/dataset@v<number>``, or None."""
        try:
            text = str(self._fs.cat_file(self._entry(project, dataset, number)).decode()).strip()
        except FileNotFoundError:
            return None
        if not _DIGEST.match(text):
            raise InvalidInput(
                f"remote {self.remote.name!r} has a malformed entry for {project}/{dataset}@v{number}"
            )
        return text

    def get(self, project: str, dataset: str, number: int) -> DatasetVersion:
        """The remote's ``project/dataset@v<number>``; NotFound if it has no record of it."""
        digest = self.record_digest(project, dataset, number)
        address = f"{project}/{dataset}@v{number}"
        if digest is None:
            raise NotFound(
                f"remote {self.remote.name!r} has no record of {address}",
                hint="push it from a workspace that has it: keel data push",
            )
        return decode_record(
            self.store.read_bytes(digest), f"the record of {address} in {self.remote.name!r}"
        )

    def conflicts(self, versions: list[DatasetVersion]) -> list[str]:
        """The addresses whose number the remote holds with other content (another clone pushed it first)."""
        found = []
        for v in versions:
            digest = self.record_digest(v.project, v.dataset, v.number)
            if digest is not None and self.get(v.project, v.dataset, v.number).digest != v.digest:
                found.append(f"{v.project}/{v.dataset}@v{v.number}")
        return found

    def put(self, versions: list[DatasetVersion]) -> int:
        """Store each version's record and point its numbered entry at it; returns how many entries changed.

        Raises Conflict, writing nothing, if the remote holds one of these
        numbers with other content. The same content with newer metadata (a
        new tag) replaces the entry.
        """
        clashes = self.conflicts(versions)
        if clashes:
            raise Conflict(
                f"remote {self.remote.name!r} has {', '.join(clashes)} with other content "
                "(another workspace pushed that version first)",
                hint="pull it (keel data pull), then add your data again as the next version; "
                "addresses by digest (name@<digest>) keep working on both sides",
            )
        changed = 0
        for v in versions:
            digest = self.store.put_bytes(encode_record(v))
            if self.record_digest(v.project, v.dataset, v.number) != digest:
                self._write(self._entry(v.project, v.dataset, v.number), digest)
                changed += 1
        self.store.sync()
        return changed

    def _write(self, path: str, text: str) -> None:
        self._fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        self._fs.pipe_file(path, text.encode())


def open_versions(tables: Any, name: str | None) -> RemoteVersions:
    """The named remote's version entries (``name`` None: the only remote, or ``origin``)."""
    from keel.artifacts.remotes import get_remote, open_remote, remotes_from

    remote = get_remote(tables, default_remote(remotes_from(tables)) if name is None else name)
    return RemoteVersions(remote, open_remote(remote))


def default_remote(remotes: dict[str, Any]) -> str:
    """The remote meant when none is named: the only one, else ``origin``; NotFound otherwise."""
    if len(remotes) == 1:
        return next(iter(remotes))
    if "origin" in remotes:
        return "origin"
    known = ", ".join(sorted(remotes)) or "none yet"
    raise NotFound(
        f"which remote? this workspace has {known}",
        hint="name one (keel data pull NAME), or add one with `keel remote add origin URL`",
    )
